// The `nft -f` script that makes the kernel's NAT tables equal to the desired ones (nat.ts), in
// one transaction: for each table `add` (so that the delete cannot fail), `delete`, then the whole
// definition. nft sends the script as one netlink batch, so packets see the old tables or the new
// ones, never a gap; connections already NATed keep their conntrack mapping. Other tables are
// never named, so they are untouched. Sets are written multi-line: nft 1.0.6 rejects the one-line
// `set { type ...; flags ...; elements = ... }` form (ENVIRONMENT.md).
import { createHash } from 'node:crypto';
import type { PortRange } from './nat-options.js';
import { natNames, type NatTable, type TunnelMasquerade } from './nat.js';

/** The comment that marks the agent's hook rule; the digest follows it. */
export const NAT_DIGEST_PREFIX = 'cidrpool:';

/**
 * A short digest of a table's desired content. The script stores it as the comment of the hook
 * chain's rule, so an agent that starts finds out whether the kernel already has what it wants
 * and leaves the table (and its handles) alone.
 */
export function natTableDigest(table: NatTable): string {
  return createHash('sha256').update(JSON.stringify(table)).digest('hex').slice(0, 16);
}

function renderSet(name: string, type: string, elements: readonly string[]): string[] {
  const lines = [`\tset ${name} {`, `\t\ttype ${type}`, '\t\tflags interval'];
  if (elements.length > 0) {
    lines.push('\t\telements = {', ...elements.map((e) => `\t\t\t${e},`), '\t\t}');
  }
  lines.push('\t}');
  return lines;
}

/**
 * Host traffic leaving through a tunnel with a source that is local but not the tunnel's own
 * address is masqueraded to the tunnel address (Felix `StaticNATPostroutingChains`); for VXLAN a
 * UDP-only copy first keeps the VXLAN port out of the source ports.
 */
function renderTunnelRules(tunnel: TunnelMasquerade): string[] {
  const match = `oifname "${tunnel.device}" fib saddr . oif type != local fib saddr type local`;
  const rules: string[] = [];
  if (tunnel.udpPorts) {
    const { first, last } = tunnel.udpPorts;
    rules.push(`${match} meta l4proto udp masquerade to :${first}-${last}`);
  }
  rules.push(`${match} masquerade`);
  return rules;
}

/**
 * Felix's VXLAN rules (`felix/rules/static.go`): accept VXLAN to a local address from known VTEP
 * hosts, drop (and count) it from anyone else; skip conntrack for VXLAN both ways, since its two
 * directions use different source ports and would stay unreplied entries.
 */
function renderVxlanFilter(table: NatTable, chain: ChainRenderer): string[] {
  const filter = table.vxlanFilter;
  if (!filter) return [];
  const n = natNames(table.family);
  const ip = n.nftFamily;
  const vxlan = `udp dport ${filter.port}`;
  return [
    ...chain(
      'filter-INPUT',
      [
        `${vxlan} ${ip} saddr @${n.vxlanHostsSet} fib daddr type local accept`,
        `${vxlan} fib daddr type local counter drop`,
      ],
      'type filter hook input priority filter; policy accept;',
    ),
    ...chain(
      'raw-PREROUTING',
      [`${vxlan} notrack`],
      'type filter hook prerouting priority raw; policy accept;',
    ),
    ...chain(
      'raw-OUTPUT',
      [`${vxlan} notrack`],
      'type filter hook output priority raw; policy accept;',
    ),
  ];
}

/**
 * The nat-outgoing chain (Felix `felix/rules/nat.go`): traffic from a natOutgoing pool to a
 * destination outside every pool [and every host] is masqueraded, or SNATed to
 * natOutgoingAddress; with natPortRange, TCP and UDP first, in that range. nft's NAT statements
 * end the rule evaluation, so Felix's iptables RETURN rules after them have no nft counterpart.
 * Empty while no pool of the family has natOutgoing: Felix keeps the chain anyway.
 */
function renderNatOutgoing(table: NatTable): string[] {
  if (table.masqPools.length === 0) return [];
  const n = natNames(table.family);
  const ip = n.nftFamily;
  const { snatTo, ports, excludedHosts } = table.outgoing;
  const match = [
    `${ip} saddr @${n.masqSet}`,
    `${ip} daddr != @${n.networkSet}`,
    ...(excludedHosts ? [`${ip} daddr != @${n.allHostsSet}`] : []),
  ].join(' ');
  const translate = (range?: PortRange) => {
    const portText = range ? `:${range.first}-${range.last}` : '';
    return snatTo
      ? `snat to ${snatTo}${portText} fully-random`
      : `masquerade${portText ? ` to ${portText}` : ''} fully-random`;
  };
  if (!ports) return [`${match} ${translate()}`];
  return [
    `${match} meta l4proto tcp ${translate(ports)}`,
    `${match} meta l4proto udp ${translate(ports)}`,
    `${match} ${translate()}`,
  ];
}

type ChainRenderer = (name: string, rules: readonly string[], head?: string) => string[];

const renderChain: ChainRenderer = (name, rules, head) => [
  `\tchain ${name} {`,
  ...(head ? [`\t\t${head}`] : []),
  ...rules.map((rule) => `\t\t${rule}`),
  '\t}',
];

function renderTable(table: NatTable): string[] {
  const n = natNames(table.family);
  const addrType = table.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const ip = n.nftFamily;
  const chain = renderChain;
  return [
    `add table ${ip} ${n.table}`,
    `delete table ${ip} ${n.table}`,
    `table ${ip} ${n.table} {`,
    ...renderSet(n.masqSet, addrType, table.masqPools),
    ...renderSet(n.networkSet, addrType, table.networkPools),
    ...(table.outgoing.excludedHosts
      ? renderSet(n.allHostsSet, addrType, table.outgoing.excludedHosts)
      : []),
    ...(table.vxlanFilter
      ? renderSet(n.vxlanHostsSet, addrType, table.vxlanFilter.allowedHosts)
      : []),
    // srcnat + 10: after kube-proxy's masquerade at srcnat (§5.3).
    ...chain(
      n.postrouting,
      [`jump ${n.caliPostrouting} comment "${NAT_DIGEST_PREFIX}${natTableDigest(table)}"`],
      'type nat hook postrouting priority srcnat + 10; policy accept;',
    ),
    ...chain(n.caliPostrouting, [
      `jump ${n.natOutgoing}`,
      ...table.tunnels.flatMap(renderTunnelRules),
    ]),
    ...chain(n.natOutgoing, renderNatOutgoing(table)),
    ...renderVxlanFilter(table, chain),
    '}',
  ];
}

/** The `nft -f` script that replaces every given table at once, ending with a newline. */
export function renderNatScript(tables: readonly NatTable[]): string {
  return `${tables.flatMap(renderTable).join('\n')}\n`;
}

/** One object of `nft -j list table` output, as the kernel adapter returns it. */
export type NftJsonObject = Readonly<Record<string, unknown>>;

/** What a table in the kernel says about itself. */
export interface ObservedNatTable {
  /** The digest the agent stored in its hook rule's comment (undefined: not the agent's form). */
  readonly digest: string | undefined;
  /** The table's content without handles and counter values, to notice changes by others. */
  readonly fingerprint: string;
}

/**
 * Read the agent's digest and a fingerprint of the listed table: its JSON without what the
 * kernel changes by itself (handles, counter values).
 */
export function observeNatTable(objects: readonly NftJsonObject[]): ObservedNatTable {
  let digest: string | undefined;
  for (const object of objects) {
    const comment = (object.rule as { comment?: unknown } | undefined)?.comment;
    if (typeof comment === 'string' && comment.startsWith(NAT_DIGEST_PREFIX)) {
      digest = comment.slice(NAT_DIGEST_PREFIX.length);
    }
  }
  const fingerprint = JSON.stringify(objects, (key, value: unknown) => {
    if (key === 'handle') return undefined;
    if (key === 'counter' && typeof value === 'object' && value !== null) return {};
    return value;
  });
  return { digest, fingerprint };
}

/**
 * True when the kernel's table needs no rewrite: it carries the desired digest and, when the
 * agent has seen the table since applying it (`knownFingerprint`), nobody has changed it since.
 * After a restart nothing is known yet, and a table with the desired digest is taken as it is,
 * so that a restart leaves the kernel (handles included) exactly as it was.
 */
export function isNatTableCurrent(
  observed: ObservedNatTable | undefined,
  desired: NatTable,
  knownFingerprint: string | undefined,
): boolean {
  if (!observed || observed.digest !== natTableDigest(desired)) return false;
  return knownFingerprint === undefined || knownFingerprint === observed.fingerprint;
}

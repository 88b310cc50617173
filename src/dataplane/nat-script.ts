// The `nft -f` script that makes the kernel's NAT tables equal to the desired ones (nat.ts), in
// one transaction: for each table `add` (so that the delete cannot fail), `delete`, then the whole
// definition. nft sends the script as one netlink batch, so packets see the old tables or the new
// ones, never a gap; connections already NATed keep their conntrack mapping. Other tables are
// never named, so they are untouched. Sets are written multi-line: nft 1.0.6 rejects the one-line
// `set { type ...; flags ...; elements = ... }` form (ENVIRONMENT.md).
// The same renderer also gives the table as `nft list table` prints it (natTableListing), so the
// agent knows what the kernel must hold without reading its own write back.
import type { PortRange } from './nat-options.js';
import { natNames, type NatTable, type TunnelMasquerade } from './nat.js';

/** How set elements are written: one per line in a script, or as `nft list` prints them. */
type SetRenderer = (name: string, type: string, elements: readonly string[]) => string[];

const renderScriptSet: SetRenderer = (name, type, elements) => {
  const lines = [`\tset ${name} {`, `\t\ttype ${type}`, '\t\tflags interval'];
  if (elements.length > 0) {
    lines.push('\t\telements = {', ...elements.map((e) => `\t\t\t${e},`), '\t\t}');
  }
  lines.push('\t}');
  return lines;
};

/** nft lists a host prefix (/32, /128) as the bare address and the elements on one line. */
const renderListedSet: SetRenderer = (name, type, elements) => {
  const hostSuffix = type === 'ipv4_addr' ? '/32' : '/128';
  const listed = elements.map((e) => (e.endsWith(hostSuffix) ? e.slice(0, -hostSuffix.length) : e));
  const lines = [`\tset ${name} {`, `\t\ttype ${type}`, '\t\tflags interval'];
  if (listed.length > 0) lines.push(`\t\telements = { ${listed.join(', ')} }`);
  lines.push('\t}');
  return lines;
};

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

/** The `table ... { ... }` definition of `table`, its sets written by `renderSet`. */
function renderTableDefinition(table: NatTable, renderSet: SetRenderer): string[] {
  const n = natNames(table.family);
  const addrType = table.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const ip = n.nftFamily;
  const chain = renderChain;
  return [
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
      [`jump ${n.caliPostrouting}`],
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

/** `add` (so that the delete cannot fail), `delete`, then the whole definition. */
function renderTable(table: NatTable): string[] {
  const { nftFamily, table: name } = natNames(table.family);
  return [
    `add table ${nftFamily} ${name}`,
    `delete table ${nftFamily} ${name}`,
    ...renderTableDefinition(table, renderScriptSet),
  ];
}

/** The `nft -f` script that replaces every given table at once, ending with a newline. */
export function renderNatScript(tables: readonly NatTable[]): string {
  return `${tables.flatMap(renderTable).join('\n')}\n`;
}

/**
 * `nft list table` output reduced to what the agent decides on: counter values (which the kernel
 * changes by itself) dropped, every run of white space (nft's indentation, blank lines and the
 * wrapping of long element lists) one space.
 */
export function normaliseNftListing(text: string): string {
  return text
    .replace(/\bcounter packets \d+ bytes \d+/g, 'counter')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The normalised `nft list table` text of `table` once the script of renderNatScript is applied
 * (nft 1.0.6's printing; the namespace tests compare it with the kernel's for every form the agent
 * writes). Derived from the desired table, not read back after the write, so a change made by
 * someone else just after the agent's write is still a difference.
 */
export function natTableListing(table: NatTable): string {
  return normaliseNftListing(renderTableDefinition(table, renderListedSet).join('\n'));
}

/**
 * True when the kernel's table (`nft list table` text; undefined when absent) is exactly the
 * desired one, so nothing is written: a restarting agent leaves handles and counters as they are.
 */
export function isNatTableCurrent(listed: string | undefined, desired: NatTable): boolean {
  return listed !== undefined && normaliseNftListing(listed) === natTableListing(desired);
}

// The BIRD 2 configuration of one node, from datastore state (dataplane.md §6, own shape of §6.5).
// Pure: the same inputs give the same text, byte for byte, so the adapter can skip a reload when
// nothing changed. BIRD advertises; the agent programs VXLAN/IPIP routes itself, and BIRD installs
// only what it learns for pools without encapsulation (both modes Never) and for prefixes outside
// every pool (e.g. from a data-centre router).
import { CidrpoolError } from '../errors/index.js';
import {
  bitsOf,
  cidrContainsCidr,
  cidrContainsIp,
  formatCidr,
  formatIp,
  parseCidrMasked,
  tryParseCidr,
  tryParseIp,
  type Cidr,
  type IpAddress,
  type IpFamily,
} from '../net/index.js';
import type { BGPConfiguration, BGPPeer, IPPool, Node } from '../resources/index.js';
import { isEncapEnabled, peerIpText, tryParsePeerIp } from '../resources/index.js';
import { tryParseSelector } from '../selector/index.js';

/** Calico's default AS when neither the Node nor BGPConfiguration `default` names one. */
export const DEFAULT_AS_NUMBER = 64512;

/** What the configuration of `nodeName` is made from. */
export interface BirdInputs {
  readonly nodeName: string;
  readonly nodes: readonly Node[];
  readonly pools: readonly IPPool[];
  /** This node's block affinities, both families (the state of each; pending ones are left out). */
  readonly affinities: readonly { readonly cidr: string; readonly state: string }[];
  /** BGPConfiguration `default`, when it exists. */
  readonly config?: BGPConfiguration;
  /**
   * The per-node BGPConfigurations (`node.<name>`): for its node they override `default`'s
   * logSeverityScreen and listenPort, as in Calico; their other fields are not used.
   */
  readonly nodeConfigs?: readonly BGPConfiguration[];
  readonly peers: readonly BGPPeer[];
}

/** The name of the BGPConfiguration that holds one node's own settings (Calico's). */
export const nodeBgpConfigName = (nodeName: string): string => `node.${nodeName}`;

/** Calico's peer types, which are also the prefixes of the protocol names (`Mesh_10_0_0_2`). */
export type PeerType = 'Mesh' | 'Node' | 'Global';

/** One BGP session of this node. */
export interface BirdPeer {
  readonly type: PeerType;
  readonly address: string;
  readonly port?: number;
  readonly asNumber: number;
  /** Our AS towards this peer (BGPPeer localASNumber, else the node's). */
  readonly localAsNumber: number;
  readonly passive: boolean;
  readonly keepNextHop: boolean;
  /** The peer is inside this node's subnet (eBGP peers are then `direct`). */
  readonly directlyConnected: boolean;
}

/** What BIRD does for one address family: its blocks, pool filters and sessions. */
export interface BirdFamilyPlan {
  readonly family: IpFamily;
  /** This node's address of the family: the local end of its sessions. */
  readonly localAddress: string;
  /** Local blocks to advertise, as blackhole statics (no /32 or /128 blocks). */
  readonly blocks: readonly string[];
  /** Pools whose routes BIRD installs into the kernel: no encapsulation. */
  readonly noEncapPools: readonly string[];
  /** Pools whose routes the agent programs (VXLAN/IPIP): BIRD never installs them. */
  readonly encapPools: readonly string[];
  /** Pools with `disableBGPExport: true`: never exported, nor anything inside them. */
  readonly exportDisabledPools: readonly string[];
  readonly peers: readonly BirdPeer[];
}

/**
 * The decisions the text is rendered from (exported for tests and `node status`): the IPv4 plan
 * at the top level, and the IPv6 plan when the node has an IPv6 address.
 */
export interface BirdPlan extends BirdFamilyPlan {
  readonly routerId: string;
  readonly asNumber: number;
  readonly listenPort?: number;
  readonly logLevel: string;
  readonly ipv6?: BirdFamilyPlan;
}

const cidrOf = (text: string | undefined, family: IpFamily): Cidr | undefined => {
  const cidr = text ? tryParseCidr(text) : undefined;
  return cidr?.family === family ? cidr : undefined;
};

/** A node's address of one family, as registered (e.g. 192.168.10.11/24). */
interface NodeAddress {
  readonly ip: string;
  readonly address: IpAddress;
  readonly subnet: Cidr;
}

/** A node's `spec.bgp.ipv4Address` or `ipv6Address`: the address and its subnet. */
function nodeAddress(node: Node, family: IpFamily): NodeAddress | undefined {
  const text = family === 4 ? node.spec?.bgp?.ipv4Address : node.spec?.bgp?.ipv6Address;
  const [ipText, prefix = String(bitsOf(family))] = (text ?? '').split('/');
  const address = tryParseIp(ipText ?? '');
  if (address?.family !== family) return undefined;
  try {
    return { ip: formatIp(address), address, subnet: parseCidrMasked(`${ipText}/${prefix}`) };
  } catch {
    return undefined;
  }
}

/**
 * `matches(selector, node)`: an empty selector matches every node, one that does not parse
 * (validation keeps those out) none. Each text is parsed once per plan, not once per node.
 */
function selectorMatcher(): (selector: string | undefined, node: Node) => boolean {
  const parsed = new Map<string, ReturnType<typeof tryParseSelector>>();
  return (selector, node) => {
    if (!selector) return true;
    if (!parsed.has(selector)) parsed.set(selector, tryParseSelector(selector));
    return parsed.get(selector)?.matches(node.metadata.labels ?? {}) ?? false;
  };
}

type FamilyPool = { readonly pool: IPPool; readonly cidr: Cidr };

/**
 * This node's blocks to advertise: affinity confirmed or pendingDeletion (an affinity without a
 * state predates states and counts as confirmed, as in libcalico), not a /32 (/128), inside a
 * pool. Blocks of a deleted pool are left out, so pool deletion withdraws them at once (Calico's
 * BIRD keeps them until the affinity goes, calicoctl#828).
 */
function localBlocks(inputs: BirdInputs, pools: readonly FamilyPool[], family: IpFamily): string[] {
  const blocks = inputs.affinities
    .filter((a) => a.state === 'confirmed' || a.state === 'pendingDeletion' || a.state === '')
    .map((a) => cidrOf(a.cidr, family))
    .filter((c): c is Cidr => c !== undefined && c.prefix < bitsOf(family))
    .filter((c) => pools.some((p) => cidrContainsCidr(p.cidr, c)))
    .map(formatCidr);
  return [...new Set(blocks)].sort();
}

/** The listen port of `nodeName`: its `node.<name>` BGPConfiguration's, else the default's. */
function listenPortOf(inputs: BirdInputs, nodeName: string): number | undefined {
  const own = inputs.nodeConfigs?.find((c) => c.metadata.name === nodeBgpConfigName(nodeName));
  return own?.spec.listenPort ?? inputs.config?.spec.listenPort;
}

/**
 * The sessions of `self` over addresses of `family`: BGPPeers first (one naming a node's
 * address wins over the mesh session to it), then the mesh. One session per address; never one
 * to itself. A session to another node goes to that node's listen port.
 */
function planPeers(inputs: BirdInputs, self: Node, own: NodeAddress, family: IpFamily): BirdPeer[] {
  const spec = inputs.config?.spec ?? {};
  const globalAs = spec.asNumber ?? DEFAULT_AS_NUMBER;
  const asOf = (node: Node): number => node.spec?.bgp?.asNumber ?? globalAs;
  const matches = selectorMatcher();
  // A BGPPeer applies to a node through `node`, `nodeSelector`, or neither (every node).
  const selectsNode = (peer: BGPPeer, node: Node): boolean =>
    peer.spec.node ? peer.spec.node === node.metadata.name : matches(peer.spec.nodeSelector, node);
  const peers = new Map<string, BirdPeer>();
  const addPeer = (peer: BirdPeer | undefined): void => {
    if (peer && peer.address !== own.ip && !peers.has(peer.address)) {
      peers.set(peer.address, peer);
    }
  };
  const nodePeer = (type: PeerType, node: Node, local: number, keepNextHop = false) => {
    const address = nodeAddress(node, family);
    if (!address || node.metadata.name === self.metadata.name) return undefined;
    return {
      type,
      address: address.ip,
      port: listenPortOf(inputs, node.metadata.name),
      asNumber: asOf(node),
      localAsNumber: local,
      // Calico: a node waits for the peer whose address is greater as a string (processMeshPeers).
      passive: address.ip > own.ip,
      keepNextHop,
      directlyConnected: cidrContainsIp(own.subnet, address.address),
    };
  };
  const byName = [...inputs.peers].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const peer of byName) {
    const type: PeerType = peer.spec.node || peer.spec.nodeSelector ? 'Node' : 'Global';
    const local = peer.spec.localASNumber ?? asOf(self);
    const keepNextHop =
      peer.spec.nextHopMode === 'Keep' ||
      (peer.spec.nextHopMode === undefined && peer.spec.keepOriginalNextHop === true);
    if (selectsNode(peer, self)) {
      const address = peer.spec.peerIP ? tryParsePeerIp(peer.spec.peerIP) : undefined;
      if (address?.ip.family === family && peer.spec.asNumber) {
        addPeer({
          type,
          address: peerIpText(address),
          port: address.port,
          asNumber: peer.spec.asNumber,
          localAsNumber: local,
          passive: false,
          keepNextHop,
          directlyConnected: cidrContainsIp(own.subnet, address.ip),
        });
      }
      for (const node of peer.spec.peerSelector ? inputs.nodes : []) {
        if (matches(peer.spec.peerSelector, node))
          addPeer(nodePeer(type, node, local, keepNextHop));
      }
    }
    // The other side of a peerSelector peering (Calico's reversePeering: Auto).
    const reverse = peer.spec.peerSelector && peer.spec.reversePeering !== 'Manual';
    if (reverse && matches(peer.spec.peerSelector, self)) {
      for (const node of inputs.nodes) {
        if (selectsNode(peer, node)) addPeer(nodePeer(type, node, local, keepNextHop));
      }
    }
  }
  if (spec.nodeToNodeMeshEnabled !== false) {
    for (const node of inputs.nodes) addPeer(nodePeer('Mesh', node, asOf(self)));
  }
  const named = [...peers.values()].map((peer) => ({ peer, name: protocolName(peer) }));
  return named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((n) => n.peer);
}

/** The plan of one family: `own` is the node's address of that family. */
function planFamily(
  inputs: BirdInputs,
  self: Node,
  own: NodeAddress,
  family: IpFamily,
): BirdFamilyPlan {
  const pools = inputs.pools
    .map((pool) => ({ pool, cidr: cidrOf(pool.spec.cidr, family) }))
    .filter((p): p is FamilyPool => p.cidr !== undefined);
  const poolCidrs = (keep: (pool: IPPool) => boolean): string[] =>
    pools
      .filter((p) => keep(p.pool))
      .map((p) => formatCidr(p.cidr))
      .sort();
  const encap = (pool: IPPool): boolean =>
    isEncapEnabled(pool.spec.vxlanMode) || isEncapEnabled(pool.spec.ipipMode);
  return {
    family,
    localAddress: own.ip,
    blocks: localBlocks(inputs, pools, family),
    noEncapPools: poolCidrs((p) => !encap(p)),
    encapPools: poolCidrs(encap),
    exportDisabledPools: poolCidrs((p) => p.spec.disableBGPExport === true),
    peers: planPeers(inputs, self, own, family),
  };
}

/**
 * The decisions for `inputs.nodeName`: router id, AS, and per family its blocks, pool filters
 * and peers. IPv6 is planned when the node has spec.bgp.ipv6Address. The node's own
 * BGPConfiguration (`node.<name>`) overrides the default's logSeverityScreen and listenPort.
 * Throws BGP_NO_NODE_ADDRESS when the node or its IPv4 address is missing (BIRD's router id is
 * an IPv4 address).
 */
export function planBird(inputs: BirdInputs): BirdPlan {
  const self = inputs.nodes.find((n) => n.metadata.name === inputs.nodeName);
  const own = self && nodeAddress(self, 4);
  if (!self || !own) {
    throw new CidrpoolError(
      'BGP_NO_NODE_ADDRESS',
      `node "${inputs.nodeName}" has no spec.bgp.ipv4Address: BGP needs the node's IPv4 address as its router id`,
      { details: { node: inputs.nodeName } },
    );
  }
  const spec = inputs.config?.spec ?? {};
  const ownConfig = inputs.nodeConfigs?.find(
    (c) => c.metadata.name === nodeBgpConfigName(inputs.nodeName),
  )?.spec;
  const own6 = nodeAddress(self, 6);
  return {
    routerId: own.ip,
    asNumber: self.spec?.bgp?.asNumber ?? spec.asNumber ?? DEFAULT_AS_NUMBER,
    listenPort: listenPortOf(inputs, inputs.nodeName),
    logLevel: (ownConfig?.logSeverityScreen || spec.logSeverityScreen || 'Info').toLowerCase(),
    ...planFamily(inputs, self, own, 4),
    ipv6: own6 && planFamily(inputs, self, own6, 6),
  };
}

/** Calico's protocol name of a peer: `Mesh_192_168_10_12`, `Node_10_0_0_1_port_1790`. */
export function protocolName(peer: Pick<BirdPeer, 'type' | 'address' | 'port'>): string {
  const ip = peer.address.replace(/[.:]/g, '_');
  return peer.port ? `${peer.type}_${ip}_port_${peer.port}` : `${peer.type}_${ip}`;
}

/** BIRD's log classes for Calico's logSeverityScreen. */
function logClasses(level: string): string {
  if (level === 'debug' || level === 'trace') return 'all';
  if (level === 'info') return '{ info, remote, warning, error, auth, fatal, bug }';
  if (level === 'warning') return '{ warning, error, auth, fatal, bug }';
  return '{ error, fatal, bug }';
}

/** `[ 10.244.0.0/16+, 10.99.0.0/16+ ]`: each prefix and everything inside it. */
const prefixSet = (cidrs: readonly string[]): string =>
  `[ ${cidrs.map((c) => `${c}+`).join(', ')} ]`;

const channelOf = (family: IpFamily): string => (family === 4 ? 'ipv4' : 'ipv6');

function renderPeer(peer: BirdPeer, plan: BirdPlan, fp: BirdFamilyPlan): string {
  const ibgp = peer.asNumber === peer.localAsNumber;
  const local = `${fp.localAddress}${plan.listenPort ? ` port ${plan.listenPort}` : ''}`;
  const lines = [
    `protocol bgp ${protocolName(peer)} from cidrpool_peer${fp.family === 4 ? '' : '6'} {`,
    `  local ${local} as ${peer.localAsNumber};`,
    `  neighbor ${peer.address}${peer.port ? ` port ${peer.port}` : ''} as ${peer.asNumber};`,
  ];
  // iBGP sessions (the mesh) may cross routers; an eBGP peer is one hop away when it is on-link.
  lines.push(ibgp || !peer.directlyConnected ? '  multihop;' : '  direct;');
  if (peer.passive) lines.push('  passive on;');
  const channel = [
    ibgp ? '    gateway recursive;' : undefined,
    peer.keepNextHop ? '    next hop keep;' : undefined,
  ].filter(Boolean);
  if (channel.length > 0) {
    lines.push(`  ${channelOf(fp.family)} {`, ...(channel as string[]), '  };');
  }
  lines.push('}');
  return lines.join('\n');
}

/** The static, kernel and export parts of one family (names end in 4 or 6). */
function renderFamily(fp: BirdFamilyPlan): string[] {
  const n = fp.family;
  const channel = channelOf(n);
  const hostLength = bitsOf(n);
  const out = [
    `# This node's blocks, advertised as one prefix each (not as /${hostLength}s of its pods).`,
    `protocol static cidrpool_blocks${n} {`,
    `  ${channel};`,
    ...fp.blocks.map((b) => `  route ${b} blackhole;`),
    '}',
    '',
    '# Into the kernel: routes of pools without encapsulation learned over BGP, the blackholes of',
    '# their local blocks, and prefixes outside every pool; never routes of VXLAN/IPIP pools (the',
    '# agent programs those) and never interface routes.',
    `filter cidrpool_kernel${n} {`,
    '  if source = RTS_DEVICE then reject;',
  ];
  if (fp.noEncapPools.length > 0) {
    out.push(`  if net ~ ${prefixSet(fp.noEncapPools)} then accept;`);
  }
  out.push(`  if proto = "cidrpool_blocks${n}" then reject;`);
  if (fp.encapPools.length > 0) {
    out.push(`  if net ~ ${prefixSet(fp.encapPools)} then reject;`);
  }
  out.push(
    '  accept;',
    '}',
    '',
    `# Learn the CNI's and the agent's kernel routes (pod /${hostLength}s on cali*, blackholes, VXLAN routes).`,
    `protocol kernel kernel${n} {`,
    '  learn;',
    '  persist;',
    '  scan time 2;',
    '  merge paths on;',
    '  graceful restart;',
    `  ${channel} {`,
    '    import all;',
    `    export filter cidrpool_kernel${n};`,
    '  };',
    '}',
    '',
    '# Towards every peer, in this order: pools with disableBGPExport (the pool and everything inside',
    "# it); the agent's own tunnel routes; this node's blocks; other prefixes inside those blocks;",
    `# pool /${hostLength}s on a local pod's interface (borrowed addresses); nothing else.`,
    `filter cidrpool_export${n} {`,
  );
  if (fp.exportDisabledPools.length > 0) {
    out.push(`  if net ~ ${prefixSet(fp.exportDisabledPools)} then reject;`);
  }
  out.push('  if defined(ifname) && (ifname ~ "vxlan*.calico" || ifname = "tunl0") then reject;');
  for (const block of fp.blocks) out.push(`  if net = ${block} then accept;`);
  if (fp.blocks.length > 0) out.push(`  if net ~ ${prefixSet(fp.blocks)} then reject;`);
  const allPools = [...fp.noEncapPools, ...fp.encapPools].sort();
  if (allPools.length > 0) {
    out.push(
      `  if net ~ ${prefixSet(allPools)} && net.len = ${hostLength} && defined(ifname) && ifname ~ "cali*" then accept;`,
    );
  }
  out.push(
    '  reject;',
    '}',
    '',
    `template bgp cidrpool_peer${n === 4 ? '' : '6'} {`,
    '  graceful restart;',
    '  connect delay time 2;',
    '  connect retry time 5;',
    '  error wait time 5, 30;',
    `  ${channel} {`,
    '    import all;',
    `    export filter cidrpool_export${n};`,
    '  };',
    '}',
  );
  return out;
}

/** The configuration text for a plan. Deterministic: same plan, same bytes. */
export function renderBirdConfig(plan: BirdPlan): string {
  const families = plan.ipv6 ? [plan as BirdFamilyPlan, plan.ipv6] : [plan];
  const out: string[] = [];
  out.push(
    '# Generated by cidrpool node run (src/dataplane/bird-config.ts). Do not edit: it is rewritten',
    '# whenever pools, blocks, nodes, BGPConfiguration or BGPPeer resources change.',
    `router id ${plan.routerId};`,
    `log stderr ${logClasses(plan.logLevel)};`,
    '',
    'protocol device {',
    '  scan time 2;',
    '}',
    '',
    '# Interface routes, for resolving next hops (never exported anywhere).',
    'protocol direct {',
    ...families.map((fp) => `  ${channelOf(fp.family)};`),
    '  interface -"cali*", -"kube-ipvs*", "*";',
    '}',
  );
  for (const fp of families) out.push('', ...renderFamily(fp));
  for (const fp of families) {
    for (const peer of fp.peers) out.push('', renderPeer(peer, plan, fp));
  }
  return `${out.join('\n')}\n`;
}

/** The BIRD 2 configuration of `inputs.nodeName`. Throws BGP_NO_NODE_ADDRESS (see planBird). */
export const generateBirdConfig = (inputs: BirdInputs): string =>
  renderBirdConfig(planBird(inputs));

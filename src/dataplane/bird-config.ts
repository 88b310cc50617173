// The BIRD 2 configuration of one node, from datastore state (dataplane.md §6, own shape of §6.5).
// Pure: the same inputs give the same text, byte for byte, so the adapter can skip a reload when
// nothing changed. BIRD advertises; the agent programs VXLAN/IPIP routes itself, and BIRD installs
// only what it learns for pools without encapsulation (both modes Never) and for prefixes outside
// every pool (e.g. from a data-centre router).
import { CidrpoolError } from '../errors/index.js';
import {
  cidrContainsCidr,
  cidrContainsIp,
  formatCidr,
  parseCidrMasked,
  tryParseCidr,
  tryParseIp,
  type Cidr,
  type IpAddress,
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
  /** This node's IPv4 block affinities (the state of each; pending ones are left out). */
  readonly affinities: readonly { readonly cidr: string; readonly state: string }[];
  /** BGPConfiguration `default`, when it exists. */
  readonly config?: BGPConfiguration;
  readonly peers: readonly BGPPeer[];
}

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

/** The decisions the text is rendered from (exported for tests and `node status`). */
export interface BirdPlan {
  readonly routerId: string;
  readonly asNumber: number;
  readonly listenPort?: number;
  readonly logLevel: string;
  /** Local blocks to advertise, as blackhole statics (no /32 blocks). */
  readonly blocks: readonly string[];
  /** Pools whose routes BIRD installs into the kernel: no encapsulation. */
  readonly noEncapPools: readonly string[];
  /** Pools whose routes the agent programs (VXLAN/IPIP): BIRD never installs them. */
  readonly encapPools: readonly string[];
  /** Pools with `disableBGPExport: true`: never exported, nor anything inside them. */
  readonly exportDisabledPools: readonly string[];
  readonly peers: readonly BirdPeer[];
}

const ipv4Cidr = (text: string | undefined): Cidr | undefined => {
  const cidr = text ? tryParseCidr(text) : undefined;
  return cidr?.family === 4 ? cidr : undefined;
};

/** A node's `spec.bgp.ipv4Address` (e.g. 192.168.10.11/24): the address and its subnet. */
function nodeIpv4(node: Node): { ip: string; address: IpAddress; subnet: Cidr } | undefined {
  const [ipText, prefix = '32'] = (node.spec?.bgp?.ipv4Address ?? '').split('/');
  const address = tryParseIp(ipText ?? '');
  if (address?.family !== 4) return undefined;
  try {
    return { ip: ipText!, address, subnet: parseCidrMasked(`${ipText}/${prefix}`) };
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

type V4Pool = { readonly pool: IPPool; readonly cidr: Cidr };

/**
 * This node's blocks to advertise: affinity confirmed or pendingDeletion (an affinity without a
 * state predates states and counts as confirmed, as in libcalico), not a /32, inside a pool.
 * Blocks of a deleted pool are left out, so pool deletion withdraws them at once (Calico's BIRD
 * keeps them until the affinity goes, calicoctl#828).
 */
function localBlocks(inputs: BirdInputs, pools: readonly V4Pool[]): string[] {
  const blocks = inputs.affinities
    .filter((a) => a.state === 'confirmed' || a.state === 'pendingDeletion' || a.state === '')
    .map((a) => ipv4Cidr(a.cidr))
    .filter((c): c is Cidr => c !== undefined && c.prefix < 32)
    .filter((c) => pools.some((p) => cidrContainsCidr(p.cidr, c)))
    .map(formatCidr);
  return [...new Set(blocks)].sort();
}

/**
 * The sessions of `self`: BGPPeers first (one naming a node's address wins over the mesh
 * session to it), then the mesh. One session per address; never one to itself.
 */
function planPeers(
  inputs: BirdInputs,
  self: Node,
  own: NonNullable<ReturnType<typeof nodeIpv4>>,
): BirdPeer[] {
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
    const address = nodeIpv4(node);
    if (!address || node.metadata.name === self.metadata.name) return undefined;
    return {
      type,
      address: address.ip,
      port: spec.listenPort,
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
      if (address?.ip.family === 4 && peer.spec.asNumber) {
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

/**
 * The decisions for `inputs.nodeName`: router id, AS, blocks, pool filters and peers.
 * Throws BGP_NO_NODE_ADDRESS when the node or its IPv4 address is missing.
 */
export function planBird(inputs: BirdInputs): BirdPlan {
  const self = inputs.nodes.find((n) => n.metadata.name === inputs.nodeName);
  const own = self && nodeIpv4(self);
  if (!self || !own) {
    throw new CidrpoolError(
      'BGP_NO_NODE_ADDRESS',
      `node "${inputs.nodeName}" has no spec.bgp.ipv4Address: BGP needs the node's IPv4 address as its router id`,
      { details: { node: inputs.nodeName } },
    );
  }
  const spec = inputs.config?.spec ?? {};
  const pools = inputs.pools
    .map((pool) => ({ pool, cidr: ipv4Cidr(pool.spec.cidr) }))
    .filter((p): p is V4Pool => p.cidr !== undefined);
  const poolCidrs = (keep: (pool: IPPool) => boolean): string[] =>
    pools
      .filter((p) => keep(p.pool))
      .map((p) => formatCidr(p.cidr))
      .sort();
  const encap = (pool: IPPool): boolean =>
    isEncapEnabled(pool.spec.vxlanMode) || isEncapEnabled(pool.spec.ipipMode);
  return {
    routerId: own.ip,
    asNumber: self.spec?.bgp?.asNumber ?? spec.asNumber ?? DEFAULT_AS_NUMBER,
    listenPort: spec.listenPort,
    logLevel: (spec.logSeverityScreen ?? 'Info').toLowerCase(),
    blocks: localBlocks(inputs, pools),
    noEncapPools: poolCidrs((p) => !encap(p)),
    encapPools: poolCidrs(encap),
    exportDisabledPools: poolCidrs((p) => p.spec.disableBGPExport === true),
    peers: planPeers(inputs, self, own),
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

function renderPeer(peer: BirdPeer, plan: BirdPlan): string {
  const ibgp = peer.asNumber === peer.localAsNumber;
  const local = `${plan.routerId}${plan.listenPort ? ` port ${plan.listenPort}` : ''}`;
  const lines = [
    `protocol bgp ${protocolName(peer)} from cidrpool_peer {`,
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
    lines.push('  ipv4 {', ...(channel as string[]), '  };');
  }
  lines.push('}');
  return lines.join('\n');
}

/** The configuration text for a plan. Deterministic: same plan, same bytes. */
export function renderBirdConfig(plan: BirdPlan): string {
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
    '  ipv4;',
    '  interface -"cali*", -"kube-ipvs*", "*";',
    '}',
    '',
    "# This node's blocks, advertised as one prefix each (not as /32s of its pods).",
    'protocol static cidrpool_blocks4 {',
    '  ipv4;',
    ...plan.blocks.map((b) => `  route ${b} blackhole;`),
    '}',
    '',
  );
  out.push(
    '# Into the kernel: routes of pools without encapsulation learned over BGP, the blackholes of',
    '# their local blocks, and prefixes outside every pool; never routes of VXLAN/IPIP pools (the',
    '# agent programs those) and never interface routes.',
    'filter cidrpool_kernel4 {',
    '  if source = RTS_DEVICE then reject;',
  );
  if (plan.noEncapPools.length > 0) {
    out.push(`  if net ~ ${prefixSet(plan.noEncapPools)} then accept;`);
  }
  out.push('  if proto = "cidrpool_blocks4" then reject;');
  if (plan.encapPools.length > 0) {
    out.push(`  if net ~ ${prefixSet(plan.encapPools)} then reject;`);
  }
  out.push(
    '  accept;',
    '}',
    '',
    "# Learn the CNI's and the agent's kernel routes (pod /32s on cali*, blackholes, VXLAN routes).",
    'protocol kernel kernel4 {',
    '  learn;',
    '  persist;',
    '  scan time 2;',
    '  merge paths on;',
    '  graceful restart;',
    '  ipv4 {',
    '    import all;',
    '    export filter cidrpool_kernel4;',
    '  };',
    '}',
    '',
    '# Towards every peer, in this order: pools with disableBGPExport (the pool and everything inside',
    "# it); the agent's own tunnel routes; this node's blocks; other prefixes inside those blocks;",
    "# pool /32s on a local pod's interface (borrowed addresses); nothing else.",
    'filter cidrpool_export4 {',
  );
  if (plan.exportDisabledPools.length > 0) {
    out.push(`  if net ~ ${prefixSet(plan.exportDisabledPools)} then reject;`);
  }
  out.push('  if defined(ifname) && (ifname ~ "vxlan*.calico" || ifname = "tunl0") then reject;');
  for (const block of plan.blocks) out.push(`  if net = ${block} then accept;`);
  if (plan.blocks.length > 0) out.push(`  if net ~ ${prefixSet(plan.blocks)} then reject;`);
  const allPools = [...plan.noEncapPools, ...plan.encapPools].sort();
  if (allPools.length > 0) {
    out.push(
      `  if net ~ ${prefixSet(allPools)} && net.len = 32 && defined(ifname) && ifname ~ "cali*" then accept;`,
    );
  }
  out.push(
    '  reject;',
    '}',
    '',
    'template bgp cidrpool_peer {',
    '  graceful restart;',
    '  connect delay time 2;',
    '  connect retry time 5;',
    '  error wait time 5, 30;',
    '  ipv4 {',
    '    import all;',
    '    export filter cidrpool_export4;',
    '  };',
    '}',
  );
  for (const peer of plan.peers) out.push('', renderPeer(peer, plan));
  return `${out.join('\n')}\n`;
}

/** The BIRD 2 configuration of `inputs.nodeName`. Throws BGP_NO_NODE_ADDRESS (see planBird). */
export const generateBirdConfig = (inputs: BirdInputs): string =>
  renderBirdConfig(planBird(inputs));

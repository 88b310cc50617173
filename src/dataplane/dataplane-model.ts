// The desired kernel state of one node, kept up to date incrementally from datastore changes
// (spec/dataplane.md §3.1-3.6, §4). It plays the part of Felix's calc graph (L3 route resolver,
// VXLAN resolver, encapsulation resolver): pools, nodes and blocks go in; routes, devices and
// per-VTEP FDB/neighbour entries come out. Each change marks only the routes it can affect, so a
// block change re-evaluates that block's CIDR and its borrowed /32s, not every route.
import {
  bitsOf,
  cidrContainsCidr,
  cidrContainsIp,
  formatIp,
  parseCidr,
  type Cidr,
  type IpFamily,
} from '../net/index.js';
import { hostCidrText } from './decode.js';
import {
  IPIP_DEVICE,
  VXLAN_DEVICE,
  type BlockInfo,
  type DataplaneSettings,
  type DeviceWish,
  type FdbEntry,
  type IpipDevice,
  type KernelRoute,
  type LocalEnvironment,
  type NeighbourEntry,
  type NodeInfo,
  type PoolInfo,
  type VxlanDevice,
} from './types.js';
import { vtepMac } from './vtep-mac.js';

/** A remote node's VXLAN endpoint for one family (§4.2). */
export interface Vtep {
  readonly node: string;
  readonly family: IpFamily;
  readonly tunnelIp: string;
  readonly hostIp: string;
  readonly mac: string;
}

/** The permanent FDB and neighbour entry of one remote VTEP. */
export interface VtepEntries {
  readonly fdb: FdbEntry;
  readonly neighbour: NeighbourEntry;
}

/** What changed since the last `takeChanges`: route keys (CIDR text), VTEP nodes, devices. */
export interface ModelChanges {
  readonly routes: readonly string[];
  readonly vteps: readonly string[];
  readonly devices: boolean;
}

export class DataplaneModel {
  private readonly pools = new Map<string, PoolInfo>();
  /** Pools by prefix length, longest first, so the first containing pool is the innermost. */
  private poolsBySpecificity: PoolInfo[] = [];
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly blocks = new Map<string, BlockInfo>();
  /** Borrowed /32 (/128) -> node, from every block (a later block write wins). */
  private readonly borrowed = new Map<string, string>();
  /** VXLAN tunnel address /32 (/128) -> nodes that publish it. */
  private readonly tunnelRefs = new Map<string, Set<string>>();
  /** The CIDR of every route key seen (parsed once). */
  private readonly keyCidrs = new Map<string, Cidr>();
  /** Route key -> the node its route points at; node -> its route keys (to re-evaluate). */
  private readonly keyNode = new Map<string, string>();
  private readonly nodeKeys = new Map<string, Set<string>>();
  private readonly routes = new Map<string, KernelRoute>();
  private readonly dirtyRoutes = new Set<string>();
  private readonly dirtyVteps = new Set<string>();
  private devicesDirty = true;
  private env: LocalEnvironment = { hostMtu: 1460 };

  constructor(
    readonly localNode: string,
    readonly settings: DataplaneSettings,
  ) {}

  // ---- inputs -------------------------------------------------------------------------------

  /** Add, replace (info) or remove (undefined) the pool called `name`. */
  setPool(name: string, info: PoolInfo | undefined): void {
    const old = this.pools.get(name);
    if (info) this.pools.set(name, info);
    else this.pools.delete(name);
    this.poolsBySpecificity = [...this.pools.values()].sort(
      (a, b) => b.cidr.prefix - a.cidr.prefix,
    );
    for (const pool of [old, info]) if (pool) this.markKeysWithin(pool.cidr);
    this.devicesDirty = true;
    for (const node of this.nodes.keys()) this.dirtyVteps.add(node);
  }

  /** Add, replace or remove the Node called `name`. */
  setNode(name: string, info: NodeInfo | undefined): void {
    const old = this.nodes.get(name);
    if (info) this.nodes.set(name, info);
    else this.nodes.delete(name);
    for (const n of [old, info]) {
      for (const ip of [n?.vxlanTunnel4, n?.vxlanTunnel6]) {
        if (ip) this.setTunnelRef(hostCidrText(ip), name, n === info);
      }
    }
    if (name === this.localNode) {
      this.markAllRoutes();
      this.devicesDirty = true;
    } else {
      for (const key of this.nodeKeys.get(name) ?? []) this.dirtyRoutes.add(key);
    }
    this.dirtyVteps.add(name);
  }

  /** Add, replace or remove the block whose CIDR text is `cidrText`. */
  setBlock(cidrText: string, info: BlockInfo | undefined): void {
    const old = this.blocks.get(cidrText);
    if (info) this.blocks.set(cidrText, info);
    else this.blocks.delete(cidrText);
    this.noteKey(cidrText, info?.cidr ?? old?.cidr);
    for (const key of old?.borrowed.keys() ?? []) {
      if (!info?.borrowed.has(key)) this.borrowed.delete(key);
      this.dirtyRoutes.add(key);
    }
    for (const [key, node] of info?.borrowed ?? []) {
      this.borrowed.set(key, node);
      this.noteKey(key);
    }
  }

  /** The node's parent devices and host MTU, as found in the kernel. */
  setEnvironment(env: LocalEnvironment): void {
    const old = this.env;
    this.env = env;
    if (old.parent4 !== env.parent4 || old.parent6 !== env.parent6 || old.hostMtu !== env.hostMtu) {
      this.markAllRoutes();
      this.devicesDirty = true;
    }
  }

  /** Forget the datastore state (before a fresh snapshot); the environment is kept. */
  clear(): void {
    for (const name of [...this.pools.keys()]) this.setPool(name, undefined);
    for (const name of [...this.nodes.keys()]) this.setNode(name, undefined);
    for (const cidr of [...this.blocks.keys()]) this.setBlock(cidr, undefined);
  }

  // ---- outputs ------------------------------------------------------------------------------

  /** Re-evaluate what was marked and return what may have changed since the last call. */
  takeChanges(): ModelChanges {
    const changed: string[] = [];
    for (const key of this.dirtyRoutes) {
      const before = this.routes.get(key);
      const after = this.resolve(key);
      if (after) this.routes.set(key, after);
      else this.routes.delete(key);
      if (!sameRoute(before, after)) changed.push(key);
      if (!after && !this.hasSource(key)) this.forgetKey(key);
    }
    this.dirtyRoutes.clear();
    const vteps = [...this.dirtyVteps];
    this.dirtyVteps.clear();
    const devices = this.devicesDirty;
    this.devicesDirty = false;
    return { routes: changed, vteps, devices };
  }

  /** Every desired route by destination (evaluate pending changes with takeChanges first). */
  desiredRoutes(): ReadonlyMap<string, KernelRoute> {
    return this.routes;
  }

  /** The node names known. */
  nodeNames(): IterableIterator<string> {
    return this.nodes.keys();
  }

  /** The pools known. */
  poolList(): PoolInfo[] {
    return [...this.pools.values()];
  }

  /** The local Node, once registered. */
  localNodeInfo(): NodeInfo | undefined {
    return this.nodes.get(this.localNode);
  }

  /** Some pool of the family has VXLAN (disabled pools count; encapsulation_resolver.go). */
  vxlanEnabled(family: IpFamily): boolean {
    return this.poolsBySpecificity.some((p) => p.cidr.family === family && p.vxlanMode !== 'Never');
  }

  /** Some (IPv4) pool has IPIP. */
  ipipEnabled(): boolean {
    return this.poolsBySpecificity.some((p) => p.cidr.family === 4 && p.ipipMode !== 'Never');
  }

  /** The MTU of the VXLAN device of a family: configured, or host MTU - 50 (v4) / - 70 (v6). */
  vxlanMtu(family: IpFamily): number {
    const configured = family === 4 ? this.settings.vxlanMtu : this.settings.vxlanMtuV6;
    return configured || this.env.hostMtu - (family === 4 ? 50 : 70);
  }

  /** The MTU of tunl0: configured, or host MTU - 20. */
  ipipMtu(): number {
    return this.settings.ipipMtu || this.env.hostMtu - 20;
  }

  /**
   * The MTU pods should use (felix `determinePodMTU`): the smallest MTU of the enabled tunnel
   * devices (VXLAN v4, VXLAN v6, IPIP), else the host MTU.
   */
  podMtu(): number {
    const tunnels = [
      this.vxlanEnabled(4) ? this.vxlanMtu(4) : 0,
      this.vxlanEnabled(6) ? this.vxlanMtu(6) : 0,
      this.ipipEnabled() ? this.ipipMtu() : 0,
    ].filter((mtu) => mtu > 0);
    return tunnels.length > 0 ? Math.min(...tunnels) : this.env.hostMtu;
  }

  /** `node`'s VTEP for `family`: it needs spec.bgp, a host IP and a tunnel IP (vxlan_resolver.go). */
  vtepOf(name: string, family: IpFamily): Vtep | undefined {
    const node = this.nodes.get(name);
    if (!node?.hasBgp) return undefined;
    const host = family === 4 ? node.ipv4 : node.ipv6;
    const tunnel = family === 4 ? node.vxlanTunnel4 : node.vxlanTunnel6;
    if (!host || !tunnel) return undefined;
    return {
      node: name,
      family,
      tunnelIp: formatIp(tunnel),
      hostIp: formatIp(host.ip),
      mac: vtepMac(name, family, family === 4 ? node.vxlanMac4 : node.vxlanMac6),
    };
  }

  /** The FDB and neighbour entry wanted for a remote node's VTEP, or undefined (§4.2). */
  vtepEntries(name: string, family: IpFamily): VtepEntries | undefined {
    if (name === this.localNode || !this.vxlanEnabled(family)) return undefined;
    const vtep = this.vtepOf(name, family);
    if (!vtep) return undefined;
    return {
      fdb: { mac: vtep.mac, dst: vtep.hostIp },
      neighbour: { ip: vtep.tunnelIp, mac: vtep.mac },
    };
  }

  /** What `vxlan.calico` (or `vxlan-v6.calico`) should be (§4.1). */
  vxlanDevice(family: IpFamily): DeviceWish<VxlanDevice> {
    if (!this.vxlanEnabled(family)) return { state: 'absent' };
    const vtep = this.vtepOf(this.localNode, family);
    if (!vtep)
      return {
        state: 'unknown',
        reason: `node ${this.localNode} has no IPv${family} VTEP yet (host address and VXLAN tunnel address)`,
      };
    const parent = family === 4 ? this.env.parent4 : this.env.parent6;
    if (!parent) return { state: 'unknown', reason: `no interface holds ${vtep.hostIp}` };
    return {
      state: 'present',
      device: {
        name: VXLAN_DEVICE[family],
        family,
        vni: this.settings.vxlanVni,
        port: this.settings.vxlanPort,
        local: vtep.hostIp,
        parent,
        mac: vtep.mac,
        mtu: this.vxlanMtu(family),
        address: `${vtep.tunnelIp}/${bitsOf(family)}`,
      },
    };
  }

  /** What `tunl0` should be (§4.4): present while some pool has IPIP. */
  ipipDevice(): DeviceWish<IpipDevice> {
    if (!this.ipipEnabled()) return { state: 'absent' };
    const tunnel = this.nodes.get(this.localNode)?.ipipTunnel;
    return {
      state: 'present',
      device: {
        name: IPIP_DEVICE,
        mtu: this.ipipMtu(),
        address: tunnel ? hostCidrText(tunnel) : undefined,
      },
    };
  }

  // ---- route resolution (§3.1-3.6) ----------------------------------------------------------

  private resolve(key: string): KernelRoute | undefined {
    const cidr = this.keyCidrs.get(key);
    if (!cidr) return undefined;
    this.setKeyNode(key, undefined);
    const pool = this.poolsBySpecificity.find((p) => cidrContainsCidr(p.cidr, cidr));
    if (!pool || pool.type === 'none') return undefined;
    const block = this.blocks.get(key);
    const borrower = this.borrowed.get(key);
    const connected = this.connectedTunnelRoute(key, cidr, pool, block, borrower);
    if (connected) return connected;
    const dstNode = borrower ?? block?.host;
    if (!dstNode) return undefined;
    if (dstNode === this.localNode) {
      // A local block gets a blackhole, never a /32 (/128) one (issue #2624).
      const isLocalBlock = block?.host === this.localNode && borrower === undefined;
      if (!isLocalBlock || cidr.prefix === bitsOf(cidr.family)) return undefined;
      // BIRD, when it runs, installs the blackholes of pools without encapsulation (§6.3).
      if (pool.type === 'noencap' && !this.settings.programNoEncapRoutes) return undefined;
      return {
        family: cidr.family,
        dst: key,
        type: 'blackhole',
        onlink: false,
        protocol: this.settings.routeProtocol,
        scope: 'global',
      };
    }
    this.setKeyNode(key, dstNode);
    return this.remoteRoute(key, cidr.family, pool, dstNode);
  }

  /**
   * A remote VTEP address that was borrowed from another node's block, or sits in a /32 block of
   * its own, gets a connected route on the VXLAN device (vxlan_mgr.go `tunnelRoute`; issues
   * #5595, #6160).
   */
  private connectedTunnelRoute(
    key: string,
    cidr: Cidr,
    pool: PoolInfo,
    block: BlockInfo | undefined,
    borrower: string | undefined,
  ): KernelRoute | undefined {
    if (pool.type !== 'vxlan') return undefined;
    for (const node of this.tunnelRefs.get(key) ?? []) {
      if (node === this.localNode) continue;
      const ownSlash32Block = block?.host === node && cidr.prefix === bitsOf(cidr.family);
      if (borrower !== node && !ownSlash32Block) continue;
      this.setKeyNode(key, node);
      return {
        family: cidr.family,
        dst: key,
        type: 'unicast',
        device: VXLAN_DEVICE[cidr.family],
        onlink: false,
        protocol: this.settings.deviceRouteProtocol,
        scope: 'link',
        mtu: this.vxlanMtu(cidr.family),
      };
    }
    return undefined;
  }

  /** The route to a remote node's block or address, by the pool's mode (§3.2, §3.4). */
  private remoteRoute(
    dst: string,
    family: IpFamily,
    pool: PoolInfo,
    dstNode: string,
  ): KernelRoute | undefined {
    const remote = this.nodes.get(dstNode);
    const remoteHost = family === 4 ? remote?.ipv4 : remote?.ipv6;
    const localHost = family === 4 ? this.localNodeInfo()?.ipv4 : this.localNodeInfo()?.ipv6;
    const parent = family === 4 ? this.env.parent4 : this.env.parent6;
    const sameSubnet =
      pool.crossSubnet &&
      localHost !== undefined &&
      remoteHost !== undefined &&
      cidrContainsIp(localHost.subnet, remoteHost.ip);
    const base = { family, dst, type: 'unicast', onlink: true, scope: 'global' } as const;
    // BIRD, when it runs, installs the routes of pools without encapsulation (§6.3).
    if (pool.type === 'noencap' && !this.settings.programNoEncapRoutes) return undefined;
    if (remoteHost && parent && (pool.type === 'noencap' || sameSubnet)) {
      return {
        ...base,
        gateway: formatIp(remoteHost.ip),
        device: parent,
        protocol: this.settings.routeProtocol,
      };
    }
    if (pool.type === 'vxlan') {
      const vtep = this.vtepOf(dstNode, family);
      if (!vtep) return undefined;
      return {
        ...base,
        gateway: vtep.tunnelIp,
        device: VXLAN_DEVICE[family],
        protocol: this.settings.deviceRouteProtocol,
        mtu: this.vxlanMtu(family),
      };
    }
    if (pool.type === 'ipip' && family === 4 && remoteHost) {
      return {
        ...base,
        gateway: formatIp(remoteHost.ip),
        device: IPIP_DEVICE,
        protocol: this.settings.routeProtocol,
        mtu: this.ipipMtu(),
      };
    }
    return undefined;
  }

  // ---- bookkeeping --------------------------------------------------------------------------

  private noteKey(key: string, cidr?: Cidr): void {
    if (!this.keyCidrs.has(key)) this.keyCidrs.set(key, cidr ?? parseCidr(key));
    this.dirtyRoutes.add(key);
  }

  private hasSource(key: string): boolean {
    return this.blocks.has(key) || this.borrowed.has(key) || this.tunnelRefs.has(key);
  }

  private forgetKey(key: string): void {
    this.keyCidrs.delete(key);
    this.setKeyNode(key, undefined);
  }

  private setTunnelRef(key: string, node: string, present: boolean): void {
    let refs = this.tunnelRefs.get(key);
    if (present) {
      if (!refs) this.tunnelRefs.set(key, (refs = new Set()));
      refs.add(node);
      this.noteKey(key);
    } else if (refs) {
      refs.delete(node);
      if (refs.size === 0) this.tunnelRefs.delete(key);
      this.dirtyRoutes.add(key);
    }
  }

  private setKeyNode(key: string, node: string | undefined): void {
    const old = this.keyNode.get(key);
    if (old === node) return;
    if (old !== undefined) {
      const keys = this.nodeKeys.get(old);
      keys?.delete(key);
      if (keys?.size === 0) this.nodeKeys.delete(old);
    }
    if (node === undefined) {
      this.keyNode.delete(key);
      return;
    }
    this.keyNode.set(key, node);
    let keys = this.nodeKeys.get(node);
    if (!keys) this.nodeKeys.set(node, (keys = new Set()));
    keys.add(key);
  }

  private markAllRoutes(): void {
    for (const key of this.keyCidrs.keys()) this.dirtyRoutes.add(key);
  }

  private markKeysWithin(cidr: Cidr): void {
    for (const [key, keyCidr] of this.keyCidrs) {
      if (cidrContainsCidr(cidr, keyCidr)) this.dirtyRoutes.add(key);
    }
  }
}

/** Two routes program the same kernel state. */
export function sameRoute(a: KernelRoute | undefined, b: KernelRoute | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return routeSignature(a) === routeSignature(b);
}

/** A route's identity and attributes as one comparable text. */
export function routeSignature(r: KernelRoute): string {
  return [
    r.type,
    r.dst,
    r.gateway ?? '',
    r.device ?? '',
    r.onlink ? 'onlink' : '',
    r.protocol,
    r.scope,
    r.mtu ?? '',
  ].join(' ');
}

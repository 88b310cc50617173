// How the plugin that delegates IPAM to us lays out the pod's network. A delegating plugin
// (bridge, ptp, macvlan, ...) hands IPAM its whole config, so its `type` and `isGateway` are in
// ours: from them follow the prefix, gateway and routes the result carries and the addresses a
// pod must never get (docs/cni.md "Results under the standard plugins"; why: docs/design/cni.md).
import { CidrpoolError } from '../errors/index.js';
import type { PoolInfo } from '../ipam/pools.js';
import type { SkippedAddresses } from '../ipam/types.js';
import { tryParseGoCidr } from './pools.js';
import {
  addressAt,
  cidrContainsCidr,
  cidrContainsIp,
  cidrSize,
  formatCidr,
  formatIp,
  networkOf,
  type Cidr,
  type IpAddress,
} from '../net/index.js';

/**
 * - `calico`: calico-ipam's result (block mask, no gateway, no routes; `IP=` as /32). For
 *   Calico's own plugin, which sets its own routes, and any plugin we do not know.
 * - `segment`: the pods share one L2 segment and the host side has no address (bridge with
 *   isGateway false, macvlan, ipvlan, vlan, host-device): the pool's mask, no gateway.
 * - `bridge-gateway`: bridge with isGateway (or isDefaultGateway): the block's mask, its second
 *   address as the gateway on the bridge, routes to the pools via it; one block per node.
 * - `ptp`: a veth per pod, the gateway on every host end: the pool's mask, the pool's second
 *   address as the gateway.
 */
export type LayoutKind = 'calico' | 'segment' | 'bridge-gateway' | 'ptp';

export interface Layout {
  readonly kind: LayoutKind;
  /** The delegating plugin's `type` ('' when absent), for messages. */
  readonly plugin: string;
  /** bridge: the bridge's name (the plugin's default is cni0). */
  readonly bridge?: string;
}

const SEGMENT_PLUGINS = new Set(['macvlan', 'ipvlan', 'vlan', 'host-device']);

/** The layout the config's own plugin (`raw.type`) gives the pod. */
export function layoutOf(raw: Readonly<Record<string, unknown>>): Layout {
  const plugin = typeof raw.type === 'string' ? raw.type : '';
  if (plugin === 'bridge') {
    // The bridge plugin: isDefaultGateway implies isGateway.
    const gateway = raw.isGateway === true || raw.isDefaultGateway === true;
    const bridge = typeof raw.bridge === 'string' && raw.bridge !== '' ? raw.bridge : 'cni0';
    return { kind: gateway ? 'bridge-gateway' : 'segment', plugin, bridge };
  }
  if (plugin === 'ptp') return { kind: 'ptp', plugin };
  if (SEGMENT_PLUGINS.has(plugin)) return { kind: 'segment', plugin };
  return { kind: 'calico', plugin };
}

/**
 * The addresses AutoAssign must pass over: the network address (and broadcast address, IPv4)
 * of the subnet a result claims, and the gateway the plugin puts on the host side.
 */
export function skippedAddresses(layout: Layout, family: 4 | 6): SkippedAddresses | undefined {
  const last = family === 4 ? 1 : 0; // IPv6 has no broadcast address
  switch (layout.kind) {
    case 'segment':
      return { poolStart: 1, poolEnd: last };
    case 'ptp':
      return { poolStart: 2, poolEnd: last };
    case 'bridge-gateway':
      return { blockStart: 2, blockEnd: last };
    case 'calico':
      return undefined;
  }
}

/** The per-request block limit: the bridge holds one IPv4 gateway, so one block per node. */
export const blockLimitOf = (layout: Layout): number | undefined =>
  layout.kind === 'bridge-gateway' ? 1 : undefined;

/** One IP of the result. */
export interface ResultIp {
  /** With the prefix of the subnet the pod is on, e.g. `10.65.0.7/24`. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly gateway?: string;
}

/** One route of the result; without `gw` the destination is on-link. */
export interface ResultRoute {
  readonly dst: string;
  readonly gw?: string;
}

export interface ShapedResult {
  readonly ips: readonly ResultIp[];
  readonly routes: readonly ResultRoute[];
}

/** An address the plugin gives the pod: its pool (undefined when outside every pool). */
export interface PlacedAddress {
  /** As assigned: `10.65.0.7/26` (AutoAssign, block mask) or `10.65.0.7/32` (given). */
  readonly address: string;
  readonly ip: IpAddress;
  readonly pool?: PoolInfo;
}

interface Subnet {
  readonly subnet: Cidr;
  readonly gateway?: IpAddress;
}

function subnetOf(layout: Layout, ip: IpAddress, pool: PoolInfo): Subnet {
  switch (layout.kind) {
    case 'bridge-gateway': {
      const block = networkOf(ip, pool.blockSize);
      return { subnet: block, gateway: addressAt(block, 1) };
    }
    case 'ptp':
      return { subnet: pool.cidr, gateway: addressAt(pool.cidr, 1) };
    default:
      return { subnet: pool.cidr };
  }
}

/**
 * Throws CNI_UNUSABLE_ADDRESS when the layout cannot give `ip` to a pod: the network or
 * (IPv4) broadcast address of the subnet its result would claim, or the host side's gateway.
 * Addresses outside every pool are left to IPAM (which refuses them).
 */
export function checkUsable(layout: Layout, ip: IpAddress, pool: PoolInfo | undefined): void {
  if (layout.kind === 'calico' || !pool) return;
  const { subnet, gateway } = subnetOf(layout, ip, pool);
  const offset = ip.value - subnet.base;
  const what =
    offset === 0n
      ? 'the network address'
      : ip.family === 4 && offset === cidrSize(subnet) - 1n
        ? 'the broadcast address'
        : gateway && gateway.value === ip.value
          ? `the gateway ${layout.plugin} puts on the host side`
          : undefined;
  if (!what) return;
  const text = formatIp(ip);
  throw new CidrpoolError(
    'CNI_UNUSABLE_ADDRESS',
    `${text} is ${what} of ${formatCidr(subnet)}, the subnet a ${layout.plugin} pod is on`,
    {
      details: {
        ip: text,
        hint: `ask for another address of ${formatCidr(subnet)}; cidrpool-ipam never hands out ${text} to a ${layout.plugin} pod`,
      },
    },
  );
}

/**
 * bridge with isGateway: the bridge holds the gateway of one block of the node, so an address
 * asked for must lie in the node's block of its pool (`nodeBlocks`: the node's affine blocks).
 * Throws CNI_UNUSABLE_ADDRESS naming the block to choose from.
 */
export function checkGatewayBlock(
  layout: Layout,
  ip: IpAddress,
  pool: PoolInfo | undefined,
  nodeBlocks: readonly Cidr[],
  node: string,
): void {
  if (layout.kind !== 'bridge-gateway' || !pool) return;
  const block = networkOf(ip, pool.blockSize);
  const other = nodeBlocks.find(
    (b) => cidrContainsCidr(pool.cidr, b) && formatCidr(b) !== formatCidr(block),
  );
  if (!other) return;
  const text = formatIp(ip);
  throw new CidrpoolError(
    'CNI_UNUSABLE_ADDRESS',
    `${text} is in block ${formatCidr(block)}, but bridge "${layout.bridge}" has isGateway and serves block ${formatCidr(other)} of node ${node} (a bridge holds one IPv4 gateway)`,
    {
      details: {
        ip: text,
        hint: `ask for an address of ${formatCidr(other)}, or use isGateway: false`,
      },
    },
  );
}

/** The pools whose CIDR or name an `ipv4_pools` / `ipv6_pools` list names (all when empty). */
export function poolsNamed(
  pools: readonly PoolInfo[],
  family: 4 | 6,
  entries: readonly string[],
): PoolInfo[] {
  const mine = pools.filter(
    (p) => p.cidr.family === family && p.enabled && p.allowedUses.includes('Workload'),
  );
  if (entries.length === 0) return mine;
  return mine.filter((p) =>
    entries.some((e) => {
      const c = e === p.name ? p.cidr : tryParseGoCidr(e);
      return c?.base === p.cidr.base && c.prefix === p.cidr.prefix;
    }),
  );
}

/**
 * The result's IPs and routes under the layout. `routePools` are the pools the network may
 * draw from (poolsNamed): pods of every one of them must be reachable, so each pool that the
 * pod's own subnet does not cover gets a route, on-link (segment) or via the gateway.
 * With `withRoutes` false no routes are given. The calico layout keeps calico-ipam's result.
 */
export function shapeResult(
  layout: Layout,
  placed: readonly PlacedAddress[],
  routePools: (family: 4 | 6) => readonly PoolInfo[],
  withRoutes: boolean,
): ShapedResult {
  const ips: ResultIp[] = [];
  const routes: ResultRoute[] = [];
  for (const a of placed) {
    if (layout.kind === 'calico' || !a.pool) {
      ips.push({ address: a.address, family: a.ip.family });
      continue;
    }
    const { subnet, gateway } = subnetOf(layout, a.ip, a.pool);
    const gw = gateway ? formatIp(gateway) : undefined;
    ips.push({
      address: `${formatIp(a.ip)}/${subnet.prefix}`,
      family: a.ip.family,
      ...(gw ? { gateway: gw } : {}),
    });
    if (!withRoutes) continue;
    for (const pool of routePools(a.ip.family)) {
      if (cidrContainsCidr(subnet, pool.cidr)) continue;
      if (routes.some((r) => r.dst === pool.cidrText)) continue;
      routes.push({ dst: pool.cidrText, ...(gw ? { gw } : {}) });
    }
  }
  return { ips, routes };
}

/** The first enabled pool that contains `ip` (where AssignIP puts it). */
export const poolOf = (pools: readonly PoolInfo[], ip: IpAddress): PoolInfo | undefined =>
  pools.find((p) => p.enabled && cidrContainsIp(p.cidr, ip));

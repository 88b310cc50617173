// Which pools a node may hold a tunnel address from (allocateip.go `determineEnabledPoolCIDRs`,
// spec §2), for each kind of tunnel address, with Calico's handle names and Node fields.
import type { IpFamily } from '../net/index.js';
import { tryParseSelector } from '../selector/index.js';
import type { PoolInfo } from './types.js';

/** One kind of tunnel address. */
export interface TunnelKind {
  readonly name: 'vxlan' | 'vxlan-v6' | 'ipip';
  readonly family: IpFamily;
  /** The allocation's `type` attribute. */
  readonly attributeType: string;
  handleId(node: string): string;
  /** The pool's mode for this tunnel is not Never. */
  usesPool(pool: PoolInfo): boolean;
}

export const TUNNEL_KINDS: readonly TunnelKind[] = [
  {
    name: 'ipip',
    family: 4,
    attributeType: 'ipipTunnelAddress',
    handleId: (node) => `ipip-tunnel-addr-${node}`,
    usesPool: (p) => p.ipipMode !== 'Never',
  },
  {
    name: 'vxlan',
    family: 4,
    attributeType: 'vxlanTunnelAddress',
    handleId: (node) => `vxlan-tunnel-addr-${node}`,
    usesPool: (p) => p.vxlanMode !== 'Never',
  },
  {
    name: 'vxlan-v6',
    family: 6,
    attributeType: 'vxlanV6TunnelAddress',
    handleId: (node) => `vxlan-v6-tunnel-addr-${node}`,
    usesPool: (p) => p.vxlanMode !== 'Never',
  },
];

/** The pools a tunnel address of `kind` may stay in, and the ones a new one may come from. */
export interface TunnelPools {
  /** Pools that keep an existing address: the right family and mode, Tunnel use, selecting the node, not terminating. */
  readonly keep: readonly PoolInfo[];
  /** `keep` without disabled pools: where a new address is allocated. */
  readonly allocate: readonly PoolInfo[];
}

/**
 * The pools for `kind` on a node with `labels`. Calico also leaves disabled pools out of `keep`
 * (so disabling the only VXLAN pool releases every VTEP, issue #3672); cidrpool keeps an address
 * in a disabled pool, as it keeps pods' addresses there (docs/design/node-agent.md).
 */
export function tunnelPools(
  kind: TunnelKind,
  pools: readonly PoolInfo[],
  labels: Readonly<Record<string, string>>,
): TunnelPools {
  const keep = pools.filter((pool) => {
    if (pool.cidr.family !== kind.family || !kind.usesPool(pool) || pool.terminating) return false;
    if (pool.allowedUses.length > 0 && !pool.allowedUses.includes('Tunnel')) return false;
    const selector = tryParseSelector(pool.nodeSelector);
    return selector !== undefined && selector.matches(labels);
  });
  return { keep, allocate: keep.filter((pool) => !pool.disabled) };
}

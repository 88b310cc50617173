// Which pools IPAM uses (ipam-core.md §1.6, §3.3): read, default, filter and order IPPools.
import { listAll, type Datastore, type KeyValue } from '../datastore/api.js';
import { resourcePrefix } from '../datastore/keys.js';
import { CidrpoolError } from '../errors/index.js';
import type { Cidr, IpAddress, IpFamily } from '../net/index.js';
import {
  cidrContainsIp,
  formatCidr,
  isValidPrefix,
  networkOf,
  tryParseCidr,
  tryParseIp,
} from '../net/index.js';
import { withDefaults } from '../resources/defaults.js';
import type { AllowedUse, IPPool } from '../resources/types.js';
import { parseSelector } from '../selector/index.js';

/** An IPPool with Calico's read-time defaults applied and its CIDR parsed. */
export interface PoolInfo {
  readonly name: string;
  readonly cidr: Cidr;
  /** Canonical CIDR text. */
  readonly cidrText: string;
  readonly blockSize: number;
  /** Enabled in the sense of GetEnabledPools: not disabled, not deleting, not Allocatable=False. */
  readonly enabled: boolean;
  readonly nodeSelector: string;
  readonly namespaceSelector: string;
  readonly allowedUses: readonly AllowedUse[];
  readonly assignmentMode: 'Automatic' | 'Manual';
}

/** Every pool (disabled ones included), in name order; pools whose CIDR does not parse are skipped. */
export async function loadPools(store: Datastore): Promise<PoolInfo[]> {
  return poolsOf(await listAll(store, resourcePrefix('IPPool')));
}

/** The listed IPPool keys as PoolInfo, in name order (see loadPools). */
export function poolsOf(items: readonly KeyValue[]): PoolInfo[] {
  const pools: PoolInfo[] = [];
  for (const kv of items) {
    let raw: IPPool;
    try {
      raw = withDefaults(JSON.parse(kv.value) as IPPool);
    } catch {
      continue;
    }
    const cidr = raw.spec?.cidr ? tryParseCidr(raw.spec.cidr) : undefined;
    if (!cidr) continue;
    const spec = raw.spec;
    const allocatableFalse = (raw.status?.conditions ?? []).some(
      (c) => c.type === 'Allocatable' && c.status === 'False',
    );
    pools.push({
      name: raw.metadata.name,
      cidr,
      cidrText: formatCidr(cidr),
      blockSize: spec.blockSize || (cidr.family === 4 ? 26 : 122),
      enabled: !spec.disabled && !raw.metadata.deletionTimestamp && !allocatableFalse,
      nodeSelector: spec.nodeSelector ?? 'all()',
      namespaceSelector: spec.namespaceSelector ?? '',
      allowedUses: spec.allowedUses?.length ? spec.allowedUses : ['Workload', 'Tunnel'],
      assignmentMode: spec.assignmentMode ?? 'Automatic',
    });
  }
  return pools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const selectorMatches = (text: string, labels: Readonly<Record<string, string>>): boolean =>
  text.trim() === '' || parseSelector(text).matches(labels);

/** The pool's nodeSelector matches the node's labels (an empty selector matches). */
export const poolSelectsNode = (
  pool: PoolInfo,
  labels: Readonly<Record<string, string>>,
): boolean => selectorMatches(pool.nodeSelector, labels);

/**
 * Resolve requested pool entries (names or CIDRs) to enabled pools of the family, in the
 * order given. Throws IPAM_POOL_NOT_FOUND with Calico's messages.
 */
export function resolveRequestedPools(
  enabled: readonly PoolInfo[],
  requested: readonly string[],
  family: IpFamily,
): PoolInfo[] {
  const out: PoolInfo[] = [];
  for (const entry of requested) {
    const cidr = tryParseCidrLoose(entry);
    if (cidr && cidr.family !== family) {
      throw new CidrpoolError(
        'IPAM_POOL_NOT_FOUND',
        family === 4
          ? 'provided IPv4 IPPools list contains one or more IPv6 IPPools'
          : 'provided IPv6 IPPools list contains one or more IPv4 IPPools',
      );
    }
    const pool = cidr
      ? enabled.find((p) => p.cidr.base === cidr.base && p.cidr.prefix === cidr.prefix)
      : enabled.find((p) => p.name === entry);
    if (!pool) {
      if (!cidr) {
        // A name of a pool of the other family is still "not enabled" for this family.
        throw new CidrpoolError(
          'IPAM_POOL_NOT_FOUND',
          `the given pool (${entry}) does not exist, or is not enabled`,
        );
      }
      throw new CidrpoolError(
        'IPAM_POOL_NOT_FOUND',
        `the given pool (${formatCidr(cidr)}) does not exist, or is not enabled`,
      );
    }
    if (!out.includes(pool)) out.push(pool);
  }
  return out;
}

/** A CIDR with host bits masked (Calico masks requested CIDRs), or undefined for a name. */
function tryParseCidrLoose(text: string): Cidr | undefined {
  const at = text.indexOf('/');
  if (at < 0) return undefined;
  const ip = tryParseIp(text.slice(0, at));
  // Number() reads the length more loosely than net's parseCidrMasked, which would also take a
  // bare address as /32: so that function is not a drop-in here.
  const prefix = Number(text.slice(at + 1));
  if (!ip || !isValidPrefix(ip.family, prefix)) return undefined;
  return networkOf(ip, prefix);
}

/**
 * Calico's determinePools (§3.3): requested pools as given (selectors and assignmentMode
 * ignored), else enabled Automatic pools whose node and namespace selectors match.
 * Throws IPAM_NO_QUALIFIED_POOL, IPAM_POOL_NOT_FOUND, SEL_* for a selector that does not parse.
 */
export function determinePools(
  pools: readonly PoolInfo[],
  family: IpFamily,
  requested: readonly string[] | undefined,
  nodeLabels: Readonly<Record<string, string>>,
  namespaceLabels: Readonly<Record<string, string>>,
  maxPrefixLen: number,
): PoolInfo[] {
  const enabled = pools.filter(
    (p) => p.enabled && p.cidr.family === family && p.blockSize <= maxPrefixLen,
  );
  if (enabled.length === 0)
    throw new CidrpoolError('IPAM_NO_QUALIFIED_POOL', 'cannot find a qualified ippool');
  if (requested && requested.length > 0) return resolveRequestedPools(enabled, requested, family);
  return enabled.filter(
    (p) =>
      p.assignmentMode === 'Automatic' &&
      selectorMatches(p.nodeSelector, nodeLabels) &&
      selectorMatches(p.namespaceSelector, namespaceLabels),
  );
}

/** The first pool (in name order) that contains the address. */
export const findPoolOfIp = (pools: readonly PoolInfo[], ip: IpAddress): PoolInfo | undefined =>
  pools.find((p) => cidrContainsIp(p.cidr, ip));

/** The first pool (in name order) that contains the block's base address. */
export const findPoolOfBlock = (pools: readonly PoolInfo[], block: Cidr): PoolInfo | undefined =>
  findPoolOfIp(pools, { family: block.family, value: block.base });

// calico-ipam's ResolvePools (cni-plugin/internal/pkg/utils): the `ipv4_pools` / `ipv6_pools`
// entries (from the config or the ipv4pools / ipv6pools annotations) become CIDRs before
// AutoAssign, with calico-ipam's messages. Whether a pool is enabled is AutoAssign's business.
import type { Datastore } from '../datastore/api.js';
import { CidrpoolError } from '../errors/index.js';
import { loadPools, type PoolInfo } from '../ipam/pools.js';
import { type Cidr, formatCidr, formatIp, parseCidrMasked } from '../net/index.js';

/** Go's net.ParseCIDR: `addr/len`, host bits masked; undefined for anything else. */
export function tryParseGoCidr(text: string): Cidr | undefined {
  if (!text.includes('/')) return undefined;
  try {
    return parseCidrMasked(text);
  } catch {
    return undefined;
  }
}

/**
 * Resolve each entry, in order: a CIDR is used as is (host bits masked), anything else must be
 * the name of a pool (disabled ones included, as in Calico: AutoAssign then reports the CIDR as
 * "does not exist, or is not enabled"). Throws IPAM_POOL_NOT_FOUND with Calico's messages:
 * `error parsing pool "<s>": invalid CIDR address: <s>` for an unknown name and
 * `"<ip>" isn't a IPv4 address` for a pool of the other family.
 */
export async function resolvePools(
  store: Datastore,
  entries: readonly string[],
  family: 4 | 6,
): Promise<string[]> {
  let pools: PoolInfo[] | undefined;
  const key = family === 4 ? 'ipv4_pools' : 'ipv6_pools';
  const out: string[] = [];
  for (const entry of entries) {
    let cidr = tryParseGoCidr(entry);
    if (!cidr) {
      pools ??= await loadPools(store);
      cidr = pools.find((p) => p.name === entry)?.cidr;
      if (!cidr) {
        throw new CidrpoolError(
          'IPAM_POOL_NOT_FOUND',
          `error parsing pool ${JSON.stringify(entry)}: invalid CIDR address: ${entry}`,
          {
            details: {
              value: entry,
              hint: `${key} (or the ipv${family}pools annotation) lists pool names or CIDRs; "${entry}" is neither a CIDR nor the name of an IPPool (see \`cidrpool get ippool\`)`,
            },
          },
        );
      }
    }
    if (cidr.family !== family) {
      const other = family === 4 ? 6 : 4;
      throw new CidrpoolError(
        'IPAM_POOL_NOT_FOUND',
        `${JSON.stringify(formatIp({ family: cidr.family, value: cidr.base }))} isn't a IPv${family} address`,
        {
          details: {
            value: entry,
            hint: `"${entry}" is an IPv${other} pool: list it in ipv${other}_pools (or the ipv${other}pools annotation) instead of ${key}`,
          },
        },
      );
    }
    out.push(formatCidr(cidr));
  }
  return out;
}

// IPReservation matching (Calico's cidrSliceFilter, ipam-core.md §1.7), and the per-request
// skipped addresses (SkippedAddresses) layered on top of it.
import type { Cidr, IpAddress } from '../net/index.js';
import {
  addressAt,
  cidrContainsIp,
  cidrSize,
  cidrsOverlap,
  coveredBy,
  networkOf,
  parseCidrMasked,
} from '../net/index.js';
import type { SkippedAddresses } from './types.js';

/** The reserved CIDRs of every IPReservation, with the three questions IPAM asks of them. */
export interface Reservations {
  /** The IPReservations' CIDRs (not the per-request skipped addresses). */
  readonly cidrs: readonly Cidr[];
  /** Nothing is reserved: callers may skip the questions below. */
  readonly none: boolean;
  /** Some reserved CIDR contains the address. */
  matchesIp(ip: IpAddress): boolean;
  /** Some reserved CIDR overlaps the network. */
  matchesSome(cidr: Cidr): boolean;
  /** The reserved CIDRs together cover every address of the network. */
  coversWhole(cidr: Cidr): boolean;
}

/**
 * Build the filter from `spec.reservedCIDRs` entries. Entries are trimmed, empty ones skipped;
 * a bare IP is a /32 or /128 and an unmasked CIDR reserves its whole masked network; an entry
 * that does not parse is ignored (Calico logs and ignores it).
 */
export function createReservations(entries: readonly string[]): Reservations {
  const cidrs: Cidr[] = [];
  for (const raw of entries) {
    const text = raw.trim();
    if (!text) continue;
    try {
      cidrs.push(parseCidrMasked(text));
    } catch {
      // Calico: "Failed to parse reserved CIDR" is logged and the entry skipped.
    }
  }
  return {
    cidrs,
    none: cidrs.length === 0,
    matchesIp: (ip) => cidrs.some((c) => c.family === ip.family && cidrContainsIp(c, ip)),
    matchesSome: (cidr) => cidrs.some((c) => c.family === cidr.family && cidrsOverlap(c, cidr)),
    coversWhole(cidr) {
      const relevant = cidrs.filter((c) => c.family === cidr.family && cidrsOverlap(c, cidr));
      return relevant.length > 0 && coveredBy(cidr, relevant);
    },
  };
}

/** A pool as the skip rule needs it. */
export interface SkipPool {
  readonly cidr: Cidr;
  readonly blockSize: number;
}

/** Largest network whose addresses coversWhole checks one by one (skip rules are a few wide). */
const SMALL_NETWORK = 16n;

/**
 * `base` plus the addresses `skip` counts from the edges of each pool and of each block of
 * that pool. Returns `base` itself when `skip` skips nothing.
 */
export function withSkippedAddresses(
  base: Reservations,
  pools: readonly SkipPool[],
  skip: SkippedAddresses,
): Reservations {
  const poolStart = BigInt(skip.poolStart ?? 0);
  const poolEnd = BigInt(skip.poolEnd ?? 0);
  const blockStart = BigInt(skip.blockStart ?? 0);
  const blockEnd = BigInt(skip.blockEnd ?? 0);
  if (poolStart + poolEnd + blockStart + blockEnd === 0n) return base;
  const atEdge = (network: Cidr, ip: IpAddress, start: bigint, end: bigint): boolean => {
    const offset = ip.value - network.base;
    return offset < start || offset >= cidrSize(network) - end;
  };
  const skipped = (ip: IpAddress): boolean => {
    const pool = pools.find((p) => p.cidr.family === ip.family && cidrContainsIp(p.cidr, ip));
    if (!pool) return false;
    return (
      atEdge(pool.cidr, ip, poolStart, poolEnd) ||
      atEdge(networkOf(ip, pool.blockSize), ip, blockStart, blockEnd)
    );
  };
  const touchesPool = (cidr: Cidr) =>
    pools.some((p) => p.cidr.family === cidr.family && cidrsOverlap(p.cidr, cidr));
  return {
    cidrs: base.cidrs,
    none: false,
    matchesIp: (ip) => base.matchesIp(ip) || skipped(ip),
    // An over-approximation is safe here: callers then ask matchesIp address by address.
    matchesSome: (cidr) => base.matchesSome(cidr) || touchesPool(cidr),
    coversWhole(cidr) {
      if (base.coversWhole(cidr)) return true;
      const size = cidrSize(cidr);
      if (size > SMALL_NETWORK) return false;
      for (let i = 0n; i < size; i++) {
        const ip = addressAt(cidr, i);
        if (!base.matchesIp(ip) && !skipped(ip)) return false;
      }
      return true;
    },
  };
}

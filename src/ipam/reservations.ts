// IPReservation matching (Calico's cidrSliceFilter, ipam-core.md §1.7).
import type { Cidr, IpAddress } from '../net/index.js';
import { cidrContainsIp, cidrsOverlap, coveredBy, parseCidrMasked } from '../net/index.js';

/** The reserved CIDRs of every IPReservation, with the three questions IPAM asks of them. */
export interface Reservations {
  readonly cidrs: readonly Cidr[];
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
    matchesIp: (ip) => cidrs.some((c) => c.family === ip.family && cidrContainsIp(c, ip)),
    matchesSome: (cidr) => cidrs.some((c) => c.family === cidr.family && cidrsOverlap(c, cidr)),
    coversWhole(cidr) {
      const relevant = cidrs.filter((c) => c.family === cidr.family && cidrsOverlap(c, cidr));
      return relevant.length > 0 && coveredBy(cidr, relevant);
    },
  };
}

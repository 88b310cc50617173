// Sizes of a CIDR minus a set of CIDRs, by interval arithmetic (never enumerating addresses).
import { cidrLast, cidrSize } from './cidr.js';
import type { Cidr } from './types.js';

/** A closed range of addresses [first, last]. */
export interface AddressRange {
  readonly first: bigint;
  readonly last: bigint;
}

/**
 * The parts of `others` that lie inside `cidr`, clipped, sorted and merged into disjoint,
 * non-adjacent ranges in ascending order. CIDRs of another family are ignored.
 */
export function coveredRanges(cidr: Cidr, others: readonly Cidr[]): AddressRange[] {
  const first = cidr.base;
  const last = cidrLast(cidr);
  const clipped: AddressRange[] = [];
  for (const other of others) {
    if (other.family !== cidr.family) continue;
    const lo = other.base > first ? other.base : first;
    const otherLast = cidrLast(other);
    const hi = otherLast < last ? otherLast : last;
    if (lo <= hi) clipped.push({ first: lo, last: hi });
  }
  clipped.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: { first: bigint; last: bigint }[] = [];
  for (const range of clipped) {
    const top = merged[merged.length - 1];
    if (top !== undefined && range.first <= top.last + 1n) {
      if (range.last > top.last) top.last = range.last;
    } else {
      merged.push({ ...range });
    }
  }
  return merged;
}

/** Number of addresses of `cidr` not covered by any of `others` (they may overlap or nest). */
export function sizeMinus(cidr: Cidr, others: readonly Cidr[]): bigint {
  return coveredRanges(cidr, others).reduce(
    (left, r) => left - (r.last - r.first + 1n),
    cidrSize(cidr),
  );
}

/**
 * True when `others` together cover every address of `cidr` (Calico's MatchesWholeCIDR: one
 * reservation covers it, or the reservations inside it add up to its size).
 */
export function coveredBy(cidr: Cidr, others: readonly Cidr[]): boolean {
  return sizeMinus(cidr, others) === 0n;
}

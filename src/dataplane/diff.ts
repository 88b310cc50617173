// Desired versus actual kernel state: the smallest set of replaces and deletes that turns one
// into the other. A full diff compares everything owned (startup and periodic resync); a keyed
// diff compares only the keys a datastore change touched, so its cost follows the change.
import { routeSignature } from './dataplane-model.js';
import type { FdbEntry, KernelRoute, NeighbourEntry } from './types.js';

/** Kernel operations for one kind of entry: deletes are applied before replaces. */
export interface EntryChanges<T> {
  readonly replace: T[];
  readonly delete: T[];
}

/** A route as read from the kernel: its metric tells whether `replace` overwrites it. */
export interface ActualRoute extends KernelRoute {
  readonly metric?: number;
}

/** The metric the kernel gives a route added without one (v4 0, v6 1024). */
const defaultMetric = (route: KernelRoute): number => (route.family === 4 ? 0 : 1024);

/**
 * Diff the owned routes read from the kernel against every desired route. An actual route at a
 * desired destination with the default metric is overwritten by the replace; others are deleted.
 */
export function diffAllRoutes(
  desired: ReadonlyMap<string, KernelRoute>,
  actual: readonly ActualRoute[],
): EntryChanges<KernelRoute> {
  const changes: EntryChanges<KernelRoute> = { replace: [], delete: [] };
  const satisfied = new Set<string>();
  for (const route of actual) {
    const want = desired.get(route.dst);
    const metricIsDefault = (route.metric ?? defaultMetric(route)) === defaultMetric(route);
    if (want && metricIsDefault && routeSignature(want) === routeSignature(route)) {
      satisfied.add(route.dst);
    } else if (!want || !metricIsDefault) {
      changes.delete.push(route);
    }
  }
  for (const [dst, route] of desired) if (!satisfied.has(dst)) changes.replace.push(route);
  return changes;
}

/** Diff only `keys`: what the kernel needs so that `programmed` (what it has) becomes `desired`. */
export function diffRouteKeys(
  keys: Iterable<string>,
  desired: ReadonlyMap<string, KernelRoute>,
  programmed: ReadonlyMap<string, KernelRoute>,
): EntryChanges<KernelRoute> {
  const changes: EntryChanges<KernelRoute> = { replace: [], delete: [] };
  for (const key of keys) {
    const want = desired.get(key);
    const have = programmed.get(key);
    if (want && have && routeSignature(want) === routeSignature(have)) continue;
    if (want) changes.replace.push(want);
    else if (have) changes.delete.push(have);
  }
  return changes;
}

/**
 * Diff keyed entries (FDB by MAC, neighbours by IP): entries in `actual` whose key is not wanted,
 * or wanted differently, are deleted; wanted ones that differ or are missing are replaced.
 */
export function diffEntries<T>(
  desired: ReadonlyMap<string, T>,
  actual: readonly T[],
  keyOf: (entry: T) => string,
  same: (a: T, b: T) => boolean,
): EntryChanges<T> {
  const changes: EntryChanges<T> = { replace: [], delete: [] };
  const satisfied = new Set<string>();
  for (const entry of actual) {
    const want = desired.get(keyOf(entry));
    if (want && same(want, entry)) satisfied.add(keyOf(entry));
    else if (!want) changes.delete.push(entry);
  }
  for (const [key, entry] of desired) if (!satisfied.has(key)) changes.replace.push(entry);
  return changes;
}

export const sameFdb = (a: FdbEntry, b: FdbEntry): boolean => a.mac === b.mac && a.dst === b.dst;
export const sameNeighbour = (a: NeighbourEntry, b: NeighbourEntry): boolean =>
  a.ip === b.ip && a.mac === b.mac;

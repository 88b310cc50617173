// Search: an address, a pod, a handle or a node leads to its owner, block and pool. Answered from
// the per-address details of the last check report (built on the first search), matched where
// that report lives (matchAllocations, in the check's worker thread) and placed in pools here.
import type { CheckAllocation, PoolUtilization } from '../ipam/index.js';
import { cidrContainsIp, formatIp, tryParseCidr, tryParseIp } from '../net/index.js';
import type { SearchHit, SearchResult } from './api-types.js';
import type { Model } from './snapshot.js';

/** At most this many hits are returned. */
export const SEARCH_LIMIT = 200;

const ownerOf = (a: CheckAllocation): string =>
  a.owners.length > 0
    ? a.owners.join(', ')
    : a.pod !== undefined
      ? `pod ${a.namespace ?? 'default'}/${a.pod} (no WorkloadEndpoint: leaked?)`
      : a.type !== undefined
        ? a.type
        : 'nobody (leaked?)';

function poolOfBlock(utilization: readonly PoolUtilization[], block: string): string | undefined {
  for (const g of utilization) if (g.blocks.some((b) => b.cidr === block)) return g.name;
  return undefined;
}

function hitOf(model: Model, a: CheckAllocation, match: SearchHit['match']): SearchHit {
  const pool = poolOfBlock(model.utilization, a.blockCidr);
  return {
    match,
    ip: a.ip,
    owner: ownerOf(a),
    ...(a.pod !== undefined ? { pod: `${a.namespace ?? 'default'}/${a.pod}` } : {}),
    ...(a.handle !== undefined ? { handle: a.handle } : {}),
    ...(a.node !== undefined ? { node: a.node } : {}),
    block: a.blockCidr,
    ...(pool !== undefined ? { pool } : {}),
  };
}

/** The allocations a query matches, before their pools are looked up. */
export interface AllocationMatches {
  /** The address, when the query is one (its allocations are then the matches). */
  readonly ip?: string;
  readonly matches: readonly {
    readonly allocation: CheckAllocation;
    readonly match: SearchHit['match'];
  }[];
  /** All matches, beyond the SEARCH_LIMIT kept. */
  readonly total: number;
}

/**
 * The allocations matching `query` in a check report's per-address details: an IP address
 * exactly; otherwise a pod (`name` or `namespace/name`), handle or node containing the query
 * (case-insensitive), exact matches first, at most SEARCH_LIMIT. Runs where the report lives
 * (check-worker.ts), so the details never cross threads.
 */
export function matchAllocations(
  allocations: Readonly<Record<string, readonly CheckAllocation[]>>,
  query: string,
): AllocationMatches {
  const q = query.trim();
  const ip = tryParseIp(q);
  if (ip) {
    const text = formatIp(ip);
    const matches = (allocations[text] ?? []).map((allocation) => ({
      allocation,
      match: 'ip' as const,
    }));
    return { ip: text, matches, total: matches.length };
  }
  const needle = q.toLowerCase();
  const exact: AllocationMatches['matches'][number][] = [];
  const partial: AllocationMatches['matches'][number][] = [];
  let total = 0;
  if (needle === '') return { matches: [], total: 0 };
  for (const list of Object.values(allocations)) {
    for (const a of list) {
      const pod = a.pod !== undefined ? `${a.namespace ?? 'default'}/${a.pod}` : undefined;
      const fields: [SearchHit['match'], string | undefined][] = [
        ['pod', a.pod],
        ['pod', pod],
        ['handle', a.handle],
        ['node', a.node],
      ];
      let found: { match: SearchHit['match']; exact: boolean } | undefined;
      for (const [match, value] of fields) {
        if (value === undefined) continue;
        const v = value.toLowerCase();
        if (v === needle) {
          found = { match, exact: true };
          break;
        }
        if (!found && v.includes(needle)) found = { match, exact: false };
      }
      if (!found) continue;
      total++;
      const into = found.exact ? exact : partial;
      if (found.exact ? exact.length < SEARCH_LIMIT : exact.length + partial.length < SEARCH_LIMIT)
        into.push({ allocation: a, match: found.match });
    }
  }
  return { matches: [...exact, ...partial].slice(0, SEARCH_LIMIT), total };
}

/**
 * The answer to `query`: the hits of `found` (by default matched in the model's own report) with
 * their pools, or a note when an address is not assigned or the first check has not ended.
 */
export function search(
  model: Model,
  query: string,
  found: AllocationMatches = matchAllocations(model.report.allocations, query),
): SearchResult {
  const q = query.trim();
  if (q === '') return { query: q, hits: [], omitted: 0 };
  if (model.snapshot.checkPending)
    return {
      query: q,
      hits: [],
      omitted: 0,
      note: 'The first ipam check of this store is still running; search answers when it ends (the page updates by itself).',
    };
  const hits = found.matches.map((m) => hitOf(model, m.allocation, m.match));
  if (found.ip !== undefined && hits.length === 0) {
    const ip = tryParseIp(found.ip)!;
    const pool = model.pools.find((p) => cidrContainsIp(p.cidr, ip));
    const block = model.utilization
      .flatMap((g) => g.blocks)
      .find((b) => {
        const c = tryParseCidr(b.cidr);
        return c !== undefined && cidrContainsIp(c, ip);
      });
    const where = pool
      ? `it lies in pool ${pool.name} (${pool.cidrText})${block ? `, block ${block.cidr}` : ', in no claimed block'}`
      : 'it lies in no pool';
    return { query: q, hits: [], omitted: 0, note: `${found.ip} is not assigned; ${where}.` };
  }
  return { query: q, hits, omitted: found.total - hits.length };
}

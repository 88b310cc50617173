// The Forecast view: how fast each pool's addresses are taken, and when it runs out at that pace.
//
// Two sources, neither perfect, so the view names the one it used:
// - samples: the in-use count of every pool, recorded by this server at each rebuild and once a
//   minute. Their slope is the true net rate (allocations minus releases), but only over the
//   time this dashboard has been running.
// - timestamps: the `timestamp` attribute Calico's CNI plugin (and `ipam assign`) stores with
//   every allocation. Counting the live allocations made in the last 24 h gives a rate right
//   after start-up, but it is a gross rate of the survivors: releases are not seen.
import type { PoolUtilization } from '../ipam/index.js';
import type { Block } from '../ipam/model.js';
import type { ForecastView } from './api-types.js';

/** Samples older than this are dropped; the slope is fitted over them all. */
export const SAMPLE_WINDOW_MS = 6 * 3600_000;
/** The samples must span this long before their slope is trusted over the timestamps. */
export const MIN_SAMPLE_SPAN_MS = 15 * 60_000;
export const TIMESTAMP_WINDOW_HOURS = 24;
/** Samples kept per pool (at one a minute: the whole window). */
const MAX_SAMPLES = 400;

/** The in-use count of one pool at one time (ms since the epoch). */
export interface UsageSample {
  readonly at: number;
  readonly inUse: number;
}

/** In-use counts per pool over time, as this server (and, from its state file, its past runs) saw them. */
export class UsageHistory {
  readonly #samples: Map<string, UsageSample[]>;
  /** Where the samples are kept across restarts (said in the forecast's basis), if anywhere. */
  readonly keptIn: string | undefined;

  constructor(initial: ReadonlyMap<string, readonly UsageSample[]> = new Map(), keptIn?: string) {
    this.#samples = new Map([...initial].map(([pool, list]) => [pool, [...list]]));
    this.keptIn = keptIn;
  }

  /** Add one sample per pool; samples outside the window, and of deleted pools, are dropped. */
  record(at: number, pools: readonly { pool: string; inUse: number }[]): void {
    const seen = new Set<string>();
    for (const { pool, inUse } of pools) {
      seen.add(pool);
      let list = this.#samples.get(pool);
      if (!list) this.#samples.set(pool, (list = []));
      list.push({ at, inUse });
      while (list.length > 0 && list[0]!.at < at - SAMPLE_WINDOW_MS) list.shift();
      // Too many (frequent rebuilds): thin the older half, keeping the newest samples exact.
      if (list.length > MAX_SAMPLES) {
        const half = Math.floor(list.length / 2);
        const thinned = list.slice(0, half).filter((_, i) => i % 2 === 0);
        list.splice(0, half, ...thinned);
      }
    }
    for (const pool of [...this.#samples.keys()]) if (!seen.has(pool)) this.#samples.delete(pool);
  }

  /** The kept samples of a pool, oldest first. */
  samples(pool: string): readonly UsageSample[] {
    return this.#samples.get(pool) ?? [];
  }

  /** Every pool's samples (for the state file). */
  all(): ReadonlyMap<string, readonly UsageSample[]> {
    return this.#samples;
  }
}

/** Least-squares slope of inUse over time, in addresses per hour. */
export function slopePerHour(samples: readonly UsageSample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const t0 = samples[0]!.at;
  let sx = 0;
  let sy = 0;
  for (const s of samples) {
    sx += (s.at - t0) / 3600_000;
    sy += s.inUse;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    const dx = (s.at - t0) / 3600_000 - mx;
    num += dx * (s.inUse - my);
    den += dx * dx;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Milliseconds since the epoch of Go's default time text (`2026-01-02 03:04:05.123 +0000 UTC`,
 * what Calico stores in `timestamp`), or undefined when it is not that.
 */
export function parseGoTime(text: string): number | undefined {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? ([+-]\d\d)(\d\d)/.exec(text);
  if (!m) return undefined;
  const ms = (m[3] ?? '.0').slice(0, 4).padEnd(4, '0');
  const at = Date.parse(`${m[1]}T${m[2]}${ms}${m[4]}:${m[5]}`);
  return Number.isNaN(at) ? undefined : at;
}

/**
 * The allocation times (ms since the epoch) of a block's live allocations that carry a Calico
 * `timestamp` attribute, for the forecast window counts (block-cache.ts keeps them per block).
 */
export function allocationTimes(block: Block): number[] {
  const times: number[] = [];
  for (const idx of block.allocations) {
    if (idx === null) continue;
    const attr = block.attributes[idx];
    if (!attr || attr.releasedAt !== undefined) continue;
    const stamp = attr.secondary?.timestamp;
    const at = stamp !== undefined ? parseGoTime(stamp) : undefined;
    if (at !== undefined) times.push(at);
  }
  return times;
}

/** How many of `times` fall in the forecast window before `now` (a minute of clock skew allowed). */
export function countInWindow(times: readonly number[], now: number): number {
  const since = now - TIMESTAMP_WINDOW_HOURS * 3600_000;
  let n = 0;
  for (const at of times) if (at >= since && at <= now + 60_000) n++;
  return n;
}

const hours = (ms: number): string => {
  const h = ms / 3600_000;
  return h >= 1 ? `${h.toFixed(1)} h` : `${Math.round(ms / 60_000)} min`;
};

/** One forecast per pool (utilization order), with its basis in words. */
export function buildForecast(
  utilization: readonly PoolUtilization[],
  recent: ReadonlyMap<string, number>,
  history: UsageHistory,
): ForecastView[] {
  const out: ForecastView[] = [];
  for (const g of utilization) {
    if (g.name === undefined) continue;
    const samples = history.samples(g.name);
    const span = samples.length > 1 ? samples[samples.length - 1]!.at - samples[0]!.at : 0;
    const count = recent.get(g.name) ?? 0;
    const timestampRate = count / TIMESTAMP_WINDOW_HOURS;
    let method: ForecastView['method'] = 'none';
    let rate: number | undefined;
    let basis: string;
    if (span >= MIN_SAMPLE_SPAN_MS) {
      method = 'samples';
      rate = slopePerHour(samples);
      basis = `net change of addresses in use, fitted over ${samples.length} samples this dashboard took in the last ${hours(span)} (allocations minus releases)${history.keptIn ? `; the samples are kept across restarts in ${history.keptIn}` : ''}`;
    } else if (count > 0) {
      method = 'timestamps';
      rate = timestampRate;
      basis = `${count} address${count === 1 ? '' : 'es'} in use now ${count === 1 ? 'was' : 'were'} allocated in the last ${TIMESTAMP_WINDOW_HOURS} h (their timestamp attributes); releases are not seen, so this is an upper bound until the dashboard has watched for ${hours(MIN_SAMPLE_SPAN_MS)}`;
    } else {
      basis = `no allocation in the last ${TIMESTAMP_WINDOW_HOURS} h carries a timestamp, and the dashboard has watched for ${hours(span)} only (needs ${hours(MIN_SAMPLE_SPAN_MS)})`;
    }
    const available = Number(g.available);
    out.push({
      pool: g.name,
      cidr: g.cidr,
      inUse: String(g.inUse),
      available: String(g.available),
      ...(rate !== undefined ? { ratePerHour: rate } : {}),
      ...(rate !== undefined && rate > 0 ? { hoursToExhaustion: available / rate } : {}),
      basis,
      method,
      ...(count > 0 ? { timestampRatePerHour: timestampRate } : {}),
      timestampWindowHours: TIMESTAMP_WINDOW_HOURS,
      timestampCount: count,
      samples: samples.slice(),
    });
  }
  return out;
}

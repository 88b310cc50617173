// Shared helpers for benchmark scenarios: percentiles, timers, and seeding pools and nodes
// through the real resource client.
import { createResourceClient } from '../src/client/index.js';
import type { Datastore } from '../src/datastore/api.js';
import { createIpam } from '../src/ipam/index.js';
import type { Ipam } from '../src/ipam/types.js';
import { API_VERSION_V3, type IPPool, type Node } from '../src/resources/types.js';
import type { BenchFigure } from './types.js';

/** The p-th percentile (0..100) of the values, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * A figure comparing the p-th percentile of our times (ms) with the anchor's, side by side:
 * `figure(metric, ours, anchor's, p, notes)`.
 */
export function percentileFigures(anchorName: string, ratioMeaning: string) {
  return (
    metric: string,
    ours: readonly number[],
    anchor: readonly number[],
    p: number,
    notes?: string,
  ): BenchFigure => {
    const value = percentile(ours, p);
    const anchorValue = percentile(anchor, p);
    return {
      metric,
      value,
      unit: 'ms',
      anchor: { name: anchorName, value: anchorValue, unit: 'ms' },
      ratio: value / anchorValue,
      ratioMeaning,
      notes,
    };
  };
}

/** Milliseconds taken by `work`. */
export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Run `count` tasks with at most `parallel` in flight. */
export async function runPool(
  count: number,
  parallel: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
}

export interface SeedOptions {
  readonly pools: readonly { name: string; cidr: string; blockSize?: number }[];
  readonly nodes: readonly string[];
}

/** Create pools and nodes through the resource client, as a user would; returns the engine. */
export async function seedCluster(store: Datastore, options: SeedOptions): Promise<Ipam> {
  const ipam = createIpam(store);
  const client = createResourceClient(store, ipam);
  for (const pool of options.pools) {
    const resource: IPPool = {
      apiVersion: API_VERSION_V3,
      kind: 'IPPool',
      metadata: { name: pool.name },
      spec: { cidr: pool.cidr, ...(pool.blockSize ? { blockSize: pool.blockSize } : {}) },
    };
    await client.create(resource);
  }
  await runPool(options.nodes.length, 16, async (i) => {
    const node: Node = {
      apiVersion: API_VERSION_V3,
      kind: 'Node',
      metadata: { name: options.nodes[i]! },
      spec: {},
    };
    await client.create(node);
  });
  return ipam;
}

/** Names node-0 ... node-(n-1). */
export const nodeNames = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `node-${i}`);

/**
 * Sample this process's resident set every 100 ms from now; `stop()` returns the highest sample
 * in MiB. A phase's own peak: getrusage's maxRSS is the whole process's, set by whichever earlier
 * scenario of the run used most.
 */
export function trackPeakRss(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) / 2 ** 20;
    },
  };
}

// 14. The node agent's IPAM engine at scale (issue 13): many agents' engines (each with its own
// watch-fed cache and batcher, as `node run` builds them) against the raw datastore's one write
// per allocation, measured in the same run. Wall time, CPU time of this process and of etcd,
// and the watch streams the engines hold are reported beside each figure.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { DatastoreConfig } from '../src/datastore/config-types.js';
import type { Datastore } from '../src/datastore/api.js';
import { openDatastore } from '../src/datastore/open.js';
import { handleKey } from '../src/datastore/keys.js';
import { createIpam } from '../src/ipam/index.js';
import { createAllocationBatcher } from '../src/node/allocation-batcher.js';
import { CachedStore } from '../src/node/cached-store.js';
import { ipamCacheScope } from '../src/node/ipam-service.js';
import { startEtcd, type EtcdCluster } from '../test/helpers/etcd-cluster.js';
import { measureRawTxnRate } from './etcd-throughput.js';
import { nodeNames, runPool, seedCluster, timeMs } from './support.js';
import type { BenchFigure, BenchScenario } from './types.js';

/** CPU time (user + system, ms) of a process so far, from /proc (USER_HZ = 100 ticks/s). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Wall time of `work` with the CPU time this process and `pids` spent meanwhile. */
export async function measured(pids: readonly number[], work: () => Promise<unknown>) {
  const cpu = () => pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const own0 = process.cpuUsage();
  const others0 = cpu();
  const load0 = os.loadavg()[0]!;
  const ms = await timeMs(work);
  const own = process.cpuUsage(own0);
  return {
    ms,
    ownCpuMs: (own.user + own.system) / 1000,
    othersCpuMs: cpu() - others0,
    load: [load0, os.loadavg()[0]!] as const,
  };
}

/** One agent's engine per host: its cached store, the engine over it, the batcher. */
export interface AgentEngines {
  readonly hosts: readonly string[];
  /** Watch streams held by every cache together. */
  watchStreams(): number;
  allocate(host: number, handleId: string): Promise<void>;
  stop(): Promise<void>;
}

/** Start one engine per host over `store` (shared: one connection for all of them). */
export async function startEngines(
  store: Datastore,
  hosts: readonly string[],
): Promise<AgentEngines> {
  const caches = hosts.map((h) => new CachedStore(store, ipamCacheScope(h)));
  await runPool(caches.length, 32, (i) => caches[i]!.start());
  const batchers = caches.map((c, h) =>
    createAllocationBatcher(c, createIpam(c), hosts[h]!, Date.now),
  );
  return {
    hosts,
    watchStreams: () => caches.reduce((sum, c) => sum + c.watchCount, 0),
    async allocate(h, handleId) {
      // As the socket server does for a CNI handle: presumed new, the write checks it.
      caches[h]!.presumeAbsent(handleKey(handleId));
      const result = await batchers[h]!.autoAssign({
        num4: 1,
        num6: 0,
        handleId,
        hostname: hosts[h]!,
        intendedUse: 'Workload',
      });
      caches[h]!.forgetPresumption(handleKey(handleId));
      if (result.ipv4.ips.length !== 1) throw new Error(`${handleId} got no address`);
    },
    async stop() {
      await Promise.all(caches.map((c) => c.stop()));
    },
  };
}

async function seed(config: DatastoreConfig, nodes: string[]): Promise<void> {
  const store = await openDatastore(config);
  try {
    await seedCluster(store, { pools: [{ name: 'bench-pool', cidr: '10.0.0.0/14' }], nodes });
  } finally {
    await store.close();
  }
}

/**
 * 100 hosts, 100 in flight (one per host) on a 3-member etcd: every host first allocates one
 * address (its block claim, not timed), then `count` allocations are timed.
 */
async function hundredHosts(cluster: EtcdCluster, count: number, log: (m: string) => void) {
  const etcd: DatastoreConfig = { type: 'etcdv3', endpoints: cluster.endpoints };
  const hosts = nodeNames(100);
  await seed(etcd, hosts);
  const pids = cluster.members.map((m) => m.pid).filter((p): p is number => p !== undefined);
  const raw = await measured(pids, () => measureRawTxnRate(cluster.endpoints, count, 100));
  const rawRate = (count / raw.ms) * 1000;
  const store = await openDatastore(etcd);
  try {
    const engines = await startEngines(store, hosts);
    try {
      await runPool(hosts.length, 100, (h) => engines.allocate(h, `warm.${h}`));
      const run = await measured(pids, () =>
        runPool(count, 100, (i) => engines.allocate(i % hosts.length, `scale.${i}`)),
      );
      const rate = (count / run.ms) * 1000;
      const streams = engines.watchStreams();
      log(
        `raw txn ${rawRate.toFixed(0)}/s (own CPU ${raw.ownCpuMs.toFixed(0)} ms, etcd ${raw.othersCpuMs} ms); ` +
          `engines ${rate.toFixed(0)} alloc/s (own CPU ${run.ownCpuMs.toFixed(0)} ms, etcd ${run.othersCpuMs} ms), ` +
          `${streams} watch streams, load ${run.load.map((l) => l.toFixed(1)).join('->')}`,
      );
      return { raw, rawRate, run, rate, streams };
    } finally {
      await engines.stop();
    }
  } finally {
    await store.close();
  }
}

export const scenario: BenchScenario = {
  title: '14. Node agent IPAM engine at scale',
  async run({ scale, log }) {
    const figures: BenchFigure[] = [];
    const cluster = await startEtcd({ members: 3 });
    try {
      const count = Math.max(300, Math.round(3000 * scale));
      const r = await hundredHosts(cluster, count, log);
      figures.push({
        metric: '100 hosts, 100 in flight (1 per host), 3-member etcd: agent engines',
        value: r.rate,
        unit: 'alloc/s',
        anchor: { name: 'raw single-key txn, 100 in flight', value: r.rawRate, unit: 'txn/s' },
        ratio: r.rate / r.rawRate,
        ratioMeaning: 'allocations per raw txn (goal >= 1.0)',
        notes:
          `${count} allocations after one per host (the block claims, not timed); 100 engines ` +
          `(cache + batcher each) in one process over one etcd connection, ${r.streams} watch ` +
          `streams; CPU ms this process/etcd: ${r.run.ownCpuMs.toFixed(0)}/${r.run.othersCpuMs} ` +
          `(raw: ${r.raw.ownCpuMs.toFixed(0)}/${r.raw.othersCpuMs}); load ${r.run.load[1].toFixed(1)}`,
      });
      return figures;
    } finally {
      await cluster.stop();
    }
  },
};

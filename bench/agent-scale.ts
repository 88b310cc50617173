// 14. The node agent's IPAM engine at scale (issue 13): many agents' engines (each with its own
// watch-fed cache and batcher, as `node run` builds them) against the raw datastore's one write
// per allocation, measured in the same run. Wall time, CPU time of this process and of etcd,
// and the watch streams the engines hold are reported beside each figure.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { DatastoreConfig } from '../src/datastore/config-types.js';
import { listKeys, type Datastore } from '../src/datastore/api.js';
import { openDatastore } from '../src/datastore/open.js';
import {
  BLOCKS_PREFIX,
  IPAM_CONFIG_KEY,
  IPAM_PREFIX,
  handleKey,
  resourcePrefix,
} from '../src/datastore/keys.js';
import { createIpam } from '../src/ipam/index.js';
import { createAllocationBatcher } from '../src/node/allocation-batcher.js';
import { CachedStore } from '../src/node/cached-store.js';
import { ipamCacheScope } from '../src/node/ipam-service.js';
import { startEtcd, type EtcdCluster } from '../test/helpers/etcd-cluster.js';
import { measureRawTxnRate } from './etcd-throughput.js';
import { nodeNames, runPool, seedCluster, timeMs, trackPeakRss } from './support.js';
import type { BenchFigure, BenchScenario } from './types.js';
import { startWatchHub } from './watch-hub.js';

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
  allocate(host: number, handleId: string, attrs?: Record<string, string>): Promise<void>;
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
    async allocate(h, handleId, attrs) {
      // As the socket server does for a CNI handle: presumed new, the write checks it.
      caches[h]!.presumeAbsent(handleKey(handleId));
      const result = await batchers[h]!.autoAssign({
        num4: 1,
        num6: 0,
        handleId,
        attrs,
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

/**
 * Milliseconds of `count` compare-and-swap writes through the datastore API, `parallel` at a
 * time (each writer on its own key, so none conflicts): the floor of one write per allocation.
 */
async function rawWritesMs(
  store: Datastore,
  count: number,
  parallel: number,
  valueBytes = 0,
): Promise<number> {
  const per = Math.ceil(count / parallel);
  const pad = 'x'.repeat(valueBytes);
  const firsts = await Promise.all(
    Array.from({ length: parallel }, (_, w) => store.put(`/bench/raw/${w}`, '0')),
  );
  return timeMs(() =>
    Promise.all(
      firsts.map(async (first) => {
        let kv = first;
        for (let i = 1; i <= per; i++) kv = await store.update(kv.key, `${i}${pad}`, kv.revision);
      }),
    ),
  );
}

/**
 * 100 hosts, 100 in flight (one per host) on a 3-member etcd: every host first allocates one
 * address (its block claim, not timed), then `count` allocations are timed.
 */
async function hundredHosts(cluster: EtcdCluster, count: number, log: (m: string) => void) {
  const etcd: DatastoreConfig = { type: 'etcdv3', endpoints: cluster.endpoints };
  const hosts = nodeNames(100);
  const pids = cluster.members.map((m) => m.pid).filter((p): p is number => p !== undefined);
  const store = await openDatastore(etcd);
  try {
    await seedCluster(store, {
      pools: [{ name: 'bench-pool', cidr: '10.0.0.0/14' }],
      nodes: hosts,
    });
    const raw = await measured(pids, () => measureRawTxnRate(cluster.endpoints, count, 100));
    const rawRate = (count / raw.ms) * 1000;
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

const PODS_PER_NODE = 110;

/** Where the caches' watches live: one datastore watch each, shared by every agent. */
const HUB_ROOTS = [
  resourcePrefix('Node'),
  resourcePrefix('IPPool'),
  resourcePrefix('IPReservation'),
  IPAM_CONFIG_KEY,
  `${IPAM_PREFIX}host/`,
  BLOCKS_PREFIX,
];

interface ClusterRun {
  readonly nodes: number;
  readonly allocations: number;
  /** Pods started at once on one node (a batch can carry them), and nodes starting pods at once. */
  readonly perNode: number;
  readonly nodesAtOnce: number;
}

/**
 * `nodes` x 110 pods allocated through one agent engine per node (cache + batcher), `perNode`
 * pods of a node at once on `nodesAtOnce` nodes at once, then `ipam check`; beside the same
 * number of raw CAS writes at the same concurrency (a sample, scaled).
 */
async function wholeCluster(
  config: DatastoreConfig,
  run: ClusterRun,
  pids: readonly number[],
  log: (m: string) => void,
) {
  const store = await openDatastore(config);
  try {
    // Each run starts from an empty store (etcd is shared by the runs of the scenario).
    for (const kv of await listKeys(store, '/')) await store.delete(kv.key);
    const hosts = nodeNames(run.nodes);
    await seedCluster(store, {
      pools: [{ name: 'cluster-pool', cidr: '10.0.0.0/12' }],
      nodes: hosts,
    });
    const hub = await startWatchHub(store, HUB_ROOTS);
    try {
      const started = performance.now();
      const engines = await startEngines(hub.view(), hosts);
      const startMs = performance.now() - started;
      const streams = engines.watchStreams();
      const inFlight = run.perNode * run.nodesAtOnce;
      log(
        `${run.nodes} agents started in ${(startMs / 1000).toFixed(1)} s, ${streams} watches; allocating ${run.allocations}...`,
      );
      const rss = trackPeakRss();
      const agents = await measured(pids, () =>
        runPool(run.allocations, inFlight, async (i) => {
          // Consecutive `perNode` allocations go to one node: its pods started together.
          const slot = Math.floor(i / run.perNode);
          const h = slot % run.nodes;
          const pod = Math.floor(slot / run.nodes) * run.perNode + (i % run.perNode);
          const node = hosts[h]!;
          await engines.allocate(h, `k8s-pod-network.${node}-${pod}`, {
            node,
            namespace: 'default',
            pod: `pod-${pod}`,
          });
        }),
      );
      const peakRssMiB = rss.stop();
      await engines.stop();
      const sample = Math.min(run.allocations, 5000);
      const rawSampleMs = await rawWritesMs(store, sample, inFlight);
      const rawMs = (rawSampleMs / sample) * run.allocations;
      // The same writes with a value as large as a block of the run (the agents' write carries
      // a whole block): how much of the gap is the size of Calico's block value.
      const blockBytes =
        (await store.list(BLOCKS_PREFIX, { limit: 1 })).items[0]?.value.length ?? 0;
      const rawBlockMs =
        ((await rawWritesMs(store, sample, inFlight, blockBytes)) / sample) * run.allocations;
      const checkMs = await timeMs(async () => {
        const report = await createIpam(store).check();
        if (
          report.invalidBlocks.length +
          report.leakedHandles.length +
          report.missingHandles.length
        )
          throw new Error(
            `ipam check after the run is not clean: ${JSON.stringify(report).slice(0, 300)}`,
          );
      });
      log(
        `agents ${(agents.ms / 1000).toFixed(1)} s (own CPU ${(agents.ownCpuMs / 1000).toFixed(1)} s, ` +
          `load ${agents.load.map((l) => l.toFixed(1)).join('->')}), raw writes ${(rawMs / 1000).toFixed(1)} s ` +
          `(${sample} sampled), peak RSS ${peakRssMiB.toFixed(0)} MiB, ipam check clean in ${(checkMs / 1000).toFixed(1)} s`,
      );
      return { agents, rawMs, rawBlockMs, blockBytes, peakRssMiB, startMs, streams, inFlight };
    } finally {
      await hub.close();
    }
  } finally {
    await store.close();
  }
}

/** Which parts run: `CIDRPOOL_BENCH14=hosts,embedded,etcd` (default: all three). */
const parts = new Set((process.env.CIDRPOOL_BENCH14 ?? 'hosts,embedded,etcd').split(','));
/** The etcd cluster row allocates for a tenth of the nodes (at scale 1: 500 x 110 pods). */
const ETCD_CLUSTER_FRACTION = 0.1;
/**
 * Pod starts at once per node (`CIDRPOOL_BENCH14_SHAPES=1,10`, the default): one at a time (no
 * batch can form), and ten together; 8 nodes start pods at once either way.
 */
const SHAPES = (process.env.CIDRPOOL_BENCH14_SHAPES ?? '1,10')
  .split(',')
  .map((n) => ({ perNode: Number(n), nodesAtOnce: 8 }));

export const scenario: BenchScenario = {
  title: '14. Node agent IPAM engine at scale',
  async run({ workDir, scale, log }) {
    const figures: BenchFigure[] = [];
    const cluster = await startEtcd({ members: 3 });
    const etcdPids = cluster.members.map((m) => m.pid).filter((p): p is number => p !== undefined);
    try {
      if (parts.has('hosts')) {
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
      }
      const stores: {
        name: string;
        config: (i: number) => DatastoreConfig;
        nodes: number;
        pids: number[];
      }[] = [];
      if (parts.has('embedded'))
        stores.push({
          name: 'embedded',
          config: (i) => ({ type: 'embedded', dataDir: join(workDir, `cluster-${i}`) }),
          nodes: Math.max(10, Math.round(5000 * scale)),
          pids: [],
        });
      if (parts.has('etcd'))
        stores.push({
          name: '3-member etcd',
          config: () => ({ type: 'etcdv3', endpoints: cluster.endpoints }),
          nodes: Math.max(10, Math.round(5000 * scale * ETCD_CLUSTER_FRACTION)),
          pids: etcdPids,
        });
      for (const [k, s] of stores.entries()) {
        for (const [j, shape] of SHAPES.entries()) {
          const run = { ...shape, nodes: s.nodes, allocations: s.nodes * PODS_PER_NODE };
          const r = await wholeCluster(s.config(k * SHAPES.length + j), run, s.pids, log);
          const cpu =
            s.pids.length > 0 ? `, etcd ${(r.agents.othersCpuMs / 1000).toFixed(1)} s` : '';
          figures.push({
            metric:
              `whole cluster, ${s.name}: ${s.nodes.toLocaleString('en-US')} nodes x ${PODS_PER_NODE} pods ` +
              `through ${s.nodes.toLocaleString('en-US')} agent engines, ${shape.perNode} pod(s) per node at once on ${shape.nodesAtOnce} nodes`,
            value: r.agents.ms / 1000,
            unit: 's',
            anchor: {
              name: `one raw CAS write per allocation, ${r.inFlight} in flight`,
              value: r.rawMs / 1000,
              unit: 's',
            },
            ratio: r.agents.ms / r.rawMs,
            ratioMeaning: 'agents / raw writes (goal <= 2)',
            notes:
              `raw writes of a block-sized value (${r.blockBytes} B): ${(r.rawBlockMs / 1000).toFixed(1)} s, ` +
              `ratio ${(r.agents.ms / r.rawBlockMs).toFixed(2)}; peak RSS ${r.peakRssMiB.toFixed(0)} MiB during the allocations (the whole process: every agent, the store; sampled every 100 ms); ` +
              `CPU this process ${(r.agents.ownCpuMs / 1000).toFixed(1)} s${cpu}; ${r.streams} agent watches ` +
              `served by ${HUB_ROOTS.length} datastore watches (bench/watch-hub.ts); agents started in ` +
              `${(r.startMs / 1000).toFixed(1)} s (not timed); ipam check clean after; load ${r.agents.load[1].toFixed(1)}`,
          });
        }
      }
      return figures;
    } finally {
      await cluster.stop();
    }
  },
};

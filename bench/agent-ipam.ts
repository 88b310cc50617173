// 11. The node agent's IPAM socket (issue 13): CNI ADD through the agent against a bare
// `node -e 0` start, ADD without the agent on a 3-member etcd against the embedded store, the
// agent's cached engine against raw single-key transactions, and a burst of 100 ADDs.
// Every figure is measured beside its anchor in the same run, alternating, clean environment.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DatastoreConfig } from '../src/datastore/config-types.js';
import { openDatastore } from '../src/datastore/open.js';
import { createIpam } from '../src/ipam/index.js';
import { createAllocationBatcher } from '../src/node/allocation-batcher.js';
import { CachedStore } from '../src/node/cached-store.js';
import { ipamCacheScope } from '../src/node/ipam-service.js';
import { startEtcd, type EtcdCluster } from '../test/helpers/etcd-cluster.js';
import { startAgent, type RunningAgent } from '../test/node/ipam-agent-support.js';
import { PLUGIN, callPlugin, childrenCpuMs } from './cni-latency.js';
import { measureRawTxnRate } from './etcd-throughput.js';
import { nodeNames, percentile, runPool, seedCluster, timeMs } from './support.js';
import type { BenchFigure, BenchScenario } from './types.js';

/** Wall time of a bare `node -e 0` (the floor of any Node.js plugin), clean environment. */
function bareNode(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], {
      env: { PATH: process.env.PATH },
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('close', () => resolve(performance.now() - started));
  });
}

async function seed(config: DatastoreConfig, nodes: string[]): Promise<void> {
  const store = await openDatastore(config);
  try {
    await seedCluster(store, { pools: [{ name: 'bench-pool', cidr: '10.0.0.0/14' }], nodes });
  } finally {
    await store.close();
  }
}

const netConf = (config: DatastoreConfig, socket: string) => ({
  cniVersion: '1.0.0',
  name: 'bench-net',
  nodename: 'node-0',
  agent_socket: socket,
  ...(config.type === 'embedded'
    ? { datastore_type: 'embedded', data_dir: config.dataDir }
    : { datastore_type: 'etcdv3', etcd_endpoints: config.endpoints.join(',') }),
  ipam: { type: 'cidrpool-ipam' },
});

/**
 * ADD wall times of each config and of `node -e 0`, alternating (each ADD is followed by its
 * DEL), and the summed CPU time (user + system) of those processes.
 */
async function addLatency(configs: readonly object[], rounds: number, tag: string) {
  const adds = configs.map(() => [] as number[]);
  const cpu = configs.map(() => 0);
  const bare: number[] = [];
  let bareCpu = 0;
  for (let i = 0; i < rounds; i++) {
    for (const [k, config] of configs.entries()) {
      const id = `${tag}-${k}-${i}`;
      const before = childrenCpuMs();
      adds[k]!.push(await callPlugin(PLUGIN, 'ADD', id, config));
      cpu[k]! += childrenCpuMs() - before;
      await callPlugin(PLUGIN, 'DEL', id, config);
    }
    const before = childrenCpuMs();
    bare.push(await bareNode());
    bareCpu += childrenCpuMs() - before;
  }
  return { adds, bare, cpu: cpu.map((c) => c / rounds), bareCpu: bareCpu / rounds };
}

/**
 * 100 ADDs (then 100 DELs), 10 in flight, against the same burst of `node -e 0`: wall times and
 * the summed CPU time of each burst's processes.
 */
async function burst(config: object, count: number) {
  let before = childrenCpuMs();
  const add = await timeMs(() =>
    runPool(count, 10, async (i) => void (await callPlugin(PLUGIN, 'ADD', `burst-${i}`, config))),
  );
  const addCpu = childrenCpuMs() - before;
  await runPool(
    count,
    10,
    async (i) => void (await callPlugin(PLUGIN, 'DEL', `burst-${i}`, config)),
  );
  before = childrenCpuMs();
  const bare = await timeMs(() => runPool(count, 10, async () => void (await bareNode())));
  return { add, bare, addCpu, bareCpu: childrenCpuMs() - before };
}

/**
 * Allocations/s of the agent's engine (a CachedStore per host, as each agent has), with
 * `inFlight` requests at once; `batched` sends them through the agent's batcher.
 */
async function cachedAllocationRate(
  config: DatastoreConfig,
  hosts: string[],
  count: number,
  batched = false,
) {
  const store = await openDatastore(config);
  const caches = hosts.map((h) => new CachedStore(store, ipamCacheScope(h)));
  try {
    await Promise.all(caches.map((c) => c.start()));
    const engines = caches.map((c, h) => {
      const ipam = createIpam(c);
      return batched ? createAllocationBatcher(c, ipam, hosts[h]!, Date.now) : ipam;
    });
    const ms = await timeMs(() =>
      runPool(count, 100, async (i) => {
        const h = i % hosts.length;
        const handleId = `cached.${hosts.length}.${i}`;
        caches[h]!.presumeAbsent(`/calico/ipam/v2/handle/${handleId}`);
        const result = await engines[h]!.autoAssign({
          num4: 1,
          num6: 0,
          handleId,
          hostname: hosts[h]!,
          intendedUse: 'Workload',
        });
        if (result.ipv4.ips.length !== 1) throw new Error(`allocation ${i} got no address`);
      }),
    );
    return (count / ms) * 1000;
  } finally {
    await Promise.all(caches.map((c) => c.stop()));
    await store.close();
  }
}

export const scenario: BenchScenario = {
  title: '11. Node agent IPAM socket',
  async run({ workDir, scale, log }) {
    const rounds = Math.max(10, Math.round(60 * scale));
    const figures: BenchFigure[] = [];
    const embedded: DatastoreConfig = { type: 'embedded', dataDir: join(workDir, 'store') };
    let cluster: EtcdCluster | undefined;
    const agents: RunningAgent[] = [];
    try {
      cluster = await startEtcd({ members: 3 });
      const etcd: DatastoreConfig = { type: 'etcdv3', endpoints: cluster.endpoints };
      const hosts = nodeNames(100);
      await Promise.all([seed(embedded, ['node-0']), seed(etcd, hosts)]);
      const embeddedAgent = await startAgent(embedded, 'node-0', join(workDir, 'embedded.sock'));
      agents.push(embeddedAgent);
      const etcdAgent = await startAgent(etcd, 'node-0', join(workDir, 'etcd.sock'));
      agents.push(etcdAgent);

      const configs = [
        netConf(embedded, embeddedAgent.socket),
        netConf(etcd, etcdAgent.socket),
        netConf(embedded, 'none'),
        netConf(etcd, 'none'),
      ];
      // Warm both agents (first claim, block index) and the page cache.
      for (const c of configs) {
        await callPlugin(PLUGIN, 'ADD', 'warm', c);
        await callPlugin(PLUGIN, 'DEL', 'warm', c);
      }
      const { adds, bare, cpu, bareCpu } = await addLatency(configs, rounds, 'lat');
      const p50 = (values: number[]) => percentile(values, 50);
      const bareP50 = p50(bare);
      log(
        `ADD p50: agent/embedded ${p50(adds[0]!).toFixed(1)} ms, agent/etcd ${p50(adds[1]!).toFixed(1)} ms, ` +
          `embedded ${p50(adds[2]!).toFixed(1)} ms, etcd ${p50(adds[3]!).toFixed(1)} ms, node -e 0 ${bareP50.toFixed(1)} ms`,
      );
      const vsBare = (metric: string, values: number[], notes: string): BenchFigure => ({
        metric,
        value: p50(values),
        unit: 'ms',
        anchor: { name: 'bare `node -e 0`', value: bareP50, unit: 'ms' },
        ratio: p50(values) / bareP50,
        ratioMeaning: 'plugin / node -e 0 (goal <= 1.15)',
        notes,
      });
      figures.push(
        vsBare('CNI ADD p50 through the agent, embedded', adds[0]!, `${rounds} rounds, clean env`),
        vsBare('CNI ADD p50 through the agent, 3-member etcd', adds[1]!, `${rounds} rounds`),
        {
          metric: 'CNI ADD p50 without the agent, 3-member etcd',
          value: p50(adds[3]!),
          unit: 'ms',
          anchor: { name: 'ADD without the agent, embedded', value: p50(adds[2]!), unit: 'ms' },
          ratio: p50(adds[3]!) / p50(adds[2]!),
          ratioMeaning: 'etcd / embedded (goal <= 1.5)',
          notes: 'the plugin talks to etcd through its JSON gateway (no gRPC client)',
        },
      );

      const cpuFigure = (metric: string, value: number, notes?: string): BenchFigure => ({
        metric,
        value,
        unit: 'ms',
        anchor: { name: 'bare `node -e 0`', value: bareCpu, unit: 'ms' },
        ratio: value / bareCpu,
        ratioMeaning: 'plugin / node -e 0 (lower is better)',
        notes,
      });
      figures.push(
        cpuFigure(
          'CNI ADD CPU time (mean) through the agent, embedded',
          cpu[0]!,
          'user + system of the plugin process: steadier than wall time on a busy machine',
        ),
        cpuFigure('CNI ADD CPU time (mean) through the agent, 3-member etcd', cpu[1]!),
        cpuFigure('CNI ADD CPU time (mean) without the agent, 3-member etcd', cpu[3]!),
        cpuFigure('CNI ADD CPU time (mean) without the agent, embedded', cpu[2]!),
      );

      const count = Math.max(20, Math.round(100 * scale));
      const b = await burst(configs[1]!, count);
      log(
        `burst of ${count} ADDs via the agent on etcd: ${b.add.toFixed(0)} ms; node -e 0: ${b.bare.toFixed(0)} ms`,
      );
      figures.push({
        metric: `${count} ADDs, 10 in parallel, one node, through the agent (3-member etcd)`,
        value: b.add,
        unit: 'ms',
        anchor: { name: `${count} bare \`node -e 0\`, 10 in parallel`, value: b.bare, unit: 'ms' },
        ratio: b.add / b.bare,
        ratioMeaning: 'burst / bare burst (goal <= 1.2)',
      });
      figures.push({
        metric: `${count} ADDs, 10 in parallel, through the agent: CPU time of the plugin processes`,
        value: b.addCpu,
        unit: 'ms',
        anchor: { name: `${count} bare \`node -e 0\``, value: b.bareCpu, unit: 'ms' },
        ratio: b.addCpu / b.bareCpu,
        ratioMeaning: 'burst / bare burst (lower is better)',
        notes: 'user + system summed: what the burst costs the node beside its waiting',
      });

      const allocations = Math.max(200, Math.round(1000 * scale));
      const raw = await measureRawTxnRate(cluster.endpoints, allocations, 100);
      // 100 hosts' engines: scenario 14 (bench/agent-scale.ts).
      const oneHost = await cachedAllocationRate(etcd, ['node-0'], allocations, true);
      log(`one agent, 100 in flight (batched): ${oneHost.toFixed(0)} allocations/s`);
      figures.push({
        metric: 'one host, 100 in flight, the agent engine with batching',
        value: oneHost,
        unit: 'alloc/s',
        anchor: { name: 'raw single-key txn', value: raw, unit: 'txn/s' },
        ratio: oneHost / raw,
        ratioMeaning: 'allocations per raw txn (goal >= 1.0)',
        notes: 'CNI-shaped requests arriving during a write share the next block write',
      });
      return figures;
    } finally {
      for (const agent of agents) await agent.stop();
      await cluster?.stop();
    }
  },
};

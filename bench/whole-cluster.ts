// Scenario 6: a whole cluster on the embedded store: 5,000 nodes x 110 pods allocated through the
// real engine, total time and peak RSS; then the real CLI's `ipam show --show-blocks` and
// `ipam check` on that data. Anchors are the raw store's own limits measured in the same run: one
// compare-and-swap write per allocation, and one listing of every block.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { listAll, type Datastore } from '../src/datastore/api.js';
import { blocksPrefix } from '../src/datastore/keys.js';
import { openEmbeddedStore } from '../src/datastore/embedded/index.js';
import { nodeNames, runPool, seedCluster, timeMs, trackPeakRss } from './support.js';
import type { BenchFigure, BenchScenario } from './types.js';

const PODS_PER_NODE = 110;

/** Milliseconds per single-key CAS write on this store (the floor of one write per allocation). */
async function measureRawWriteMs(store: Datastore, count: number): Promise<number> {
  let kv = await store.put('/bench/raw-counter', '0');
  const ms = await timeMs(async () => {
    for (let i = 1; i <= count; i++) kv = await store.update(kv.key, String(i), kv.revision);
  });
  return ms / count;
}

function runCli(dataDir: string, args: string[]): number {
  const started = performance.now();
  execFileSync(join(process.cwd(), 'bin/cidrpool'), args, {
    env: { ...process.env, CIDRPOOL_DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'inherit'],
    maxBuffer: 1 << 30,
  });
  return performance.now() - started;
}

export const scenario: BenchScenario = {
  title: '6. Whole cluster: 5,000 nodes x 110 pods (embedded)',
  async run({ workDir, scale, log }) {
    const dataDir = join(workDir, 'data');
    const nodeCount = Math.max(10, Math.round(5000 * scale));
    const allocations = nodeCount * PODS_PER_NODE;
    const store = await openEmbeddedStore({ type: 'embedded', dataDir });
    let allocMs: number;
    let rawWriteMs: number;
    let rawListMs: number;
    let peakRssMiB: number;
    let rss: ReturnType<typeof trackPeakRss> | undefined;
    try {
      const nodes = nodeNames(nodeCount);
      const ipam = await seedCluster(store, {
        pools: [{ name: 'cluster-pool', cidr: '10.0.0.0/12' }],
        nodes,
      });
      log(`allocating ${allocations} addresses on ${nodeCount} nodes...`);
      rss = trackPeakRss();
      allocMs = await timeMs(() =>
        runPool(allocations, 8, async (i) => {
          const node = nodes[i % nodeCount]!;
          const pod = Math.floor(i / nodeCount);
          const result = await ipam.autoAssign({
            num4: 1,
            num6: 0,
            handleId: `k8s-pod-network.${node}-${pod}`,
            attrs: { node, namespace: 'default', pod: `pod-${pod}` },
            hostname: node,
            intendedUse: 'Workload',
          });
          if (result.ipv4.ips.length !== 1) throw new Error(`no address for ${node} pod ${pod}`);
        }),
      );
      peakRssMiB = rss.stop();
      rawWriteMs = await measureRawWriteMs(store, 2000);
      rawListMs = await timeMs(() => listAll(store, blocksPrefix()));
    } finally {
      rss?.stop();
      await store.close();
    }
    log(`allocated in ${(allocMs / 1000).toFixed(1)} s, peak RSS ${peakRssMiB.toFixed(0)} MiB`);
    const showMs = runCli(dataDir, ['ipam', 'show', '--show-blocks']);
    const checkMs = runCli(dataDir, ['ipam', 'check']);
    log(`ipam show ${showMs.toFixed(0)} ms, ipam check ${checkMs.toFixed(0)} ms`);
    const rawAllMs = rawWriteMs * allocations;
    const figures: BenchFigure[] = [
      {
        metric: `allocate ${allocations.toLocaleString('en-US')} addresses, 8 in flight`,
        value: allocMs / 1000,
        unit: 's',
        anchor: { name: 'one raw CAS write per allocation', value: rawAllMs / 1000, unit: 's' },
        ratio: allocMs / rawAllMs,
        ratioMeaning: 'cidrpool / raw writes (lower is better)',
        notes: `peak RSS ${peakRssMiB.toFixed(0)} MiB during the allocations (sampled every 100 ms)`,
      },
      {
        metric: 'ipam show --show-blocks (CLI process)',
        value: showMs,
        unit: 'ms',
        anchor: { name: 'raw listing of every block', value: rawListMs, unit: 'ms' },
        ratio: showMs / rawListMs,
        ratioMeaning: 'cidrpool / raw list (lower is better)',
      },
      {
        metric: 'ipam check (CLI process)',
        value: checkMs,
        unit: 'ms',
        anchor: { name: 'raw listing of every block', value: rawListMs, unit: 'ms' },
        ratio: checkMs / rawListMs,
        ratioMeaning: 'cidrpool / raw list (lower is better)',
      },
    ];
    return figures;
  },
};

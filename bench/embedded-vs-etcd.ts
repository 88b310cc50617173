// Scenario 7: the same allocation workload on the embedded store and on a single-member etcd
// (tmpfs), side by side: 20 hosts, 10 allocations in flight.
import { join } from 'node:path';
import type { Datastore } from '../src/datastore/api.js';
import { openEmbeddedStore } from '../src/datastore/embedded/index.js';
import { openEtcdStore } from '../src/datastore/etcd/index.js';
import { startEtcd } from '../test/helpers/etcd-cluster.js';
import { nodeNames, runPool, seedCluster, timeMs } from './support.js';
import type { BenchScenario } from './types.js';

const HOSTS = 20;

/** Allocations per second of the workload on one store. */
async function measureWorkload(store: Datastore, count: number): Promise<number> {
  const hosts = nodeNames(HOSTS);
  const ipam = await seedCluster(store, {
    pools: [{ name: 'bench-pool', cidr: '10.0.0.0/16' }],
    nodes: hosts,
  });
  const ms = await timeMs(() =>
    runPool(count, 10, async (i) => {
      const result = await ipam.autoAssign({
        num4: 1,
        num6: 0,
        handleId: `bench.${i}`,
        hostname: hosts[i % HOSTS]!,
        intendedUse: 'Workload',
      });
      if (result.ipv4.ips.length !== 1) throw new Error(`allocation ${i} got no address`);
    }),
  );
  return (count / ms) * 1000;
}

export const scenario: BenchScenario = {
  title: '7. Embedded vs etcd, same workload',
  async run({ workDir, scale, log }) {
    const count = Math.max(100, Math.round(2000 * scale));
    const embedded = await openEmbeddedStore({ type: 'embedded', dataDir: join(workDir, 'data') });
    let embeddedRate: number;
    try {
      embeddedRate = await measureWorkload(embedded, count);
    } finally {
      await embedded.close();
    }
    const cluster = await startEtcd({ members: 1 });
    let etcdRate: number;
    try {
      const etcd = await openEtcdStore({ type: 'etcdv3', endpoints: cluster.endpoints });
      try {
        etcdRate = await measureWorkload(etcd, count);
      } finally {
        await etcd.close();
      }
    } finally {
      await cluster.stop();
    }
    log(`embedded ${embeddedRate.toFixed(0)}/s, etcd ${etcdRate.toFixed(0)}/s`);
    return [
      {
        metric: `${count} allocations, ${HOSTS} hosts, 10 in flight`,
        value: embeddedRate,
        unit: 'alloc/s',
        anchor: { name: 'etcd (1 member, tmpfs)', value: etcdRate, unit: 'alloc/s' },
        ratio: embeddedRate / etcdRate,
        ratioMeaning: 'embedded / etcd (higher means embedded is faster)',
        notes: 'embedded is durable (synchronous FULL, fsync per commit); etcd data is on tmpfs',
      },
    ];
  },
};

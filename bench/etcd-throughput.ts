// Scenario 3: allocations/s against a 3-member etcd on loopback (tmpfs), for 1 host and for 100
// simulated hosts, beside the raw single-key txn/s of the same cluster measured in the same run
// (the limit for one transaction per allocation).
import { Etcd3 } from 'etcd3';
import { openEtcdStore } from '../src/datastore/etcd/index.js';
import { startEtcd } from '../test/helpers/etcd-cluster.js';
import { nodeNames, runPool, seedCluster, timeMs } from './support.js';
import type { BenchFigure, BenchScenario } from './types.js';

/** Single-key compare-and-swap transactions per second, `parallel` keys in flight. */
export async function measureRawTxnRate(endpoints: string[], count: number, parallel: number) {
  const client = new Etcd3({ hosts: endpoints });
  try {
    const revisions = new Map<string, string>();
    const ms = await timeMs(() =>
      runPool(count, parallel, async (i) => {
        const key = `/bench/raw/${i % parallel}`;
        const expected = revisions.get(key) ?? '0';
        const result = await client
          .if(key, 'Mod', '==', expected)
          .then(client.put(key).value(String(i)))
          .commit();
        revisions.set(key, result.header.revision);
      }),
    );
    return (count / ms) * 1000;
  } finally {
    client.close();
  }
}

export const scenario: BenchScenario = {
  title: '3. Allocation throughput against etcd (3 members)',
  async run({ scale, log }) {
    const cluster = await startEtcd({ members: 3 });
    try {
      const store = await openEtcdStore({ type: 'etcdv3', endpoints: cluster.endpoints });
      try {
        const hosts = nodeNames(100);
        const ipam = await seedCluster(store, {
          pools: [{ name: 'bench-pool', cidr: '10.0.0.0/14' }],
          nodes: hosts,
        });
        const count = Math.max(50, Math.round(1000 * scale));
        const figures: BenchFigure[] = [];
        for (const parallel of [1, 100]) {
          const raw = await measureRawTxnRate(cluster.endpoints, count, parallel);
          const ms = await timeMs(() =>
            runPool(count, parallel, async (i) => {
              const result = await ipam.autoAssign({
                num4: 1,
                num6: 0,
                handleId: `bench.${parallel}.${i}`,
                hostname: hosts[i % parallel]!,
                intendedUse: 'Workload',
              });
              if (result.ipv4.ips.length !== 1) throw new Error(`allocation ${i} got no address`);
            }),
          );
          const rate = (count / ms) * 1000;
          log(`${parallel} host(s): ${rate.toFixed(0)} allocations/s; raw txn ${raw.toFixed(0)}/s`);
          figures.push({
            metric: `${parallel === 1 ? '1 host, sequential' : '100 hosts, 100 in flight'}`,
            value: rate,
            unit: 'alloc/s',
            anchor: { name: 'raw single-key txn', value: raw, unit: 'txn/s' },
            ratio: rate / raw,
            ratioMeaning: 'allocations per raw txn (1.0 = one txn per allocation)',
          });
        }
        return figures;
      } finally {
        await store.close();
      }
    } finally {
      await cluster.stop();
    }
  },
};

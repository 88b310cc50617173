// The agent's batched allocation over its watch-fed cache, on the embedded store and a real
// etcd: rounds of concurrent CNI-shaped requests (two namespace label sets) while another engine
// releases and allocates behind the agent's back. After every round: one address per handle,
// none given twice, the allocator's invariants (scanInvariants) and a clean `ipam check`.
import assert from 'node:assert/strict';
import { CachedStore } from '../../src/node/cached-store.js';
import { createAllocationBatcher, isBatchable } from '../../src/node/allocation-batcher.js';
import { ipamCacheScope } from '../../src/node/ipam-service.js';
import { createIpam } from '../../src/ipam/index.js';
import type { AutoAssignRequest } from '../../src/ipam/types.js';
import { handleKey } from '../../src/datastore/keys.js';
import { defineOnBothStores, putNode, putPool, scanInvariants } from '../helpers/ipam-fixtures.js';

const both = defineOnBothStores();
const NODE = 'host-a';

const request = (handleId: string, team: string): AutoAssignRequest => ({
  num4: 1,
  num6: 0,
  handleId,
  hostname: NODE,
  intendedUse: 'Workload',
  attrs: { node: NODE, pod: handleId },
  namespace: { name: team, labels: { team } },
});

both(
  'batches concurrent allocations and releases and keeps every invariant with writers behind its back',
  async (t, env) => {
    await putPool(t.store, 'pool-a', { cidr: '10.80.0.0/22', blockSize: 26 });
    await putNode(t.store, NODE);
    await putNode(t.store, 'host-b');
    const cache = new CachedStore(t.store, ipamCacheScope(NODE));
    await cache.start();
    const sizes: number[] = [];
    const releaseSizes: number[] = [];
    try {
      const agentIpam = createIpam(cache, env);
      const batcher = createAllocationBatcher(cache, agentIpam, NODE, env.now, {
        onBatch: (size) => sizes.push(size),
        onReleaseBatch: (size) => releaseSizes.push(size),
      });
      const behind = createIpam(t.store, env); // the CLI or another node, on the datastore itself
      const live = new Map<string, string>();
      let next = 0;
      for (let round = 0; round < 6; round++) {
        const count = 4 + Math.floor(env.random() * 14);
        const ids = Array.from({ length: count }, () => `net.r${round}-${next++}`);
        const victims = [...live.keys()].filter(() => env.random() < 0.2);
        // DELs through the agent: concurrent releases on one block share a write.
        const released = [...live.keys()].filter(
          (id) => !victims.includes(id) && env.random() < 0.3,
        );
        const assigned = await Promise.all([
          ...ids.map((id) => {
            // The socket service presumes a CNI handle absent; so does this test.
            cache.presumeAbsent(handleKey(id));
            return batcher
              .autoAssign(request(id, env.random() < 0.5 ? 'red' : 'blue'))
              .finally(() => cache.forgetPresumption(handleKey(id)));
          }),
          ...victims.map((id) => behind.releaseByHandle(id).then(() => live.delete(id))),
          ...released.map((id) =>
            batcher.releaseByHandle(id).then((ips) => {
              assert.deepEqual(ips, [live.get(id)!.split('/')[0]], `${id} released its address`);
              live.delete(id);
            }),
          ),
          behind.autoAssign({
            num4: 1,
            num6: 0,
            handleId: `b.${round}`,
            hostname: 'host-b',
            intendedUse: 'Workload',
          }),
        ]);
        ids.forEach((id, i) => {
          const ips = (assigned[i] as { ipv4: { ips: string[] } }).ipv4.ips;
          assert.equal(ips.length, 1, `${id} got one address`);
          live.set(id, ips[0]!);
        });
        const addresses = [...live.values()];
        assert.equal(new Set(addresses).size, addresses.length, 'no address given twice');
        for (const [id, ip] of live)
          assert.deepEqual(await behind.ipsByHandle(id), [ip.split('/')[0]]);
        assert.deepEqual(await scanInvariants(t.store, { nowMs: env.now() }), []);
        const report = await behind.check();
        assert.equal(report.invalidBlocks.length, 0);
        assert.deepEqual(report.leakedHandles, []);
        assert.deepEqual(report.missingHandles, []);
      }
      assert.ok(
        sizes.some((s) => s > 1),
        `some write carried several allocations: ${sizes.join(',')}`,
      );
      assert.ok(releaseSizes.length > 0, 'some write carried several releases');
    } finally {
      await cache.stop();
    }
  },
);

both('leaves non-CNI requests to the engine', async () => {
  assert.equal(isBatchable(request('h', 'red'), NODE), true);
  assert.equal(isBatchable({ ...request('h', 'red'), num6: 1 }, NODE), false);
  assert.equal(isBatchable({ ...request('h', 'red'), hostname: 'other' }, NODE), false);
  assert.equal(isBatchable({ ...request('h', 'red'), handleId: undefined }, NODE), false);
  assert.equal(isBatchable({ ...request('h', 'red'), maxBlocksPerHost: 2 }, NODE), false);
});

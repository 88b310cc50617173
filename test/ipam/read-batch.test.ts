// AutoAssign's first read batch (auto-assign.ts): the steady-state allocation is one readMany
// and one transaction, and the blocks it names from the host's last allocation are only a hint
// of which keys to read: every value is read fresh, so other engines' writes are never missed.
import assert from 'node:assert/strict';
import type { Datastore } from '../../src/datastore/api.js';
import { affinityKey, blockKey } from '../../src/datastore/keys.js';
import { createIpam } from '../../src/ipam/index.js';
import {
  defineOnBothStores,
  putNode,
  putPool,
  testEnvironment,
  v4Request,
} from '../helpers/ipam-fixtures.js';

const both = defineOnBothStores();

/** The store with a count of calls per method. */
function countingStore(store: Datastore) {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

both('an allocation in the host block it used last is one read batch and one write', async (t) => {
  await putPool(t.store, 'p', { cidr: '10.0.0.0/24' });
  await putNode(t.store, 'node1');
  const counted = countingStore(t.store);
  const ipam = createIpam(counted.store, testEnvironment());
  const first = await ipam.autoAssign(v4Request('node1', 1, { handleId: 'h0' }));
  assert.equal(first.ipv4.ips.length, 1);
  for (const key of Object.keys(counted.calls)) delete counted.calls[key];
  for (let i = 1; i <= 5; i++) {
    const r = await ipam.autoAssign(v4Request('node1', 1, { handleId: `h${i}` }));
    assert.equal(r.ipv4.ips.length, 1);
  }
  assert.deepEqual(counted.calls, { readMany: 5, txn: 5 });
});

both('a block that got room behind the hint is used first, in key order (§3.4)', async (t) => {
  // node1 in a /24: blocks claimed .128, then .192; key order puts .128 first.
  await putPool(t.store, 'p', { cidr: '10.0.0.0/24' });
  await putNode(t.store, 'node1');
  const ipam = createIpam(t.store, testEnvironment());
  const fill = await ipam.autoAssign(v4Request('node1', 64, { handleId: 'fill' }));
  assert.ok(fill.ipv4.ips.every((ip) => ip.startsWith('10.0.0.') && ip.endsWith('/26')));
  const next = await ipam.autoAssign(v4Request('node1', 1, { handleId: 'next' }));
  assert.deepEqual(next.ipv4.ips, ['10.0.0.192/26']);
  // Another process frees an address of the full block, which this engine has decoded (and
  // remembers at its old revision); the hint still names the .192 block.
  const other = createIpam(t.store, testEnvironment(2));
  const freed = fill.ipv4.ips[10]!.split('/')[0]!;
  assert.deepEqual((await other.releaseIps([{ address: freed }])).released, [freed]);
  const again = await ipam.autoAssign(v4Request('node1', 1, { handleId: 'again' }));
  assert.deepEqual(again.ipv4.ips, [`${freed}/26`]);
});

both('a hinted block that another process released is not used', async (t) => {
  await putPool(t.store, 'p', { cidr: '10.0.0.0/24' });
  await putNode(t.store, 'node1');
  const ipam = createIpam(t.store, testEnvironment());
  const first = await ipam.autoAssign(v4Request('node1', 1, { handleId: 'h1' }));
  assert.deepEqual(first.ipv4.ips, ['10.0.0.128/26']);
  // Another process empties the block and releases the host's affinity: the block is deleted.
  const other = createIpam(t.store, testEnvironment(2));
  await other.releaseByHandle('h1');
  await other.releaseHostAffinities('node1', true);
  assert.equal(await t.store.get(blockKey(4, '10.0.0.128/26')), undefined);
  assert.equal(await t.store.get(affinityKey('node1', 4, '10.0.0.128/26')), undefined);
  // The hint names the deleted block; the allocation claims from the listing, as Calico.
  const r = await ipam.autoAssign(v4Request('node1', 1, { handleId: 'h2' }));
  assert.deepEqual(r.ipv4.ips, ['10.0.0.128/26']);
  const aff = await t.store.get(affinityKey('node1', 4, '10.0.0.128/26'));
  assert.equal(aff?.value, '{"state":"confirmed","deleted":false}');
});

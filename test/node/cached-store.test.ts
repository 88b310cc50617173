// The agent's watch-fed cache follows only this node's blocks (each named by one of its
// affinities, each on its own watch), on the embedded store and a real etcd: it answers their
// reads from memory, sees a write made behind its back, never holds another node's block, and
// drops a block's watch with its affinity.
import assert from 'node:assert/strict';
import { blockKey, handleKey } from '../../src/datastore/keys.js';
import { CachedStore } from '../../src/node/cached-store.js';
import { ipamCacheScope } from '../../src/node/ipam-service.js';
import { createIpam } from '../../src/ipam/index.js';
import { formatCidr, parseCidrMasked } from '../../src/net/index.js';
import { defineOnBothStores, putNode, putPool, v4Request } from '../helpers/ipam-fixtures.js';

const both = defineOnBothStores();
const NODE = 'host-a';
/** `10.90.0.5/26` (an address as the engine returns it) -> its block `10.90.0.0/26`. */
const cidrOf = (ip: string) => formatCidr(parseCidrMasked(ip));

/** Poll `check` until it holds (bounded): watch delivery is asynchronous. */
async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`${what}: not within 5 s`);
}

both('follows this node blocks only, and sees writes behind its back', async (t, env, behind) => {
  await putPool(t.store, 'pool-a', { cidr: '10.90.0.0/24', blockSize: 26 });
  await putNode(t.store, NODE);
  await putNode(t.store, 'host-b');
  // One block of ours before the agent starts (followed from the first listing), one of host-b.
  const before = await behind.autoAssign(v4Request(NODE, 1, { handleId: 'h.before' }));
  await behind.autoAssign(v4Request('host-b', 1, { handleId: 'h.b' }));
  const ours = blockKey(4, cidrOf(before.ipv4.ips[0]!));
  const reads: boolean[] = [];
  const cache = new CachedStore(t.store, ipamCacheScope(NODE), {
    onRead: (hit) => reads.push(hit),
  });
  await cache.start();
  try {
    // 5 prefix and key watches, and one for the one block of this node.
    assert.equal(cache.watchCount, 6);
    const agent = createIpam(cache, env);
    cache.presumeAbsent(handleKey('h.1'));
    const first = await agent.autoAssign(v4Request(NODE, 1, { handleId: 'h.1' }));
    assert.equal(blockKey(4, cidrOf(first.ipv4.ips[0]!)), ours);
    assert.ok(
      reads.every((hit) => hit),
      'the allocation read everything from memory',
    );
    const held = () => cache.held('/calico/ipam/v2/assignment/').map((kv) => kv.key);
    assert.deepEqual(held(), [ours], 'only this node block is held');

    // Another writer releases the first address of our block: the followed watch brings it.
    const revision = (await t.store.get(ours))!.revision;
    await behind.releaseByHandle('h.before');
    const after = (await t.store.get(ours))!.revision;
    assert.notEqual(after, revision);
    await eventually('the release behind the agent reaches the cache', () =>
      cache.held(ours).some((kv) => kv.revision === after),
    );
    reads.length = 0;
    const again = await cache.get(ours);
    assert.equal(again?.revision, after);
    assert.deepEqual(reads, [true]);

    // Released (emptied and its affinity dropped), the block is no longer followed.
    await agent.releaseByHandle('h.1');
    await behind.releaseAffinity(cidrOf(first.ipv4.ips[0]!), NODE, true);
    await eventually('the block watch closes with its affinity', () => cache.watchCount === 5);
    assert.deepEqual(held(), []);
  } finally {
    await cache.stop();
  }
});

// Claims of many hosts share the bitmap chunks (block index and room index): a claim whose
// chunk alone moved is written without it and its bits set after, and the claims of one engine
// take turns on a chunk, so concurrent claimers do not fail each other's transaction.
import assert from 'node:assert/strict';
import type { Datastore, TxnCondition, TxnOperation } from '../../src/datastore/api.js';
import { INDEX_PREFIX, isBitSet, loadChunkOf } from '../../src/ipam/block-index.js';
import { createIpam } from '../../src/ipam/index.js';
import { ROOM_PREFIX } from '../../src/ipam/room-index.js';
import { formatCidr, parseIp } from '../../src/net/index.js';
import {
  defineOnBothStores,
  putNode,
  putPool,
  testEnvironment,
  v4Request,
} from '../helpers/ipam-fixtures.js';
import { roomBitProblems, roomBitsIn } from './room-bits.js';

const both = defineOnBothStores();

const blockOf = (ip: string): string => {
  const a = parseIp(ip.split('/')[0]!);
  return formatCidr({ family: 4, base: (a.value >> 6n) << 6n, prefix: 26 });
};

/**
 * The store with the transactions counted and the chunk conflicts recorded; while `armed`,
 * a "neighbour" rewrites the index chunk named by a transaction just before it runs.
 */
function watchedStore(store: Datastore) {
  const state = { armed: 0, txns: 0, chunkConflicts: 0 };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop !== 'txn') return (value as (...a: unknown[]) => unknown).bind(target);
      return async (conditions: TxnCondition[], operations: TxnOperation[]) => {
        state.txns++;
        const index = conditions.find((c) => c.key.startsWith(INDEX_PREFIX));
        if (index && state.armed > 0) {
          state.armed--;
          const current = await target.get(index.key);
          await target.put(index.key, current?.value ?? '{"bits":""}');
        }
        try {
          return await (value as Datastore['txn']).call(target, conditions, operations);
        } catch (err) {
          const key = String((err as { details?: { key?: unknown } }).details?.key ?? '');
          if (key.startsWith(INDEX_PREFIX) || key.startsWith(ROOM_PREFIX)) state.chunkConflicts++;
          throw err;
        }
      };
    },
  });
  return { store: proxy, state };
}

for (const [moves, txns, what] of [
  [1, 3, 'the chunk as this engine last wrote it is retried once with a fresh read'],
  [2, 6, 'a chunk that moves again after a fresh read: the claim is written without it'],
] as const) {
  both(`a conflict on the index chunk alone does not fail the claim: ${what}`, async (t) => {
    const pool = { cidr: '10.90.0.0/24', blockSize: 26 };
    await putPool(t.store, 'p', pool);
    await putNode(t.store, 'a');
    await putNode(t.store, 'b');
    const w = watchedStore(t.store);
    const ipam = createIpam(w.store, testEnvironment());
    // Another host's claim builds the index and writes the chunks first (so this engine
    // remembers them), then the neighbour moves the index chunk before a's claim.
    await ipam.autoAssign(v4Request('b', 1));
    w.state.armed = moves;
    w.state.txns = 0;
    const r = await ipam.autoAssign(v4Request('a', 1));
    assert.equal(r.ipv4.ips.length, 1);
    const block = blockOf(r.ipv4.ips[0]!);
    // 1 move: the refused claim (remembered chunk), the claim after a fresh read, the
    // assignment. 2 moves: two refused claims, the claim without the chunks, the index bit,
    // the room bit, the assignment.
    assert.equal(w.state.txns, txns);
    const cidr = { family: 4 as const, base: parseIp(block.split('/')[0]!).value, prefix: 26 };
    assert.ok(isBitSet(await loadChunkOf(t.store, cidr), cidr), 'the index bit is set');
    assert.ok((await roomBitsIn(t.store, pool.cidr, pool.blockSize)).includes(block));
    assert.deepEqual(await roomBitProblems(t.store, [pool]), []);
  });
}

both('concurrent claims of one engine do not conflict on the chunks', async (t) => {
  const pool = { cidr: '10.91.0.0/20', blockSize: 26 };
  await putPool(t.store, 'p', pool);
  const hosts = Array.from({ length: 24 }, (_, i) => `host-${i}`);
  for (const host of hosts) await putNode(t.store, host);
  const w = watchedStore(t.store);
  const ipam = createIpam(w.store, testEnvironment());
  const results = await Promise.all(hosts.map((host) => ipam.autoAssign(v4Request(host, 1))));
  const blocks = results.map((r) => blockOf(r.ipv4.ips[0]!));
  assert.equal(new Set(blocks).size, hosts.length, 'one block per host');
  assert.equal(w.state.chunkConflicts, 0);
  assert.deepEqual(await roomBitProblems(t.store, [pool]), []);
});

// The room index ("block has a free address"): it follows the engine's own fills, releases,
// cooldowns and deletes on both stores; borrowing reads O(1) blocks when one block has room;
// blocks made full or freed behind it (raw writes, as Calico would) are still found through the
// fallback listing; a conflict on the room chunk alone does not cost the block write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  listAll,
  type Datastore,
  type ReadRequest,
  type TxnCondition,
  type TxnOperation,
} from '../../src/datastore/api.js';
import { affinityKey, blockKey, blocksPrefix, handleKey } from '../../src/datastore/keys.js';
import { newBlock } from '../../src/ipam/block.js';
import {
  CHUNK_BLOCKS,
  loadIndexChunks,
  rebuildIndexRange,
  type IndexChunk,
} from '../../src/ipam/block-index.js';
import { hostBlockStartIndex } from '../../src/ipam/go-random.js';
import { createIpam } from '../../src/ipam/index.js';
import { decodeBlock, encodeBlock, encodeHandle, type Block } from '../../src/ipam/model.js';
import { indexRoomOfBlocks, ROOM_PREFIX, roomCandidates } from '../../src/ipam/room-index.js';
import {
  blockAt,
  blockCount,
  cidrContainsIp,
  formatCidr,
  formatIp,
  parseCidr,
  parseIp,
} from '../../src/net/index.js';
import {
  openTempStore,
  putNode,
  putPool,
  scanInvariants,
  defineOnBothStores,
  testEnvironment,
  v4Request,
} from '../helpers/ipam-fixtures.js';
import { roomBitProblems, roomBitsIn } from './room-bits.js';

const both = defineOnBothStores();

const blockOf = (ip: string, prefix = 26): string => {
  const a = parseIp(ip.split('/')[0]!);
  const size = 32 - prefix;
  return formatCidr({ family: 4, base: (a.value >> BigInt(size)) << BigInt(size), prefix });
};

both('the room bit follows fills, releases, cooldown and deletes', async (t, _env, ipam) => {
  const pool = { cidr: '10.50.0.0/24', blockSize: 26 };
  await putPool(t.store, 'p', pool);
  await putNode(t.store, 'a');
  const bits = () => roomBitsIn(t.store, pool.cidr, pool.blockSize);
  const exact = async () => assert.deepEqual(await roomBitProblems(t.store, [pool]), []);

  const first = await ipam.autoAssign(v4Request('a', 1, { handleId: 'h1' }));
  const x = blockOf(first.ipv4.ips[0]!);
  assert.deepEqual(await bits(), [x], 'a new block has room');
  const fill = await ipam.autoAssign(v4Request('a', 63, { handleId: 'h2' }));
  assert.ok(fill.ipv4.ips.every((ip) => blockOf(ip) === x));
  assert.deepEqual(await bits(), [], 'a full block has no room');
  assert.ok((await listAll(t.store, ROOM_PREFIX)).length > 0, 'the chunk key is kept');
  await exact();

  const one = fill.ipv4.ips[10]!.split('/')[0]!;
  await ipam.releaseIps([{ address: one, handleId: 'h2' }]);
  assert.deepEqual(await bits(), [x], 'a release gives it room again');
  await ipam.autoAssign(v4Request('a', 1, { handleId: 'h3' }));
  assert.deepEqual(await bits(), [], 'full again');
  await exact();

  // Unaffine and full: still no room. Emptied: deleted, and its bit stays clear.
  await ipam.releaseHostAffinities('a', false);
  assert.deepEqual(await bits(), []);
  await ipam.releaseByHandle('h1');
  assert.deepEqual(await bits(), [x]);
  await ipam.releaseByHandle('h3');
  await ipam.releaseByHandle('h2');
  assert.equal(await t.store.get(blockKey(4, x)), undefined, 'the empty unaffine block is gone');
  assert.deepEqual(await bits(), []);
  await exact();

  // Cooling-down ordinals count as room: a garbage collection can free them without a write.
  await ipam.setConfig({
    strictAffinity: false,
    autoAllocateBlocks: true,
    maxBlocksPerHost: 0,
    ipCooldownSeconds: 60,
  });
  const z = await ipam.autoAssign(v4Request('a', 64, { handleId: 'hz' }));
  const zBlock = blockOf(z.ipv4.ips[0]!);
  assert.ok(z.ipv4.ips.every((ip) => blockOf(ip) === zBlock));
  assert.deepEqual(await bits(), []);
  await ipam.releaseIps([{ address: z.ipv4.ips[0]!.split('/')[0]!, handleId: 'hz' }]);
  assert.deepEqual(await bits(), [zBlock], 'a cooling-down ordinal keeps the bit set');
  await exact();
});

/** A block of `owner` with every ordinal allocated except the last `free`, for raw writes. */
function fullBlock(cidr: string, owner: string, seq: number, free = 0): Block {
  const b = newBlock(parseCidr(cidr), {
    sequenceNumber: 1_780_000_000_000_000_000n + BigInt(seq),
    affinity: `host:${owner}`,
  });
  const used = b.allocations.length - free;
  return {
    ...b,
    allocations: b.allocations.map((_, o) => (o < used ? 0 : null)),
    unallocated: b.unallocated.filter((o) => o >= used),
    attributes: [{ secondary: { node: owner } }],
  };
}

/** Counts the calls that read blocks: Gets of a block key, and listings under the blocks prefix. */
function countingStore(store: Datastore) {
  const counts = { blockGets: 0, blockLists: 0, calls: 0 };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counts.calls++;
        const key = String(args[0]);
        if (prop === 'get' && key.startsWith(blocksPrefix())) counts.blockGets++;
        if (prop === 'list' && key.startsWith(blocksPrefix())) counts.blockLists++;
        // A batch counts each of its reads.
        if (prop === 'readMany') {
          for (const read of args[0] as ReadRequest[]) {
            if ('get' in read && read.get.startsWith(blocksPrefix())) counts.blockGets++;
            if ('list' in read && read.list.startsWith(blocksPrefix())) counts.blockLists++;
          }
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, counts };
}

test('borrowing where one block of 1,024 has room reads O(1) blocks', async () => {
  const t = await openTempStore();
  try {
    const poolText = '10.60.0.0/16';
    const pool = parseCidr(poolText);
    const n = blockCount(pool, 26);
    const start = hostBlockStartIndex('borrower', n);
    const order = (i: bigint) => formatCidr(blockAt(pool, 26, (start + i) % n));
    const blocks: Block[] = [];
    let ops: TxnOperation[] = [];
    for (let i = 0n; i < n; i++) {
      const b = fullBlock(order(i), `host-${i % 16n}`, Number(i), i === n - 1n ? 2 : 0);
      blocks.push(b);
      ops.push({ op: 'put', key: blockKey(4, b.cidr), value: encodeBlock(b) });
      if (ops.length >= 256) {
        await t.store.txn([], ops);
        ops = [];
      }
    }
    if (ops.length > 0) await t.store.txn([], ops);
    // What a long-running cluster already has: both bitmaps, derived by the engine's functions.
    const cidrs = blocks.map((b) => parseCidr(b.cidr));
    const whole = { family: 4 as const, base: 0n, prefix: 0 };
    const before = await loadIndexChunks(t.store, whole, 26);
    await rebuildIndexRange(t.store, whole, 26, cidrs, before, true);
    await indexRoomOfBlocks(t.store, 4, 26, blocks);
    assert.deepEqual(await roomBitsIn(t.store, poolText, 26), [order(n - 1n)]);
    await putPool(t.store, 'sparse', { cidr: poolText, blockSize: 26 });
    await putNode(t.store, 'borrower');

    const env = testEnvironment();
    const { store, counts } = countingStore(t.store);
    const ipam = createIpam(store, env);
    const target = parseCidr(order(n - 1n));
    const inTarget = (ip: string | undefined) =>
      ip !== undefined && cidrContainsIp(target, parseIp(ip.split('/')[0]!));
    // The first time the pool looks full, the block index is checked against one listing.
    const first = await ipam.autoAssign(v4Request('borrower', 1, { handleId: 'b1' }));
    assert.ok(inTarget(first.ipv4.ips[0]), `borrowed ${first.ipv4.ips[0]}`);
    assert.ok(counts.blockGets <= 2, `first borrow: ${counts.blockGets} block Gets`);
    // Within INDEX_RECHECK_MS no listing: the room bitmap names the one candidate.
    Object.assign(counts, { blockGets: 0, blockLists: 0, calls: 0 });
    const second = await ipam.autoAssign(v4Request('borrower', 1, { handleId: 'b2' }));
    assert.ok(inTarget(second.ipv4.ips[0]), `borrowed ${second.ipv4.ips[0]}`);
    assert.equal(counts.blockLists, 0, 'no listing of the blocks');
    assert.ok(counts.blockGets <= 2, `second borrow: ${counts.blockGets} block Gets`);
    assert.ok(counts.calls < 30, `second borrow: ${counts.calls} datastore calls`);
    assert.deepEqual(await roomBitsIn(t.store, poolText, 26), [], 'the last block is now full');
  } finally {
    await t.close();
  }
});

both(
  'blocks made full or freed behind the room index are passed over or found by the fallback',
  async (t, _env, ipam) => {
    const pool = { cidr: '10.70.0.0/24', blockSize: 26 };
    await putPool(t.store, 'p', pool);
    const owners = ['a', 'b', 'c', 'd'];
    const blockOfHost = new Map<string, string>();
    for (const h of owners) {
      await putNode(t.store, h);
      const r = await ipam.autoAssign(v4Request(h, 64, { handleId: `h-${h}` }));
      assert.equal(r.ipv4.ips.length, 64);
      blockOfHost.set(h, blockOf(r.ipv4.ips[0]!));
    }
    await putNode(t.store, 'e');
    // The pool is full: e borrows nothing (and the block index was checked against the blocks).
    assert.equal(
      (await ipam.autoAssign(v4Request('e', 1, { allowPartial: true }))).ipv4.ips.length,
      0,
    );
    assert.deepEqual(await roomBitsIn(t.store, pool.cidr, pool.blockSize), []);

    // d's block: released by the engine (bit set), then made full again behind the index.
    const d = blockOfHost.get('d')!;
    const dBefore = (await t.store.get(blockKey(4, d)))!;
    const dHandle = (await t.store.get(handleKey('h-d')))!;
    const dIp = formatIp({ family: 4, value: parseCidr(d).base + 5n });
    await ipam.releaseIps([{ address: dIp }]);
    assert.deepEqual(await roomBitsIn(t.store, pool.cidr, pool.blockSize), [d]);
    await t.store.put(blockKey(4, d), dBefore.value);
    await t.store.put(handleKey('h-d'), dHandle.value);
    // c's block: one address freed behind the index (block and handle, as Calico writes them).
    const c = blockOfHost.get('c')!;
    const cStored = decodeBlock((await t.store.get(blockKey(4, c)))!.value);
    const freed: Block = {
      ...cStored,
      allocations: cStored.allocations.map((a, o) => (o === 7 ? null : a)),
      unallocated: [7],
    };
    await t.store.put(blockKey(4, c), encodeBlock(freed));
    await t.store.put(handleKey('h-c'), encodeHandle({ block: { [c]: 63 }, deleted: false }));
    assert.deepEqual(await roomBitsIn(t.store, pool.cidr, pool.blockSize), [d]);

    // Within the recheck interval: the bitmap names d (found full: passed over, bit cleared),
    // then yields nothing, so the pool is listed and c's free address is borrowed.
    const r = await ipam.autoAssign(v4Request('e', 1, { handleId: 'he' }));
    assert.equal(r.ipv4.ips.length, 1);
    assert.equal(blockOf(r.ipv4.ips[0]!), c);
    assert.deepEqual(await roomBitProblems(t.store, [pool]), []);
    assert.deepEqual(await roomBitsIn(t.store, pool.cidr, pool.blockSize), []);
  },
);

test('a conflict on the room chunk alone does not fail the block write', async () => {
  const t = await openTempStore();
  try {
    const pool = { cidr: '10.80.0.0/26', blockSize: 26 };
    await putPool(t.store, 'p', pool);
    await putNode(t.store, 'a');
    let armed = 0;
    let txns = 0;
    // Before each armed transaction that moves a room bit, a "neighbour" rewrites the chunk.
    const store = new Proxy(t.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (prop !== 'txn') return (value as (...a: unknown[]) => unknown).bind(target);
        return async (conditions: TxnCondition[], operations: TxnOperation[]) => {
          txns++;
          const room = conditions.find((c) => c.key.startsWith(ROOM_PREFIX));
          if (room && armed > 0) {
            armed--;
            const current = await target.get(room.key);
            await target.put(room.key, current?.value ?? '{"bits":""}');
          }
          return (value as Datastore['txn']).call(target, conditions, operations);
        };
      },
    });
    const ipam = createIpam(store, testEnvironment());
    armed = 1; // the claim creates the block with room
    const r = await ipam.autoAssign(v4Request('a', 1, { handleId: 'h1' }));
    const x = blockOf(r.ipv4.ips[0]!);
    assert.deepEqual(await roomBitsIn(t.store, pool.cidr, pool.blockSize), [x]);
    armed = 1; // filling it clears the bit
    txns = 0;
    const fill = await ipam.autoAssign(v4Request('a', 63, { handleId: 'h2' }));
    assert.equal(fill.ipv4.ips.length, 63);
    // One refused transaction (the chunk), the block without it, the bit on its own.
    assert.equal(txns, 3);
    assert.deepEqual(await roomBitsIn(t.store, pool.cidr, pool.blockSize), []);
    assert.deepEqual(await roomBitProblems(t.store, [pool]), []);
    assert.deepEqual(await scanInvariants(t.store), []);
  } finally {
    await t.close();
  }
});

test('room candidates come in the host search order and skip absent chunks (IPv4, IPv6 /64)', () => {
  const chunkWith = (bits: number[]): IndexChunk => {
    const out = new Uint8Array(CHUNK_BLOCKS / 8);
    for (const b of bits) out[b >> 3]! |= 1 << (b & 7);
    return { key: 'k', bits: out };
  };
  // 10.0.0.0/16 with /26 blocks: block number 10.0.0.0 >> 6 = 0x280000, in chunk 0xa00.
  const v4 = parseCidr('10.0.0.0/16');
  const chunks4 = new Map([[0xa00n, chunkWith([3, 500, 1000])]]);
  const order4 = (start: bigint) =>
    [...roomCandidates(v4, 26, start, chunks4)].map((c) => formatCidr(c));
  assert.deepEqual(order4(0n), ['10.0.0.192/26', '10.0.125.0/26', '10.0.250.0/26']);
  assert.deepEqual(order4(501n), ['10.0.250.0/26', '10.0.0.192/26', '10.0.125.0/26']);
  assert.deepEqual(order4(1000n), ['10.0.250.0/26', '10.0.0.192/26', '10.0.125.0/26']);
  // A /64 of /122 blocks has 2^58 blocks: only the two stored chunks are visited.
  const v6 = parseCidr('fd00::/64');
  const first = v6.base >> 6n;
  const far = first + (1n << 57n);
  const chunks6 = new Map([
    [first / 1024n, chunkWith([1])],
    [far / 1024n, chunkWith([0])],
  ]);
  const order6 = [...roomCandidates(v6, 122, 1n << 56n, chunks6)].map((c) => formatCidr(c));
  assert.deepEqual(order6, ['fd00::8000:0:0:0/122', 'fd00::40/122']);
});

both(
  'a room candidate found missing (deleted behind the index) is claimed at once',
  async (t, _env, ipam) => {
    const pool = { cidr: '10.90.0.0/24', blockSize: 26 };
    await putPool(t.store, 'p', pool);
    const blockOfHost = new Map<string, string>();
    for (const h of ['a', 'b', 'c', 'd']) {
      await putNode(t.store, h);
      const r = await ipam.autoAssign(v4Request(h, 64, { handleId: `h-${h}` }));
      blockOfHost.set(h, blockOf(r.ipv4.ips[0]!));
    }
    await putNode(t.store, 'e');
    assert.equal(
      (await ipam.autoAssign(v4Request('e', 1, { allowPartial: true }))).ipv4.ips.length,
      0,
      'the pool is full',
    );
    // d's block gets room, then "Calico" removes it (block, affinity, handle) behind the index.
    const d = blockOfHost.get('d')!;
    await ipam.releaseIps([{ address: formatIp({ family: 4, value: parseCidr(d).base + 1n }) }]);
    await t.store.delete(blockKey(4, d));
    await t.store.delete(affinityKey('d', 4, d));
    await t.store.delete(handleKey('h-d'));
    // Within the recheck interval, the room bitmap leads e to the missing block: it is claimed.
    const r = await ipam.autoAssign(v4Request('e', 2, { handleId: 'he' }));
    assert.equal(r.ipv4.ips.length, 2);
    assert.ok(r.ipv4.ips.every((ip) => blockOf(ip) === d));
    const claimed = decodeBlock((await t.store.get(blockKey(4, d)))!.value);
    assert.equal(claimed.affinity, 'host:e');
    assert.deepEqual(await roomBitProblems(t.store, [pool]), []);
  },
);

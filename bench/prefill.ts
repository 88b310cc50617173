// Writing many blocks fast for benchmarks: block + affinity records exactly as the engine (and
// Calico) stores them, in large transactions, then the block index and the room index a
// long-running cluster would already have (both derived by the engine's own functions).
import type { Datastore, TxnOperation } from '../src/datastore/api.js';
import { affinityKey, blockKey, resourceKey } from '../src/datastore/keys.js';
import { blockCidr, formatTime, newBlock } from '../src/ipam/block.js';
import { loadIndexChunks, rebuildIndexRange } from '../src/ipam/block-index.js';
import { indexRoomOfBlocks } from '../src/ipam/room-index.js';
import { encodeAffinity, encodeBlock, type Block } from '../src/ipam/model.js';
import { parseCidr, type IpFamily } from '../src/net/index.js';
import { API_VERSION_V3 } from '../src/resources/types.js';

const FIRST_SEQUENCE = 1_780_000_000_000_000_000n;

/** A block owned by `owner` with every address allocated, except the last `free` ordinals. */
export function fillerBlock(cidrText: string, owner: string, index: number, free = 0): Block {
  const b = newBlock(parseCidr(cidrText), {
    sequenceNumber: FIRST_SEQUENCE + BigInt(index),
    affinity: `host:${owner}`,
    claimTime: formatTime(Date.UTC(2026, 0, 1)),
  });
  const used = b.allocations.length - free;
  return {
    ...b,
    allocations: b.allocations.map((_, ordinal) => (ordinal < used ? 0 : null)),
    unallocated: b.unallocated.filter((ordinal) => ordinal >= used),
    attributes: [{ handleId: `fill-${cidrText}`, secondary: { node: owner } }],
  };
}

/**
 * Store the blocks with confirmed affinities (1,000 keys a transaction) and index them: the
 * block index (which CIDRs exist) and the room index (which blocks have a free address).
 */
export async function writeBlocks(
  store: Datastore,
  family: IpFamily,
  blockPrefix: number,
  blocks: readonly Block[],
): Promise<void> {
  let ops: TxnOperation[] = [];
  for (const block of blocks) {
    const owner = block.affinity!.slice('host:'.length);
    ops.push({ op: 'put', key: blockKey(family, block.cidr), value: encodeBlock(block) });
    ops.push({
      op: 'put',
      key: affinityKey(owner, family, block.cidr),
      value: encodeAffinity('confirmed'),
    });
    if (ops.length >= 1000) {
      await store.txn([], ops);
      ops = [];
    }
  }
  if (ops.length > 0) await store.txn([], ops);
  const cidrs = blocks.map((block) => blockCidr(block));
  const whole = { family, base: 0n, prefix: 0 };
  const before = await loadIndexChunks(store, whole, blockPrefix);
  await rebuildIndexRange(store, whole, blockPrefix, cidrs, before, true);
  await indexRoomOfBlocks(store, family, blockPrefix, blocks);
}

/** A pool and a node as plain Calico JSON at their keys (what `cidrpool create` stores). */
export async function writePoolAndNode(
  store: Datastore,
  pool: { name: string; cidr: string; blockSize: number },
  node: string,
): Promise<void> {
  await store.put(
    resourceKey('IPPool', pool.name),
    JSON.stringify({
      apiVersion: API_VERSION_V3,
      kind: 'IPPool',
      metadata: { name: pool.name },
      spec: { cidr: pool.cidr, blockSize: pool.blockSize },
    }),
  );
  await store.put(
    resourceKey('Node', node),
    JSON.stringify({
      apiVersion: API_VERSION_V3,
      kind: 'Node',
      metadata: { name: node },
      spec: {},
    }),
  );
}

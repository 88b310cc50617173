// The room index: which blocks have room (a free ordinal, or one cooling down that a garbage
// collection may free), as bitmaps with the block index's chunk layout under their own prefix,
// so that borrowing (ipam-core.md §3.10) reads only blocks that can give an address instead of
// Calico's Get per possible block, or a listing of every block of the pool.
//
// Key: /cidrpool/ipam/v1/room-index/ipv<4|6>/<blockPrefix>/<chunk number, fixed-width hex>
// Value: {"bits":"<base64 of 1024 bits>"}; bit i set = block CHUNK*n + i has room.
//
// It is a hint, kept by the engine's own block writes (writeBlock, in the same transaction as
// the block) only when a block crosses between "has room" and "full" (or is created or
// deleted), so an allocation that does not fill its block writes nothing extra:
//  - a set bit for a full or missing block costs the borrower one read; it clears the bit;
//  - a clear bit for a block with room (written by Calico, or by a writer that crashed between
//    its block write and a separate bit update) hides the block until borrowing finds nothing
//    through the bitmap: then the pool is listed, which rewrites the pool's bits.
// Cooling-down ordinals count as room: such a block may have no address to give now, but a
// garbage collection can free one without any write that would set the bit again. A false
// "has room" costs one read; a false "full" would hide an address.
import type { Datastore, TxnCondition } from '../datastore/api.js';
import { blockKey } from '../datastore/keys.js';
import { isCidrpoolError } from '../errors/index.js';
import type { Cidr, IpFamily } from '../net/index.js';
import { formatCidr } from '../net/index.js';
import {
  CHUNK_BLOCKS,
  blockOfNumber,
  blockSpan,
  chunkRange,
  chunkUpdate,
  isBitSet,
  loadChunkOf,
  loadChunks,
  rewriteRange,
  type IndexChunk,
} from './block-index.js';
import { blockCidr } from './block.js';
import { decodeBlock, type Block } from './model.js';

export const ROOM_PREFIX = '/cidrpool/ipam/v1/room-index/';
const CHUNK = BigInt(CHUNK_BLOCKS);

/** Tries of a separate bit update against concurrent writers of the same chunk or block. */
const SYNC_ATTEMPTS = 8;

/** True when the block has a free ordinal or one cooling down (its room bit should be set). */
export function hasRoom(b: Block | undefined): boolean {
  if (!b) return false;
  return b.unallocated.length > 0 || b.attributes.some((a) => a.releasedAt !== undefined);
}

/**
 * The room bit a block write must set (true) or clear (false), or undefined when the write does
 * not change whether the block has room (the common allocation: nothing extra to write).
 * `previous` is the block as read (undefined for a create), `next` as written (undefined for a
 * delete).
 */
export function roomTransition(
  previous: Block | undefined,
  next: Block | undefined,
): boolean | undefined {
  const after = hasRoom(next);
  return hasRoom(previous) === after ? undefined : after;
}

/** The room chunk of a block, read alone (for the transaction of a block write). */
export const loadRoomChunkOf = (store: Datastore, block: Cidr): Promise<IndexChunk> =>
  loadChunkOf(store, block, ROOM_PREFIX);

/** The room chunks covering a pool: one key-range read. */
export function loadRoomChunks(
  store: Datastore,
  pool: Cidr,
  blockPrefix: number,
): Promise<Map<bigint, IndexChunk>> {
  const [first, last] = chunkRange(pool, blockPrefix);
  return loadChunks(store, pool.family, blockPrefix, first, last, ROOM_PREFIX);
}

/**
 * Make a block's room bit agree with the block as stored, best effort: the chunk write is
 * conditioned on the block's revision too, so a block that changed in between is read again
 * (at most SYNC_ATTEMPTS times; then the hint stays as it is). `known` is the block as just read
 * by the caller (null: known to be missing), to save the first read.
 */
export async function syncRoomBit(
  store: Datastore,
  cidr: Cidr,
  known?: { readonly value: Block; readonly revision: string } | null,
): Promise<void> {
  const key = blockKey(cidr.family, formatCidr(cidr));
  let block = known;
  for (let attempt = 0; attempt < SYNC_ATTEMPTS; attempt++) {
    try {
      if (block === undefined || attempt > 0) {
        const kv = await store.get(key);
        block = kv ? { value: decodeBlock(kv.value, key), revision: kv.revision } : null;
      }
      const chunk = await loadRoomChunkOf(store, cidr);
      const want = hasRoom(block?.value);
      if (isBitSet(chunk, cidr) === want) return;
      const u = chunkUpdate(chunk, cidr, want);
      const blockCondition: TxnCondition = block
        ? { key, revision: block.revision }
        : { key, absent: true };
      await store.txn([u.condition, blockCondition], [u.operation]);
      return;
    } catch (err) {
      // A hint only: on a conflict read both again; on anything else leave it to the fallback.
      if (!isCidrpoolError(err, 'DS_CONFLICT')) return;
    }
  }
}

/**
 * The blocks of a pool whose room bit is set, in Calico's search order (start, start+1, ...,
 * wrapping). Only chunks that exist and have a bit set are visited, clear bytes 8 blocks at a
 * time, so the cost depends on the chunks stored (a /64 of /122 blocks is no slower than a /16).
 */
export function* roomCandidates(
  pool: Cidr,
  blockPrefix: number,
  start: bigint,
  chunks: ReadonlyMap<bigint, IndexChunk>,
): Generator<Cidr> {
  const { first, count: n } = blockSpan(pool, blockPrefix);
  const present = [...chunks.entries()]
    .filter(([, chunk]) => chunk.bits.some((byte) => byte !== 0))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Walk [start, n) then [0, start), as absolute block numbers [lo, hi).
  for (const [lo, hi] of [
    [first + start, first + n],
    [first, first + start],
  ] as const) {
    for (const [chunkNo, chunk] of present) {
      const base = chunkNo * CHUNK;
      if (base + CHUNK <= lo || base >= hi) continue;
      const fromBit = lo > base ? Number(lo - base) : 0;
      const toBit = hi < base + CHUNK ? Number(hi - base) : CHUNK_BLOCKS;
      for (let bit = fromBit; bit < toBit; bit++) {
        const byte = chunk.bits[bit >> 3]!;
        if (byte === 0) {
          bit |= 7; // the rest of a clear byte
          continue;
        }
        if (byte & (1 << (bit & 7)))
          yield blockOfNumber(pool.family, blockPrefix, base + BigInt(bit));
      }
    }
  }
}

/**
 * Rewrite the room bits of a pool from a listing of its blocks: `withRoom` are the CIDRs of the
 * blocks that have room, every other bit of the pool is cleared. `before` are the pool's room
 * chunks read BEFORE the listing: a block write after that read that changed a bit also changed
 * its chunk, so our stale CAS fails and the fresher bit stays.
 */
export async function rewriteRoomRange(
  store: Datastore,
  pool: Cidr,
  blockPrefix: number,
  withRoom: readonly Cidr[],
  before: ReadonlyMap<bigint, IndexChunk>,
): Promise<void> {
  await rewriteRange(store, pool, blockPrefix, withRoom, before, ROOM_PREFIX);
}

/**
 * Set the room bits of blocks written outside the engine (bulk loads, benchmarks' pre-fill):
 * every block of `blocks` with room gets its bit, the other bits of the family's blocks of
 * that size are cleared. Chunks are written with CAS against the chunks read first.
 */
export async function indexRoomOfBlocks(
  store: Datastore,
  family: IpFamily,
  blockPrefix: number,
  blocks: readonly Block[],
): Promise<void> {
  const whole: Cidr = { family, base: 0n, prefix: 0 };
  const before = await loadRoomChunks(store, whole, blockPrefix);
  const withRoom = blocks.filter((b) => hasRoom(b)).map((b) => blockCidr(b));
  await rewriteRoomRange(store, whole, blockPrefix, withRoom, before);
}

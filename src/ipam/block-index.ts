// The block index: which block CIDRs exist, as bitmaps stored next to Calico's keys, so that
// finding a free block costs one key-range read scoped to the pool instead of Calico's listing of
// every block (ipam-core.md §5.1). It is derived data and only a hint:
//  - a bit set for a block that no longer exists (deleted by a writer that does not keep the
//    index, e.g. Calico itself) hides that block until the pool looks full, when the pool's range
//    is rebuilt from the blocks themselves (rebuildIndexRange);
//  - a bit clear for a block that exists makes the claim's create fail; the claimer sets the bit
//    and moves on.
// Our own block creates and deletes update the bitmap in the same transaction as the block;
// when only the chunk moved meanwhile (another block's bit), the block is written without it
// and the bit set right after (markBit), so claimers of one chunk do not fail each other.
//
// Key: /cidrpool/ipam/v1/block-index/ipv<4|6>/<blockPrefix>/<chunk number, fixed-width hex>
// Value: {"bits":"<base64 of CHUNK_BLOCKS bits>"}; bit i (LSB first) = block CHUNK*n + i exists.
// The block number is the block's base address shifted right by (bits - blockPrefix), so the
// index does not depend on pools, and fixed-width hex makes key order equal numeric order.
import type { Datastore, KeyValue, TxnCondition, TxnOperation } from '../datastore/api.js';
import { blockKey } from '../datastore/keys.js';
import type { Cidr, IpFamily } from '../net/index.js';
import { bitsOf, formatCidr } from '../net/index.js';
import type { Reservations } from './reservations.js';

export const INDEX_PREFIX = '/cidrpool/ipam/v1/block-index/';
const BUILT_PREFIX = '/cidrpool/ipam/v1/block-index-built/';
export const CHUNK_BLOCKS = 1024;
const CHUNK = BigInt(CHUNK_BLOCKS);

export interface IndexChunk {
  readonly key: string;
  /** Undefined when the chunk key does not exist yet. */
  readonly revision?: string;
  readonly bits: Uint8Array;
}

const hexWidth = (family: IpFamily): number => (family === 4 ? 8 : 32);
const familyPrefix = (family: IpFamily, blockPrefix: number, root: string): string =>
  `${root}ipv${family}/${blockPrefix}/`;

/**
 * The key of a chunk. `root` chooses the bitmap: the existence index (INDEX_PREFIX, default) or
 * another derived bitmap with the same layout (room-index.ts).
 */
export const chunkKey = (
  family: IpFamily,
  blockPrefix: number,
  chunk: bigint,
  root: string = INDEX_PREFIX,
): string =>
  `${familyPrefix(family, blockPrefix, root)}${chunk.toString(16).padStart(hexWidth(family), '0')}`;

/** The absolute block number of a block (its base address in units of the block size). */
export const blockNumber = (c: Cidr): bigint => c.base >> BigInt(bitsOf(c.family) - c.prefix);

/**
 * The blocks of size `blockPrefix` inside `range` (a pool, or any CIDR at least as large as a
 * block), as absolute block numbers [first, first + count). The one place the pool/block range
 * math lives; blockOfNumber turns a number back into a block.
 */
export interface BlockSpan {
  readonly first: bigint;
  readonly count: bigint;
}
export function blockSpan(range: Cidr, blockPrefix: number): BlockSpan {
  return {
    first: range.base >> BigInt(bitsOf(range.family) - blockPrefix),
    count: 1n << BigInt(blockPrefix - range.prefix),
  };
}

/** The block with absolute number `n` (inverse of blockNumber). */
export const blockOfNumber = (family: IpFamily, blockPrefix: number, n: bigint): Cidr => ({
  family,
  base: n << BigInt(bitsOf(family) - blockPrefix),
  prefix: blockPrefix,
});

const decodeBits = (value: string): Uint8Array => {
  try {
    const o = JSON.parse(value) as { bits?: string };
    const raw = Buffer.from(o.bits ?? '', 'base64');
    const out = new Uint8Array(CHUNK_BLOCKS / 8);
    out.set(raw.subarray(0, out.length));
    return out;
  } catch {
    return new Uint8Array(CHUNK_BLOCKS / 8);
  }
};
const encodeBits = (bits: Uint8Array): string =>
  JSON.stringify({ bits: Buffer.from(bits).toString('base64') });

/** The chunks in [firstChunk, lastChunk] that exist: one paged key-range read. */
export async function loadChunks(
  store: Datastore,
  family: IpFamily,
  blockPrefix: number,
  firstChunk: bigint,
  lastChunk: bigint,
  root: string = INDEX_PREFIX,
): Promise<Map<bigint, IndexChunk>> {
  const prefix = familyPrefix(family, blockPrefix, root);
  const out = new Map<bigint, IndexChunk>();
  let startAfter =
    firstChunk > 0n ? chunkKey(family, blockPrefix, firstChunk - 1n, root) : undefined;
  for (let page = 0; page < 1_000_000; page++) {
    const res = await store.list(prefix, { startAfter, limit: 256 });
    for (const kv of res.items) {
      const n = BigInt(`0x${kv.key.slice(prefix.length)}`);
      if (n > lastChunk) return out;
      out.set(n, { key: kv.key, revision: kv.revision, bits: decodeBits(kv.value) });
    }
    if (!res.more || res.items.length === 0) return out;
    startAfter = res.items[res.items.length - 1]!.key;
  }
  return out;
}

/** The chunk of a block, read alone (for the transaction of a block create or delete). */
export async function loadChunkOf(
  store: Datastore,
  block: Cidr,
  root: string = INDEX_PREFIX,
): Promise<IndexChunk> {
  const key = chunkKeyOf(block, root);
  return chunkFrom(key, await store.get(key));
}

/** The key of the chunk holding a block's bit. */
export const chunkKeyOf = (block: Cidr, root: string = INDEX_PREFIX): string =>
  chunkKey(block.family, block.prefix, blockNumber(block) / CHUNK, root);

/** A chunk as read at `key` (absent: every bit clear). */
export const chunkFrom = (key: string, kv: KeyValue | undefined): IndexChunk =>
  kv
    ? { key, revision: kv.revision, bits: decodeBits(kv.value) }
    : { key, bits: new Uint8Array(CHUNK_BLOCKS / 8) };

const bitOf = (block: Cidr): number => Number(blockNumber(block) % CHUNK);

/** True when the chunk has the block's bit set. */
export const isBitSet = (chunk: IndexChunk, block: Cidr): boolean =>
  (chunk.bits[bitOf(block) >> 3]! & (1 << (bitOf(block) & 7))) !== 0;

/** Condition and operation that set or clear a block's bit in the same transaction. */
export function chunkUpdate(
  chunk: IndexChunk,
  block: Cidr,
  exists: boolean,
): { condition: TxnCondition; operation: TxnOperation; bits: Uint8Array } {
  const bits = new Uint8Array(chunk.bits);
  const i = bitOf(block);
  if (exists) bits[i >> 3]! |= 1 << (i & 7);
  else bits[i >> 3]! &= ~(1 << (i & 7));
  return {
    condition: chunk.revision
      ? { key: chunk.key, revision: chunk.revision }
      : { key: chunk.key, absent: true },
    operation: { op: 'put', key: chunk.key, value: encodeBits(bits) },
    bits,
  };
}

/** Tries of markExists against concurrent writers of the same chunk. */
const MARK_ATTEMPTS = 8;

/**
 * Set a block's bit, best effort: after a claim made without the chunk, or after finding that a
 * block we thought free exists. Retries a few times when the chunk moves; gives up silently.
 */
export const markExists = (store: Datastore, block: Cidr): Promise<void> =>
  markBit(store, block, true);

/**
 * Set (`exists`) or clear a block's existence bit, best effort, as markExists. Clearing is for a
 * block found missing although its bit is set (deleted by a writer that does not keep the index);
 * it is conditioned on the block being absent still, so a claim made since is never hidden.
 */
export async function markBit(store: Datastore, block: Cidr, exists: boolean): Promise<void> {
  const absent: TxnCondition[] = exists
    ? []
    : [{ key: blockKey(block.family, formatCidr(block)), absent: true }];
  for (let attempt = 0; attempt < MARK_ATTEMPTS; attempt++) {
    try {
      const chunk = await loadChunkOf(store, block);
      if (isBitSet(chunk, block) === exists) return;
      const u = chunkUpdate(chunk, block, exists);
      await store.txn([u.condition, ...absent], [u.operation]);
      return;
    } catch {
      // A hint only: on a conflict read the chunk again; otherwise the next claimer repairs it.
    }
  }
}

/** A pool's block walk: Calico's order (start, start+1, ..., wrap), over the index bitmaps. */
export interface FreeBlockSearch {
  readonly pool: Cidr;
  readonly blockPrefix: number;
  /** Index (within the pool) to start at: Calico's host-seeded start. */
  readonly start: bigint;
  readonly chunks: ReadonlyMap<bigint, IndexChunk>;
  readonly reservations: Reservations;
  /** CIDR texts to pass over (claimed by someone else during this request). */
  readonly skip: ReadonlySet<string>;
}

/**
 * The first block, in Calico's search order, whose bit is clear and that reservations do not
 * cover entirely; undefined when every block of the pool exists. Runs of existing blocks are
 * skipped a byte (8 blocks) at a time and missing chunks in one step, so the cost depends on
 * the pool size / 8192 at worst, not on the number of blocks stored.
 */
export function findFreeBlock(s: FreeBlockSearch): Cidr | undefined {
  const { first, count: n } = blockSpan(s.pool, s.blockPrefix);
  const cidrAt = (i: bigint): Cidr => blockOfNumber(s.pool.family, s.blockPrefix, first + i);
  // Walk [start, n) then [0, start).
  for (const [from, to] of [
    [s.start, n],
    [0n, s.start],
  ] as const) {
    let i = from;
    let guard = 0;
    while (i < to) {
      if (++guard > 10_000_000) return undefined;
      const abs = first + i;
      const chunk = s.chunks.get(abs / CHUNK);
      const bit = Number(abs % CHUNK);
      if (chunk && chunk.bits[bit >> 3]! & (1 << (bit & 7))) {
        // Existing block: skip the rest of a full byte at once.
        if ((bit & 7) === 0 && chunk.bits[bit >> 3] === 0xff) i += 8n;
        else i += 1n;
        continue;
      }
      const cidr = cidrAt(i);
      if (s.skip.has(formatCidr(cidr))) {
        i += 1n;
        continue;
      }
      if (!s.reservations.none && s.reservations.coversWhole(cidr)) {
        // Jump past the reservation that covers it when that reservation is larger than a block.
        const big = s.reservations.cidrs.find(
          (r) =>
            r.family === cidr.family &&
            r.prefix < cidr.prefix &&
            blockNumber(r) === blockNumber({ ...cidr, prefix: r.prefix }),
        );
        if (big) {
          const covered = blockSpan(big, s.blockPrefix);
          const end = covered.first + covered.count - first;
          i = end > i ? end : i + 1n;
        } else i += 1n;
        continue;
      }
      return cidr;
    }
  }
  return undefined;
}

/** The chunk range [first, last] that covers a pool's blocks. */
export function chunkRange(pool: Cidr, blockPrefix: number): [bigint, bigint] {
  const { first, count } = blockSpan(pool, blockPrefix);
  return [first / CHUNK, (first + count - 1n) / CHUNK];
}

/** True once the index of this family and block size was built from the blocks. */
export async function isIndexBuilt(
  store: Datastore,
  family: IpFamily,
  blockPrefix: number,
): Promise<boolean> {
  return (await store.get(`${BUILT_PREFIX}ipv${family}/${blockPrefix}`)) !== undefined;
}

/** The existence chunks covering `range`: read them BEFORE listing blocks to rebuild from. */
export async function loadIndexChunks(
  store: Datastore,
  range: Cidr,
  blockPrefix: number,
): Promise<Map<bigint, IndexChunk>> {
  const [firstChunk, lastChunk] = chunkRange(range, blockPrefix);
  return loadChunks(store, range.family, blockPrefix, firstChunk, lastChunk);
}

/**
 * Rewrite the existence chunks covering `range` from the blocks that exist in it (`blocks`: the
 * CIDRs of a listing of the range). `before` are the chunks as read BEFORE that listing: a claim
 * between the two reads moved its chunk, so the CAS here fails and its fresh bit stays (read
 * after the listing, a stale listing would clear the bit of a block that exists). With
 * `markBuilt`, records that the whole family/size index is now derived from the blocks.
 */
export async function rebuildIndexRange(
  store: Datastore,
  range: Cidr,
  blockPrefix: number,
  blocks: readonly Cidr[],
  before: ReadonlyMap<bigint, IndexChunk>,
  markBuilt = false,
): Promise<void> {
  await rewriteRange(store, range, blockPrefix, blocks, before, INDEX_PREFIX);
  if (markBuilt)
    await store.put(`${BUILT_PREFIX}ipv${range.family}/${blockPrefix}`, '{"built":true}');
}

/**
 * Set exactly the bits of `blocks` inside `range` (clearing the others of the range) in the
 * bitmap under `root`, writing each changed chunk with CAS against `current` (the chunks as read
 * by the caller). A chunk that moved since is left alone: a concurrent writer of that chunk
 * wrote a fresher bit than ours. Bits of neighbours outside `range` in a shared chunk stay.
 */
export async function rewriteRange(
  store: Datastore,
  range: Cidr,
  blockPrefix: number,
  blocks: readonly Cidr[],
  current: ReadonlyMap<bigint, IndexChunk>,
  root: string,
): Promise<void> {
  const [firstChunk, lastChunk] = chunkRange(range, blockPrefix);
  const wanted = new Map<bigint, Uint8Array>();
  for (const c of blocks) {
    if (c.family !== range.family || c.prefix !== blockPrefix) continue;
    const abs = blockNumber(c);
    const chunkNo = abs / CHUNK;
    if (chunkNo < firstChunk || chunkNo > lastChunk) continue;
    let bits = wanted.get(chunkNo);
    if (!bits) wanted.set(chunkNo, (bits = new Uint8Array(CHUNK_BLOCKS / 8)));
    const bit = Number(abs % CHUNK);
    bits[bit >> 3]! |= 1 << (bit & 7);
  }
  const span = blockSpan(range, blockPrefix);
  const lo = span.first;
  const hi = lo + span.count - 1n;
  const chunkNos = new Set<bigint>([...current.keys(), ...wanted.keys()]);
  for (const chunkNo of chunkNos) {
    if (chunkNo < firstChunk || chunkNo > lastChunk) continue;
    const existing = current.get(chunkNo);
    const bits = new Uint8Array(existing?.bits ?? new Uint8Array(CHUNK_BLOCKS / 8));
    const want = wanted.get(chunkNo) ?? new Uint8Array(CHUNK_BLOCKS / 8);
    const base = chunkNo * CHUNK;
    const fromBit = lo > base ? Number(lo - base) : 0;
    const toBit = hi < base + CHUNK - 1n ? Number(hi - base) : CHUNK_BLOCKS - 1;
    for (let bit = fromBit; bit <= toBit; bit++) {
      const mask = 1 << (bit & 7);
      if (want[bit >> 3]! & mask) bits[bit >> 3]! |= mask;
      else bits[bit >> 3]! &= ~mask;
    }
    if (existing && Buffer.from(existing.bits).equals(Buffer.from(bits))) continue;
    if (!existing && bits.every((b) => b === 0)) continue;
    const key = chunkKey(range.family, blockPrefix, chunkNo, root);
    try {
      await store.txn(
        [existing?.revision ? { key, revision: existing.revision } : { key, absent: true }],
        [{ op: 'put', key, value: encodeBits(bits) }],
      );
    } catch {
      // Raced with a writer of the chunk: its bit is fresher; the rest is a hint.
    }
  }
}

const CHECKED_PREFIX = '/cidrpool/ipam/v1/block-index-checked/';

/**
 * How long a pool's index range, once re-derived from the pool's blocks, is trusted when the
 * pool looks full. Within it, a block deleted behind the index (by Calico) stays hidden, unless
 * the room bitmap leads a reader to it; after it, the next request that finds the pool full
 * lists the pool again.
 */
export const INDEX_RECHECK_MS = 60_000;

const checkedKey = (pool: Cidr, blockPrefix: number): string =>
  `${CHECKED_PREFIX}ipv${pool.family}/${blockPrefix}/${pool.base.toString(16)}-${pool.prefix}`;

/** When the pool's range of the index was last re-derived from its blocks (ms), if known. */
export async function readPoolCheckedAt(
  store: Datastore,
  pool: Cidr,
  blockPrefix: number,
): Promise<number | undefined> {
  const kv = await store.get(checkedKey(pool, blockPrefix));
  if (!kv) return undefined;
  try {
    const at = (JSON.parse(kv.value) as { at?: unknown }).at;
    return typeof at === 'number' && Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}

/** Record that the pool's range of the index was re-derived from its blocks at `atMs`. */
export async function recordPoolChecked(
  store: Datastore,
  pool: Cidr,
  blockPrefix: number,
  atMs: number,
): Promise<void> {
  await store.put(checkedKey(pool, blockPrefix), JSON.stringify({ at: atMs }));
}

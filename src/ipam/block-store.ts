// Reads and compare-and-swap writes of IPAM objects (Calico's ipam_block_reader_writer.go).
// Every write that changes a block together with handles (or an affinity, or the block index)
// goes through one multi-key `store.txn`, so there is no window where a handle over- or
// under-counts (ipam-core.md §2.3 accepts an overcount; we never produce one).
import {
  listAll,
  readKv,
  type Datastore,
  type KeyValue,
  type TxnCondition,
  type TxnOperation,
} from '../datastore/api.js';
import {
  affinityKey,
  blockKey,
  blocksPrefix,
  handleKey,
  hostAffinityPrefix,
  IPAM_CONFIG_KEY,
  parseAffinityKey,
  type AffinityType,
} from '../datastore/keys.js';
import { isCidrpoolError } from '../errors/index.js';
import type { Cidr, IpFamily } from '../net/index.js';
import { formatCidr } from '../net/index.js';
import { blockCidr, bumpSequence, ordinalsOfHandle } from './block.js';
import { chunkFrom, chunkKeyOf, chunkUpdate, markBit, type IndexChunk } from './block-index.js';
import {
  decodeAffinity,
  decodeBlock,
  decodeConfig,
  decodeHandle,
  encodeBlock,
  encodeHandle,
  type AffinityValue,
  type Block,
  type HandleValue,
} from './model.js';
import { createKeyedQueue } from './host-lock.js';
import { ROOM_PREFIX, roomTransition, syncRoomBit } from './room-index.js';
import { DEFAULT_IPAM_CONFIG, type IpamConfig } from './types.js';

/** A decoded value with the key and revision it was read at. */
export interface Stored<T> {
  readonly key: string;
  readonly value: T;
  readonly revision: string;
}

export interface StoredAffinity extends Stored<AffinityValue> {
  readonly host: string;
  readonly type: AffinityType;
  readonly family: IpFamily;
  readonly cidr: string;
}

/** The block of a CIDR, or undefined when it does not exist. */
export async function readBlock(store: Datastore, cidr: Cidr): Promise<Stored<Block> | undefined> {
  const key = blockKey(cidr.family, formatCidr(cidr));
  const kv = await store.get(key);
  return kv ? { key, value: decodeBlock(kv.value, key), revision: kv.revision } : undefined;
}

/** Every block of one family (or both), decoded, in key order. */
export async function listBlocks(store: Datastore, family?: IpFamily): Promise<Stored<Block>[]> {
  const items = await listAll(store, blocksPrefix(family), 500);
  return items.map((kv) => ({
    key: kv.key,
    value: decodeBlock(kv.value, kv.key),
    revision: kv.revision,
  }));
}

export async function readAffinity(
  store: Datastore,
  host: string,
  cidr: Cidr,
  type: AffinityType,
): Promise<StoredAffinity | undefined> {
  const key = affinityKey(host, cidr.family, formatCidr(cidr), type);
  const kv = await store.get(key);
  return kv ? toAffinity(kv.key, kv.value, kv.revision) : undefined;
}

function toAffinity(key: string, value: string, revision: string): StoredAffinity | undefined {
  const parts = parseAffinityKey(key);
  if (!parts) return undefined;
  return { key, value: decodeAffinity(value, key), revision, ...parts };
}

/** A host's affinities of one family and type, in key order (Calico's try order, §3.4). */
export async function listHostAffinities(
  store: Datastore,
  host: string,
  family: IpFamily,
  type: AffinityType,
): Promise<StoredAffinity[]> {
  return affinitiesOf(await listAll(store, hostAffinityPrefix(host, family, type)));
}

/** Listed affinity keys, decoded (keys that are not affinity keys are skipped). */
export const affinitiesOf = (items: readonly KeyValue[]): StoredAffinity[] =>
  items.flatMap((kv) => toAffinity(kv.key, kv.value, kv.revision) ?? []);

/** Every affinity under a prefix (e.g. `/calico/ipam/v2/host/`). */
export async function listAffinities(store: Datastore, prefix: string): Promise<StoredAffinity[]> {
  const items = await listAll(store, prefix);
  return items.flatMap((kv) => toAffinity(kv.key, kv.value, kv.revision) ?? []);
}

export async function readHandle(
  store: Datastore,
  handleId: string,
): Promise<Stored<HandleValue> | undefined> {
  return handleOf(await store.get(handleKey(handleId)));
}

/** A read handle key, decoded. */
export const handleOf = (kv: KeyValue | undefined): Stored<HandleValue> | undefined =>
  kv ? { key: kv.key, value: decodeHandle(kv.value, kv.key), revision: kv.revision } : undefined;

/** A read block key, decoded. */
export const blockOf = (kv: KeyValue | undefined): Stored<Block> | undefined =>
  kv ? { key: kv.key, value: decodeBlock(kv.value, kv.key), revision: kv.revision } : undefined;

/** The stored IPAM config, or the defaults when none is stored (HEAD: read-only). */
export async function readConfig(store: Datastore): Promise<IpamConfig> {
  return configOf(await store.get(IPAM_CONFIG_KEY));
}

/** The config key as read (undefined: absent, so the defaults). */
export const configOf = (kv: KeyValue | undefined): IpamConfig =>
  kv ? decodeConfig(kv.value, IPAM_CONFIG_KEY) : DEFAULT_IPAM_CONFIG;

/**
 * What a block write does to the block itself. `previous` is the block as read at `revision`
 * (a garbage-collected copy is fine: collection does not change whether a block has room); it
 * decides whether the write also moves the block's room bit (room-index.ts).
 */
export type BlockChange =
  | { readonly kind: 'create'; readonly block: Block }
  | {
      readonly kind: 'update';
      readonly block: Block;
      readonly revision: string;
      readonly previous: Block;
    }
  | { readonly kind: 'delete'; readonly revision: string; readonly previous: Block };

export interface BlockWrite {
  readonly family: IpFamily;
  readonly cidr: string;
  readonly change: BlockChange;
  /**
   * Handles whose allocations in this block change. Their count for this block is set to the
   * number of ordinals of the written block that carry them (0 removes the entry; an empty map
   * deletes the handle), so handle counts always equal a scan of the blocks.
   */
  readonly handles?: readonly string[];
  /** More conditions and operations of the same transaction (e.g. the affinity). */
  readonly conditions?: readonly TxnCondition[];
  readonly operations?: readonly TxnOperation[];
  /**
   * Handles already read by the caller (undefined value: known to be absent), to save a round
   * trip; a stale one only makes the transaction fail with DS_CONFLICT.
   */
  readonly knownHandles?: ReadonlyMap<string, Stored<HandleValue> | undefined>;
}

/**
 * Write a block and its handle counts in one transaction. An update adds 1 to the block's
 * sequence number (Calico updateBlock); a create does not. Handles are read first, and their
 * revisions (or absence) become conditions. A create or delete sets or clears the block's
 * existence bit (block-index.ts) in the same transaction, conditioned on its chunk. When the
 * write makes the block full, gives it room again, creates or deletes it, the block's room bit
 * (room-index.ts) is written in the same transaction; when that chunk alone moved (a
 * neighbour's bit changed), the block is written without it and the bit is set separately (best
 * effort), so writers of unrelated blocks do not fail each other. Throws DS_CONFLICT when
 * anything else changed since it was read; the caller re-reads and retries. Returns the block's
 * new revision.
 */
export async function writeBlock(
  store: Datastore,
  w: BlockWrite,
): Promise<{ revision: string; block?: Block }> {
  const key = blockKey(w.family, w.cidr);
  const conditions: TxnCondition[] = [...(w.conditions ?? [])];
  const operations: TxnOperation[] = [];
  let written: Block | undefined;
  switch (w.change.kind) {
    case 'create':
      conditions.push({ key, absent: true });
      written = w.change.block;
      operations.push({ op: 'put', key, value: encodeBlock(written) });
      break;
    case 'update':
      conditions.push({ key, revision: w.change.revision });
      written = bumpSequence(w.change.block);
      operations.push({ op: 'put', key, value: encodeBlock(written) });
      break;
    case 'delete':
      conditions.push({ key, revision: w.change.revision });
      operations.push({ op: 'delete', key });
      break;
  }
  const handleIds = [...new Set(w.handles ?? [])];
  const previous = w.change.kind === 'create' ? undefined : w.change.previous;
  const room = roomTransition(previous, written);
  // A create or delete moves the block's existence bit (block-index.ts); an update does not.
  const exists = w.change.kind === 'update' ? undefined : w.change.kind === 'create';
  const cidr = blockCidr((written ?? previous)!);
  const roomKey = room === undefined ? undefined : chunkKeyOf(cidr, ROOM_PREFIX);
  const indexKey = exists === undefined ? undefined : chunkKeyOf(cidr);
  if (roomKey === undefined && indexKey === undefined) return write();
  // Writes of this engine's process that move bits of one chunk (claims of neighbouring blocks
  // by many hosts) take turns, so they do not fail each other's compare on the chunk; other
  // processes are handled by the fallback below.
  let queue = chunkQueues.get(store);
  if (!queue) chunkQueues.set(store, (queue = createKeyedQueue()));
  return queue.run(chunkKeyOf(cidr, ''), write);

  async function write(): Promise<{ revision: string; block?: Block }> {
    // Everything to read before the write, in one round trip: the chunks of the bits that move
    // (unless this process wrote them last: see chunkCaches) and the handles the caller has not
    // read.
    const cache = chunkCacheOf(store);
    const chunkKeys = [roomKey, indexKey].filter((k): k is string => k !== undefined);
    let cached = chunkKeys.length > 0 && chunkKeys.every((k) => cache.has(k));
    const unknownHandles = handleIds.filter((id) => !w.knownHandles?.has(id));
    const reads = [...(cached ? [] : chunkKeys), ...unknownHandles.map(handleKey)];
    const read =
      reads.length === 0
        ? []
        : (await store.readMany(reads.map((key) => ({ get: key })))).responses.map(readKv);
    const chunks = new Map(
      chunkKeys.map((k) => [k, cached ? cache.get(k)! : chunkFrom(k, read.shift())]),
    );
    const readHandles = new Map(unknownHandles.map((id, i) => [id, handleOf(read[i])]));
    handleIds.forEach((handleId) => {
      const current = w.knownHandles?.has(handleId)
        ? w.knownHandles.get(handleId)
        : readHandles.get(handleId);
      const hk = handleKey(handleId);
      conditions.push(
        current ? { key: hk, revision: current.revision } : { key: hk, absent: true },
      );
      const counts: Record<string, number> = { ...(current?.value.block ?? {}) };
      const next = written ? countHandle(written, handleId) : 0;
      if (next > 0) counts[w.cidr] = next;
      else delete counts[w.cidr];
      if (Object.keys(counts).length === 0) {
        if (current) operations.push({ op: 'delete', key: hk });
      } else {
        operations.push({
          op: 'put',
          key: hk,
          value: encodeHandle({ block: counts, deleted: false }),
        });
      }
    });
    operations.push(...(w.operations ?? []));
    // The bitmap chunks' conditions go last: the store names the first failed condition, so a
    // conflict naming a chunk means everything else held. A chunk from the cache that went
    // stale is read again once; a chunk read fresh that moved means a neighbour's bit moved:
    // then the block is written without the chunks and its bits are set after, each from the
    // stored state (best effort), so writers of unrelated blocks never fail each other's write.
    for (;;) {
      const bits = [
        ...(indexKey !== undefined ? [chunkUpdate(chunks.get(indexKey)!, cidr, exists!)] : []),
        ...(roomKey !== undefined ? [chunkUpdate(chunks.get(roomKey)!, cidr, room!)] : []),
      ];
      if (bits.length === 0) break;
      try {
        const result = await store.txn(
          [...conditions, ...bits.map((u) => u.condition)],
          [...operations, ...bits.map((u) => u.operation)],
        );
        for (const u of bits)
          rememberChunk(cache, { key: u.condition.key, revision: result.revision, bits: u.bits });
        return { revision: result.revision, block: written };
      } catch (err) {
        if (!isCidrpoolError(err, 'DS_CONFLICT') || !chunkKeys.includes(String(err.details.key)))
          throw err;
      }
      for (const k of chunkKeys) cache.delete(k);
      if (!cached) break;
      cached = false;
      const fresh = await store.readMany(chunkKeys.map((key) => ({ get: key })));
      chunkKeys.forEach((k, i) => chunks.set(k, chunkFrom(k, readKv(fresh.responses[i]))));
    }
    const result = await store.txn(conditions, operations);
    if (indexKey !== undefined) await markBit(store, cidr, exists!);
    // The block as just written saves the sync its first read.
    if (roomKey !== undefined)
      await syncRoomBit(
        store,
        cidr,
        written ? { value: written, revision: result.revision } : null,
      );
    return { revision: result.revision, block: written };
  }
}

/**
 * Per store, the bitmap chunks as this process last wrote them (writeBlock). Only a guess of
 * the chunk's revision and bits, used inside the chunk's queue: the transaction compares the
 * chunk's revision, so an entry another writer made stale costs one refused transaction and a
 * fresh read, never a wrong bit.
 */
const chunkCaches = new WeakMap<Datastore, Map<string, IndexChunk>>();
/** Chunks remembered per store; past this the cache starts again. */
const MAX_CACHED_CHUNKS = 4096;

function chunkCacheOf(store: Datastore): Map<string, IndexChunk> {
  let cache = chunkCaches.get(store);
  if (!cache) chunkCaches.set(store, (cache = new Map()));
  return cache;
}

function rememberChunk(cache: Map<string, IndexChunk>, chunk: IndexChunk): void {
  if (!cache.has(chunk.key) && cache.size >= MAX_CACHED_CHUNKS) cache.clear();
  cache.set(chunk.key, chunk);
}

/** Per store, a queue per bitmap chunk (writeBlock). */
const chunkQueues = new WeakMap<Datastore, ReturnType<typeof createKeyedQueue>>();

/** Allocations of the block that carry the handle (cooling-down ones carry none). */
export const countHandle = (b: Block, handleId: string): number =>
  ordinalsOfHandle(b, handleId).length;

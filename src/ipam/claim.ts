// Finding and claiming a free block (ipam-core.md §3.7, §3.8), plus the pool-scoped block
// listing that reclaim and borrowing use.
import { listAll, type Datastore } from '../datastore/api.js';
import {
  affinityKey,
  blockCidrFromKey,
  blockKey,
  blocksPrefix,
  type AffinityType,
} from '../datastore/keys.js';
import { isCidrpoolError } from '../errors/index.js';
import type { Cidr, IpFamily } from '../net/index.js';
import { bitsOf, blockIndexOf, cidrContainsCidr, formatCidr, tryParseCidr } from '../net/index.js';
import {
  blockCidr,
  formatTime,
  freeCount,
  garbageCollect,
  isEmpty,
  newBlock,
  parseAffinity,
  type HostReservedAttr,
} from './block.js';
import {
  blockSpan,
  chunkRange,
  findFreeBlock,
  isIndexBuilt,
  loadChunks,
  loadIndexChunks,
  markBit,
  markExists,
  INDEX_RECHECK_MS,
  readPoolCheckedAt,
  rebuildIndexRange,
  recordPoolChecked,
} from './block-index.js';
import {
  readAffinity,
  readBlock,
  writeBlock,
  type Stored,
  type StoredAffinity,
} from './block-store.js';
import { releaseBlockAffinity } from './affinity.js';
import type { IpamContext } from './context.js';
import { computeStartIndex, hostBlockStartIndex } from './go-random.js';
import { decodeBlock, encodeAffinity, type Block } from './model.js';
import type { PoolInfo } from './pools.js';
import type { Reservations } from './reservations.js';
import {
  hasRoom,
  loadRoomChunks,
  rewriteRoomRange,
  roomCandidates,
  syncRoomBit,
} from './room-index.js';

/** Calico's EmptyBlockMinReclaimAge: an empty block claimed less than a minute ago is not taken. */
export const EMPTY_BLOCK_MIN_RECLAIM_AGE_MS = 60_000;

/** Everything a claim needs to know about the request. */
export interface ClaimRequest {
  readonly family: IpFamily;
  readonly host: string;
  readonly type: AffinityType;
  readonly pools: readonly PoolInfo[];
  readonly reservations: Reservations;
  readonly cooldownSeconds: number;
  readonly hostReserved?: HostReservedAttr;
}

/** Internal signal: no pool has a free block (Calico's noFreeBlocks error). */
export class NoFreeBlocksError extends Error {
  constructor() {
    super('No Free Blocks');
  }
}

/** How many blocks a pool has (2^(blockSize - pool prefix)). */
const poolBlockCount = (pool: PoolInfo): bigint => blockSpan(pool.cidr, pool.blockSize).count;

/** Where the host starts its walk of a pool: Calico's host-seeded start, exactly (go-random.ts). */
export function startIndex(ctx: IpamContext, pool: PoolInfo, host: string): bigint {
  const n = poolBlockCount(pool);
  // Calico seeds with the clock for /32 and /128 blocks, so their order is random on purpose.
  if (pool.blockSize === bitsOf(pool.cidr.family)) return computeStartIndex(ctx.env.nowNanos(), n);
  return hostBlockStartIndex(host, n);
}

/**
 * Key prefixes that together hold every block key inside `range`: for IPv4 one per /8, /16 or
 * /24 text prefix under the range (at most 256); for IPv6, whose key text has no useful prefix,
 * the family's prefix (callers filter).
 */
function blockKeyPrefixes(range: Cidr): string[] {
  const base = blocksPrefix(range.family);
  if (range.family !== 4 || range.prefix < 8) return [base];
  const octets = range.prefix >= 24 ? 3 : range.prefix >= 16 ? 2 : 1;
  const count = 2 ** Math.max(0, octets * 8 - range.prefix);
  const prefixes: string[] = [];
  for (let i = 0; i < count; i++) {
    const v = Number(range.base >> BigInt(32 - octets * 8)) + i;
    const parts: number[] = [];
    for (let k = octets - 1; k >= 0; k--) parts.push((v >> (8 * k)) & 255);
    prefixes.push(`${base}${parts.join('.')}.`);
  }
  return prefixes;
}

/**
 * True when a stored block's JSON shows no free ordinal and nothing cooling down, so it has no
 * free address: such a block need not be decoded to be passed over. A value written in another
 * spelling (spaces) is simply decoded.
 */
const isPlainlyFull = (raw: string): boolean =>
  /"unallocated":(\[\]|null)/.test(raw) && !raw.includes('"releasedAt"');

/** The CIDR named by a block key, when it parses and lies inside `range`. */
function keyCidrIn(key: string, range: Cidr): Cidr | undefined {
  const text = blockCidrFromKey(key);
  const c = text === undefined ? undefined : tryParseCidr(text);
  return c && cidrContainsCidr(range, c) ? c : undefined;
}

/**
 * The stored blocks inside `range`, read by key range. With `withRoomOnly`, blocks with no free
 * address are skipped before decoding (reclaim and borrowing want only blocks with room). With
 * `allCidrs`, the CIDR of every block key inside the range (full ones too) is pushed onto it.
 */
export async function listBlocksInCidr(
  store: Datastore,
  range: Cidr,
  options: { readonly withRoomOnly?: boolean; readonly allCidrs?: Cidr[] } = {},
): Promise<Stored<Block>[]> {
  const out: Stored<Block>[] = [];
  for (const prefix of blockKeyPrefixes(range)) {
    for (const kv of await listAll(store, prefix, 500)) {
      if (options.allCidrs) {
        const c = keyCidrIn(kv.key, range);
        if (c) options.allCidrs.push(c);
      }
      if (options.withRoomOnly && isPlainlyFull(kv.value)) continue;
      const value = decodeBlock(kv.value, kv.key);
      let c: Cidr;
      try {
        c = blockCidr(value);
      } catch {
        continue;
      }
      if (cidrContainsCidr(range, c)) out.push({ key: kv.key, value, revision: kv.revision });
    }
  }
  return out;
}

/** The CIDRs of the blocks that exist inside `range`, from their keys alone (no decoding). */
export async function listBlockCidrsInCidr(store: Datastore, range: Cidr): Promise<Cidr[]> {
  const out: Cidr[] = [];
  for (const prefix of blockKeyPrefixes(range)) {
    for (const kv of await listAll(store, prefix, 500)) {
      const c = keyCidrIn(kv.key, range);
      if (c) out.push(c);
    }
  }
  return out;
}

/** Make sure the family's block index is built; concurrent callers of one engine share one check. */
async function ensureIndex(ctx: IpamContext, family: IpFamily, blockPrefix: number): Promise<void> {
  const id = `${family}/${blockPrefix}`;
  if (ctx.builtIndexes.has(id)) return;
  let pending = ctx.indexChecks.get(id);
  if (!pending) {
    pending = checkIndex(ctx, family, blockPrefix, id).finally(() => ctx.indexChecks.delete(id));
    ctx.indexChecks.set(id, pending);
  }
  await pending;
}

async function checkIndex(
  ctx: IpamContext,
  family: IpFamily,
  blockPrefix: number,
  id: string,
): Promise<void> {
  if (!(await isIndexBuilt(ctx.store, family, blockPrefix))) {
    // First use in this datastore: derive the index from every block of the family, once.
    const whole: Cidr = { family, base: 0n, prefix: 0 };
    const before = await loadIndexChunks(ctx.store, whole, blockPrefix);
    const blocks = await listBlockCidrsInCidr(ctx.store, whole);
    await rebuildIndexRange(ctx.store, whole, blockPrefix, blocks, before, true);
    ctx.log('info', 'built the block index', { family, blockPrefix, blocks: blocks.length });
  }
  ctx.builtIndexes.add(id);
}

/**
 * The next block CIDR to claim (Calico findUsableBlock): per pool in order, the first CIDR in
 * the host's search order that the index shows free. When the index shows every pool full, the
 * pools' ranges are re-derived from a listing of their blocks (the index may hold stale bits) if
 * that was last done over INDEX_RECHECK_MS ago; otherwise the blocks with room (room bitmap) are
 * read, and any of them found missing frees its CIDR. Then empty blocks claimed over a minute
 * ago are reclaimed from their owners. The blocks read are kept in `scanned` for borrowing.
 * Throws NoFreeBlocksError when nothing is found.
 */
export async function findUsableBlock(
  ctx: IpamContext,
  req: ClaimRequest,
  skip: ReadonlySet<string>,
  scanned: Map<string, PoolScan>,
): Promise<Cidr> {
  for (const pool of req.pools) {
    await ensureIndex(ctx, pool.cidr.family, pool.blockSize);
    const found = await searchPool(ctx, req, pool, skip);
    if (found) return found;
  }
  // Every pool looks full: check the index against the blocks (a listing, at most once per
  // INDEX_RECHECK_MS per pool; else the room bitmap's candidates) and search once more.
  const now = ctx.env.now();
  for (const pool of req.pools) {
    const checkedAt = await readPoolCheckedAt(ctx.store, pool.cidr, pool.blockSize);
    let changed: boolean;
    if (checkedAt === undefined || now - checkedAt >= INDEX_RECHECK_MS || now < checkedAt) {
      const before = await loadIndexChunks(ctx.store, pool.cidr, pool.blockSize);
      const cidrs: Cidr[] = [];
      await listPoolBlocks(ctx, pool, scanned, cidrs);
      await rebuildIndexRange(ctx.store, pool.cidr, pool.blockSize, cidrs, before);
      await recordPoolChecked(ctx.store, pool.cidr, pool.blockSize, now);
      changed = true;
    } else {
      const scan = await poolBlocks(ctx, req.host, pool, scanned);
      for (const gone of scan.missing) await markBit(ctx.store, gone, false);
      changed = scan.missing.length > 0;
    }
    const found = changed ? await searchPool(ctx, req, pool, skip) : undefined;
    if (found) return found;
  }
  // Reclaim empty blocks with an owner, in the order met.
  for (const pool of req.pools) {
    for (const stored of orderFromStart(
      ctx,
      pool,
      req.host,
      (await poolBlocks(ctx, req.host, pool, scanned)).blocks,
    )) {
      const b = garbageCollect(stored.value, req.cooldownSeconds, now);
      const owner = parseAffinity(b.affinity);
      if (!owner || !isEmpty(b) || freeCount(b, req.reservations) === 0) continue;
      const claimedAt = b.affinityClaimTime ? Date.parse(b.affinityClaimTime) : 0;
      if (Number.isFinite(claimedAt) && now - claimedAt < EMPTY_BLOCK_MIN_RECLAIM_AGE_MS) continue;
      try {
        await releaseBlockAffinity(ctx, owner.host, owner.type as AffinityType, blockCidr(b), {
          requireEmpty: true,
          requiredSequenceNumber: b.sequenceNumber,
        });
        scanned.clear();
        return blockCidr(b);
      } catch (err) {
        ctx.log('debug', 'could not reclaim empty block', { cidr: b.cidr, error: String(err) });
      }
    }
  }
  throw new NoFreeBlocksError();
}

async function searchPool(
  ctx: IpamContext,
  req: ClaimRequest,
  pool: PoolInfo,
  skip: ReadonlySet<string>,
) {
  const [first, last] = chunkRange(pool.cidr, pool.blockSize);
  const chunks = await loadChunks(ctx.store, pool.cidr.family, pool.blockSize, first, last);
  return findFreeBlock({
    pool: pool.cidr,
    blockPrefix: pool.blockSize,
    start: startIndex(ctx, pool, req.host),
    chunks,
    reservations: req.reservations,
    skip,
  });
}

/** A pool's blocks with room as read during one request (reclaim and borrowing share it). */
export interface PoolScan {
  /** The blocks that have room (a free or cooling-down ordinal), in no particular order. */
  readonly blocks: Stored<Block>[];
  /** True when read by a listing of the pool (the truth); false: the room bitmap's candidates. */
  readonly listed: boolean;
  /** Candidates of the room bitmap whose block does not exist (deleted behind the index). */
  readonly missing: Cidr[];
}

/** Blocks read at once while following the room bitmap (bounds the round trips on etcd). */
const READ_BATCH = 16;

/**
 * The candidates a pool's room bitmap may offer before one listing of the pool is the cheaper
 * read (a Get costs about two blocks of a listing on the embedded store).
 */
const maxRoomReads = (pool: PoolInfo): number => Math.max(64, Number(poolBlockCount(pool) / 4n));

/**
 * The stored blocks of a pool that have room (reclaim and borrowing look at nothing else), read
 * once per request (cached in `scanned`): the blocks the room bitmap names, in the host's search
 * order, a few reads at a time; a candidate found full or missing has its bit corrected. When
 * the bitmap names more blocks than maxRoomReads, the pool is listed instead.
 */
export async function poolBlocks(
  ctx: IpamContext,
  host: string,
  pool: PoolInfo,
  scanned: Map<string, PoolScan>,
): Promise<PoolScan> {
  const cached = scanned.get(pool.cidrText);
  if (cached) return cached;
  const chunks = await loadRoomChunks(ctx.store, pool.cidr, pool.blockSize);
  const candidates: Cidr[] = [];
  const cap = maxRoomReads(pool);
  for (const c of roomCandidates(pool.cidr, pool.blockSize, startIndex(ctx, pool, host), chunks)) {
    if (candidates.length >= cap) return listPoolBlocks(ctx, pool, scanned);
    candidates.push(c);
  }
  const blocks: Stored<Block>[] = [];
  const missing: Cidr[] = [];
  for (let i = 0; i < candidates.length; i += READ_BATCH) {
    const batch = candidates.slice(i, i + READ_BATCH);
    const read = await Promise.all(batch.map((c) => readBlock(ctx.store, c)));
    for (let k = 0; k < batch.length; k++) {
      const stored = read[k];
      if (stored && hasRoom(stored.value)) {
        blocks.push(stored);
        continue;
      }
      // The hint was stale (a writer that does not keep it): correct the bit, best effort.
      if (!stored) missing.push(batch[k]!);
      await syncRoomBit(ctx.store, batch[k]!, stored ?? null);
    }
  }
  const scan: PoolScan = { blocks, listed: false, missing };
  scanned.set(pool.cidrText, scan);
  return scan;
}

/**
 * One listing of the pool's blocks (the truth, whatever wrote them), cached in `scanned`; it
 * rewrites the pool's room bits, so blocks written behind the room bitmap are found from then
 * on. With `allCidrs`, every block CIDR of the pool is pushed onto it (to rebuild the index).
 */
export async function listPoolBlocks(
  ctx: IpamContext,
  pool: PoolInfo,
  scanned: Map<string, PoolScan>,
  allCidrs?: Cidr[],
): Promise<PoolScan> {
  // Read the chunks first: a block write after this read that moves a bit also moves its
  // chunk, so the rewrite below cannot overwrite a fresher bit with what the listing saw.
  const before = await loadRoomChunks(ctx.store, pool.cidr, pool.blockSize);
  const listed = await listBlocksInCidr(ctx.store, pool.cidr, { withRoomOnly: true, allCidrs });
  const blocks = listed.filter((s) => hasRoom(s.value));
  await rewriteRoomRange(
    ctx.store,
    pool.cidr,
    pool.blockSize,
    blocks.map((s) => blockCidr(s.value)),
    before,
  );
  const scan: PoolScan = { blocks, listed: true, missing: [] };
  scanned.set(pool.cidrText, scan);
  return scan;
}

/** Blocks in Calico's search order for the host: start, start+1, ..., wrapping. */
export function orderFromStart(
  ctx: IpamContext,
  pool: PoolInfo,
  host: string,
  blocks: readonly Stored<Block>[],
) {
  const n = poolBlockCount(pool);
  const start = startIndex(ctx, pool, host);
  const keyed = blocks.flatMap((s) => {
    try {
      const c = blockCidr(s.value);
      if (c.prefix !== pool.blockSize) return [];
      return [{ s, k: (blockIndexOf(pool.cidr, c) - start + n) % n }];
    } catch {
      return [];
    }
  });
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => x.s);
}

/**
 * Claim a block CIDR for the host in one transaction: create the block with our affinity and
 * claim time, write our affinity `confirmed`, set the index bit. This replaces Calico's
 * pending -> create -> confirmed sequence (§3.8) with an atomic step: no other writer can see a
 * pending affinity or a block without its confirmed affinity.
 * `known` is our affinity of the CIDR as already read (undefined inside: absent).
 * Returns the block (ours: newly created, or created by another process on this host) or
 * undefined when another owner holds it (the CIDR is then marked in the index).
 * Throws DS_CONFLICT when a concurrent writer changed the affinity or index (retry).
 */
export async function claimCidr(
  ctx: IpamContext,
  req: ClaimRequest,
  cidr: Cidr,
  known?: { readonly affinity: StoredAffinity | undefined },
): Promise<Stored<Block> | undefined> {
  const cidrText = formatCidr(cidr);
  const affinity = `${req.type}:${req.host}`;
  const aKey = affinityKey(req.host, cidr.family, cidrText, req.type);
  // Our affinity as the caller listed it saves a read; its revision (or absence) is a condition
  // of the claim, so a stale one only fails the transaction.
  const existingAff = known
    ? known.affinity
    : await readAffinity(ctx.store, req.host, cidr, req.type);
  const block = newBlock(cidr, {
    sequenceNumber: ctx.env.nowNanos(),
    affinity,
    claimTime: formatTime(ctx.env.now()),
    hostReserved: req.hostReserved,
  });
  try {
    // writeBlock sets the index bit in the claim's own transaction: a claim that succeeded
    // without it could leave the block looking free to this host's next search once it is full.
    const res = await writeBlock(ctx.store, {
      family: cidr.family,
      cidr: cidrText,
      change: { kind: 'create', block },
      conditions: [
        existingAff ? { key: aKey, revision: existingAff.revision } : { key: aKey, absent: true },
      ],
      operations: [{ op: 'put', key: aKey, value: encodeAffinity('confirmed') }],
    });
    return { key: blockKey(cidr.family, cidrText), value: block, revision: res.revision };
  } catch (err) {
    if (!isCidrpoolError(err, 'DS_CONFLICT')) throw err;
    const stored = await readBlock(ctx.store, cidr);
    if (!stored) throw err; // the affinity or the index changed: retry
    if (stored.value.affinity === affinity) {
      // Another process on this host claimed it (Calico: use the existing block). Make sure our
      // affinity is confirmed, in the same way.
      await confirmAffinity(ctx, req, cidr);
      await markExists(ctx.store, cidr);
      return readBlock(ctx.store, cidr);
    }
    // Another host won the race: drop a pending affinity of ours, if any, and look elsewhere.
    const mine = await readAffinity(ctx.store, req.host, cidr, req.type);
    if (mine && mine.value.state !== 'confirmed')
      await ctx.store.delete(mine.key, mine.revision).catch(() => undefined);
    await markExists(ctx.store, cidr);
    return undefined;
  }
}

/** Write our affinity `confirmed` (create or CAS update). Throws DS_CONFLICT on a race. */
export async function confirmAffinity(
  ctx: IpamContext,
  req: { host: string; type: AffinityType },
  cidr: Cidr,
) {
  const aff = await readAffinity(ctx.store, req.host, cidr, req.type);
  if (aff?.value.state === 'confirmed') return;
  const key = affinityKey(req.host, cidr.family, formatCidr(cidr), req.type);
  if (aff) await ctx.store.update(key, encodeAffinity('confirmed'), aff.revision);
  else await ctx.store.create(key, encodeAffinity('confirmed'));
}

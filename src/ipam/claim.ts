// Finding and claiming a free block (ipam-core.md §3.7, §3.8), plus the pool-scoped block
// listing that reclaim and borrowing use.
import { listAll, type Datastore, type TxnCondition } from '../datastore/api.js';
import {
  affinityKey,
  blockCidrFromKey,
  blockKey,
  blocksPrefix,
  type AffinityType,
} from '../datastore/keys.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
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
  chunkRange,
  chunkUpdate,
  findFreeBlock,
  isIndexBuilt,
  loadChunkOf,
  loadChunks,
  markExists,
  rebuildIndexRange,
} from './block-index.js';
import { readAffinity, readBlock, writeBlock, type Stored } from './block-store.js';
import { releaseBlockAffinity } from './affinity.js';
import type { IpamContext } from './context.js';
import { computeStartIndex, hostBlockStartIndex } from './go-random.js';
import { decodeBlock, encodeAffinity, type Block } from './model.js';
import type { PoolInfo } from './pools.js';
import type { Reservations } from './reservations.js';

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

/** Where the host starts its walk of a pool: Calico's host-seeded start, exactly (go-random.ts). */
export function startIndex(ctx: IpamContext, pool: PoolInfo, host: string): bigint {
  const n = 1n << BigInt(pool.blockSize - pool.cidr.prefix);
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

/**
 * The stored blocks inside `range`, read by key range. With `withRoomOnly`, blocks with no free
 * address are skipped before decoding (reclaim and borrowing want only blocks with room).
 */
export async function listBlocksInCidr(
  store: Datastore,
  range: Cidr,
  options: { readonly withRoomOnly?: boolean } = {},
): Promise<Stored<Block>[]> {
  const out: Stored<Block>[] = [];
  for (const prefix of blockKeyPrefixes(range)) {
    for (const kv of await listAll(store, prefix, 500)) {
      if (options.withRoomOnly && isPlainlyFull(kv.value)) continue;
      const value = decodeBlock(kv.value, kv.key);
      let c: Cidr;
      try {
        c = blockCidr(value);
      } catch {
        continue;
      }
      if (c.family === range.family && cidrContainsCidr(range, c))
        out.push({ key: kv.key, value, revision: kv.revision });
    }
  }
  return out;
}

/** The CIDRs of the blocks that exist inside `range`, from their keys alone (no decoding). */
export async function listBlockCidrsInCidr(store: Datastore, range: Cidr): Promise<Cidr[]> {
  const out: Cidr[] = [];
  for (const prefix of blockKeyPrefixes(range)) {
    for (const kv of await listAll(store, prefix, 500)) {
      const text = blockCidrFromKey(kv.key);
      const c = text === undefined ? undefined : tryParseCidr(text);
      if (c && c.family === range.family && cidrContainsCidr(range, c)) out.push(c);
    }
  }
  return out;
}

async function ensureIndex(ctx: IpamContext, family: IpFamily, blockPrefix: number): Promise<void> {
  const id = `${family}/${blockPrefix}`;
  if (ctx.builtIndexes.has(id)) return;
  if (!(await isIndexBuilt(ctx.store, family, blockPrefix))) {
    // First use in this datastore: derive the index from every block of the family, once.
    const whole: Cidr = { family, base: 0n, prefix: 0 };
    const blocks = await listBlockCidrsInCidr(ctx.store, whole);
    await rebuildIndexRange(ctx.store, whole, blockPrefix, blocks, true);
    ctx.log('info', 'built the block index', { family, blockPrefix, blocks: blocks.length });
  }
  ctx.builtIndexes.add(id);
}

/**
 * The next block CIDR to claim (Calico findUsableBlock): per pool in order, the first CIDR in
 * the host's search order that the index shows free. When the index shows every pool full, the
 * pools' ranges are re-derived from the blocks (the index may hold stale bits), then empty
 * blocks claimed over a minute ago are reclaimed from their owners.
 * Throws NoFreeBlocksError when nothing is found.
 */
export async function findUsableBlock(
  ctx: IpamContext,
  req: ClaimRequest,
  skip: ReadonlySet<string>,
  scanned: Map<string, Stored<Block>[]>,
): Promise<Cidr> {
  for (const pool of req.pools) {
    await ensureIndex(ctx, pool.cidr.family, pool.blockSize);
    const found = await searchPool(ctx, req, pool, skip);
    if (found) return found;
  }
  // Every pool looks full: rebuild their ranges from the blocks and search once more.
  for (const pool of req.pools) {
    const blocks = await listBlockCidrsInCidr(ctx.store, pool.cidr);
    await rebuildIndexRange(ctx.store, pool.cidr, pool.blockSize, blocks);
    const found = await searchPool(ctx, req, pool, skip);
    if (found) return found;
  }
  // Reclaim empty blocks with an owner, in the order met.
  const now = ctx.env.now();
  for (const pool of req.pools) {
    for (const stored of orderFromStart(
      ctx,
      pool,
      req.host,
      await poolBlocks(ctx, pool, scanned, false),
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

/**
 * The stored blocks of a pool that have room (reclaim and borrowing look at nothing else), read
 * once per request (cached in `scanned`).
 */
export async function poolBlocks(
  ctx: IpamContext,
  pool: PoolInfo,
  scanned: Map<string, Stored<Block>[]>,
  fresh: boolean,
): Promise<Stored<Block>[]> {
  const id = pool.cidrText;
  let blocks = fresh ? undefined : scanned.get(id);
  if (!blocks) {
    blocks = await listBlocksInCidr(ctx.store, pool.cidr, { withRoomOnly: true });
    scanned.set(id, blocks);
  }
  return blocks;
}

/** Blocks in Calico's search order for the host: start, start+1, ..., wrapping. */
export function orderFromStart(
  ctx: IpamContext,
  pool: PoolInfo,
  host: string,
  blocks: readonly Stored<Block>[],
) {
  const n = 1n << BigInt(pool.blockSize - pool.cidr.prefix);
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
 * Returns the block (ours: newly created, or created by another process on this host) or
 * undefined when another owner holds it (the CIDR is then marked in the index).
 * Throws DS_CONFLICT when a concurrent writer changed the affinity or index (retry).
 */
export async function claimCidr(
  ctx: IpamContext,
  req: ClaimRequest,
  cidr: Cidr,
): Promise<Stored<Block> | undefined> {
  const cidrText = formatCidr(cidr);
  const affinity = `${req.type}:${req.host}`;
  const aKey = affinityKey(req.host, cidr.family, cidrText, req.type);
  const [existingAff, chunk] = await Promise.all([
    readAffinity(ctx.store, req.host, cidr, req.type),
    loadChunkOf(ctx.store, cidr),
  ]);
  const u = chunkUpdate(chunk, cidr, true);
  const block = newBlock(cidr, {
    sequenceNumber: ctx.env.nowNanos(),
    affinity,
    claimTime: formatTime(ctx.env.now()),
    hostReserved: req.hostReserved,
  });
  const affinityCondition: TxnCondition = existingAff
    ? { key: aKey, revision: existingAff.revision }
    : { key: aKey, absent: true };
  const claim = (withIndex: boolean) =>
    writeBlock(ctx.store, {
      family: cidr.family,
      cidr: cidrText,
      change: { kind: 'create', block },
      conditions: withIndex ? [affinityCondition, u.condition] : [affinityCondition],
      operations: [
        { op: 'put', key: aKey, value: encodeAffinity('confirmed') },
        ...(withIndex ? [u.operation] : []),
      ],
    });
  try {
    let res: { revision: string };
    try {
      res = await claim(true);
    } catch (err) {
      // Claims of neighbouring blocks share an index chunk. When only the chunk moved, the claim
      // still stands: make it without the chunk and set the bit on its own, instead of losing
      // the block and searching again (many hosts claiming at once would otherwise spin).
      if (!isCidrpoolError(err, 'DS_CONFLICT') || err.details.key !== u.condition.key) throw err;
      res = await claim(false);
      await markExists(ctx.store, cidr);
    }
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

/** "Block 'X' has N free ips which is less than M ips required." */
export const tooFewFree = (cidr: string, free: number, min: number): CidrpoolError =>
  new CidrpoolError(
    'IPAM_CONTENTION',
    `Block '${cidr}' has ${free} free ips which is less than ${min} ips required.`,
  );

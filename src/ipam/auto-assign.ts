// AutoAssign (ipam-core.md §3): affine blocks first, then a new claim, then borrowing.
import { readAll, type KeyValue } from '../datastore/api.js';
import {
  affinityKey,
  blockKey,
  handleKey,
  hostAffinityPrefix,
  IPAM_CONFIG_KEY,
  resourceKey,
  resourcePrefix,
  type AffinityType,
} from '../datastore/keys.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import type { Cidr, IpFamily } from '../net/index.js';
import { bitsOf, formatCidr, parseCidr } from '../net/index.js';
import { releaseBlockAffinity } from './affinity.js';
import {
  assignFromBlock,
  blockCidr,
  freeCount,
  garbageCollect,
  ipWithMask,
  type HostReservedAttr,
} from './block.js';
import {
  affinitiesOf,
  blockOf,
  configOf,
  handleOf,
  readAffinity,
  readBlock,
  writeBlock,
  type Stored,
  type StoredAffinity,
} from './block-store.js';
import {
  claimCidr,
  findUsableBlock,
  listPoolBlocks,
  NoFreeBlocksError,
  orderFromStart,
  poolBlocks,
  type ClaimRequest,
  type PoolScan,
} from './claim.js';
import {
  contentionError,
  nodeLabelsOf,
  pause,
  reservationsOf,
  type IpamContext,
} from './context.js';
import { encodeAffinity, type Block, type HandleValue } from './model.js';
import { withSkippedAddresses } from './reservations.js';
import {
  determinePools,
  findPoolOfBlock,
  poolSelectsNode,
  poolsOf,
  type PoolInfo,
} from './pools.js';
import { heldAssignment } from './held-addresses.js';
import type {
  AutoAssignRequest,
  AutoAssignResult,
  FamilyAssignment,
  IntendedUse,
  IpamConfig,
} from './types.js';

/** Calico's fallback block limit when neither the request nor the config sets one (§3.5). */
export const DEFAULT_MAX_BLOCKS_PER_HOST = 20;

interface FamilyState extends ClaimRequest {
  readonly affinity: string;
  readonly config: IpamConfig;
  readonly handleId?: string;
  readonly attrs?: Readonly<Record<string, string>>;
  /** The pools' blocks with room read during this request (reclaim and borrowing share them). */
  readonly scanned: Map<string, PoolScan>;
  /** The handle as read at the start; used by the first block write only, then dropped. */
  knownHandles?: Map<string, Stored<HandleValue> | undefined>;
  /** The per-host block limit in force (§3.5). */
  readonly limit: number;
  /** Block keys read with the first batch (undefined: absent); each used once, then dropped. */
  readonly prefetched: Map<string, KeyValue | undefined>;
  /** Keys of the affine blocks looked at, in order, and of the blocks claimed: the next hint. */
  readonly visited: string[];
  /** The host's affinities of this family and type as listed at the start (every pool). */
  readonly listed: readonly StoredAffinity[];
  /** Affinity keys whose listed value a claim has used: a retry reads its own. */
  readonly listedSpent: Set<string>;
}

const emptyAssignment = (
  family: IpFamily,
  num: number,
  hostReserved?: HostReservedAttr,
): FamilyAssignment => ({
  family,
  ips: [],
  numRequested: num,
  messages: [],
  ...(hostReserved ? { hostReservedHandle: hostReserved.handle } : {}),
});

/** The effective per-host block limit (§3.5): the smaller positive of request and config, else 20. */
export function blockLimit(requested: number | undefined, configured: number): number {
  const r = requested && requested > 0 ? requested : 0;
  const c = configured > 0 ? configured : 0;
  const limit = r > 0 && c > 0 ? Math.min(r, c) : r || c;
  return limit > 0 ? limit : DEFAULT_MAX_BLOCKS_PER_HOST;
}

/**
 * AutoAssign for one family. A shortfall is reported in the assignment's messages, not thrown.
 * Every address is pushed to `taken` as soon as it is written, so that a caller can release
 * what a failed request took whatever the error (see assign-request.ts). With
 * `request.reuseHeld`, returns `{ held }` instead when the handle already holds what the whole
 * request asks for (held-addresses.ts).
 * Throws IPAM_USE_REQUIRED, IPAM_NODE_NOT_FOUND, IPAM_NO_QUALIFIED_POOL, IPAM_NO_POOLS_FOR_NODE,
 * IPAM_POOL_NOT_FOUND, IPAM_NO_AUTO_ALLOCATE, IPAM_BLOCK_LIMIT, IPAM_CONTENTION, SEL_*, DS_*.
 */
export async function autoAssignFamily(
  ctx: IpamContext,
  request: AutoAssignRequest,
  family: IpFamily,
  num: number,
  hostReserved: HostReservedAttr | undefined,
  taken: string[],
): Promise<FamilyAssignment | { readonly held: AutoAssignResult }> {
  const result = emptyAssignment(family, num, hostReserved);
  if (num <= 0) return result;
  const use: IntendedUse | undefined = request.intendedUse;
  if (!use)
    throw new CidrpoolError(
      'IPAM_USE_REQUIRED',
      'must specify the intended use when assigning an IP',
    );
  const host = request.hostname;
  if (!host) throw new CidrpoolError('IPAM_INVALID_ARGUMENT', 'a host name is required');
  const type: AffinityType = use === 'LoadBalancer' ? 'virtual' : 'host';
  // These reads are independent: one batch, one round trip at one revision (Calico does them
  // one after another). The batch also reads the handle (for the first block write) and the
  // affine blocks this host used last time (hintKey), so the common allocation needs no other
  // read before its write; every value is read fresh, the hint only says which keys.
  const hintKey = `${type}:${host}:${family}`;
  const hinted = ctx.affineHints.get(hintKey) ?? [];
  // LoadBalancer addresses use a synthetic node without labels (§3.2 step 4.1).
  const nodeKey = use === 'LoadBalancer' ? undefined : resourceKey('Node', host);
  const ownHandleKey = request.handleId !== undefined ? handleKey(request.handleId) : undefined;
  const maybe = (key: string | undefined) => (key === undefined ? [] : [{ get: key }]);
  const [configKv, reservationItems, poolItems, affinityItems, ...rest] = await readAll(ctx.store, [
    { get: IPAM_CONFIG_KEY },
    { list: resourcePrefix('IPReservation') },
    { list: resourcePrefix('IPPool') },
    { list: hostAffinityPrefix(host, family, type) },
    ...maybe(nodeKey),
    ...maybe(ownHandleKey),
    ...hinted.map((key) => ({ get: key })),
  ]);
  const config = configOf(configKv![0]);
  const reservations = reservationsOf(reservationItems!);
  const nodeLabels = nodeKey === undefined ? {} : nodeLabelsOf(rest.shift()![0], host);
  const allPools = poolsOf(poolItems!);
  const listedAffinities = affinitiesOf(affinityItems!);
  const handle = ownHandleKey === undefined ? undefined : handleOf(rest.shift()![0]);
  if (request.reuseHeld && handle && taken.length === 0) {
    const held = await heldAssignment(
      ctx,
      request,
      request.handleId!,
      handle,
      config.ipCooldownSeconds,
    );
    if (held) return { held };
  }
  const prefetched = new Map(hinted.map((key, i) => [key, rest[i]![0]]));
  let maxPrefixLen = bitsOf(family);
  if (hostReserved) {
    maxPrefixLen =
      bitsOf(family) - (hostReserved.startOfBlock + hostReserved.endOfBlock).toString(2).length;
    if (maxPrefixLen <= 0)
      throw new CidrpoolError('IPAM_INVALID_ARGUMENT', 'host reserved attribute too large');
  }
  const requested = family === 4 ? request.ipv4Pools : request.ipv6Pools;
  const eligible = determinePools(
    allPools,
    family,
    requested,
    nodeLabels,
    request.namespace?.labels ?? {},
    maxPrefixLen,
  );
  if (eligible.length === 0)
    throw new CidrpoolError(
      'IPAM_NO_POOLS_FOR_NODE',
      `no configured Calico pools for node ${host}`,
    );
  const pools = eligible.filter((p) => p.allowedUses.includes(use));
  if (pools.length === 0)
    throw new CidrpoolError(
      'IPAM_NO_QUALIFIED_POOL',
      `cannot find a qualified ippool, no pools match the required use (${use})`,
    );

  const skip = family === 4 ? request.skipIPv4 : request.skipIPv6;
  const st: FamilyState = {
    family,
    host,
    type,
    pools,
    reservations: skip ? withSkippedAddresses(reservations, pools, skip) : reservations,
    cooldownSeconds: config.ipCooldownSeconds,
    hostReserved,
    affinity: `${type}:${host}`,
    config,
    handleId: request.handleId,
    attrs: request.attrs,
    scanned: new Map(),
    knownHandles:
      request.handleId !== undefined ? new Map([[request.handleId, handle]]) : undefined,
    limit: blockLimit(request.maxBlocksPerHost, config.maxBlocksPerHost),
    prefetched,
    visited: [],
    listed: listedAffinities,
    listedSpent: new Set(),
  };
  const affine = await prepareAffineBlocks(
    ctx,
    st,
    listedAffinities,
    allPools,
    eligible,
    nodeLabels,
  );
  let owned = affine.length;
  const limit = st.limit;
  const messages = new Set<string>();
  const ips = taken;
  let borrow = false;
  const passedOver = new Set<string>();

  // Each round assigns, uses up an affine block or claims one (bounded by the limit); the
  // bound only guards against a livelock that would otherwise never end.
  const maxRounds = num + affine.length + limit + ctx.retries;
  for (let round = 0; ips.length < num; round++) {
    if (round >= maxRounds) throw contentionError('auto-assign');
    const allowNewClaim = owned < limit;
    let found: { block: Stored<Block>; newlyClaimed: boolean };
    try {
      found = await findOrClaimBlock(ctx, st, affine, allowNewClaim, passedOver);
    } catch (err) {
      if (err instanceof NoFreeBlocksError) {
        if (config.strictAffinity)
          messages.add('No more free affine blocks and strict affinity enabled');
        borrow = !config.strictAffinity;
        break;
      }
      throw err;
    }
    if (found.newlyClaimed) owned++;
    try {
      const got = await assignFromExistingBlock(
        ctx,
        st,
        found.block,
        num - ips.length,
        config.strictAffinity,
      );
      ips.push(...got);
    } catch (err) {
      if (isCidrpoolError(err, 'IPAM_CONTENTION', 'IPAM_AFFINITY_MISMATCH')) {
        messages.add('Failed to assign IPs in newly allocated block');
        passedOver.add(found.block.value.cidr);
        continue;
      }
      throw err;
    }
  }
  rememberAffineBlocks(ctx, hintKey, st.visited);
  if (borrow && ips.length < num) {
    const exhausted = await borrowAddresses(ctx, st, num, ips);
    if (ips.length < num && exhausted.length > 0)
      messages.add(`No IPs available in pools: [${exhausted.join(' ')}]`);
  }
  return { ...result, ips: [...ips], messages: [...messages] };
}

/** Most block keys a hint names (one read batch stays well under etcd's 128 operations). */
export const MAX_HINTED_BLOCKS = 32;
/** Hosts remembered per engine; past this the hints start again (they are only hints). */
const MAX_HINTED_HOSTS = 10_000;

/**
 * Remember which blocks this host's allocation looked at, so that its next allocation reads
 * them in its first batch. Only the keys are kept, never values: a hint that went stale costs
 * at most a read of a key that is no longer needed.
 */
function rememberAffineBlocks(ctx: IpamContext, hintKey: string, visited: readonly string[]) {
  const keys = [...new Set(visited)].slice(0, MAX_HINTED_BLOCKS);
  if (keys.length === 0) {
    ctx.affineHints.delete(hintKey);
    return;
  }
  if (!ctx.affineHints.has(hintKey) && ctx.affineHints.size >= MAX_HINTED_HOSTS)
    ctx.affineHints.clear();
  ctx.affineHints.set(hintKey, keys);
}

/**
 * The host's affine blocks in the usable pools, in key order (§3.2 step 4.6). Affine blocks of
 * enabled pools that no longer select the node are released lazily when empty.
 */
async function prepareAffineBlocks(
  ctx: IpamContext,
  st: FamilyState,
  listed: readonly StoredAffinity[],
  allPools: readonly PoolInfo[],
  eligible: readonly PoolInfo[],
  nodeLabels: Readonly<Record<string, string>>,
): Promise<StoredAffinity[]> {
  const inPools = (pools: readonly PoolInfo[], c: Cidr) => findPoolOfBlock(pools, c) !== undefined;
  const used: StoredAffinity[] = [];
  for (const aff of listed) {
    const c = parseCidr(aff.cidr);
    if (inPools(st.pools, c)) {
      used.push(aff);
      continue;
    }
    if (inPools(eligible, c)) continue; // selects the node, but not for this use: keep
    const pool = findPoolOfBlock(
      allPools.filter((p) => p.enabled),
      c,
    );
    if (!pool || poolSelectsNode(pool, nodeLabels)) continue;
    try {
      await releaseBlockAffinity(ctx, st.host, st.type, c, { requireEmpty: true });
    } catch (err) {
      ctx.log('debug', 'lazy affinity release skipped', { cidr: aff.cidr, error: String(err) });
    }
  }
  return used;
}

/**
 * Calico findOrClaimBlock(minFree = 1): the next affine block with room, else a new claim.
 * Throws NoFreeBlocksError, IPAM_BLOCK_LIMIT, IPAM_NO_AUTO_ALLOCATE, IPAM_CONTENTION.
 */
async function findOrClaimBlock(
  ctx: IpamContext,
  st: FamilyState,
  affine: StoredAffinity[],
  allowNewClaim: boolean,
  skip: Set<string>,
): Promise<{ block: Stored<Block>; newlyClaimed: boolean }> {
  while (affine.length > 0) {
    const aff = affine.shift()!;
    const cidr = parseCidr(aff.cidr);
    if (!st.reservations.none && st.reservations.coversWhole(cidr)) continue;
    const block = await useAffineBlock(ctx, st, aff, cidr);
    if (block && freeCount(block.value, st.reservations) >= 1)
      return { block, newlyClaimed: false };
  }
  if (!allowNewClaim) {
    throw new CidrpoolError(
      'IPAM_BLOCK_LIMIT',
      `Need to allocate an IPAM block but could not - limit of ${st.limit} blocks reached for this node`,
    );
  }
  if (!st.config.autoAllocateBlocks)
    throw new CidrpoolError('IPAM_NO_AUTO_ALLOCATE', 'failed to find or claim a block');
  for (let i = 0; i < ctx.retries; i++) {
    const cidr = await findUsableBlock(ctx, st, skip, st.scanned);
    let claimed: Stored<Block> | undefined;
    try {
      claimed = await claimCidr(ctx, st, cidr, listedAffinity(st, cidr));
    } catch (err) {
      if (!isCidrpoolError(err, 'DS_CONFLICT')) throw err;
      await pause(ctx, i);
      continue;
    }
    if (!claimed) {
      skip.add(formatCidr(cidr));
      continue;
    }
    const block = {
      ...claimed,
      value: garbageCollect(claimed.value, st.cooldownSeconds, ctx.env.now()),
    };
    st.visited.push(claimed.key);
    if (freeCount(block.value, st.reservations) >= 1) return { block, newlyClaimed: true };
    // The CIDR looked free but is one of our own blocks, already full (a stale index bit).
    // Calico fails the request here ("Block 'X' has 0 free ips ..."); passing it over is safe.
    skip.add(formatCidr(cidr));
  }
  throw contentionError('claim block');
}

/** Decoded blocks remembered per engine; past this the memory starts again. */
const MAX_DECODED_BLOCKS = 1024;

/**
 * A read block, decoded, or the same block decoded earlier at the same revision (a key's mod
 * revision names one value, so this is exact): a host's full affine blocks, read by every
 * allocation in key order before its current block, are decoded once, not every time.
 */
function decodeOnce(ctx: IpamContext, kv: KeyValue | undefined): Stored<Block> | undefined {
  if (!kv) return undefined;
  const known = ctx.decodedBlocks.get(kv.key);
  if (known?.revision === kv.revision) return known;
  const stored = blockOf(kv)!;
  if (!known && ctx.decodedBlocks.size >= MAX_DECODED_BLOCKS) ctx.decodedBlocks.clear();
  ctx.decodedBlocks.set(kv.key, stored);
  return stored;
}

/**
 * Our affinity of a CIDR as listed at the start of the request, once per CIDR (a claim that
 * fails on it reads it again); undefined when that listing cannot tell.
 */
function listedAffinity(
  st: FamilyState,
  cidr: Cidr,
): { affinity: StoredAffinity | undefined } | undefined {
  const key = affinityKey(st.host, cidr.family, formatCidr(cidr), st.type);
  if (st.listedSpent.has(key)) return undefined;
  st.listedSpent.add(key);
  return { affinity: st.listed.find((a) => a.key === key) };
}

/**
 * One affine block, checked as Calico's getBlockFromAffinity: a missing block is claimed again
 * (repairing a crash mid-claim), a block owned by someone else drops our stale affinity, and a
 * pending/pendingDeletion affinity is confirmed with a block rewrite in one transaction.
 * Returns undefined when the block cannot be used.
 */
async function useAffineBlock(
  ctx: IpamContext,
  st: FamilyState,
  listed: StoredAffinity,
  cidr: Cidr,
): Promise<Stored<Block> | undefined> {
  let aff: StoredAffinity | undefined = listed;
  for (let i = 0; i < ctx.retries; i++) {
    if (i > 0) aff = await readAffinity(ctx.store, st.host, cidr, st.type);
    if (!aff) return undefined;
    const key = blockKey(cidr.family, formatCidr(cidr));
    if (i === 0) st.visited.push(key);
    // The first batch read this block at the revision of the affinity listing: use it once.
    const stored =
      i === 0 && st.prefetched.has(key)
        ? decodeOnce(ctx, st.prefetched.get(key))
        : await readBlock(ctx.store, cidr);
    st.prefetched.delete(key);
    try {
      if (!stored) {
        const claimed = await claimCidr(ctx, st, cidr);
        if (!claimed) return undefined;
        continue;
      }
      if (stored.value.affinity !== st.affinity) {
        await ctx.store.delete(aff.key, aff.revision).catch(() => undefined);
        return undefined;
      }
      if (aff.value.state !== 'confirmed' && aff.value.state !== '') {
        // Rewrite the block (bumping its sequence number, invalidating concurrent users) and
        // confirm the affinity, atomically.
        await writeBlock(ctx.store, {
          family: st.family,
          cidr: formatCidr(cidr),
          change: {
            kind: 'update',
            block: stored.value,
            revision: stored.revision,
            previous: stored.value,
          },
          conditions: [{ key: aff.key, revision: aff.revision }],
          operations: [{ op: 'put', key: aff.key, value: encodeAffinity('confirmed') }],
        });
        continue;
      }
      return { ...stored, value: garbageCollect(stored.value, st.cooldownSeconds, ctx.env.now()) };
    } catch (err) {
      if (!isCidrpoolError(err, 'DS_CONFLICT')) {
        ctx.log('debug', 'affine block unusable', { cidr: formatCidr(cidr), error: String(err) });
        return undefined;
      }
      await pause(ctx, i);
    }
  }
  return undefined;
}

/**
 * Assign up to `num` addresses in one block and record them under the handle in the same
 * transaction (§3.9). On a conflict the block is re-read and the assignment redone.
 * Returns the addresses with the block's mask (none when the block is full).
 * Throws IPAM_AFFINITY_MISMATCH (affinityCheck), IPAM_CONTENTION.
 */
async function assignFromExistingBlock(
  ctx: IpamContext,
  st: FamilyState,
  first: Stored<Block>,
  num: number,
  affinityCheck: boolean,
): Promise<string[]> {
  let stored: Stored<Block> | undefined = first;
  for (let i = 0; i < ctx.retries; i++) {
    if (i > 0) {
      stored = await readBlock(ctx.store, blockCidr(first.value));
      if (!stored) return [];
      stored = {
        ...stored,
        value: garbageCollect(stored.value, st.cooldownSeconds, ctx.env.now()),
      };
    }
    const { block, ordinals } = assignFromBlock(stored.value, {
      num,
      handleId: st.handleId,
      attrs: st.attrs,
      affinity: st.affinity,
      affinityCheck,
      reservations: st.reservations,
    });
    if (ordinals.length === 0) return [];
    try {
      await writeBlock(ctx.store, {
        family: st.family,
        cidr: stored.value.cidr,
        change: { kind: 'update', block, revision: stored.revision, previous: stored.value },
        handles: st.handleId !== undefined ? [st.handleId] : [],
        knownHandles: st.knownHandles,
      });
      return ordinals.map((o) => ipWithMask(block, o));
    } catch (err) {
      if (!isCidrpoolError(err, 'DS_CONFLICT')) throw err;
      await pause(ctx, i);
    } finally {
      // Written or refused, the handle read at the start is spent: later writes read their own.
      st.knownHandles = undefined;
    }
  }
  throw contentionError('assign from block');
}

/**
 * Borrow from blocks this host does not own (§3.10), in the host's search order of each pool.
 * The candidates are the blocks the room bitmap names (read once per request, shared with the
 * reclaim step), so a pool where few blocks have room costs a few reads, never a read per
 * possible block. Only when they give too little is the pool listed (once), which also repairs
 * the pool's room bits, so blocks written behind the bitmap are not missed.
 * Returns the CIDRs of the pools that ran dry.
 */
async function borrowAddresses(
  ctx: IpamContext,
  st: FamilyState,
  target: number,
  ips: string[],
): Promise<string[]> {
  const exhausted: string[] = [];
  for (const pool of st.pools) {
    let scan = await poolBlocks(ctx, st.host, pool, st.scanned);
    await borrowFromBlocks(ctx, st, orderFromStart(ctx, pool, st.host, scan.blocks), target, ips);
    if (ips.length < target && !scan.listed) {
      scan = await listPoolBlocks(ctx, pool, st.scanned);
      await borrowFromBlocks(ctx, st, orderFromStart(ctx, pool, st.host, scan.blocks), target, ips);
    }
    if (ips.length >= target) return exhausted;
    exhausted.push(pool.cidrText);
  }
  return exhausted;
}

/** Assign from the blocks in order until `target` addresses are held. Reservations are honoured. */
async function borrowFromBlocks(
  ctx: IpamContext,
  st: FamilyState,
  blocks: readonly Stored<Block>[],
  target: number,
  ips: string[],
): Promise<void> {
  for (const stored of blocks) {
    if (ips.length >= target) return;
    const c = blockCidr(stored.value);
    if (!st.reservations.none && st.reservations.coversWhole(c)) continue;
    const b = {
      ...stored,
      value: garbageCollect(stored.value, st.cooldownSeconds, ctx.env.now()),
    };
    if (freeCount(b.value, st.reservations) === 0) continue;
    const got = await assignFromExistingBlock(ctx, st, b, target - ips.length, false);
    ips.push(...got);
  }
}

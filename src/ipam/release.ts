// ReleaseIPs, ReleaseByHandle, IPsByHandle, GetAssignmentAttributes (ipam-core.md §4.2-4.4).
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import type { Cidr, IpAddress } from '../net/index.js';
import {
  cidrContainsIp,
  formatCidr,
  formatIp,
  networkOf,
  parseCidr,
  tryParseIp,
} from '../net/index.js';
import { ensureConsistentAffinity } from './affinity.js';
import {
  blockCidr,
  cleanHandle,
  garbageCollect,
  ipToOrdinal,
  isEmpty,
  ordinalToIp,
  ordinalsOfHandle,
  releaseFromBlock,
  releaseHandleFromBlock,
} from './block.js';
import {
  listBlocks,
  readBlock,
  readConfig,
  readHandle,
  writeBlock,
  type Stored,
} from './block-store.js';
import { retryOnConflict, type IpamContext } from './context.js';
import { encodeHandle, type Block, type HandleValue } from './model.js';
import { findPoolOfIp, loadPools } from './pools.js';
import type { AllocationInfo, ReleaseOptions, ReleaseResult } from './types.js';

/**
 * The block CIDR that holds an address: the IP masked to the block size of the first pool (any
 * pool, disabled too) that contains it; else the stored block that contains it; else undefined.
 */
async function blockOfIp(
  ctx: IpamContext,
  ip: IpAddress,
  pools: Awaited<ReturnType<typeof loadPools>>,
  cache: Map<number, Stored<Block>[]>,
): Promise<Cidr | undefined> {
  const pool = findPoolOfIp(pools, ip);
  if (pool) return networkOf(ip, pool.blockSize);
  let blocks = cache.get(ip.family);
  if (!blocks) cache.set(ip.family, (blocks = await listBlocks(ctx.store, ip.family)));
  const hit = blocks.find((b) => cidrContainsIp(blockCidr(b.value), ip));
  return hit ? blockCidr(hit.value) : undefined;
}

/**
 * Write a block after a release: an empty block without affinity is deleted (writeBlock clears
 * its index bit), any other is updated; the handles' counts change in the same transaction.
 */
async function writeReleased(
  ctx: IpamContext,
  stored: Stored<Block>,
  block: Block,
  handles: readonly string[],
  knownHandles?: ReadonlyMap<string, Stored<HandleValue> | undefined>,
) {
  const { revision, value: previous } = stored;
  await writeBlock(ctx.store, {
    family: blockCidr(block).family,
    cidr: previous.cidr,
    change:
      isEmpty(block) && block.affinity === null
        ? { kind: 'delete', revision, previous }
        : { kind: 'update', block, revision, previous },
    handles,
    knownHandles,
  });
}

/**
 * Release addresses, grouped by block; each block's batch is one transaction with its handles.
 * Partial success: `released` and `unallocated` list what happened, `failures` the blocks whose
 * batch was refused (IPAM_BAD_SEQUENCE_NUMBER, IPAM_BAD_HANDLE, IPAM_CONTENTION, DS_*).
 * Throws IPAM_INVALID_ARGUMENT for an empty or malformed address (before anything is written).
 */
export async function releaseIps(
  ctx: IpamContext,
  options: readonly ReleaseOptions[],
): Promise<ReleaseResult> {
  const parsed: { ip: IpAddress; opt: ReleaseOptions }[] = [];
  for (const opt of options) {
    if (!opt.address)
      throw new CidrpoolError('IPAM_INVALID_ARGUMENT', 'No IP address specified in options');
    const ip = tryParseIp(opt.address);
    if (!ip)
      throw new CidrpoolError(
        'IPAM_INVALID_ARGUMENT',
        `invalid IP address specified: ${opt.address}`,
      );
    parsed.push({ ip, opt });
  }
  const pools = await loadPools(ctx.store);
  const cache = new Map<number, Stored<Block>[]>();
  const groups = new Map<string, { cidr: Cidr; items: { ip: IpAddress; opt: ReleaseOptions }[] }>();
  const released: string[] = [];
  const unallocated: string[] = [];
  const failures: { blockCidr: string; error: Error }[] = [];
  for (const p of parsed) {
    const cidr = await blockOfIp(ctx, p.ip, pools, cache);
    if (!cidr) {
      unallocated.push(formatIp(p.ip));
      continue;
    }
    const id = formatCidr(cidr);
    const g = groups.get(id) ?? { cidr, items: [] };
    g.items.push(p);
    groups.set(id, g);
  }
  const config = await readConfig(ctx.store);
  // Blocks are independent: release them concurrently, a few at a time (Calico: GOMAXPROCS).
  const queue = [...groups.values()];
  const worker = async () => {
    for (let g = queue.shift(); g; g = queue.shift()) {
      const group = g;
      try {
        const outcome = await retryOnConflict(ctx, 'release IPs', async () => {
          const stored = await readBlock(ctx.store, group.cidr);
          if (!stored)
            return {
              released: [] as string[],
              unallocated: group.items.map((i) => formatIp(i.ip)),
              block: undefined,
            };
          const block = garbageCollect(stored.value, config.ipCooldownSeconds, ctx.env.now());
          const res = releaseFromBlock(
            block,
            group.items.map((i) => ({
              ordinal: ipToOrdinal(block, i.ip)!,
              handleId: i.opt.handleId,
              sequenceNumber: i.opt.sequenceNumber,
            })),
            ctx.env.now(),
            config.ipCooldownSeconds,
          );
          if (res.released.length > 0)
            await writeReleased(ctx, stored, res.block, [...res.countByHandle.keys()]);
          return {
            released: res.released.map((o) => formatIp(ordinalToIp(block, o))),
            unallocated: res.unallocated.map((o) => formatIp(ordinalToIp(block, o))),
            block: res.released.length > 0 ? res.block : undefined,
          };
        });
        released.push(...outcome.released);
        unallocated.push(...outcome.unallocated);
        if (outcome.block) await ensureConsistentAffinity(ctx, outcome.block);
      } catch (err) {
        failures.push({ blockCidr: formatCidr(group.cidr), error: err as Error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
  return { released, unallocated, failures };
}

const handleNotFound = (handleId: string): CidrpoolError =>
  new CidrpoolError('IPAM_HANDLE_NOT_FOUND', `resource does not exist: IPAMHandle(${handleId})`, {
    details: { handleId },
  });

/**
 * Release every address of a handle, block by block, each block in one transaction with the
 * handle. Returns the addresses released. Throws IPAM_HANDLE_NOT_FOUND when the handle object is
 * missing (as Calico, even if blocks still hold the handle), IPAM_CONTENTION, DS_*; the first
 * error stops the loop (earlier blocks stay released).
 * Unlike Calico, a handle entry pointing at a block that is gone or holds none of its addresses
 * is removed instead of being left to overcount.
 */
export async function releaseByHandle(ctx: IpamContext, handleIdRaw: string): Promise<string[]> {
  const handleId = cleanHandle(handleIdRaw);
  const [handle, config] = await Promise.all([
    readHandle(ctx.store, handleId),
    readConfig(ctx.store),
  ]);
  if (!handle) throw handleNotFound(handleId);
  const out: string[] = [];
  // The handle as read serves the first block write (a stale one just conflicts and re-reads).
  let known: Map<string, Stored<HandleValue> | undefined> | undefined = new Map([
    [handleId, handle],
  ]);
  for (const cidrText of Object.keys(handle.value.block)) {
    const cidr = parseCidr(cidrText);
    const outcome = await retryOnConflict(ctx, 'release by handle', async () => {
      const stored = await readBlock(ctx.store, cidr);
      if (!stored) {
        await dropHandleEntry(ctx, handleId, cidrText);
        return undefined;
      }
      const block = garbageCollect(stored.value, config.ipCooldownSeconds, ctx.env.now());
      const res = releaseHandleFromBlock(block, handleId, ctx.env.now(), config.ipCooldownSeconds);
      if (res.released.length === 0) {
        await dropHandleEntry(ctx, handleId, cidrText);
        return undefined;
      }
      const useKnown = known;
      known = undefined;
      await writeReleased(ctx, stored, res.block, [handleId], useKnown);
      return { block: res.block, ips: res.released.map((o) => formatIp(ordinalToIp(block, o))) };
    });
    if (outcome) {
      out.push(...outcome.ips);
      await ensureConsistentAffinity(ctx, outcome.block);
    }
  }
  return out;
}

/** Remove one block's entry from a handle (CAS; a conflict is retried by the caller's loop). */
async function dropHandleEntry(
  ctx: IpamContext,
  handleId: string,
  cidrText: string,
): Promise<void> {
  const h = await readHandle(ctx.store, handleId);
  if (!h || h.value.block[cidrText] === undefined) return;
  const block = { ...h.value.block };
  delete block[cidrText];
  if (Object.keys(block).length === 0) await ctx.store.delete(h.key, h.revision);
  else await ctx.store.update(h.key, encodeHandle({ block, deleted: false }), h.revision);
}

/**
 * Addresses held under a handle (cooling-down ones excluded), without masks.
 * Throws IPAM_HANDLE_NOT_FOUND. A block that cannot be read is skipped (Calico logs it).
 */
export async function ipsByHandle(ctx: IpamContext, handleIdRaw: string): Promise<string[]> {
  const handleId = cleanHandle(handleIdRaw);
  const [handle, config] = await Promise.all([
    readHandle(ctx.store, handleId),
    readConfig(ctx.store),
  ]);
  if (!handle) throw handleNotFound(handleId);
  const out: string[] = [];
  for (const cidrText of Object.keys(handle.value.block)) {
    try {
      const stored = await readBlock(ctx.store, parseCidr(cidrText));
      if (!stored) continue;
      const block = garbageCollect(stored.value, config.ipCooldownSeconds, ctx.env.now());
      for (const o of ordinalsOfHandle(block, handleId)) out.push(formatIp(ordinalToIp(block, o)));
    } catch (err) {
      if (!isCidrpoolError(err)) throw err;
      ctx.log('warn', 'cannot read block of handle', {
        handleId,
        block: cidrText,
        error: err.message,
      });
    }
  }
  return out;
}

/** The allocation of one address, or undefined when it is not assigned. Throws IPAM_INVALID_ARGUMENT. */
export async function getAssignmentAttributes(
  ctx: IpamContext,
  ipText: string,
): Promise<AllocationInfo | undefined> {
  const ip = tryParseIp(ipText);
  if (!ip)
    throw new CidrpoolError('IPAM_INVALID_ARGUMENT', `invalid IP address specified: ${ipText}`);
  const pools = await loadPools(ctx.store);
  const cidr = await blockOfIp(ctx, ip, pools, new Map());
  if (!cidr) return undefined;
  const stored = await readBlock(ctx.store, cidr);
  if (!stored) return undefined;
  const config = await readConfig(ctx.store);
  const block = garbageCollect(stored.value, config.ipCooldownSeconds, ctx.env.now());
  const o = ipToOrdinal(block, ip);
  const idx = o === undefined ? null : block.allocations[o];
  if (o === undefined || idx === null || idx === undefined) return undefined;
  const attr = block.attributes[idx] ?? {};
  return {
    ip: formatIp(ip),
    blockCidr: block.cidr,
    ...(attr.handleId !== undefined ? { handleId: attr.handleId } : {}),
    attrs: attr.secondary ?? {},
    ...(attr.alternateOwnerAttrs ? { alternateAttrs: attr.alternateOwnerAttrs } : {}),
    sequenceNumber: block.sequenceNumberForAllocation[String(o)] ?? 0n,
    coolingDown: attr.releasedAt !== undefined,
  };
}

// Block affinity release (ipam-core.md §4.5): releaseBlockAffinity and its public wrappers.
import { affinityTypePrefix, blockKey, type AffinityType } from '../datastore/keys.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import type { Cidr, IpFamily } from '../net/index.js';
import {
  cidrContainsCidr,
  cidrContainsIp,
  formatCidr,
  parseCidr,
  tryParseCidr,
} from '../net/index.js';
import { blockCidr, clearAffinity, garbageCollect, isEmpty, parseAffinity } from './block.js';
import {
  listAffinities,
  listHostAffinities,
  readAffinity,
  readBlock,
  readConfig,
  writeBlock,
  type StoredAffinity,
} from './block-store.js';
import { contentionError, findNode, retryOnConflict, type IpamContext } from './context.js';
import type { Block } from './model.js';
import { findPoolOfBlock, loadPools, poolSelectsNode } from './pools.js';

export interface ReleaseAffinityOptions {
  readonly requireEmpty: boolean;
  /** Refuse unless the block still has this sequence number (reclaiming an empty block). */
  readonly requiredSequenceNumber?: bigint;
}

/** Thrown (code IPAM_CLAIM_CONFLICT) when the block belongs to another owner. */
export const claimConflict = (cidr: string, owner: string | null): CidrpoolError =>
  new CidrpoolError('IPAM_CLAIM_CONFLICT', `${cidr} already claimed by ${owner ?? '<none>'}`, {
    details: { cidr, owner },
  });

/** Errors the release wrappers ignore: the block moved on, or is already gone. */
const ignorable = (err: unknown): boolean =>
  isCidrpoolError(err, 'IPAM_CLAIM_CONFLICT', 'DS_NOT_FOUND');

/** Calico's check in releaseBlockAffinity; cidrpool has no OS host name fallback. */
function requireHost(host: string): void {
  if (!host)
    throw new CidrpoolError(
      'IPAM_INVALID_ARGUMENT',
      'Hostname must be specified to release block affinity',
    );
}

/**
 * Release one block's affinity (Calico releaseBlockAffinity), in one transaction instead of
 * Calico's pendingDeletion / block write / affinity delete: an empty block is deleted, a
 * non-empty one becomes unaffine and keeps its allocations; the affinity is deleted.
 * Throws DS_NOT_FOUND (affinity missing), IPAM_CLAIM_CONFLICT (block has another owner; our
 * stale affinity is deleted), IPAM_BLOCK_NOT_EMPTY, IPAM_BLOCK_CHANGED, DS_CONFLICT (retry).
 */
export async function releaseBlockAffinity(
  ctx: IpamContext,
  host: string,
  type: AffinityType,
  cidr: Cidr,
  options: ReleaseAffinityOptions,
): Promise<void> {
  requireHost(host);
  const cidrText = formatCidr(cidr);
  const aff = await readAffinity(ctx.store, host, cidr, type);
  if (!aff)
    throw new CidrpoolError(
      'DS_NOT_FOUND',
      `resource does not exist: BlockAffinity(${host}, ${cidrText})`,
      {
        details: { key: cidrText },
      },
    );
  const stored = await readBlock(ctx.store, cidr);
  if (!stored) {
    // Calico returns DoesNotExist and leaves the dangling affinity; we remove it as well.
    await ctx.store.delete(aff.key, aff.revision).catch(() => undefined);
    throw new CidrpoolError('DS_NOT_FOUND', `resource does not exist: Block(${cidrText})`, {
      details: { key: blockKey(cidr.family, cidrText) },
    });
  }
  const config = await readConfig(ctx.store);
  const block = garbageCollect(stored.value, config.ipCooldownSeconds, ctx.env.now());
  if (
    options.requiredSequenceNumber !== undefined &&
    block.sequenceNumber !== options.requiredSequenceNumber
  )
    throw new CidrpoolError('IPAM_BLOCK_CHANGED', 'IPAM block updated since we last read it', {
      details: { cidr: cidrText },
    });
  const ours = `${type}:${host}`;
  if (block.affinity !== null && block.affinity !== ours) {
    await ctx.store.delete(aff.key, aff.revision).catch(() => undefined);
    throw claimConflict(cidrText, block.affinity);
  }
  const empty = isEmpty(block);
  if (options.requireEmpty && !empty)
    throw new CidrpoolError('IPAM_BLOCK_NOT_EMPTY', `block '${cidrText}' is not empty`, {
      details: { cidr: cidrText },
    });
  const { revision, value: previous } = stored;
  // An empty block is deleted (writeBlock clears its index bit); any other loses its affinity.
  await writeBlock(ctx.store, {
    family: cidr.family,
    cidr: cidrText,
    change: empty
      ? { kind: 'delete', revision, previous }
      : { kind: 'update', block: clearAffinity(block), revision, previous },
    conditions: [{ key: aff.key, revision: aff.revision }],
    operations: [{ op: 'delete', key: aff.key }],
  });
}

/** releaseBlockAffinity retried on compare-and-swap conflicts. */
export const releaseBlockAffinityRetrying = (
  ctx: IpamContext,
  host: string,
  type: AffinityType,
  cidr: Cidr,
  options: ReleaseAffinityOptions,
): Promise<void> =>
  retryOnConflict(ctx, 'release block affinity', () =>
    releaseBlockAffinity(ctx, host, type, cidr, options),
  );

/**
 * Release the host's affinity for every block inside `cidr` (Calico ReleaseAffinity, host type).
 * Claim conflicts and missing blocks are ignored; any other error (IPAM_BLOCK_NOT_EMPTY too) is
 * thrown at once, so earlier blocks may already be released.
 * Throws IPAM_CIDR_NOT_IN_POOL, IPAM_INVALID_ARGUMENT.
 */
export async function releaseAffinity(
  ctx: IpamContext,
  cidrText: string,
  host: string,
  mustBeEmpty: boolean,
): Promise<void> {
  requireHost(host);
  const cidr = tryParseCidr(cidrText);
  if (!cidr) throw new CidrpoolError('IPAM_INVALID_ARGUMENT', `invalid CIDR: ${cidrText}`);
  const pools = (await loadPools(ctx.store)).filter((p) => p.enabled);
  const pool = findPoolOfBlock(pools, cidr);
  if (!pool)
    throw new CidrpoolError(
      'IPAM_CIDR_NOT_IN_POOL',
      `The requested CIDR (${formatCidr(cidr)}) is not within any configured pools.`,
    );
  if (cidr.prefix > pool.blockSize)
    throw new CidrpoolError(
      'IPAM_CIDR_NOT_IN_POOL',
      `The requested CIDR (${formatCidr(cidr)}) is smaller than the minimum.`,
    );
  // Listing the host's affinities inside the CIDR costs one read, where walking every block
  // CIDR of a large range would cost one read per block; blocks without our affinity are skipped
  // by Calico anyway (not-found is ignored). Calico walks the blocks in address order, and the
  // first error stops the walk, so which blocks are already released when it fails depends on
  // that order: sort numerically (the listing is in key text order, 10.0.10.0 before 10.0.2.0).
  const inside = (await listHostAffinities(ctx.store, host, cidr.family, 'host'))
    .map((aff) => parseCidr(aff.cidr))
    .filter((blk) => cidrContainsCidr(cidr, blk))
    .sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  for (const blk of inside) {
    try {
      await releaseBlockAffinityRetrying(ctx, host, 'host', blk, { requireEmpty: mustBeEmpty });
    } catch (err) {
      if (!ignorable(err)) throw err;
    }
  }
}

/**
 * Release every affinity of a host, IPv4 then IPv6 (Calico ReleaseHostAffinities). Claim
 * conflicts and missing blocks are ignored; other errors are collected and the last is thrown
 * after every block was tried. Throws IPAM_INVALID_ARGUMENT for an empty host.
 */
export async function releaseHostAffinities(
  ctx: IpamContext,
  host: string,
  mustBeEmpty: boolean,
): Promise<void> {
  requireHost(host);
  let last: unknown;
  for (const family of [4, 6] as IpFamily[]) {
    for (const type of ['host'] as AffinityType[]) {
      for (const aff of await listHostAffinities(ctx.store, host, family, type)) {
        try {
          await releaseBlockAffinityRetrying(ctx, host, type, parseCidr(aff.cidr), {
            requireEmpty: mustBeEmpty,
          });
        } catch (err) {
          if (!ignorable(err)) last = err;
        }
      }
    }
  }
  if (last !== undefined) throw last;
}

/**
 * Release every host affinity of blocks inside a pool, empty or not (Calico
 * ReleasePoolAffinities): empty blocks are deleted, others become unaffine and keep their IPs.
 * Rounds repeat while claim conflicts show that someone raced; IPAM_CONTENTION after the bound.
 */
export async function releasePoolAffinities(ctx: IpamContext, poolCidr: string): Promise<void> {
  const pool = tryParseCidr(poolCidr);
  if (!pool) throw new CidrpoolError('IPAM_INVALID_ARGUMENT', `invalid CIDR: ${poolCidr}`);
  for (let round = 0; round < ctx.retries; round++) {
    const affinities = (await listAffinities(ctx.store, affinityTypePrefix('host'))).filter((a) => {
      const c = tryParseCidr(a.cidr);
      return c !== undefined && cidrContainsIp(pool, { family: c.family, value: c.base });
    });
    if (affinities.length === 0) return;
    let again = false;
    for (const aff of affinities) {
      try {
        await releaseBlockAffinityRetrying(ctx, aff.host, aff.type, parseCidr(aff.cidr), {
          requireEmpty: false,
        });
      } catch (err) {
        if (isCidrpoolError(err, 'IPAM_CLAIM_CONFLICT')) again = true;
        else if (!isCidrpoolError(err, 'DS_NOT_FOUND')) throw err;
      }
    }
    if (!again) return;
  }
  throw contentionError('release pool affinities');
}

/**
 * After a release (Calico ensureConsistentAffinity): if the block's owner node exists and the
 * block's enabled pool no longer selects it, release the affinity when the block is empty.
 * Best effort: every error is logged.
 */
export async function ensureConsistentAffinity(ctx: IpamContext, block: Block): Promise<void> {
  try {
    const owner = parseAffinity(block.affinity);
    if (!owner || owner.type !== 'host') return;
    const node = await findNode(ctx, owner.host);
    if (!node) return;
    const cidr = blockCidr(block);
    const pool = findPoolOfBlock(
      (await loadPools(ctx.store)).filter((p) => p.enabled),
      cidr,
    );
    if (!pool || poolSelectsNode(pool, node.metadata.labels ?? {})) return;
    await releaseBlockAffinity(ctx, owner.host, 'host', cidr, { requireEmpty: true });
  } catch (err) {
    ctx.log('debug', 'ensureConsistentAffinity: nothing released', { error: String(err) });
  }
}

export type { StoredAffinity };

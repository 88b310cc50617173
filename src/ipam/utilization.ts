// GetUtilization and the borrowed-address listing (ipam-core.md §4.7, surfaces.md §2.1).
import type { Cidr } from '../net/index.js';
import {
  cidrSize,
  cidrsOverlap,
  compareCidrs,
  formatCidr,
  formatIp,
  sizeMinus,
  tryParseCidr,
} from '../net/index.js';
import { blockCidr, freeCount, inUseCount, ordinalToIp, parseAffinity } from './block.js';
import { collectCooledDown, forEachBlock } from './block-scan.js';
import { readConfig } from './block-store.js';
import { readReservations, type IpamContext } from './context.js';
import type { Block } from './model.js';
import { loadPools, type PoolInfo } from './pools.js';
import type { Reservations } from './reservations.js';
import type { BlockUtilization, BorrowedAllocation, PoolUtilization } from './types.js';

const ORPHAN_CIDR: Cidr = { family: 4, base: 0n, prefix: 0 };

/** A block's utilisation with its parsed CIDR: what grouping into pools needs. */
export interface BlockSummary {
  readonly cidr: Cidr;
  readonly utilization: BlockUtilization;
}

/**
 * The utilisation of one block as `ipam show --show-blocks` counts it (cooled-down addresses
 * freed first), or undefined for a block whose CIDR does not parse (getUtilization skips it).
 */
export function summarizeBlock(
  block: Block,
  reservations: Reservations,
  cooldownSeconds: number,
  nowMs: number,
): BlockSummary | undefined {
  let c: Cidr;
  try {
    c = blockCidr(block);
  } catch {
    return undefined;
  }
  // Only the counts are kept, which only freeing cooled-down addresses changes.
  const b = collectCooledDown(block, cooldownSeconds, nowMs);
  const capacity = cidrSize(c);
  return {
    cidr: c,
    utilization: {
      cidr: b.cidr,
      ...(b.affinity ? { affinity: b.affinity } : {}),
      capacity,
      inUse: BigInt(inUseCount(b)),
      reserved: capacity - sizeMinus(c, reservations.cidrs),
      available: BigInt(freeCount(b, reservations)),
    },
  };
}

/**
 * Group block summaries (in block key order) into the utilisation of every pool, or of the ones
 * named by name or CIDR; when all pools are wanted, a last group (name undefined, 0.0.0.0/0)
 * holds blocks overlapping no pool. A block belongs to the first group (pool name order) whose
 * CIDR overlaps it.
 */
export function groupUtilization(
  pools: readonly PoolInfo[],
  blocks: Iterable<BlockSummary>,
  reservations: Reservations,
  wanted?: readonly string[],
): PoolUtilization[] {
  const selected =
    wanted && wanted.length > 0
      ? pools.filter((p) =>
          wanted.some((w) => {
            const c = tryParseCidr(w);
            return w === p.name || (c !== undefined && compareCidrs(c, p.cidr) === 0);
          }),
        )
      : pools;
  const groups = selected.map((p) => ({
    name: p.name as string | undefined,
    cidr: p.cidr,
    blocks: [] as BlockUtilization[],
    cidrs: [] as Cidr[],
  }));
  if (!wanted || wanted.length === 0)
    groups.push({ name: undefined, cidr: ORPHAN_CIDR, blocks: [], cidrs: [] });
  for (const block of blocks) {
    const g = groups.find((x) => cidrsOverlap(x.cidr, block.cidr));
    if (!g) continue;
    g.blocks.push(block.utilization);
    g.cidrs.push(block.cidr);
  }
  return groups.map((g) => {
    // sizeMinus ignores CIDRs of another family, so the reservations need no filtering.
    const capacity = cidrSize(g.cidr);
    const inUse = g.blocks.reduce((s, b) => s + b.inUse, 0n);
    const inBlocks = g.blocks.reduce((s, b) => s + b.available, 0n);
    return {
      ...(g.name !== undefined ? { name: g.name } : {}),
      cidr: formatCidr(g.cidr),
      capacity,
      inUse,
      reserved: capacity - sizeMinus(g.cidr, reservations.cidrs),
      available: inBlocks + sizeMinus(g.cidr, [...reservations.cidrs, ...g.cidrs]),
      blocks: g.blocks,
    };
  });
}

/**
 * Utilisation of every pool (or the ones named by name or CIDR), with their blocks; when all
 * pools are wanted, a last group (name undefined, 0.0.0.0/0) holds blocks overlapping no pool.
 * One scan of every block: summarizeBlock, then groupUtilization.
 */
export async function getUtilization(
  ctx: IpamContext,
  wanted?: readonly string[],
): Promise<PoolUtilization[]> {
  const pools = await loadPools(ctx.store);
  const reservations = await readReservations(ctx);
  const config = await readConfig(ctx.store);
  const now = ctx.env.now();
  const summaries: BlockSummary[] = [];
  await forEachBlock(ctx.store, (block) => {
    const summary = summarizeBlock(block, reservations, config.ipCooldownSeconds, now);
    if (summary) summaries.push(summary);
  });
  return groupUtilization(pools, summaries, reservations, wanted);
}

/**
 * Allocations whose `node` attribute differs from the block owner (any `<type>:` prefix
 * stripped; empty for unaffine blocks), in block key order then ordinal order; and how many
 * allocations carry no node attribute.
 */
export async function listBorrowed(
  ctx: IpamContext,
): Promise<{ borrowed: BorrowedAllocation[]; withoutNode: number }> {
  const borrowed: BorrowedAllocation[] = [];
  let withoutNode = 0;
  await forEachBlock(ctx.store, (b) => {
    const owner = parseAffinity(b.affinity)?.host ?? '';
    b.allocations.forEach((idx, o) => {
      if (idx === null) return;
      const attr = b.attributes[idx];
      if (!attr || attr.releasedAt !== undefined) return;
      const node = attr.secondary?.node;
      if (node === undefined) {
        withoutNode++;
        return;
      }
      if (node !== owner)
        borrowed.push({
          ip: formatIp(ordinalToIp(b, o)),
          borrowingNode: node,
          blockCidr: b.cidr,
          blockOwner: owner,
          attrs: attr.secondary ?? {},
        });
    });
  });
  return { borrowed, withoutNode };
}

// The allocation blocks of a pool: count, index <-> block, and a lazy wrap-around walk.
import { CidrpoolError } from '../errors/index.js';
import { bitsOf } from './address.js';
import { assertPrefix, assertSameFamily, cidrContainsCidr, formatCidr } from './cidr.js';
import type { Cidr } from './types.js';

/** Throw unless `blockPrefix` can cut `pool` into blocks (pool.prefix <= blockPrefix <= bits). */
function assertBlockPrefix(pool: Cidr, blockPrefix: number): void {
  assertPrefix(pool.family, blockPrefix);
  if (blockPrefix < pool.prefix) {
    throw new CidrpoolError(
      'NET_INVALID_PREFIX',
      `block prefix /${blockPrefix} is shorter than the pool ${formatCidr(pool)}; ` +
        `use a block prefix of at least /${pool.prefix}`,
      { details: { pool: formatCidr(pool), blockPrefix } },
    );
  }
}

/**
 * Number of blocks of length `blockPrefix` in `pool` (2^(blockPrefix - pool.prefix)).
 * @throws CidrpoolError NET_INVALID_PREFIX
 */
export function blockCount(pool: Cidr, blockPrefix: number): bigint {
  assertBlockPrefix(pool, blockPrefix);
  return 1n << BigInt(blockPrefix - pool.prefix);
}

/** blockAt without the checks, for callers that did them. */
function unsafeBlockAt(pool: Cidr, blockPrefix: number, index: bigint): Cidr {
  const shift = BigInt(bitsOf(pool.family) - blockPrefix);
  return { family: pool.family, base: pool.base + (index << shift), prefix: blockPrefix };
}

function assertIndex(pool: Cidr, blockPrefix: number, index: bigint, count: bigint): void {
  if (index < 0n || index >= count) {
    throw new CidrpoolError(
      'NET_OUT_OF_RANGE',
      `block index ${index} is outside ${formatCidr(pool)}, which has ${count} /${blockPrefix} ` +
        `blocks (indexes 0-${count - 1n})`,
      { details: { pool: formatCidr(pool), blockPrefix, index: String(index) } },
    );
  }
}

/**
 * Block number `index` of `pool`: base pool.base + index * block size.
 * @throws CidrpoolError NET_INVALID_PREFIX; NET_OUT_OF_RANGE when index is not in [0, count).
 */
export function blockAt(pool: Cidr, blockPrefix: number, index: bigint): Cidr {
  assertIndex(pool, blockPrefix, index, blockCount(pool, blockPrefix));
  return unsafeBlockAt(pool, blockPrefix, index);
}

/**
 * Index of `block` within `pool`; the block size is block.prefix.
 * @throws CidrpoolError NET_FAMILY_MISMATCH; NET_OUT_OF_RANGE when the block is not in the pool.
 */
export function blockIndexOf(pool: Cidr, block: Cidr): bigint {
  assertSameFamily(pool, block, `block ${formatCidr(block)} of pool ${formatCidr(pool)}`);
  if (!cidrContainsCidr(pool, block)) {
    throw new CidrpoolError(
      'NET_OUT_OF_RANGE',
      `block ${formatCidr(block)} is not inside pool ${formatCidr(pool)}`,
      { details: { pool: formatCidr(pool), block: formatCidr(block) } },
    );
  }
  return (block.base - pool.base) >> BigInt(bitsOf(block.family) - block.prefix);
}

function* walkBlocks(pool: Cidr, blockPrefix: number, start: bigint, count: bigint) {
  for (let i = start; i < count; i++) yield unsafeBlockAt(pool, blockPrefix, i);
  for (let i = 0n; i < start; i++) yield unsafeBlockAt(pool, blockPrefix, i);
}

/**
 * Lazily: blocks start, start+1, ..., last, 0, ..., start-1, each once (Calico's
 * randomBlockGenerator order). Never materialises the list: a /64 pool has 2^58 /122 blocks.
 * The arguments are checked when called, not when the iteration starts.
 * @throws CidrpoolError NET_INVALID_PREFIX; NET_OUT_OF_RANGE when start is not in [0, count).
 */
export function blocksOf(pool: Cidr, blockPrefix: number, start: bigint = 0n): Iterable<Cidr> {
  const count = blockCount(pool, blockPrefix);
  assertIndex(pool, blockPrefix, start, count);
  return { [Symbol.iterator]: () => walkBlocks(pool, blockPrefix, start, count) };
}

/**
 * `cidr` cut into `parts` equal consecutive networks (parts a power of two, 2 to 2^24).
 * @throws CidrpoolError NET_OUT_OF_RANGE when parts is not such a power of two;
 *   NET_INVALID_PREFIX when the pieces would be longer than the address.
 */
export function splitCidr(cidr: Cidr, parts: number): Cidr[] {
  // 2^24 pieces is already more than any caller should hold in memory at once.
  if (
    !Number.isSafeInteger(parts) ||
    parts < 2 ||
    parts > 2 ** 24 ||
    !Number.isInteger(Math.log2(parts))
  ) {
    throw new CidrpoolError(
      'NET_OUT_OF_RANGE',
      `cannot split ${formatCidr(cidr)} into ${parts} parts: the count must be a power of two from 2 to 2^24`,
      { details: { cidr: formatCidr(cidr), parts } },
    );
  }
  const prefix = cidr.prefix + Math.log2(parts);
  assertBlockPrefix(cidr, prefix);
  return Array.from({ length: parts }, (_, i) => unsafeBlockAt(cidr, prefix, BigInt(i)));
}

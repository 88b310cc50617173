import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isCidrpoolError, type ErrorCode } from '../../src/errors/index.js';
import {
  blockAt,
  blockCount,
  blockIndexOf,
  blocksOf,
  cidrContainsCidr,
  cidrLast,
  cidrSize,
  compareCidrs,
  formatCidr,
  networkOf,
  parseCidr,
  splitCidr,
  type Cidr,
  type IpFamily,
} from '../../src/net/index.js';

const FC = { seed: 20261121, numRuns: 300 } as const;

const throwsCode = (fn: () => unknown, code: ErrorCode): void => {
  assert.throws(fn, (err: unknown) => isCidrpoolError(err, code));
};

/** The first `n` items of an iterable (bounded, so a lazy sequence of 2^58 is safe). */
function take<T>(items: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (out.length >= n) break;
    out.push(item);
  }
  return out;
}

// A pool, a block prefix at most 8 bits longer (<= 256 blocks) and a start index.
const poolCase = fc
  .oneof(
    fc.record({
      family: fc.constant<IpFamily>(4),
      value: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    }),
    fc.record({
      family: fc.constant<IpFamily>(6),
      value: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    }),
  )
  .chain((ip) => {
    const bits = ip.family === 4 ? 32 : 128;
    return fc.integer({ min: 0, max: bits }).chain((prefix) =>
      fc.integer({ min: prefix, max: Math.min(bits, prefix + 8) }).chain((blockPrefix) => {
        const pool = networkOf(ip, prefix);
        const count = 1n << BigInt(blockPrefix - prefix);
        return fc
          .bigInt({ min: 0n, max: count - 1n })
          .map((start) => ({ pool, blockPrefix, start, count }));
      }),
    );
  });

describe('blocks: table', () => {
  const pool = parseCidr('10.244.0.0/16');

  it('counts blocks, including 2^58 /122 blocks in a /64', () => {
    assert.equal(blockCount(pool, 26), 1024n);
    assert.equal(blockCount(pool, 16), 1n);
    assert.equal(blockCount(pool, 32), 65536n);
    assert.equal(blockCount(parseCidr('fd00:10:244::/64'), 122), 1n << 58n);
    assert.equal(blockCount(parseCidr('::/0'), 128), 1n << 128n);
  });

  it('maps indexes to blocks and back', () => {
    assert.equal(formatCidr(blockAt(pool, 26, 0n)), '10.244.0.0/26');
    assert.equal(formatCidr(blockAt(pool, 26, 666n)), '10.244.166.128/26');
    assert.equal(formatCidr(blockAt(pool, 26, 1023n)), '10.244.255.192/26');
    assert.equal(blockIndexOf(pool, parseCidr('10.244.166.128/26')), 666n);
    const v6 = parseCidr('fd00:10:244::/64');
    const block = blockAt(v6, 122, 13588661266676378n);
    assert.equal(formatCidr(block), 'fd00:10:244:0:c11:b42f:f17e:a680/122');
    assert.equal(blockIndexOf(v6, block), 13588661266676378n);
  });

  it('refuses bad block prefixes, indexes and foreign blocks', () => {
    throwsCode(() => blockCount(pool, 15), 'NET_INVALID_PREFIX');
    throwsCode(() => blockCount(pool, 33), 'NET_INVALID_PREFIX');
    throwsCode(() => blockAt(pool, 26, 1024n), 'NET_OUT_OF_RANGE');
    throwsCode(() => blockAt(pool, 26, -1n), 'NET_OUT_OF_RANGE');
    throwsCode(() => blockIndexOf(pool, parseCidr('10.245.0.0/26')), 'NET_OUT_OF_RANGE');
    throwsCode(() => blockIndexOf(pool, parseCidr('10.0.0.0/8')), 'NET_OUT_OF_RANGE');
    throwsCode(() => blockIndexOf(pool, parseCidr('fd00::/122')), 'NET_FAMILY_MISMATCH');
  });

  it('walks start, ..., last, 0, ..., start - 1', () => {
    const small = parseCidr('192.168.0.0/24');
    assert.deepEqual([...blocksOf(small, 26, 2n)].map(formatCidr), [
      '192.168.0.128/26',
      '192.168.0.192/26',
      '192.168.0.0/26',
      '192.168.0.64/26',
    ]);
    assert.deepEqual([...blocksOf(small, 26)].map(formatCidr), [
      '192.168.0.0/26',
      '192.168.0.64/26',
      '192.168.0.128/26',
      '192.168.0.192/26',
    ]);
    assert.deepEqual([...blocksOf(parseCidr('10.0.0.1/32'), 32)].map(formatCidr), ['10.0.0.1/32']);
  });

  it('is lazy: a /64 pool of /122 blocks wraps around without materialising 2^58 blocks', () => {
    const v6 = parseCidr('fd00:10:244::/64');
    const start = (1n << 58n) - 2n;
    assert.deepEqual(take(blocksOf(v6, 122, start), 4).map(formatCidr), [
      'fd00:10:244:0:ffff:ffff:ffff:ff80/122',
      'fd00:10:244:0:ffff:ffff:ffff:ffc0/122',
      'fd00:10:244::/122',
      'fd00:10:244::40/122',
    ]);
  });

  it('checks blocksOf arguments when called, and each iteration starts afresh', () => {
    throwsCode(() => blocksOf(pool, 26, 1024n), 'NET_OUT_OF_RANGE');
    throwsCode(() => blocksOf(pool, 26, -1n), 'NET_OUT_OF_RANGE');
    throwsCode(() => blocksOf(pool, 8), 'NET_INVALID_PREFIX');
    const walk = blocksOf(pool, 18, 3n);
    assert.deepEqual(take(walk, 2), take(walk, 2));
  });

  it('splits a CIDR into equal parts', () => {
    assert.deepEqual(splitCidr(parseCidr('10.0.0.0/24'), 4).map(formatCidr), [
      '10.0.0.0/26',
      '10.0.0.64/26',
      '10.0.0.128/26',
      '10.0.0.192/26',
    ]);
    assert.deepEqual(splitCidr(parseCidr('fd00::/64'), 2).map(formatCidr), [
      'fd00::/65',
      'fd00::8000:0:0:0/65',
    ]);
    throwsCode(() => splitCidr(parseCidr('10.0.0.0/24'), 3), 'NET_OUT_OF_RANGE');
    throwsCode(() => splitCidr(parseCidr('10.0.0.0/24'), 1), 'NET_OUT_OF_RANGE');
    throwsCode(() => splitCidr(parseCidr('10.0.0.0/24'), 2 ** 25), 'NET_OUT_OF_RANGE');
    throwsCode(() => splitCidr(parseCidr('10.0.0.0/31'), 4), 'NET_INVALID_PREFIX');
  });
});

describe('blocks: properties', () => {
  it('the walk visits every block exactly once and the blocks tile the pool', () => {
    fc.assert(
      fc.property(poolCase, ({ pool, blockPrefix, start, count }) => {
        const walk = [...blocksOf(pool, blockPrefix, start)];
        assert.equal(BigInt(walk.length), count);
        // The order: index start + i (mod count), and each block knows its index.
        walk.forEach((block, i) => {
          const expected = (start + BigInt(i)) % count;
          assert.equal(blockIndexOf(pool, block), expected);
          assert.deepEqual(blockAt(pool, blockPrefix, expected), block);
          assert.ok(cidrContainsCidr(pool, block));
        });
        // Sorted, the blocks are contiguous and disjoint from the pool's first to last address.
        const sorted: Cidr[] = [...walk].sort(compareCidrs);
        let next = pool.base;
        for (const block of sorted) {
          assert.equal(block.prefix, blockPrefix);
          assert.equal(block.base, next);
          next = cidrLast(block) + 1n;
        }
        assert.equal(next, cidrLast(pool) + 1n);
      }),
      FC,
    );
  });

  it('splitCidr pieces tile the CIDR', () => {
    fc.assert(
      fc.property(poolCase, ({ pool, blockPrefix }) => {
        fc.pre(blockPrefix > pool.prefix);
        const parts = splitCidr(pool, 2 ** (blockPrefix - pool.prefix));
        assert.deepEqual(parts, [...blocksOf(pool, blockPrefix)]);
        assert.equal(
          parts.reduce((sum, part) => sum + cidrSize(part), 0n),
          cidrSize(pool),
        );
      }),
      FC,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isCidrpoolError } from '../../src/errors/index.js';
import {
  GoRandSource,
  computeStartIndex,
  drawGoBigRand,
  fnv1_32,
  hostBlockStartIndex,
} from '../../src/ipam/go-random.js';
import { blockCount, blocksOf, formatCidr, parseCidr } from '../../src/net/index.js';

/** The first `n` items of an iterable (bounded: the IPv6 walk has 2^58 blocks). */
function take<T>(items: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (out.length >= n) break;
    out.push(item);
  }
  return out;
}

describe('fnv1_32 (Go hash/fnv New32, FNV-1)', () => {
  it('hashes as FNV-1, not FNV-1a', () => {
    assert.equal(fnv1_32(''), 0x811c9dc5);
    assert.equal(fnv1_32('a'), 0x050c5d7e); // FNV-1a would give 0xe40c292c
    assert.equal(fnv1_32('node1'), 3957252814);
    assert.equal(fnv1_32('worker-1'), 2999756865);
    assert.equal(fnv1_32('kind-control-plane'), 2016776422);
  });
});

describe('GoRandSource (Go math/rand)', () => {
  it('reproduces the well-known Go output for rand.NewSource(1)', () => {
    const rng = new GoRandSource(1n);
    const first = Array.from({ length: 10 }, () => rng.int63());
    assert.deepEqual(first, [
      5577006791947779410n,
      8674665223082153551n,
      6129484611666145821n,
      4037200794235010051n,
      3916589616287113937n,
      6334824724549167320n,
      605394647632969758n,
      1443635317331776148n,
      894385949183117216n,
      2775422040480279449n,
    ]);
  });

  it('treats seeds as Go does: modulo 2^31 - 1, and 0 like 89482311', () => {
    const draws = (seed: bigint): bigint[] => {
      const rng = new GoRandSource(seed);
      return [rng.int63(), rng.int63(), rng.uint32()];
    };
    assert.deepEqual(draws(0n), draws(89482311n));
    assert.deepEqual(draws(2147483647n + 5n), draws(5n));
    assert.deepEqual(draws(-5n), draws(2147483647n - 5n));
    assert.notDeepEqual(draws(1n), draws(2n));
  });
});

describe('hostBlockStartIndex: ipam-core.md §3.7 vectors', () => {
  const vectors: [string, number, string, bigint, bigint, string[]][] = [
    [
      '10.244.0.0/16',
      26,
      'node1',
      1024n,
      666n,
      ['10.244.166.128/26', '10.244.166.192/26', '10.244.167.0/26', '10.244.167.64/26'],
    ],
    ['10.244.0.0/16', 26, 'worker-1', 1024n, 905n, ['10.244.226.64/26', '10.244.226.128/26']],
    [
      '192.168.0.0/16',
      26,
      'kind-control-plane',
      1024n,
      328n,
      ['192.168.82.0/26', '192.168.82.64/26'],
    ],
    [
      '192.168.0.0/24',
      26,
      'node1',
      4n,
      2n,
      ['192.168.0.128/26', '192.168.0.192/26', '192.168.0.0/26', '192.168.0.64/26'],
    ],
    ['10.244.0.0/16', 24, 'node1', 256n, 154n, ['10.244.154.0/24', '10.244.155.0/24']],
    [
      'fd00:10:244::/64',
      122,
      'node1',
      1n << 58n,
      13588661266676378n,
      [
        'fd00:10:244:0:c11:b42f:f17e:a680/122',
        'fd00:10:244:0:c11:b42f:f17e:a6c0/122',
        'fd00:10:244:0:c11:b42f:f17e:a700/122',
      ],
    ],
  ];
  for (const [poolText, blockPrefix, host, numBlocks, start, firstBlocks] of vectors) {
    it(`${host} in ${poolText} with /${blockPrefix} blocks starts at ${start}`, () => {
      const pool = parseCidr(poolText);
      assert.equal(blockCount(pool, blockPrefix), numBlocks);
      const index = hostBlockStartIndex(host, numBlocks);
      assert.equal(index, start);
      assert.deepEqual(
        take(blocksOf(pool, blockPrefix, index), firstBlocks.length).map(formatCidr),
        firstBlocks,
      );
    });
  }

  it('is the same on every call (the seed depends only on the host name)', () => {
    assert.equal(hostBlockStartIndex('node1', 1024n), hostBlockStartIndex('node1', 1024n));
  });
});

describe('drawGoBigRand (big.Int.Rand)', () => {
  it('stays in [0, n) for any n, including multi-word ones', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
        fc.bigInt({ min: 1n, max: 1n << 130n }),
        (seed, n) => {
          const value = computeStartIndex(seed, n);
          assert.ok(value >= 0n && value < n);
        },
      ),
      { seed: 20261121, numRuns: 200 },
    );
  });

  it('returns 0 for n = 1 and refuses n < 1', () => {
    assert.equal(hostBlockStartIndex('node1', 1n), 0n);
    for (const n of [0n, -4n]) {
      assert.throws(
        () => drawGoBigRand(new GoRandSource(1n), n),
        (err: unknown) => isCidrpoolError(err, 'NET_OUT_OF_RANGE'),
      );
    }
  });

  it('spreads hosts over the blocks (every index of 4 is some host start)', () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 64 && seen.size < 4; i++) seen.add(hostBlockStartIndex(`node${i}`, 4n));
    assert.equal(seen.size, 4);
  });
});

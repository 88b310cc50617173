import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  cidrLast,
  coveredBy,
  coveredRanges,
  networkOf,
  parseCidr,
  sizeMinus,
  type Cidr,
} from '../../src/net/index.js';

const FC = { seed: 20261121, numRuns: 500 } as const;
const c = (text: string): Cidr => parseCidr(text);

describe('sizeMinus / coveredBy: table', () => {
  const block = c('10.0.0.0/24');

  it('subtracts nothing, everything, and parts', () => {
    assert.equal(sizeMinus(block, []), 256n);
    assert.equal(sizeMinus(block, [c('10.0.0.0/16')]), 0n);
    assert.equal(sizeMinus(block, [c('10.0.0.0/25')]), 128n);
    assert.equal(sizeMinus(block, [c('10.0.0.7/32'), c('10.0.0.200/32')]), 254n);
  });

  it('counts overlapping and nested CIDRs once', () => {
    assert.equal(sizeMinus(block, [c('10.0.0.0/25'), c('10.0.0.0/26'), c('10.0.0.64/32')]), 128n);
    assert.equal(sizeMinus(block, [c('10.0.0.0/25'), c('10.0.0.0/25')]), 128n);
  });

  it('ignores CIDRs outside the block and of the other family', () => {
    assert.equal(sizeMinus(block, [c('10.0.1.0/24'), c('::/0'), c('9.0.0.0/8')]), 256n);
  });

  it('is MatchesWholeCIDR: one covering CIDR, or pieces that add up', () => {
    assert.equal(coveredBy(block, [c('10.0.0.0/8')]), true);
    assert.equal(coveredBy(block, [c('10.0.0.0/25'), c('10.0.0.128/25')]), true);
    assert.equal(coveredBy(block, [c('10.0.0.0/25'), c('10.0.0.128/26')]), false);
    assert.equal(coveredBy(block, []), false);
    // Duplicates do not add up to a whole (Calico removes them first).
    assert.equal(coveredBy(block, [c('10.0.0.0/25'), c('10.0.0.0/25')]), false);
  });

  it('works on IPv6 sizes without enumerating', () => {
    const pool = c('fd00::/64');
    assert.equal(sizeMinus(pool, [c('fd00::/65')]), 1n << 63n);
    assert.equal(sizeMinus(c('::/0'), [c('::/1'), c('fd00::/8')]), (1n << 127n) - (1n << 120n));
    assert.equal(coveredBy(pool, [c('fd00::/65'), c('fd00::8000:0:0:0/65')]), true);
  });

  it('merges adjacent ranges', () => {
    assert.deepEqual(
      coveredRanges(block, [c('10.0.0.128/25'), c('10.0.0.0/25'), c('10.0.0.5/32')]),
      [{ first: block.base, last: cidrLast(block) }],
    );
  });
});

describe('sizeMinus: properties', () => {
  // Reservations anywhere in 10.0.0.0/22 against a /24 block inside it: small enough to count by hand.
  const reservation = fc
    .record({
      value: fc.bigInt({ min: 0x0a000000n, max: 0x0a0003ffn }),
      prefix: fc.integer({ min: 21, max: 32 }),
    })
    .map(({ value, prefix }) => networkOf({ family: 4, value }, prefix));
  const blockCase = fc.record({
    block: fc
      .integer({ min: 0, max: 3 })
      .map((i) => networkOf({ family: 4, value: 0x0a000000n + BigInt(i * 256) }, 24)),
    others: fc.array(reservation, { maxLength: 8 }),
  });

  it('equals a brute-force count of uncovered addresses', () => {
    fc.assert(
      fc.property(blockCase, ({ block, others }) => {
        let uncovered = 0n;
        for (let a = block.base; a <= cidrLast(block); a++) {
          if (!others.some((o) => o.base <= a && a <= cidrLast(o))) uncovered++;
        }
        assert.equal(sizeMinus(block, others), uncovered);
        assert.equal(coveredBy(block, others), uncovered === 0n);
      }),
      FC,
    );
  });

  it('merged ranges are sorted, disjoint, non-adjacent and inside the block', () => {
    fc.assert(
      fc.property(blockCase, ({ block, others }) => {
        const ranges = coveredRanges(block, others);
        ranges.forEach((r, i) => {
          assert.ok(block.base <= r.first && r.first <= r.last && r.last <= cidrLast(block));
          if (i > 0) assert.ok(ranges[i - 1]!.last + 1n < r.first);
        });
      }),
      FC,
    );
  });
});

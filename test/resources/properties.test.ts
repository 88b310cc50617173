// Property-based checks (fast-check, fixed seed) of CIDR handling in defaults and validation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatCidr, formatIp, networkOf } from '../../src/net/index.js';
import {
  POOL_MESSAGES,
  v1PoolName,
  validateResource,
  withDefaults,
} from '../../src/resources/index.js';
import { API_VERSION_V3, type IPPool } from '../../src/resources/types.js';

const FC = { seed: 20261121, numRuns: 300 } as const;
const LINK_LOCAL_4 = { lo: 0xa9fe0000n, hi: 0xa9feffffn };

const pool = (cidr: string): IPPool => ({
  apiVersion: API_VERSION_V3,
  kind: 'IPPool',
  metadata: { name: 'p' },
  spec: { cidr },
});

/** An IPv4 address and a prefix length that fits the default block size. */
const v4 = fc.record({
  value: fc.bigInt({ min: 0n, max: 0xffffffffn }),
  prefix: fc.integer({ min: 1, max: 26 }),
});
/** An IPv6 address and a prefix length that fits a /122 block. */
const v6 = fc.record({
  value: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  prefix: fc.integer({ min: 11, max: 122 }),
});

const overlapsLinkLocal4 = (base: bigint, prefix: number): boolean => {
  const last = base + (1n << BigInt(32 - prefix)) - 1n;
  return base <= LINK_LOCAL_4.hi && last >= LINK_LOCAL_4.lo;
};

describe('resource properties', () => {
  it('a masked IPv4 pool is valid unless it overlaps link-local; host bits give the network as hint', () => {
    fc.assert(
      fc.property(v4, ({ value, prefix }) => {
        const net = networkOf({ family: 4, value }, prefix);
        const messages = validateResource(pool(formatCidr(net))).map((i) => i.message);
        assert.deepEqual(
          messages,
          overlapsLinkLocal4(net.base, prefix) ? [POOL_MESSAGES.linkLocal4] : [],
        );
        if (value !== net.base && !overlapsLinkLocal4(net.base, prefix)) {
          const text = `${formatIp({ family: 4, value })}/${prefix}`;
          const issues = validateResource(pool(text));
          assert.deepEqual(
            issues.map((i) => i.message),
            [POOL_MESSAGES.cidrNotMasked],
          );
          assert.equal(
            issues[0]?.hint,
            `IPPool CIDR is not strictly masked: the network address is "${formatCidr(net)}"`,
          );
        }
      }),
      FC,
    );
  });

  it('withDefaults writes IPv6 pools in canonical form and is idempotent', () => {
    fc.assert(
      fc.property(v6, ({ value, prefix }) => {
        const net = networkOf({ family: 6, value }, prefix);
        // Spell the network the long way (every group, upper case) to exercise normalisation.
        const groups = Array.from({ length: 8 }, (_, i) =>
          ((net.base >> BigInt(112 - 16 * i)) & 0xffffn)
            .toString(16)
            .toUpperCase()
            .padStart(4, '0'),
        );
        const once = withDefaults(pool(`${groups.join(':')}/${prefix}`));
        assert.equal(once.spec.cidr, formatCidr(net));
        assert.equal(once.spec.blockSize, 122);
        assert.deepEqual(withDefaults(once), once);
      }),
      FC,
    );
  });

  it('v1 pool names are DNS-1123 names and differ for different CIDRs', () => {
    fc.assert(
      fc.property(v4, v4, (a, b) => {
        const x = formatCidr(networkOf({ family: 4, value: a.value }, a.prefix));
        const y = formatCidr(networkOf({ family: 4, value: b.value }, b.prefix));
        assert.match(v1PoolName(x), /^[0-9]+(-[0-9]+){4}$/);
        assert.equal(v1PoolName(x) === v1PoolName(y), x === y);
      }),
      FC,
    );
  });
});

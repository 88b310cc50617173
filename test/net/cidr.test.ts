import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isCidrpoolError, type ErrorCode } from '../../src/errors/index.js';
import {
  addressAt,
  cidrContainsCidr,
  cidrContainsIp,
  cidrLast,
  cidrSize,
  cidrsOverlap,
  compareCidrs,
  formatCidr,
  formatIp,
  networkOf,
  offsetOf,
  ordinalOf,
  parseCidr,
  parseCidrMasked,
  parseIp,
  tryParseCidr,
  tryParseIp,
  type Cidr,
  type IpFamily,
} from '../../src/net/index.js';

const FC = { seed: 20261121, numRuns: 500 } as const;

const throwsCode = (fn: () => unknown, code: ErrorCode): void => {
  assert.throws(fn, (err: unknown) => isCidrpoolError(err, code));
};

const anyIp = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((value) => ({ family: 4 as IpFamily, value })),
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((value) => ({ family: 6 as IpFamily, value })),
);
const ipAndPrefix = anyIp.chain((ip) =>
  fc.integer({ min: 0, max: ip.family === 4 ? 32 : 128 }).map((prefix) => ({ ip, prefix })),
);

describe('parseCidr: table', () => {
  const valid: [string, string][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.0.0.1/32', '10.0.0.1/32'],
    ['255.255.255.255/32', '255.255.255.255/32'],
    ['::/0', '::/0'],
    ['::1/128', '::1/128'],
    ['fd00:10:244::/64', 'fd00:10:244::/64'],
    ['FD00:0010:0244:0000::/64', 'fd00:10:244::/64'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0/104'],
  ];
  for (const [text, canonical] of valid) {
    it(`parses ${text}`, () => {
      const cidr = parseCidr(text);
      assert.equal(formatCidr(cidr), canonical);
      assert.deepEqual(tryParseCidr(text), cidr);
    });
  }

  const invalid = [
    '10.0.0.0',
    'fd00::',
    '10.0.0.0/',
    '/8',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    '10.0.0.0/08',
    '10.0.0.0/8.0',
    '10.0.0.0/1e1',
    '10.0.0.0/8/8',
    '10.0.0.0/8 ',
    ' 10.0.0.0/8',
    '10.0.0.0 /8',
    '10.0.0.0/ 8',
    '10.0.0.0/255.0.0.0',
    'fe80::%eth0/64',
    'fe80::/64%eth0',
    '010.0.0.0/8',
    'abc/8',
    '',
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(tryParseCidr(text), undefined);
      assert.throws(
        () => parseCidr(text),
        (err: unknown) =>
          isCidrpoolError(err, 'NET_INVALID_CIDR') && err.message.includes(JSON.stringify(text)),
      );
    });
  }

  it('suggests /32 or /128 for a bare address', () => {
    assert.throws(() => parseCidr('10.0.0.1'), /10\.0\.0\.1\/32/);
    assert.throws(() => parseCidr('fd00::1'), /fd00::1\/128/);
  });

  const hostBits: [string, string][] = [
    ['10.0.0.7/24', '10.0.0.0/24'],
    ['10.0.0.1/16', '10.0.0.0/16'],
    ['0.0.0.1/0', '0.0.0.0/0'],
    ['10.0.0.1/31', '10.0.0.0/31'],
    ['::1/64', '::/64'],
    ['fd00:10:244::1:0/100', 'fd00:10:244::/100'],
  ];
  for (const [text, masked] of hostBits) {
    it(`rejects host bits in ${text}, naming ${masked}`, () => {
      assert.equal(tryParseCidr(text), undefined);
      assert.throws(
        () => parseCidr(text),
        (err: unknown) =>
          isCidrpoolError(err, 'NET_HOST_BITS') &&
          err.details.masked === masked &&
          err.message === `"${text}" has host bits set; the network address is "${masked}"`,
      );
    });
  }
});

describe('parseCidrMasked (IPReservation semantics)', () => {
  const cases: [string, string][] = [
    ['10.0.0.5/24', '10.0.0.0/24'],
    ['10.0.0.5', '10.0.0.5/32'],
    ['fd00::5', 'fd00::5/128'],
    ['fd00::5/120', 'fd00::/120'],
    ['10.0.0.0/24', '10.0.0.0/24'],
  ];
  for (const [text, canonical] of cases) {
    it(`reads ${text} as ${canonical}`, () =>
      assert.equal(formatCidr(parseCidrMasked(text)), canonical));
  }
  for (const text of ['', 'x', '10.0.0.0/33', '10.0.0.256', ' 10.0.0.1', '10.0.0.1/']) {
    it(`rejects ${JSON.stringify(text)}`, () =>
      throwsCode(() => parseCidrMasked(text), 'NET_INVALID_CIDR'));
  }
});

describe('cidr arithmetic', () => {
  const c = (text: string): Cidr => parseCidr(text);

  it('sizes and last addresses', () => {
    assert.equal(cidrSize(c('10.0.0.0/24')), 256n);
    assert.equal(cidrSize(c('0.0.0.0/0')), 1n << 32n);
    assert.equal(cidrSize(c('10.0.0.1/32')), 1n);
    assert.equal(cidrSize(c('::/0')), 1n << 128n);
    assert.equal(cidrSize(c('fd00::/64')), 1n << 64n);
    assert.equal(formatIp({ family: 4, value: cidrLast(c('10.0.0.0/24')) }), '10.0.0.255');
    assert.equal(
      formatIp({ family: 6, value: cidrLast(c('::/0')) }),
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    );
  });

  it('containment and overlap, never across families', () => {
    assert.equal(cidrContainsIp(c('10.0.0.0/24'), parseIp('10.0.0.255')), true);
    assert.equal(cidrContainsIp(c('10.0.0.0/24'), parseIp('10.0.1.0')), false);
    assert.equal(cidrContainsIp(c('::/0'), parseIp('10.0.0.1')), false);
    assert.equal(cidrContainsIp(c('0.0.0.0/0'), parseIp('::ffff:10.0.0.1')), false);
    assert.equal(cidrContainsCidr(c('10.0.0.0/16'), c('10.0.3.0/24')), true);
    assert.equal(cidrContainsCidr(c('10.0.3.0/24'), c('10.0.0.0/16')), false);
    assert.equal(cidrContainsCidr(c('10.0.0.0/24'), c('10.0.0.0/24')), true);
    assert.equal(cidrsOverlap(c('10.0.3.0/24'), c('10.0.0.0/16')), true);
    assert.equal(cidrsOverlap(c('10.0.0.0/24'), c('10.0.1.0/24')), false);
    assert.equal(cidrsOverlap(c('0.0.0.0/0'), c('::/0')), false);
  });

  it('orders by family, base, prefix', () => {
    const sorted = ['fd00::/64', '10.0.0.0/24', '10.0.0.0/16', '9.0.0.0/8', '::/0']
      .map(c)
      .sort(compareCidrs);
    assert.deepEqual(sorted.map(formatCidr), [
      '9.0.0.0/8',
      '10.0.0.0/16',
      '10.0.0.0/24',
      '::/0',
      'fd00::/64',
    ]);
  });

  it('networkOf masks and checks the prefix', () => {
    assert.equal(formatCidr(networkOf(parseIp('10.244.166.130'), 26)), '10.244.166.128/26');
    assert.equal(formatCidr(networkOf(parseIp('fd00::1:2'), 0)), '::/0');
    throwsCode(() => networkOf(parseIp('10.0.0.1'), 33), 'NET_INVALID_PREFIX');
    throwsCode(() => networkOf(parseIp('10.0.0.1'), -1), 'NET_INVALID_PREFIX');
    throwsCode(() => networkOf(parseIp('10.0.0.1'), 1.5), 'NET_INVALID_PREFIX');
  });

  it('addressAt and ordinalOf are inverse inside the network', () => {
    const block = c('10.0.0.64/26');
    assert.equal(formatIp(addressAt(block, 0)), '10.0.0.64');
    assert.equal(formatIp(addressAt(block, 63n)), '10.0.0.127');
    assert.equal(ordinalOf(block, parseIp('10.0.0.100')), 36);
    const v6 = c('fd00:10:244:0:c11:b42f:f17e:a680/122');
    assert.equal(formatIp(addressAt(v6, 5)), 'fd00:10:244:0:c11:b42f:f17e:a685');
    assert.equal(ordinalOf(v6, parseIp('fd00:10:244:0:c11:b42f:f17e:a6bf')), 63);
  });

  it('addressAt and ordinalOf refuse what is outside', () => {
    const block = c('10.0.0.64/26');
    for (const ordinal of [-1, 64, 64n, -1n, 1.5, Number.NaN, Infinity]) {
      throwsCode(() => addressAt(block, ordinal), 'NET_OUT_OF_RANGE');
    }
    throwsCode(() => ordinalOf(block, parseIp('10.0.0.128')), 'NET_OUT_OF_RANGE');
    throwsCode(() => ordinalOf(block, parseIp('10.0.0.63')), 'NET_OUT_OF_RANGE');
    throwsCode(() => ordinalOf(block, parseIp('::1')), 'NET_FAMILY_MISMATCH');
    // A /64 has ordinals beyond Number.MAX_SAFE_INTEGER: ordinalOf refuses, offsetOf works.
    const pool = c('fd00::/64');
    const high = parseIp('fd00::ffff:ffff:ffff:ffff');
    throwsCode(() => ordinalOf(pool, high), 'NET_OUT_OF_RANGE');
    assert.equal(offsetOf(pool, high), (1n << 64n) - 1n);
  });
});

describe('cidr: properties', () => {
  it('networkOf -> text -> parseCidr round-trips', () => {
    fc.assert(
      fc.property(ipAndPrefix, ({ ip, prefix }) => {
        const cidr = networkOf(ip, prefix);
        assert.deepEqual(parseCidr(formatCidr(cidr)), cidr);
        assert.deepEqual(parseCidrMasked(formatCidr(cidr)), cidr);
      }),
      FC,
    );
  });

  it('an address with host bits is rejected with the masked network as the hint', () => {
    fc.assert(
      fc.property(ipAndPrefix, ({ ip, prefix }) => {
        const network = networkOf(ip, prefix);
        const text = `${formatIp(ip)}/${prefix}`;
        assert.deepEqual(parseCidrMasked(text), network);
        if (network.base === ip.value) {
          assert.deepEqual(parseCidr(text), network);
        } else {
          assert.throws(
            () => parseCidr(text),
            (err: unknown) =>
              isCidrpoolError(err, 'NET_HOST_BITS') && err.details.masked === formatCidr(network),
          );
        }
      }),
      FC,
    );
  });

  it('the network holds the address, at ordinal ip - base', () => {
    fc.assert(
      fc.property(ipAndPrefix, ({ ip, prefix }) => {
        const network = networkOf(ip, prefix);
        assert.ok(cidrContainsIp(network, ip));
        assert.deepEqual(addressAt(network, offsetOf(network, ip)), ip);
      }),
      FC,
    );
  });
});

describe('try-parsers on values read from stored JSON', () => {
  it('return undefined for non-strings instead of throwing', () => {
    for (const value of [5, null, undefined, {}, ['10.0.0.0/8']]) {
      assert.equal(tryParseCidr(value as unknown as string), undefined);
      assert.equal(tryParseIp(value as unknown as string), undefined);
    }
  });
});

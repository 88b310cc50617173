import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isCidrpoolError } from '../../src/errors/index.js';
import { formatIp, isIpv4Mapped, parseIp, tryParseIp } from '../../src/net/index.js';

// A fixed seed keeps CI deterministic; fast-check prints seed and counterexample on failure.
const FC = { seed: 20261121, numRuns: 500 } as const;

const ipv4 = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n });
const ipv6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
// Eight groups drawn mostly from {0, small}, so runs of zeros (and ties) are common.
const ipv6Groups = fc.array(
  fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 0xffff })),
  {
    minLength: 8,
    maxLength: 8,
  },
);
const fromGroups = (groups: number[]): bigint =>
  groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);

describe('parseIp / formatIp: table', () => {
  const valid: [string, 4 | 6, bigint, string][] = [
    ['0.0.0.0', 4, 0n, '0.0.0.0'],
    ['255.255.255.255', 4, 0xffffffffn, '255.255.255.255'],
    ['10.0.0.1', 4, 0x0a000001n, '10.0.0.1'],
    ['192.168.100.200', 4, 0xc0a864c8n, '192.168.100.200'],
    ['::', 6, 0n, '::'],
    ['::1', 6, 1n, '::1'],
    ['1::', 6, 1n << 112n, '1::'],
    ['2001:db8::1', 6, (0x20010db8n << 96n) | 1n, '2001:db8::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', 6, (0x20010db8n << 96n) | 1n, '2001:db8::1'],
    ['FD00::ABCD', 6, (0xfd00n << 112n) | 0xabcdn, 'fd00::abcd'],
    ['::ffff:1.2.3.4', 6, 0xffff01020304n, '::ffff:1.2.3.4'],
    ['::ffff:0102:0304', 6, 0xffff01020304n, '::ffff:1.2.3.4'],
    ['::1.2.3.4', 6, 0x01020304n, '::102:304'],
    ['1:2:3:4:5:6:1.2.3.4', 6, fromGroups([1, 2, 3, 4, 5, 6, 0x102, 0x304]), '1:2:3:4:5:6:102:304'],
    ['1:0:0:1:0:0:0:1', 6, fromGroups([1, 0, 0, 1, 0, 0, 0, 1]), '1:0:0:1::1'],
    // On a tie the first run is compressed (RFC 5952 §4.2.3).
    ['1:0:0:2:0:0:3:4', 6, fromGroups([1, 0, 0, 2, 0, 0, 3, 4]), '1::2:0:0:3:4'],
    // A single zero group is not compressed (RFC 5952 §4.2.2).
    ['1:0:2:3:4:5:6:7', 6, fromGroups([1, 0, 2, 3, 4, 5, 6, 7]), '1:0:2:3:4:5:6:7'],
    ['1:2:3:4:5:6:7::', 6, fromGroups([1, 2, 3, 4, 5, 6, 7, 0]), '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', 6, fromGroups([0, 2, 3, 4, 5, 6, 7, 8]), '0:2:3:4:5:6:7:8'],
    ['fe80::', 6, 0xfe80n << 112n, 'fe80::'],
    ['0:0:0:0:0:0:0:0', 6, 0n, '::'],
  ];
  for (const [text, family, value, canonical] of valid) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseIp(text), { family, value });
      assert.equal(formatIp(parseIp(text)), canonical);
    });
  }

  const invalid = [
    '',
    ' 10.0.0.1',
    '10.0.0.1 ',
    '10.0.0.1\n',
    '\t::1',
    '10.0.0.01',
    '010.0.0.1',
    '00.0.0.0',
    '256.0.0.0',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.',
    '1..2.3',
    '+1.2.3.4',
    '0x1.2.3.4',
    '1.2.3.4/32',
    'fe80::1%eth0',
    'fe80::1%1',
    ':::',
    '1:::2',
    '1::2::3',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '12345::',
    '00001::',
    'g::',
    ':1::',
    ':1:2:3:4:5:6:7:8',
    '1::2:',
    '1.2.3.4::',
    '1.2.3.4:1::',
    '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::ffff:1.2.3.04',
    '::ffff:1.2.3',
    '[::1]',
    'localhost',
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(tryParseIp(text), undefined);
      assert.throws(
        () => parseIp(text),
        (err: unknown) =>
          isCidrpoolError(err, 'NET_INVALID_IP') && err.message.includes(JSON.stringify(text)),
      );
    });
  }

  it('explains common mistakes in details.hint', () => {
    const hintOf = (text: string): unknown => {
      try {
        parseIp(text);
      } catch (err) {
        if (isCidrpoolError(err)) return err.details.hint;
      }
      return undefined;
    };
    assert.match(String(hintOf('10.0.0.01')), /leading zeros/);
    assert.match(String(hintOf('fe80::1%eth0')), /zone/);
    assert.match(String(hintOf(' 10.0.0.1')), /whitespace/);
  });

  it('knows IPv4-mapped addresses', () => {
    assert.equal(isIpv4Mapped(parseIp('::ffff:10.0.0.1')), true);
    assert.equal(isIpv4Mapped(parseIp('10.0.0.1')), false);
    assert.equal(isIpv4Mapped(parseIp('::10.0.0.1')), false);
  });
});

describe('parseIp / formatIp: properties', () => {
  it('IPv4 round-trips through text', () => {
    fc.assert(
      fc.property(ipv4, (value) => {
        assert.deepEqual(parseIp(formatIp({ family: 4, value })), { family: 4, value });
      }),
      FC,
    );
  });

  it('IPv6 round-trips through text', () => {
    fc.assert(
      fc.property(fc.oneof(ipv6, ipv6Groups.map(fromGroups)), (value) => {
        assert.deepEqual(parseIp(formatIp({ family: 6, value })), { family: 6, value });
      }),
      FC,
    );
  });

  it('IPv6 text is RFC 5952 canonical: it agrees with the WHATWG URL serializer', () => {
    // The URL standard's IPv6 serializer compresses the first longest run of >= 2 zero groups
    // and prints lower-case hex without leading zeros; it never prints a dotted tail, so
    // IPv4-mapped addresses are left out here (they are covered by the table).
    fc.assert(
      fc.property(fc.oneof(ipv6, ipv6Groups.map(fromGroups)), (value) => {
        fc.pre(value >> 32n !== 0xffffn);
        const text = formatIp({ family: 6, value });
        assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
      }),
      FC,
    );
  });

  it('every full, padded, upper-case spelling parses to the same address', () => {
    fc.assert(
      fc.property(ipv6Groups, (groups) => {
        const text = groups.map((g) => g.toString(16).toUpperCase().padStart(4, '0')).join(':');
        assert.deepEqual(parseIp(text), { family: 6, value: fromGroups(groups) });
      }),
      FC,
    );
  });
});

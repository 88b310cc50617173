// Pure block operations and the etcd JSON codecs (ipam-core.md §7 items 1-5 and 11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, parseIp } from '../../src/net/index.js';
import {
  assignFromBlock,
  assignOrdinal,
  bumpSequence,
  checkBlockInvariants,
  freeCount,
  garbageCollect,
  isEmpty,
  newBlock,
  releaseFromBlock,
  WINDOWS_RESERVED_HANDLE,
} from '../../src/ipam/block.js';
import {
  decodeAffinity,
  decodeBlock,
  decodeConfig,
  decodeHandle,
  encodeAffinity,
  encodeBlock,
  encodeConfig,
  encodeHandle,
  type Block,
} from '../../src/ipam/model.js';
import { parseJson, quoteGo, sortKeys, stringifyGo, type JsonValue } from '../../src/ipam/json.js';
import { createReservations } from '../../src/ipam/reservations.js';
import { isCidrpoolError } from '../../src/errors/index.js';

const SEQ = 1_780_000_000_123_456_789n; // > 2^53
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const fresh = () =>
  newBlock(parseCidr('10.0.0.0/26'), { sequenceNumber: SEQ, affinity: 'host:node1' });
const assign = (b = fresh(), num = 3) =>
  assignFromBlock(b, {
    num,
    handleId: 'h1',
    attrs: { node: 'node1' },
    affinity: 'host:node1',
    affinityCheck: false,
  });

test('§7.1 newBlock: 64 free ordinals, ascending, sequence number kept as bigint', () => {
  const b = fresh();
  assert.equal(b.allocations.length, 64);
  assert.ok(b.allocations.every((a) => a === null));
  assert.deepEqual(
    b.unallocated,
    Array.from({ length: 64 }, (_, i) => i),
  );
  assert.deepEqual(b.attributes, []);
  assert.equal(typeof b.sequenceNumber, 'bigint');
  assert.deepEqual(checkBlockInvariants(b, NOW), []);
});

test('§7.1 newBlock with the Windows reservation (3 at the start, 1 at the end)', () => {
  const b = newBlock(parseCidr('10.0.0.0/26'), {
    sequenceNumber: SEQ,
    hostReserved: {
      startOfBlock: 3,
      endOfBlock: 1,
      handle: WINDOWS_RESERVED_HANDLE,
      note: 'windows host rsvd',
    },
  });
  assert.deepEqual(b.allocations.slice(0, 4), [0, 0, 0, null]);
  assert.equal(b.allocations[63], 0);
  assert.deepEqual(
    b.unallocated,
    Array.from({ length: 60 }, (_, i) => i + 3),
  );
  assert.deepEqual(b.attributes, [
    { handleId: WINDOWS_RESERVED_HANDLE, secondary: { note: 'windows host rsvd' } },
  ]);
  assert.ok(isEmpty(b), 'Windows-reserved ordinals do not make a block non-empty');
  assert.deepEqual(checkBlockInvariants(b, NOW), []);
});

test('§7.2 assign 3: ordinals 0,1,2, one shared attribute, per-ordinal sequence number, +1 on write', () => {
  const { block, ordinals } = assign();
  assert.deepEqual(ordinals, [0, 1, 2]);
  assert.deepEqual(block.allocations.slice(0, 4), [0, 0, 0, null]);
  assert.equal(block.attributes.length, 1);
  assert.deepEqual(block.sequenceNumberForAllocation, { '0': SEQ, '1': SEQ, '2': SEQ });
  assert.equal(bumpSequence(block).sequenceNumber, SEQ + 1n);
  assert.deepEqual(block.unallocated[0], 3);
});

test('§7.3 release with cooldown 0: ordinal goes to the tail, attributes compacted', () => {
  const a = assign(fresh(), 1).block;
  const b = assignFromBlock(a, {
    num: 1,
    handleId: 'h2',
    affinity: 'host:node1',
    affinityCheck: false,
  }).block;
  const r = releaseFromBlock(b, [{ ordinal: 0 }], NOW, 0);
  assert.deepEqual(r.released, [0]);
  assert.equal(r.block.unallocated.at(-1), 0);
  assert.deepEqual(r.block.allocations.slice(0, 2), [null, 0]);
  assert.deepEqual(r.block.attributes, [{ handleId: 'h2' }]);
  assert.deepEqual(r.block.sequenceNumberForAllocation, { '1': SEQ });
  assert.deepEqual(checkBlockInvariants(r.block, NOW), []);
});

test('§7.3 release with cooldown 60 s: ordinal held by {releasedAt}, block not empty, freed after', () => {
  const a = assign(fresh(), 1).block;
  const r = releaseFromBlock(a, [{ ordinal: 0, handleId: 'h1' }], NOW, 60);
  assert.equal(r.block.allocations[0], 0);
  assert.deepEqual(r.block.attributes, [{ releasedAt: '2026-01-01T12:00:00Z' }]);
  assert.equal(isEmpty(r.block), false);
  assert.equal(r.countByHandle.get('h1'), 1);
  // Releasing it again reports it unallocated.
  assert.deepEqual(releaseFromBlock(r.block, [{ ordinal: 0 }], NOW, 60).unallocated, [0]);
  assert.equal(garbageCollect(r.block, 60, NOW + 30_000), r.block, 'still cooling');
  const later = garbageCollect(r.block, 60, NOW + 61_000);
  assert.equal(later.allocations[0], null);
  assert.equal(later.unallocated.at(-1), 0);
  assert.deepEqual(later.attributes, []);
  assert.ok(isEmpty(later));
});

test('§7.4 a sequence-number mismatch fails the whole batch, nothing changes', () => {
  const a = assign(fresh(), 2).block;
  assert.throws(
    () =>
      releaseFromBlock(
        a,
        [
          { ordinal: 0, sequenceNumber: SEQ },
          { ordinal: 1, sequenceNumber: SEQ + 5n },
        ],
        NOW,
        0,
      ),
    (e: unknown) => isCidrpoolError(e, 'IPAM_BAD_SEQUENCE_NUMBER'),
  );
  // A free ordinal with a non-zero requested number is a mismatch too, not "unallocated".
  assert.throws(
    () => releaseFromBlock(a, [{ ordinal: 9, sequenceNumber: SEQ }], NOW, 0),
    (e: unknown) => isCidrpoolError(e, 'IPAM_BAD_SEQUENCE_NUMBER'),
  );
  assert.throws(
    () => releaseFromBlock(a, [{ ordinal: 0, handleId: 'other' }], NOW, 0),
    (e: unknown) => isCidrpoolError(e, 'IPAM_BAD_HANDLE'),
  );
  assert.equal(
    releaseFromBlock(a, [{ ordinal: 0, sequenceNumber: SEQ }], NOW, 0).released.length,
    1,
  );
});

test('§7.5 reservations: reserved ordinals skipped but kept in place; whole block covered; unmasked CIDR', () => {
  const res = createReservations(['10.0.0.0/30']);
  const r = assignFromBlock(fresh(), {
    num: 2,
    affinity: 'host:node1',
    affinityCheck: false,
    reservations: res,
  });
  assert.deepEqual(r.ordinals, [4, 5]);
  assert.deepEqual(r.block.unallocated.slice(0, 4), [0, 1, 2, 3]);
  assert.equal(freeCount(r.block, res), 58);
  assert.equal(freeCount(fresh(), createReservations(['10.0.0.0/25'])), 0);
  assert.equal(
    freeCount(fresh(), createReservations(['10.0.0.5/24'])),
    0,
    'an unmasked CIDR reserves its network',
  );
  assert.equal(
    freeCount(fresh(), createReservations(['10.0.0.0/27', '10.0.0.32/27'])),
    0,
    'union covers the block',
  );
  assert.equal(freeCount(fresh(), createReservations(['10.0.0.1'])), 63, 'a bare IP is a /32');
});

test('assignOrdinal refuses allocated and cooling-down addresses; strict affinity checks', () => {
  const a = assign(fresh(), 1).block;
  assert.throws(
    () => assignOrdinal(a, 0, { affinity: 'host:node1', affinityCheck: false }),
    (e: unknown) => isCidrpoolError(e, 'IPAM_ALREADY_ASSIGNED'),
  );
  const cooling = releaseFromBlock(a, [{ ordinal: 0 }], NOW, 60).block;
  assert.throws(
    () => assignOrdinal(cooling, 0, { affinity: 'host:node1', affinityCheck: false }),
    (e: unknown) => isCidrpoolError(e, 'IPAM_ALREADY_ASSIGNED'),
  );
  assert.throws(
    () => assignOrdinal(a, 5, { affinity: 'host:node2', affinityCheck: true }),
    /Block host affinity does not match/,
  );
  assert.throws(
    () => assignFromBlock(a, { num: 1, affinity: 'host:node2', affinityCheck: true }),
    /Block affinity \(host:node1\) does not match provided \(node2:host\)/,
  );
  const b = assignOrdinal(a, 7, {
    handleId: 'h1',
    attrs: { node: 'node1' },
    affinity: 'host:node1',
    affinityCheck: true,
  });
  assert.equal(b.allocations[7], 0, 'the equal attribute is reused');
  assert.ok(!b.unallocated.includes(7));
});

test('§7.11 block JSON round-trips byte for byte, big sequence numbers exact, unknown fields kept', () => {
  const text =
    '{"cidr":"10.0.0.0/26","affinity":"host:node1","affinity_claim_time":"2026-01-01T00:00:00Z",' +
    `"allocations":[1,null,0${',null'.repeat(61)}],"unallocated":[1,3],` +
    '"attributes":[{"handle_id":"k8s-pod-network.abc","secondary":{"namespace":"default","node":"node1","pod":"p\\u003cx\\u003e"}},{"releasedAt":"2026-01-01T00:00:01Z"}],' +
    '"sequenceNumber":1780000000123456789,"sequenceNumberForAllocation":{"0":1780000000123456788,"2":1780000000123456789},' +
    '"deleted":false,"hostAffinity":"node1","strictAffinity":false}';
  const b = decodeBlock(text);
  assert.equal(b.sequenceNumber, 1780000000123456789n);
  assert.equal(b.sequenceNumberForAllocation['0'], 1780000000123456788n);
  assert.equal(b.attributes[0]!.secondary!.pod, 'p<x>');
  assert.equal(encodeBlock(b), text);
  const none = encodeBlock(newBlock(parseCidr('10.0.0.0/30'), { sequenceNumber: 5n }));
  assert.equal(
    none,
    '{"cidr":"10.0.0.0/30","affinity":null,"allocations":[null,null,null,null],"unallocated":[0,1,2,3],"attributes":[],"sequenceNumber":5,"sequenceNumberForAllocation":{},"deleted":false}',
  );
  assert.equal(typeof parseJson('9007199254740993'), 'bigint');
});

test('map keys are written in Go order (byte strings: "10" before "2"), not numeric order', () => {
  const b = assignFromBlock(fresh(), {
    num: 12,
    handleId: 'h1',
    attrs: { node: 'node1', '2': 'two', '10': 'ten' },
    affinity: 'host:node1',
    affinityCheck: false,
  }).block;
  const text = encodeBlock(b);
  const seqMap = Array.from({ length: 12 }, (_, i) => String(i))
    .sort()
    .map((k) => `"${k}":${SEQ}`)
    .join(',');
  assert.ok(text.includes(`"sequenceNumberForAllocation":{${seqMap}}`), text);
  assert.ok(text.includes('"secondary":{"10":"ten","2":"two","node":"node1"}'), text);
  assert.ok(seqMap.startsWith(`"0":${SEQ},"1":${SEQ},"10":${SEQ},"11":${SEQ},"2":`));
  assert.equal(encodeBlock(decodeBlock(text)), text);
  assert.equal(
    encodeHandle({
      block: { '10.0.0.64/26': 1, '10.0.0.0/26': 2, '9.0.0.0/26': 1 },
      deleted: false,
    }),
    '{"block":{"10.0.0.0/26":2,"10.0.0.64/26":1,"9.0.0.0/26":1},"deleted":false}',
  );
});

test('sequence numbers are read exactly even when an attribute value mimics the field', () => {
  const b = newBlock(parseCidr('10.0.0.0/30'), { sequenceNumber: 18446744073709551615n });
  const a = assignFromBlock(b, {
    num: 1,
    attrs: { note: '"sequenceNumber":5,"sequenceNumberForAllocation":{"0":1}' },
    affinity: 'host:n',
    affinityCheck: false,
  }).block;
  const text = encodeBlock(a);
  const back = decodeBlock(text);
  assert.equal(back.sequenceNumber, 18446744073709551615n);
  assert.deepEqual(back.sequenceNumberForAllocation, { '0': 18446744073709551615n });
  assert.equal(encodeBlock(back), text);
});

test('§7.11 affinity, handle and config JSON', () => {
  assert.equal(encodeAffinity('confirmed'), '{"state":"confirmed","deleted":false}');
  assert.deepEqual(decodeAffinity(''), { state: '', deleted: false });
  assert.deepEqual(decodeAffinity('{"state":"pending","deleted":"false"}'), {
    state: 'pending',
    deleted: false,
  });
  const h = '{"block":{"10.0.0.0/26":1},"deleted":false}';
  assert.equal(encodeHandle(decodeHandle(h)), h);
  const c = '{"strict_affinity":true,"maxBlocksPerHost":4,"ipCooldownSeconds":30}';
  assert.deepEqual(decodeConfig(c), {
    strictAffinity: true,
    autoAllocateBlocks: false,
    maxBlocksPerHost: 4,
    ipCooldownSeconds: 30,
  });
  assert.equal(encodeConfig(decodeConfig(c)), c);
  assert.equal(
    encodeConfig({
      strictAffinity: false,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 0,
      ipCooldownSeconds: 0,
    }),
    '{"auto_allocate_blocks":true}',
  );
});

test('IPv6 /122 block: ordinals map to addresses with bigint arithmetic', () => {
  const b = newBlock(parseCidr('fd00:10:244:0:c11:b42f:f17e:a680/122'), { sequenceNumber: SEQ });
  const r = assignFromBlock(b, { num: 2, affinity: 'host:n', affinityCheck: false });
  assert.deepEqual(r.ordinals, [0, 1]);
  assert.equal(parseIp('fd00:10:244:0:c11:b42f:f17e:a681').family, 6);
});

test('Go JSON: map keys in UTF-8 byte order, HTML characters and U+2028/9 escaped', () => {
  const keys = ['2', '10', 'a', 'B', '\uff61', '\u{1f980}', '\u00e9'];
  const map = Object.fromEntries(keys.map((k, i) => [k, i]));
  const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.deepEqual([...sortKeys(map).keys()], byBytes);
  assert.deepEqual([...sortKeys({ '2': 1, '10': 2, '1': 3 }).keys()], ['1', '10', '2']);
  assert.equal(quoteGo('a<b>&c\u2028\u2029"'), '"a\\u003cb\\u003e\\u0026c\\u2028\\u2029\\""');
  assert.equal(quoteGo('plain'), '"plain"');
  assert.equal(stringifyGo(sortKeys({ b: 'x', a: '<' })), '{"a":"\\u003c","b":"x"}');
});

test('block JSON round-trips for random blocks: decode(encode(b)) equals b, re-encodes to the same bytes', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const words = ['a', 'node1', '10', '2', 'p<x>', 'ü\u2028', '"q"', '𝒳', ''];
  for (let round = 0; round < 200; round++) {
    const size = [4, 16, 64][rnd(3)]!;
    const base = 2n ** BigInt(rnd(2) === 0 ? 62 : 20) + BigInt(rnd(1_000_000));
    const nAttrs = rnd(4);
    const attributes = Array.from({ length: nAttrs }, () => {
      const attr: Record<string, unknown> = {};
      if (rnd(4) > 0) attr.handleId = `k8s-pod-network.${rnd(1000)}`;
      if (rnd(2) === 0)
        attr.secondary = Object.fromEntries(
          Array.from({ length: rnd(4) }, () => [words[rnd(words.length)]!, words[rnd(9)]!]),
        );
      if (rnd(5) === 0) attr.alternateOwnerAttrs = { node: `n${rnd(9)}` };
      if (rnd(5) === 0) attr.releasedAt = '2026-01-01T00:00:01Z';
      return attr;
    });
    const allocations: (number | null)[] = [];
    const seqMap: Record<string, bigint> = {};
    const unallocated: number[] = [];
    for (let o = 0; o < size; o++) {
      if (nAttrs > 0 && rnd(2) === 0) {
        allocations.push(rnd(nAttrs));
        seqMap[String(o)] = base + BigInt(o);
      } else {
        allocations.push(null);
        unallocated.push(o);
      }
    }
    const extra: Record<string, JsonValue> = {};
    if (rnd(2) === 0) extra.hostAffinity = `node${rnd(9)}`;
    if (rnd(3) === 0) extra.strictAffinity = rnd(2) === 0;
    if (rnd(4) === 0) extra.future = { nested: [1, null, 'x'], big: 2n ** 63n + 7n };
    const b = {
      cidr: `10.0.${rnd(256)}.0/${32 - Math.log2(size)}`,
      affinity: rnd(3) === 0 ? null : `host:node${rnd(9)}`,
      ...(rnd(2) === 0 ? { affinityClaimTime: '2026-01-01T00:00:00Z' } : {}),
      allocations,
      unallocated,
      attributes,
      sequenceNumber: base + BigInt(size),
      sequenceNumberForAllocation: seqMap,
      deleted: rnd(9) === 0,
      extra,
    } as Block;
    const text = encodeBlock(b);
    const back = decodeBlock(text);
    assert.equal(encodeBlock(back), text, `round ${round}`);
    assert.deepEqual({ ...back }, b, `round ${round}`);
  }
});

test('decodeBlock: sequenceNumberForAllocation is exact on first access, assignable, copied by spreads, and checked at decode', () => {
  const text =
    '{"cidr":"10.0.0.0/30","affinity":null,"allocations":[0,0,null,null],"unallocated":[2,3],' +
    '"attributes":[{"handle_id":"h"}],"sequenceNumber":18446744073709551615,' +
    '"sequenceNumberForAllocation":{"0":18446744073709551614,"1":7,"3":null},"deleted":false}';
  const b = decodeBlock(text);
  const copy = { ...b };
  assert.deepEqual(copy.sequenceNumberForAllocation, {
    '0': 18446744073709551614n,
    '1': 7n,
    '3': 0n,
  });
  assert.equal(
    b.sequenceNumberForAllocation,
    copy.sequenceNumberForAllocation,
    'materialised once',
  );
  assert.equal(b.sequenceNumber, 18446744073709551615n);
  const c = decodeBlock(text) as { sequenceNumberForAllocation: Record<string, bigint> };
  c.sequenceNumberForAllocation = { '1': 1n };
  assert.deepEqual(c.sequenceNumberForAllocation, { '1': 1n });
  for (const bad of ['"x"', '1.5', '{"a":1}', 'true']) {
    assert.throws(
      () => decodeBlock(text.replace('"1":7', `"1":${bad}`)),
      (e: unknown) => isCidrpoolError(e) && e.code === 'IPAM_CORRUPT_VALUE',
      bad,
    );
  }
  assert.throws(
    () => decodeBlock(text.replace('"1":7', '"1":')),
    (e: unknown) => isCidrpoolError(e) && e.code === 'IPAM_CORRUPT_VALUE',
  );
});

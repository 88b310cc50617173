// ipam check on hand-written blocks (ipam-core.md §4.9): the counting pass and the per-address
// details built on demand must agree, across cooldown, Windows reservations, borrowed and
// invalid blocks, IPv6 and handle ids cleaned at `\r`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockKey, handleKey, IPAM_CONFIG_KEY } from '../../src/datastore/keys.js';
import { createIpam } from '../../src/ipam/index.js';
import {
  encodeBlock,
  encodeConfig,
  type Block,
  type BlockAttribute,
} from '../../src/ipam/model.js';
import { DEFAULT_IPAM_CONFIG } from '../../src/ipam/types.js';
import {
  openTempStore,
  putNode,
  putPool,
  putWorkloadEndpoint,
  testEnvironment,
} from '../helpers/ipam-fixtures.js';

const block = (
  cidr: string,
  affinity: string | null,
  allocations: (number | null)[],
  attributes: BlockAttribute[],
  seq: Record<string, bigint> = {},
): Block => ({
  cidr,
  affinity,
  allocations,
  unallocated: allocations.flatMap((a, o) => (a === null ? [o] : [])),
  attributes,
  sequenceNumber: 100n,
  sequenceNumberForAllocation: seq,
  deleted: false,
  extra: {},
});

test('ipam check: counts, problems and the per-address details agree', async () => {
  const t = await openTempStore();
  try {
    const { store } = t;
    // The clock is 2026-01-01T00:00:00Z; addresses cool down for 60 s.
    await store.put(
      IPAM_CONFIG_KEY,
      encodeConfig({ ...DEFAULT_IPAM_CONFIG, ipCooldownSeconds: 60 }),
    );
    await putPool(store, 'p4', { cidr: '10.0.0.0/24' });
    await putPool(store, 'p6', { cidr: 'fd00::/120' });
    const a = block(
      '10.0.0.0/30',
      'host:n1',
      [0, 1, 2, 3],
      [
        { handleId: 'h1', secondary: { namespace: 'default', node: 'n1', pod: 'p1' } },
        { handleId: 'Windows-Reserved-IPAM-Handle', secondary: { note: 'windows host rsvd' } },
        { releasedAt: '2025-12-31T23:00:00Z' }, // cooled down: freed on load
        { releasedAt: '2025-12-31T23:59:30Z' }, // still cooling down
      ],
      { '0': 11n, '1': 12n, '2': 13n, '3': 14n },
    );
    const b = block(
      '10.0.0.4/30',
      'host:n2',
      [0, 1, null, null],
      [
        { handleId: 'h2', secondary: { namespace: 'ns2', node: 'n1', pod: 'p2' } },
        { handleId: 'h3\rjunk', secondary: { node: 'n2' } },
      ],
      { '0': 21n, '1': 22n },
    );
    // Invalid: five ordinals in a /30; the fifth has no address.
    const c = block(
      '10.0.0.8/30',
      null,
      [null, null, null, null, 0],
      [{ handleId: 'h4', secondary: { node: 'n4' } }],
    );
    const d = block(
      'fd00::/126',
      'host:n3',
      [null, 0, null, null],
      [{ handleId: 'h6', secondary: { node: 'n3' } }],
    );
    await store.put(blockKey(4, a.cidr), encodeBlock(a));
    await store.put(blockKey(4, b.cidr), encodeBlock(b));
    await store.put(blockKey(4, c.cidr), encodeBlock(c));
    await store.put(blockKey(6, d.cidr), encodeBlock(d));
    for (const h of ['h1', 'h2', 'h6', 'stale'])
      await store.put(handleKey(h), '{"block":{},"deleted":false}');
    await putNode(store, 'n1', {}, { ipv4VXLANTunnelAddr: '10.0.0.1' });
    await putWorkloadEndpoint(store, 'ns2', 'w2', ['10.0.0.4/32']);
    await putWorkloadEndpoint(store, 'default', 'w6', ['fd00::1/128']);
    // An IPv4-mapped IPv6 address is not the IPv4 address.
    await putWorkloadEndpoint(store, 'default', 'wm', ['::ffff:10.0.0.5/128']);
    await putWorkloadEndpoint(store, 'default', 'wx', ['10.0.0.200/32', '10.9.0.1/32']);

    const report = await createIpam(store, testEnvironment()).check();
    assert.deepEqual(report.blocks, [
      { cidr: '10.0.0.0/30', affinity: 'host:n1', allocations: 3 },
      { cidr: '10.0.0.4/30', affinity: 'host:n2', allocations: 2 },
      { cidr: '10.0.0.8/30', allocations: 1 },
      { cidr: 'fd00::/126', affinity: 'host:n3', allocations: 1 },
    ]);
    assert.equal(report.allocationCount, 7);
    assert.deepEqual(report.invalidBlocks, [
      { cidr: '10.0.0.8/30', problems: ['has 5 allocations, expected 4'] },
    ]);
    assert.deepEqual(report.activePools, ['10.0.0.0/24', 'fd00::/120']);
    assert.equal(report.inUseCount, 6);
    assert.deepEqual(report.multipleOwners, ['10.0.0.1']);
    assert.deepEqual(report.notInPool, [
      { ip: '::ffff:10.0.0.5', owner: 'Workload(default/wm)' },
      { ip: '10.9.0.1', owner: 'Workload(default/wx)' },
    ]);
    assert.deepEqual(report.noAllocation, [{ ip: '10.0.0.200', owner: 'Workload(default/wx)' }]);
    assert.deepEqual(
      report.leakedHandles.map((h) => h.id),
      ['stale'],
    );
    assert.equal(report.handlesWithIps, 3);
    assert.deepEqual(report.missingHandles, ['h3']);
    assert.deepEqual(report.topNodes, [
      { node: 'n1', allocations: 2 },
      { node: 'n2', allocations: 1 },
      { node: 'n3', allocations: 1 },
    ]);
    assert.equal(report.maxNodeAllocations, 2);
    assert.equal(report.medianNodeAllocations, 1);
    // The address with two owners counts too (issue 15; Calico lists it but does not count it).
    assert.equal(report.problemCount, 2 + 2 + 1 + 1 + 1);
    // The count the text prints without building the list is the list's length.
    assert.equal(report.leakedCount, 2);

    // The details, built on first access.
    assert.deepEqual(
      report.leakedIps.map((x) => x.ip),
      ['10.0.0.0', '10.0.0.5'],
    );
    assert.equal(report.leakedIps, report.leakedIps, 'built once');
    assert.deepEqual(Object.keys(report.allocations), [
      '10.0.0.0',
      '10.0.0.1',
      '10.0.0.3',
      '10.0.0.4',
      '10.0.0.5',
      'fd00::1',
    ]);
    const one = (ip: string) => {
      const list = report.allocations[ip]!;
      assert.equal(list.length, 1);
      return list[0]!;
    };
    assert.deepEqual(one('10.0.0.4'), {
      ip: '10.0.0.4',
      blockCidr: '10.0.0.4/30',
      handle: 'h2',
      sequenceNumber: 21n,
      pod: 'p2',
      namespace: 'ns2',
      node: 'n1',
      attrs: { namespace: 'ns2', node: 'n1', pod: 'p2' },
      borrowed: true,
      coolingDown: false,
      inUse: true,
      owners: ['Workload(ns2/w2)'],
    });
    assert.deepEqual(one('10.0.0.1').owners, ['Node(n1)', 'Reserved for Windows']);
    assert.equal(one('10.0.0.3').coolingDown, true);
    assert.equal(one('10.0.0.3').inUse, false);
    assert.equal(one('10.0.0.3').sequenceNumber, 14n);
    assert.equal(one('10.0.0.5').handle, 'h3\rjunk');
    assert.equal(one('10.0.0.5').borrowed, false);
    assert.deepEqual(one('fd00::1').owners, ['Workload(default/w6)']);
  } finally {
    await t.close();
  }
});

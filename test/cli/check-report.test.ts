// Unit tests of the ipam check report file: exact sequence numbers and the intersection rules
// of `ipam release --from-report` (surfaces.md §2.2).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeReport,
  encodeReport,
  leakedHandlesInAll,
  leakedInAll,
  type CheckReportFile,
} from '../../src/cli/check-report.js';
import { goTimestamp } from '../../src/cli/commands/ipam-assign.js';
import { mergePatch } from '../../src/cli/commands/patch.js';
import { endpointName, hostInterfaceName } from '../../src/cli/workload.js';

const report = (
  allocations: CheckReportFile['allocations'],
  handles: CheckReportFile['leakedHandles'] = [],
): CheckReportFile => ({
  version: '0.1.0',
  clusterGUID: 'g',
  datastoreLocked: true,
  clusterInformationRevision: '5',
  clusterType: 'cidrpool,embedded',
  allocations,
  leakedHandles: handles,
});

describe('check report', () => {
  it('keeps uint64 sequence numbers exact through a file', () => {
    const seq = 1795241437196449594n;
    const text = encodeReport(
      report({
        '10.0.0.1': [
          { ip: '10.0.0.1', handle: 'h', sequenceNumber: seq, inUse: false, owners: null },
        ],
      }),
    );
    assert.match(text, /"sequenceNumber": 1795241437196449594,/);
    const back = decodeReport(text);
    assert.equal(BigInt(back.allocations['10.0.0.1']![0]!.sequenceNumber!), seq);
  });

  it('releases only what every report calls leaked, with the same handle and sequence number', () => {
    const leak = { ip: '10.0.0.1', handle: 'h1', sequenceNumber: '7', inUse: false, owners: null };
    const a = report({
      '10.0.0.1': [leak],
      '10.0.0.2': [{ ...leak, ip: '10.0.0.2', handle: 'h2' }],
    });
    const b = report({
      '10.0.0.1': [leak],
      '10.0.0.2': [{ ...leak, ip: '10.0.0.2', handle: 'h2', inUse: true }],
    });
    assert.deepEqual(
      leakedInAll([a, b]).map((x) => x.ip),
      ['10.0.0.1'],
    );
    const c = report({ '10.0.0.1': [{ ...leak, sequenceNumber: '8' }] });
    assert.deepEqual(leakedInAll([a, c]), []);
    const cooling = report({ '10.0.0.1': [{ ...leak, coolingDown: true }] });
    assert.deepEqual(leakedInAll([cooling]), []);
  });

  it('deletes only handles leaked in every report at the same revision', () => {
    const a = report({}, [
      { ID: 'h1', Revision: '3' },
      { ID: 'h2', Revision: '4' },
    ]);
    const b = report({}, [
      { ID: 'h1', Revision: '3' },
      { ID: 'h2', Revision: '9' },
    ]);
    assert.deepEqual(
      leakedHandlesInAll([a, b]).map((h) => h.ID),
      ['h1'],
    );
  });
});

describe('small CLI helpers', () => {
  it('writes timestamps in Go time.String form', () => {
    assert.equal(
      goTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 120)),
      '2026-01-02 03:04:05.12 +0000 UTC',
    );
    assert.equal(goTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 0)), '2026-01-02 03:04:05 +0000 UTC');
  });
  it("names endpoints as Calico's CNI plugin does", () => {
    assert.equal(endpointName('node1', 'my-pod', 'eth0'), 'node1-k8s-my--pod-eth0');
    assert.match(hostInterfaceName('default', 'nginx'), /^cali[0-9a-f]{11}$/);
  });
  it('merges patches map by map, replacing lists and dropping nulls', () => {
    const merged = mergePatch(
      {
        metadata: { labels: { a: '1', b: '2' } },
        spec: { allowedUses: ['Workload', 'Tunnel'], natOutgoing: true },
      },
      { metadata: { labels: { b: null, c: '3' } }, spec: { allowedUses: ['Tunnel'] } },
    );
    assert.deepEqual(merged, {
      metadata: { labels: { a: '1', c: '3' } },
      spec: { allowedUses: ['Tunnel'], natOutgoing: true },
    });
  });
});

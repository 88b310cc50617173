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
import { toReportFile } from '../../src/cli/commands/ipam-check.js';
import { renderCheck } from '../../src/cli/output/ipam-check.js';
import type { CheckAllocation, CheckReport } from '../../src/ipam/types.js';
import { mergePatch } from '../../src/cli/commands/patch.js';
import { endpointNameOf, hostInterfaceName } from '../../src/client/workload-endpoint.js';

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

describe('ipam check output (calicoctl check.go)', () => {
  const alloc = (ip: string, inUse: boolean, owners: string[]): CheckAllocation => ({
    ip,
    blockCidr: '10.0.0.0/26',
    handle: 'h',
    sequenceNumber: 1n,
    attrs: { node: 'n1' },
    inUse,
    borrowed: false,
    coolingDown: false,
    owners,
  });
  const used = alloc('10.0.0.1', true, ['Workload(a/w1)', 'Workload(b/w2)']);
  const leaked = alloc('10.0.0.2', false, []);
  const report: CheckReport = {
    staleEndpoints: [],
    foreignEndpointCount: 0,
    blocks: [{ cidr: '10.0.0.0/26', affinity: 'host:n1', allocations: 2 }],
    allocationCount: 2,
    activePools: ['10.0.0.0/24'],
    nodeTunnelIps: [{ ip: '10.0.0.9', owner: 'Node(n1)' }],
    workloadIps: [
      { ip: '10.0.0.1', owner: 'Workload(a/w1)' },
      { ip: '10.0.0.1', owner: 'Workload(b/w2)' },
    ],
    inUseCount: 2,
    topNodes: [{ node: 'n1', allocations: 2 }],
    nodeAllocations: [{ node: 'n1', allocations: 2 }],
    maxNodeAllocations: 2,
    medianNodeAllocations: 2,
    leakedIps: [leaked],
    multipleOwners: ['10.0.0.1'],
    notInPool: [],
    noAllocation: [{ ip: '10.0.0.9', owner: 'Node(n1)' }],
    leakedHandles: [{ id: 'gone', revision: '4' }],
    handlesWithIps: 1,
    missingHandles: [],
    invalidBlocks: [],
    allocations: { '10.0.0.1': [used], '10.0.0.2': [leaked] },
    leakedCount: 1,
    problemCount: 3,
  };

  it('lists allocations under their block and in-use IPs under their source, as they load', () => {
    const lines = renderCheck(report, { showProblemIps: false, showAllIps: true }).split('\n');
    const at = (text: string): number => {
      const i = lines.indexOf(text);
      assert.ok(i >= 0, `missing line: ${text}`);
      return i;
    };
    const block = at(' IPAM block 10.0.0.0/26 affinity=host:n1:');
    assert.equal(at('  10.0.0.1 allocated; attrs Main:h Extra:node=n1'), block + 1);
    assert.equal(at('  10.0.0.2 allocated; attrs Main:h Extra:node=n1'), block + 2);
    assert.equal(at('  10.0.0.9 belongs to Node(n1)'), at('Loading all nodes.') + 1);
    assert.equal(
      at('  10.0.0.1 belongs to Workload(a/w1)'),
      at('Loading all workload endpoints.') + 1,
    );
    const inUseScan = at(
      'Scanning for IPs that are in use by a workload or node but not allocated in IPAM...',
    );
    assert.equal(at('  10.0.0.1 has multiple owners.'), inUseScan + 1);
    assert.equal(
      at('  10.0.0.2 leaked; attrs Main:h Extra:node=n1'),
      at('Scanning for IPs that are allocated but not actually in use...') + 1,
    );
    assert.ok(at("  gone doesn't have any active IPs.") > 0);
  });

  it('writes leaked handles with the UID key calicoctl writes (null outside Kubernetes)', () => {
    const file = toReportFile(report, { guid: 'g', locked: true, revision: '7', type: 't' });
    assert.equal(
      encodeReport(file).includes(
        '"leakedHandles": [\n    {\n      "ID": "gone",\n      "UID": null,\n      "Revision": "4"\n    }\n  ]',
      ),
      true,
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
    const pod = {
      orchestrator: 'k8s',
      namespace: 'default',
      pod: 'my-pod',
      containerId: 'c',
    } as const;
    assert.equal(endpointNameOf('node1', pod, 'eth0'), 'node1-k8s-my--pod-eth0');
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

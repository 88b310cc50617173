// Every IPPool rule of ipam-core.md §1.3 that needs no datastore (1-18) and the update rule 21,
// valid and invalid, IPv4 and IPv6.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  POOL_MESSAGES as M,
  META_MESSAGES,
  validateResource,
  validateUpdate,
} from '../../src/resources/index.js';
import { API_VERSION_V3, type IPPool, type IPPoolSpec } from '../../src/resources/types.js';

const pool = (spec: Partial<IPPoolSpec>, name = 'p1'): IPPool => ({
  apiVersion: API_VERSION_V3,
  kind: 'IPPool',
  metadata: { name },
  spec: spec as IPPoolSpec,
});

/** [path, message] of every issue, for exact comparison. */
const issuesOf = (p: IPPool): [string, string][] =>
  validateResource(p).map((i) => [i.path, i.message]);

interface Case {
  readonly rule: string;
  readonly pool: IPPool;
  readonly expect: [string, string][];
}

const V4 = '10.0.0.0/16';
const V6 = 'fd00:1::/64';

const cases: Case[] = [
  // Valid pools.
  { rule: 'valid IPv4', pool: pool({ cidr: V4 }), expect: [] },
  { rule: 'valid IPv6', pool: pool({ cidr: V6 }), expect: [] },
  {
    rule: 'valid, every field',
    pool: pool({
      cidr: '192.168.0.0/16',
      vxlanMode: 'CrossSubnet',
      ipipMode: 'Never',
      natOutgoing: true,
      disabled: false,
      disableBGPExport: true,
      blockSize: 24,
      nodeSelector: 'zone == "a"',
      namespaceSelector: 'team == "x"',
      allowedUses: ['Workload'],
      assignmentMode: 'Manual',
    }),
    expect: [],
  },
  // Rule 1.
  { rule: '1 cidr missing', pool: pool({}), expect: [['spec.cidr', M.cidrRequired]] },
  { rule: '1 cidr empty', pool: pool({ cidr: '' }), expect: [['spec.cidr', M.cidrRequired]] },
  // Rule 2.
  { rule: '2 not a CIDR', pool: pool({ cidr: 'ten/8' }), expect: [['spec.cidr', M.cidrInvalid]] },
  { rule: '2 bare IPv4', pool: pool({ cidr: '10.0.0.0' }), expect: [['spec.cidr', M.cidrInvalid]] },
  { rule: '2 bare IPv6', pool: pool({ cidr: 'fd00::' }), expect: [['spec.cidr', M.cidrInvalid]] },
  {
    rule: '2 prefix too long v4',
    pool: pool({ cidr: '10.0.0.0/33' }),
    expect: [['spec.cidr', M.cidrInvalid]],
  },
  {
    rule: '2 prefix too long v6',
    pool: pool({ cidr: 'fd00::/129' }),
    expect: [['spec.cidr', M.cidrInvalid]],
  },
  // Rule 3.
  {
    rule: '3 host bits v4',
    pool: pool({ cidr: '10.0.0.1/16' }),
    expect: [['spec.cidr', M.cidrNotMasked]],
  },
  {
    rule: '3 host bits v6',
    pool: pool({ cidr: 'fd00::1/64' }),
    expect: [['spec.cidr', M.cidrNotMasked]],
  },
  // Rules 4 and 5.
  {
    rule: '4 link-local inside',
    pool: pool({ cidr: '169.254.0.0/24' }),
    expect: [['spec.cidr', M.linkLocal4]],
  },
  {
    rule: '4 link-local around',
    pool: pool({ cidr: '169.0.0.0/8' }),
    expect: [['spec.cidr', M.linkLocal4]],
  },
  { rule: '4 next to link-local', pool: pool({ cidr: '169.255.0.0/16' }), expect: [] },
  {
    rule: '5 link-local v6 inside',
    pool: pool({ cidr: 'fe80::/64' }),
    expect: [['spec.cidr', M.linkLocal6]],
  },
  {
    rule: '5 link-local v6 around',
    pool: pool({ cidr: 'fe00::/7' }),
    expect: [['spec.cidr', M.linkLocal6]],
  },
  { rule: '5 next to link-local v6', pool: pool({ cidr: 'fec0::/10' }), expect: [] },
  // Rule 6.
  {
    rule: '6 v4 19',
    pool: pool({ cidr: '10.0.0.0/8', blockSize: 19 }),
    expect: [['spec.blockSize', M.blockSizeRange]],
  },
  { rule: '6 v4 20', pool: pool({ cidr: '10.0.0.0/8', blockSize: 20 }), expect: [] },
  { rule: '6 v4 32', pool: pool({ cidr: '10.0.0.0/8', blockSize: 32 }), expect: [] },
  {
    rule: '6 v4 33',
    pool: pool({ cidr: '10.0.0.0/8', blockSize: 33 }),
    expect: [['spec.blockSize', M.blockSizeRange]],
  },
  { rule: '6 v4 0 means default', pool: pool({ cidr: V4, blockSize: 0 }), expect: [] },
  {
    rule: '6 v4 given a v6 size',
    pool: pool({ cidr: V4, blockSize: 122 }),
    expect: [['spec.blockSize', M.blockSizeRange]],
  },
  {
    rule: '6 v6 115',
    pool: pool({ cidr: V6, blockSize: 115 }),
    expect: [['spec.blockSize', M.blockSizeRange]],
  },
  { rule: '6 v6 116', pool: pool({ cidr: V6, blockSize: 116 }), expect: [] },
  { rule: '6 v6 128', pool: pool({ cidr: V6, blockSize: 128 }), expect: [] },
  {
    rule: '6 v6 given a v4 size',
    pool: pool({ cidr: V6, blockSize: 26 }),
    expect: [['spec.blockSize', M.blockSizeRange]],
  },
  {
    rule: '6 no family, out of 0..128',
    pool: pool({ cidr: 'x', blockSize: 129 }),
    expect: [
      ['spec.cidr', M.cidrInvalid],
      ['spec.blockSize', M.blockSizeSchema],
    ],
  },
  // Rule 7.
  {
    rule: '7 v4 /27 with default /26',
    pool: pool({ cidr: '10.0.0.0/27' }),
    expect: [['spec.cidr', M.poolTooSmall]],
  },
  { rule: '7 v4 /26 is one block', pool: pool({ cidr: '10.0.0.0/26' }), expect: [] },
  {
    rule: '7 v4 /28 with blockSize 28',
    pool: pool({ cidr: '10.0.0.0/28', blockSize: 28 }),
    expect: [],
  },
  {
    rule: '7 v4 disabled may be small',
    pool: pool({ cidr: '10.0.0.0/30', disabled: true }),
    expect: [],
  },
  {
    rule: '7 v6 /123',
    pool: pool({ cidr: 'fd00::/123' }),
    expect: [['spec.cidr', M.poolTooSmall]],
  },
  { rule: '7 v6 disabled /128', pool: pool({ cidr: 'fd00::/128', disabled: true }), expect: [] },
  // Rule 8.
  {
    rule: '8 both Always',
    pool: pool({ cidr: V4, ipipMode: 'Always', vxlanMode: 'Always' }),
    expect: [['spec.vxlanMode', M.ipipAndVxlan]],
  },
  {
    rule: '8 CrossSubnet both',
    pool: pool({ cidr: V4, ipipMode: 'CrossSubnet', vxlanMode: 'CrossSubnet' }),
    expect: [['spec.vxlanMode', M.ipipAndVxlan]],
  },
  {
    rule: '8 one Never',
    pool: pool({ cidr: V4, ipipMode: 'Always', vxlanMode: 'Never' }),
    expect: [],
  },
  {
    rule: '8 both on v6 (and 9)',
    pool: pool({ cidr: V6, ipipMode: 'Always', vxlanMode: 'Always' }),
    expect: [
      ['spec.vxlanMode', M.ipipAndVxlan],
      ['spec.ipipMode', M.ipipOnV6],
    ],
  },
  // Rule 9.
  {
    rule: '9 IPIP on v6',
    pool: pool({ cidr: V6, ipipMode: 'Always' }),
    expect: [['spec.ipipMode', M.ipipOnV6]],
  },
  {
    rule: '9 IPIP CrossSubnet on v6',
    pool: pool({ cidr: V6, ipipMode: 'CrossSubnet' }),
    expect: [['spec.ipipMode', M.ipipOnV6]],
  },
  {
    rule: '9 VXLAN on v6 is fine',
    pool: pool({ cidr: V6, vxlanMode: 'Always', ipipMode: 'Never' }),
    expect: [],
  },
  // Rule 10.
  {
    rule: '10 unknown use',
    pool: pool({ cidr: V4, allowedUses: ['Workload', 'Pods' as never] }),
    expect: [['spec.allowedUses[1]', M.unknownUse('Pods')]],
  },
  {
    rule: '10 unknown use v6',
    pool: pool({ cidr: V6, allowedUses: ['workload' as never] }),
    expect: [['spec.allowedUses[0]', M.unknownUse('workload')]],
  },
  {
    rule: '10 duplicate use',
    pool: pool({ cidr: V4, allowedUses: ['Tunnel', 'Tunnel'] }),
    expect: [['spec.allowedUses[1]', M.duplicateUse]],
  },
  // Rule 11.
  {
    rule: '11 LB + Workload',
    pool: pool({ cidr: V4, allowedUses: ['LoadBalancer', 'Workload'] }),
    expect: [['spec.allowedUses', M.loadBalancerExclusive]],
  },
  {
    rule: '11 LB + Tunnel v6',
    pool: pool({ cidr: V6, allowedUses: ['Tunnel', 'LoadBalancer'] }),
    expect: [['spec.allowedUses', M.loadBalancerExclusive]],
  },
  { rule: '11 LB alone v4', pool: pool({ cidr: V4, allowedUses: ['LoadBalancer'] }), expect: [] },
  { rule: '11 LB alone v6', pool: pool({ cidr: V6, allowedUses: ['LoadBalancer'] }), expect: [] },
  // Rule 12.
  {
    rule: '12 LB + IPIP',
    pool: pool({ cidr: V4, allowedUses: ['LoadBalancer'], ipipMode: 'Always' }),
    expect: [['spec.ipipMode', M.loadBalancerEncap]],
  },
  {
    rule: '12 LB + VXLAN v6',
    pool: pool({ cidr: V6, allowedUses: ['LoadBalancer'], vxlanMode: 'CrossSubnet' }),
    expect: [['spec.vxlanMode', M.loadBalancerEncap]],
  },
  // Rule 13.
  {
    rule: '13 LB + disableBGPExport',
    pool: pool({ cidr: V4, allowedUses: ['LoadBalancer'], disableBGPExport: true }),
    expect: [['spec.disableBGPExport', M.loadBalancerBgpExport]],
  },
  {
    rule: '13 LB v6 + disableBGPExport',
    pool: pool({ cidr: V6, allowedUses: ['LoadBalancer'], disableBGPExport: true }),
    expect: [['spec.disableBGPExport', M.loadBalancerBgpExport]],
  },
  // Rule 14.
  {
    rule: '14 LB + other nodeSelector',
    pool: pool({ cidr: V4, allowedUses: ['LoadBalancer'], nodeSelector: 'zone == "a"' }),
    expect: [['spec.nodeSelector', M.loadBalancerNodeSelector]],
  },
  {
    rule: '14 LB + all() (spaces differ)',
    pool: pool({ cidr: V6, allowedUses: ['LoadBalancer'], nodeSelector: ' all()' }),
    expect: [['spec.nodeSelector', M.loadBalancerNodeSelector]],
  },
  {
    rule: '14 LB + all()',
    pool: pool({ cidr: V4, allowedUses: ['LoadBalancer'], nodeSelector: 'all()' }),
    expect: [],
  },
  // Rule 15.
  {
    rule: '15 Tunnel + namespaceSelector',
    pool: pool({ cidr: V4, allowedUses: ['Tunnel'], namespaceSelector: 'a == "b"' }),
    expect: [['spec.namespaceSelector', M.tunnelNamespaceSelector]],
  },
  {
    rule: '15 default uses include Tunnel',
    pool: pool({ cidr: V6, namespaceSelector: 'a == "b"' }),
    expect: [['spec.namespaceSelector', M.tunnelNamespaceSelector]],
  },
  {
    rule: '15 Workload + namespaceSelector',
    pool: pool({ cidr: V6, allowedUses: ['Workload'], namespaceSelector: 'a == "b"' }),
    expect: [],
  },
  // Rule 16.
  {
    rule: '16 global() nodeSelector',
    pool: pool({ cidr: V4, nodeSelector: 'global()' }),
    expect: [['spec.nodeSelector', M.globalSelector('nodeSelector')]],
  },
  {
    rule: '16 global( inside a string',
    pool: pool({ cidr: V6, allowedUses: ['Workload'], namespaceSelector: 'a == "global("' }),
    expect: [['spec.namespaceSelector', M.globalSelector('namespaceSelector')]],
  },
  // Rule 17.
  {
    rule: '17 nodeSelector syntax',
    pool: pool({ cidr: V4, nodeSelector: 'zone ==' }),
    expect: [['spec.nodeSelector', '*']],
  },
  {
    rule: '17 namespaceSelector syntax',
    pool: pool({ cidr: V6, allowedUses: ['Workload'], namespaceSelector: 'has(' }),
    expect: [['spec.namespaceSelector', '*']],
  },
  { rule: '17 nodeSelector !all()', pool: pool({ cidr: V4, nodeSelector: '!all()' }), expect: [] },
  // Rule 18.
  {
    rule: '18 upper case name',
    pool: pool({ cidr: V4 }, 'Pool1'),
    expect: [['metadata.name', META_MESSAGES.nameDns1123]],
  },
  {
    rule: '18 underscore',
    pool: pool({ cidr: V6 }, 'my_pool'),
    expect: [['metadata.name', META_MESSAGES.nameDns1123]],
  },
  {
    rule: '18 254 characters',
    pool: pool({ cidr: V4 }, 'a'.repeat(254)),
    expect: [['metadata.name', META_MESSAGES.nameTooLong]],
  },
  {
    rule: '18 253 characters',
    pool: pool({ cidr: V4 }, `${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(61)),
    expect: [],
  },
  { rule: '18 dotted name', pool: pool({ cidr: V4 }, 'my.ippool-1'), expect: [] },
  {
    rule: '18 missing name',
    pool: pool({ cidr: V4 }, ''),
    expect: [['metadata.name', META_MESSAGES.nameRequired]],
  },
];

describe('IPPool validation rules 1-18', () => {
  for (const c of cases) {
    it(`${c.rule}: ${c.expect.length === 0 ? 'valid' : c.expect.map((e) => e[0]).join(', ')}`, () => {
      const got = issuesOf(c.pool);
      // '*' stands for a message written by another module (selector syntax errors).
      const expected = c.expect.map(([p, m], i) => [p, m === '*' ? (got[i]?.[1] ?? m) : m]);
      assert.deepEqual(got, expected);
    });
  }

  it('collects every issue of one pool, each with value and hint', () => {
    const issues = validateResource(
      pool({ cidr: '10.0.0.7/24', blockSize: 33, ipipMode: 'Always', vxlanMode: 'Always' }, 'P'),
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      ['metadata.name', 'spec.cidr', 'spec.blockSize', 'spec.vxlanMode'],
    );
    const cidr = issues.find((i) => i.path === 'spec.cidr')!;
    assert.equal(cidr.value, '10.0.0.7/24');
    assert.equal(
      cidr.hint,
      'IPPool CIDR is not strictly masked: the network address is "10.0.0.0/24"',
    );
    assert.match(
      issues.find((i) => i.path === 'spec.blockSize')!.hint!,
      /IPv4 block size must be between 20 and 32 \(default 26\)/,
    );
  });

  it('gives the masked IPv6 network as the hint', () => {
    const [issue] = validateResource(pool({ cidr: 'FD00:0:0:0::5/64' }));
    assert.equal(
      issue?.hint,
      'IPPool CIDR is not strictly masked: the network address is "fd00::/64"',
    );
  });

  it('explains how to fix a pool smaller than a block', () => {
    const [issue] = validateResource(pool({ cidr: '10.0.0.0/28' }));
    assert.match(issue!.hint!, /at most 26, a blockSize of at least 28, or disabled: true/);
  });

  it('rejects wrong types and unknown fields before the rules', () => {
    const bad = pool({ cidr: V4, blockSize: '26' as never, ipipMode: 'always' as never });
    (bad.spec as unknown as Record<string, unknown>)['nat-outgoing'] = true;
    assert.deepEqual(
      validateResource(bad).map((i) => i.path),
      ['spec.blockSize', 'spec.ipipMode', 'spec.nat-outgoing'],
    );
  });

  it('rejects a namespace on a cluster-scoped kind', () => {
    const p = pool({ cidr: V4 });
    p.metadata.namespace = 'default';
    assert.deepEqual(issuesOf(p), [
      ['metadata.namespace', META_MESSAGES.namespaceNotAllowed('IPPool')],
    ]);
  });
});

describe('IPPool update rule 21', () => {
  const old4 = pool({ cidr: V4, blockSize: 26 });
  const old6 = pool({ cidr: 'fd00:1::/64' });
  const lb = pool({ cidr: V4, allowedUses: ['LoadBalancer'] });
  const table: [string, IPPool, IPPool, [string, string][]][] = [
    ['same pool', old4, pool({ cidr: V4 }), []],
    [
      'other fields change freely',
      old4,
      pool({
        cidr: V4,
        natOutgoing: true,
        disabled: true,
        vxlanMode: 'Always',
        nodeSelector: 'a == "b"',
        assignmentMode: 'Manual',
      }),
      [],
    ],
    ['cidr changed v4', old4, pool({ cidr: '10.1.0.0/16' }), [['spec.cidr', M.cidrImmutable]]],
    ['cidr changed v6', old6, pool({ cidr: 'fd00:2::/64' }), [['spec.cidr', M.cidrImmutable]]],
    ['cidr rewritten in canonical form', old6, pool({ cidr: 'FD00:1:0::/64' }), []],
    [
      'blockSize changed',
      old4,
      pool({ cidr: V4, blockSize: 24 }),
      [['spec.blockSize', M.blockSizeImmutable]],
    ],
    ['blockSize given as its default', old6, pool({ cidr: 'fd00:1::/64', blockSize: 122 }), []],
    [
      'blockSize changed v6',
      old6,
      pool({ cidr: 'fd00:1::/64', blockSize: 120 }),
      [['spec.blockSize', M.blockSizeImmutable]],
    ],
    [
      'away from LoadBalancer',
      lb,
      pool({ cidr: V4, allowedUses: ['Workload'] }),
      [['spec.allowedUses', M.loadBalancerSticky]],
    ],
    [
      'LoadBalancer to default uses',
      lb,
      pool({ cidr: V4 }),
      [['spec.allowedUses', M.loadBalancerSticky]],
    ],
    ['to LoadBalancer is allowed', old4, pool({ cidr: V4, allowedUses: ['LoadBalancer'] }), []],
  ];
  for (const [name, before, after, expected] of table) {
    it(name, () => {
      assert.deepEqual(
        validateUpdate(before, after).map((i) => [i.path, i.message]),
        expected,
      );
    });
  }
});

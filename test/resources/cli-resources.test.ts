// Spawn tests of resource behaviour the seed documents and the spec describe, through the real
// CLI: what a user who writes the manifests of seeds 000-002 sees.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox, type Sandbox } from '../cli/support.js';

const v1Pool = (cidr: string, spec: string): string =>
  `apiVersion: v1\nkind: ipPool\nmetadata:\n  cidr: ${cidr}\nspec:\n${spec}`;

describe('resources through the CLI', () => {
  let sb: Sandbox;
  before(() => {
    sb = createSandbox();
  });
  after(() => sb.cleanup());

  it('v1 ipPool: ipip.enabled defaults to true when the ipip object is given (seed 000)', async () => {
    const path = sb.write(
      'v1-mode.yaml',
      v1Pool('10.7.0.0/16', '  ipip:\n    mode: cross-subnet\n'),
    );
    const out = await sb.ok(['convert', '-f', path, '-o', 'json']);
    assert.equal(JSON.parse(out).spec.ipipMode, 'CrossSubnet');
    await sb.ok(['create', '-f', path]);
    const got = JSON.parse(await sb.ok(['get', 'ippool', '10-7-0-0-16', '-o', 'json']));
    assert.equal(got.spec.ipipMode, 'CrossSubnet');
    const none = sb.write('v1-none.yaml', v1Pool('10.8.0.0/16', '  nat-outgoing: true\n'));
    assert.equal(
      JSON.parse(await sb.ok(['convert', '-f', none, '-o', 'json'])).spec.ipipMode,
      'Never',
    );
    const v6 = sb.write('v1-v6.yaml', v1Pool('fd00:7::/64', '  ipip: {}\n'));
    const res = await sb.run(['convert', '-f', v6]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /IPIP is not supported on an IPv6 IP pool/);
  });

  it("prints a Node's JSON in Calico's NodeSpec order, labels sorted; wireguardPublicKey is status", async () => {
    const node = `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: order-1
  labels: {zone: a, arch: amd64}
spec:
  addresses: [{address: 10.0.0.1, type: InternalIP}]
  orchRefs: [{orchestrator: k8s, nodeName: order-1}]
  ipv6VXLANTunnelAddr: fd00::1
  vxlanTunnelMACAddr: 66:2e:1a:5c:3b:01
  ipv4VXLANTunnelAddr: 10.8.0.1
  bgp: {ipv4Address: 10.0.0.1/24}
status:
  wireguardPublicKey: jlkVyQYooZYzI2wFfNhSZez5eWh44yfq1wKVjLvSXgY=
`;
    await sb.ok(['create', '-f', sb.write('node.yaml', node)]);
    const got = JSON.parse(await sb.ok(['get', 'node', 'order-1', '-o', 'json']));
    assert.deepEqual(Object.keys(got.metadata.labels), ['arch', 'zone']);
    assert.deepEqual(Object.keys(got.spec), [
      'bgp',
      'ipv4VXLANTunnelAddr',
      'vxlanTunnelMACAddr',
      'ipv6VXLANTunnelAddr',
      'orchRefs',
      'addresses',
    ]);
    assert.deepEqual(Object.keys(got.spec.orchRefs[0]), ['nodeName', 'orchestrator']);
    assert.equal(got.status.wireguardPublicKey, 'jlkVyQYooZYzI2wFfNhSZez5eWh44yfq1wKVjLvSXgY=');
    const inSpec = node.replace('status:\n ', ' ');
    const res = await sb.run(['apply', '-f', sb.write('node-bad.yaml', inSpec)]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /not recognized.*wireguardPublicKey/);
  });

  it("rejects invalid pools with Calico HEAD's message and v3.32's words in the hint", async () => {
    const cases: [string, string, RegExp[]][] = [
      [
        'cidr: 10.0.0.0/24\n  blockSize: 19',
        'spec.blockSize',
        [
          /blockSize must be between 20 and 32 for IPv4 pools/,
          /IPv4 block size must be between 20 and 32/,
        ],
      ],
      [
        'cidr: fd00:9::/64\n  blockSize: 129',
        'spec.blockSize',
        [/IPv6 block size must be between 116 and 128/],
      ],
      [
        'cidr: 10.3.0.0/16\n  ipipMode: Always\n  vxlanMode: CrossSubnet',
        'spec.vxlanMode',
        [
          /ipipMode and vxlanMode cannot both be enabled/,
          /Cannot enable both VXLAN and IPIP on the same IPPool/,
        ],
      ],
      [
        'cidr: fd01::/64\n  ipipMode: CrossSubnet',
        'spec.ipipMode',
        [/IPIP is not supported on IPv6 pools/, /IPIP is not supported on an IPv6 IP pool/],
      ],
      [
        'cidr: 169.254.128.0/24\n  disabled: true',
        'spec.cidr',
        [
          /overlaps with IPv4 link local range 169.254.0.0\/16/,
          /IPv4 Link Local range 169.254.0.0\/16/,
        ],
      ],
      [
        'cidr: 10.0.0.1/16',
        'spec.cidr',
        [
          /IPPool CIDR must be strictly masked/,
          /IPPool CIDR is not strictly masked/,
          /"10.0.0.0\/16"/,
        ],
      ],
      [
        'cidr: fe80::/64',
        'spec.cidr',
        [/overlaps with IPv6 link local range fe80::\/10/, /IPv6 Link Local range fe80::\/10/],
      ],
    ];
    for (const [spec, field, patterns] of cases) {
      const path = sb.write(
        'bad-pool.yaml',
        `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: bad\nspec:\n  ${spec}\n`,
      );
      const res = await sb.run(['create', '-f', path]);
      assert.equal(res.code, 1, spec);
      assert.match(
        res.stderr,
        new RegExp(`error with field ${field.replace('.', '\\.')} = `),
        spec,
      );
      for (const p of patterns) assert.match(res.stderr, p, spec);
    }
    assert.equal((await sb.run(['get', 'ippool', 'bad'])).code, 1, 'nothing was written');
  });
});

// The BIRD 2 configuration generator: fixed inputs against golden files, the decisions (peers,
// blocks, filters) one by one, and every generated file parsed by the real `bird -p -c`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  generateBirdConfig,
  planBird,
  protocolName,
  type BirdInputs,
} from '../../src/dataplane/bird-config.js';
import type { BGPConfiguration, BGPPeer, IPPool, Node } from '../../src/resources/index.js';

const GOLDEN_DIR = new URL('../../../test/fixtures/golden/bird/', import.meta.url);
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'cp12-birdcfg-'));
after(() => rmSync(work, { recursive: true, force: true }));

const meta = (name: string, labels?: Record<string, string>) => ({ name, labels });
const node = (
  name: string,
  ipv4: string,
  extra: Partial<Node['spec']['bgp']> = {},
  labels?: Record<string, string>,
): Node => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Node',
  metadata: meta(name, labels),
  spec: { bgp: { ipv4Address: ipv4, ...extra } },
});
const pool = (name: string, cidr: string, spec: Partial<IPPool['spec']> = {}): IPPool => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: meta(name),
  spec: { cidr, vxlanMode: 'Never', ipipMode: 'Never', ...spec },
});
const peer = (name: string, spec: BGPPeer['spec']): BGPPeer => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'BGPPeer',
  metadata: meta(name),
  spec,
});

/** Three nodes in two subnets, a routed pool, an export-disabled pool and a VXLAN pool. */
const CLUSTER: BirdInputs = {
  nodeName: 'n1',
  nodes: [
    node('n1', '192.168.10.11/24', {}, { rack: 'r1' }),
    node('n2', '192.168.10.12/24', {}, { rack: 'r1' }),
    node('n3', '192.168.20.13/24', { asNumber: 64513 }, { rack: 'r2' }),
  ],
  pools: [
    pool('routed', '10.244.0.0/16'),
    pool('private', '10.99.0.0/16', { disableBGPExport: true }),
    pool('overlay', '10.50.0.0/16', { vxlanMode: 'Always' }),
    pool('v6', 'fd00:10::/48'),
  ],
  affinities: [
    { cidr: '10.244.1.0/26', state: 'confirmed' },
    { cidr: '10.99.1.0/26', state: 'confirmed' },
    { cidr: '10.50.1.0/26', state: 'pendingDeletion' },
    { cidr: '10.244.1.64/26', state: 'pending' },
    { cidr: '10.244.9.9/32', state: 'confirmed' },
    { cidr: '10.123.0.0/26', state: 'confirmed' },
  ],
  config: {
    apiVersion: 'projectcalico.org/v3',
    kind: 'BGPConfiguration',
    metadata: meta('default'),
    spec: { asNumber: 64512, logSeverityScreen: 'Info' },
  },
  peers: [
    peer('tor-r1', { peerIP: '192.168.10.1', asNumber: 65000, nodeSelector: "rack == 'r1'" }),
    peer('tor-r2', { peerIP: '192.168.20.1', asNumber: 65000, nodeSelector: "rack == 'r2'" }),
    peer('remote-dc', { peerIP: '203.0.113.7:1790', asNumber: 65100, keepOriginalNextHop: true }),
  ],
};

function assertGoldenBird(name: string, text: string): void {
  const path = new URL(name, GOLDEN_DIR);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.UPDATE_GOLDEN !== '1')
      assert.fail(`golden file ${name} missing (UPDATE_GOLDEN=1)`);
    writeFileSync(path, text);
    return;
  }
  assert.equal(text, readFileSync(path, 'utf8'));
}

/** `bird -p -c FILE`: BIRD's own parser; returns its exit code and stderr. */
async function birdParse(text: string, name: string): Promise<{ code: number; stderr: string }> {
  const file = join(work, name);
  writeFileSync(file, text);
  try {
    await run('bird', ['-p', '-c', file]);
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe('BIRD configuration', () => {
  it('matches the golden file for a fixed cluster, and bird -p accepts it', async () => {
    for (const nodeName of ['n1', 'n3']) {
      const text = generateBirdConfig({ ...CLUSTER, nodeName });
      assertGoldenBird(`${nodeName}.conf`, text);
      assert.deepEqual(await birdParse(text, `${nodeName}.conf`), { code: 0, stderr: '' });
    }
  });

  it('bird -p rejects a broken copy (the check can fail)', async () => {
    const text = generateBirdConfig(CLUSTER).replace('router id', 'router idd');
    assert.notEqual((await birdParse(text, 'broken.conf')).code, 0);
  });

  it('advertises confirmed and pendingDeletion blocks inside pools, never /32 blocks', () => {
    const plan = planBird(CLUSTER);
    assert.deepEqual(plan.blocks, ['10.244.1.0/26', '10.50.1.0/26', '10.99.1.0/26']);
    assert.deepEqual(plan.exportDisabledPools, ['10.99.0.0/16']);
    assert.deepEqual(plan.noEncapPools, ['10.244.0.0/16', '10.99.0.0/16']);
    assert.deepEqual(plan.encapPools, ['10.50.0.0/16']);
    // Deleting the pool withdraws its blocks at the next reload.
    const withoutPool = planBird({
      ...CLUSTER,
      pools: CLUSTER.pools.filter((p) => p.metadata.name !== 'routed'),
    });
    assert.deepEqual(withoutPool.blocks, ['10.50.1.0/26', '10.99.1.0/26']);
  });

  it('peers: explicit peers win over the mesh; AS from the Node or the global one; passive by address', () => {
    const names = (nodeName: string) =>
      planBird({ ...CLUSTER, nodeName }).peers.map(
        (p) => `${protocolName(p)} as ${p.asNumber}${p.passive ? ' passive' : ''}`,
      );
    assert.deepEqual(names('n1'), [
      'Global_203_0_113_7_port_1790 as 65100',
      'Mesh_192_168_10_12 as 64512 passive',
      'Mesh_192_168_20_13 as 64513 passive',
      'Node_192_168_10_1 as 65000',
    ]);
    assert.deepEqual(names('n3'), [
      'Global_203_0_113_7_port_1790 as 65100',
      'Mesh_192_168_10_11 as 64512',
      'Mesh_192_168_10_12 as 64512',
      'Node_192_168_20_1 as 65000',
    ]);
    const noMesh = planBird({
      ...CLUSTER,
      config: { ...CLUSTER.config!, spec: { nodeToNodeMeshEnabled: false } },
    });
    assert.deepEqual(noMesh.peers.map(protocolName), [
      'Global_203_0_113_7_port_1790',
      'Node_192_168_10_1',
    ]);
  });

  it('peerSelector peerings from both sides (route reflectors)', async () => {
    const rr: BirdInputs = {
      ...CLUSTER,
      nodes: [...CLUSTER.nodes, node('rr1', '192.168.20.50/24', {}, { 'route-reflector': 'true' })],
      config: { ...CLUSTER.config!, spec: { nodeToNodeMeshEnabled: false } },
      peers: [
        peer('to-rr', {
          nodeSelector: '!has(route-reflector)',
          peerSelector: 'has(route-reflector)',
        }),
      ],
    };
    assert.deepEqual(planBird(rr).peers.map(protocolName), ['Node_192_168_20_50']);
    const reflector = planBird({ ...rr, nodeName: 'rr1' });
    assert.deepEqual(reflector.peers.map(protocolName), [
      'Node_192_168_10_11',
      'Node_192_168_10_12',
      'Node_192_168_20_13',
    ]);
    assert.equal(
      (await birdParse(generateBirdConfig({ ...rr, nodeName: 'rr1' }), 'rr.conf')).code,
      0,
    );
  });

  it('an empty cluster (no pools, blocks or peers) still parses', async () => {
    const text = generateBirdConfig({
      nodeName: 'n1',
      nodes: [CLUSTER.nodes[0]!],
      pools: [],
      affinities: [],
      peers: [],
    });
    assert.deepEqual(await birdParse(text, 'empty.conf'), { code: 0, stderr: '' });
  });

  /** The cluster with IPv6: node addresses, a routed and a VXLAN v6 pool, v6 blocks, a v6 peer. */
  const DUAL: BirdInputs = {
    ...CLUSTER,
    nodes: [
      node('n1', '192.168.10.11/24', { ipv6Address: '2001:db8:10::11/64' }, { rack: 'r1' }),
      node('n2', '192.168.10.12/24', { ipv6Address: '2001:db8:10::12/64' }, { rack: 'r1' }),
      node('n3', '192.168.20.13/24', { asNumber: 64513 }, { rack: 'r2' }),
    ],
    pools: [
      ...CLUSTER.pools,
      pool('overlay6', 'fd00:50::/48', { vxlanMode: 'Always' }),
      pool('private6', 'fd00:99::/48', { disableBGPExport: true }),
    ],
    affinities: [
      ...CLUSTER.affinities,
      { cidr: 'fd00:10::100/122', state: 'confirmed' },
      { cidr: 'fd00:50::/122', state: 'confirmed' },
      { cidr: 'fd00:10::9/128', state: 'confirmed' },
      { cidr: 'fd00:10::200/122', state: 'pending' },
    ],
    peers: [
      ...CLUSTER.peers,
      peer('tor6-r1', { peerIP: '2001:db8:10::1', asNumber: 65000, nodeSelector: "rack == 'r1'" }),
    ],
  };

  it("IPv6: blocks, pools and sessions over the nodes' IPv6 addresses; bird -p accepts it", async () => {
    const text = generateBirdConfig(DUAL);
    assertGoldenBird('n1-dual-stack.conf', text);
    assert.deepEqual(await birdParse(text, 'n1-dual-stack.conf'), { code: 0, stderr: '' });
    const v6 = planBird(DUAL).ipv6!;
    assert.equal(v6.localAddress, '2001:db8:10::11');
    assert.deepEqual(v6.blocks, ['fd00:10::100/122', 'fd00:50::/122']);
    assert.deepEqual(v6.noEncapPools, ['fd00:10::/48', 'fd00:99::/48']);
    assert.deepEqual(v6.encapPools, ['fd00:50::/48']);
    assert.deepEqual(v6.exportDisabledPools, ['fd00:99::/48']);
    // The mesh over v6 reaches only nodes with an IPv6 address (n3 has none).
    assert.deepEqual(
      v6.peers.map((p) => `${protocolName(p)} as ${p.asNumber}${p.passive ? ' passive' : ''}`),
      ['Mesh_2001_db8_10__12 as 64512 passive', 'Node_2001_db8_10__1 as 65000'],
    );
    // The IPv4 plan is the same as without IPv6.
    const v4 = planBird(CLUSTER);
    assert.deepEqual(planBird(DUAL).blocks, v4.blocks);
    // A node without an IPv6 address gets no IPv6 part at all.
    assert.equal(planBird({ ...DUAL, nodeName: 'n3' }).ipv6, undefined);
    assert.doesNotMatch(generateBirdConfig({ ...DUAL, nodeName: 'n3' }), /ipv6/);
  });

  it('per-node BGPConfiguration node.<name>: its logSeverityScreen and listenPort win for that node', async () => {
    const config = (name: string, spec: BGPConfiguration['spec']): BGPConfiguration => ({
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPConfiguration',
      metadata: meta(name),
      spec,
    });
    const inputs: BirdInputs = {
      ...CLUSTER,
      config: config('default', { asNumber: 64512, logSeverityScreen: 'Info', listenPort: 1790 }),
      nodeConfigs: [
        // Only its own fields count: asNumber and the mesh switch stay global (as in Calico).
        config('node.n1', { logSeverityScreen: 'Debug', listenPort: 1791, asNumber: 65999 }),
        config('node.ghost', { listenPort: 2000 }),
      ],
    };
    const n1 = planBird(inputs);
    assert.deepEqual([n1.logLevel, n1.listenPort, n1.asNumber], ['debug', 1791, 64512]);
    const n1Text = generateBirdConfig(inputs);
    assert.match(n1Text, /^log stderr all;$/m);
    assert.match(n1Text, /local 192\.168\.10\.11 port 1791 as 64512;/);
    assert.deepEqual(await birdParse(n1Text, 'node-config.conf'), { code: 0, stderr: '' });
    // n2 keeps the default's, and reaches n1 on n1's own port.
    const n2 = planBird({ ...inputs, nodeName: 'n2' });
    assert.deepEqual([n2.logLevel, n2.listenPort], ['info', 1790]);
    const toN1 = n2.peers.find((p) => p.address === '192.168.10.11')!;
    assert.equal(protocolName(toN1), 'Mesh_192_168_10_11_port_1791');
    const toN3 = n2.peers.find((p) => p.address === '192.168.20.13')!;
    assert.equal(toN3.port, 1790);
    // Without a default, the node's own configuration still applies.
    const alone = planBird({ ...inputs, config: undefined });
    assert.deepEqual([alone.logLevel, alone.listenPort], ['debug', 1791]);
  });

  it('names the missing node address', () => {
    assert.throws(
      () => planBird({ ...CLUSTER, nodeName: 'ghost' }),
      (err: Error & { code?: string }) =>
        err.code === 'BGP_NO_NODE_ADDRESS' &&
        /node "ghost" has no spec\.bgp\.ipv4Address/.test(err.message),
    );
  });
});

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
import type { BGPPeer, IPPool, Node } from '../../src/resources/index.js';

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

  it('names the missing node address', () => {
    assert.throws(
      () => planBird({ ...CLUSTER, nodeName: 'ghost' }),
      (err: Error & { code?: string }) =>
        err.code === 'BGP_NO_NODE_ADDRESS' &&
        /node "ghost" has no spec\.bgp\.ipv4Address/.test(err.message),
    );
  });
});

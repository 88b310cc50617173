// BGP mode: what one reload costs the agent. Generating a node's BIRD configuration for a large
// mesh (pure TypeScript) is measured beside `bird -p` on the same file, the check every reload
// runs anyway: the generator should be a small part of a reload.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateBirdConfig, type BirdInputs } from '../src/dataplane/bird-config.js';
import type { BGPPeer, IPPool, Node } from '../src/resources/index.js';
import { percentile } from './support.js';
import type { BenchScenario } from './types.js';

const v3 = { apiVersion: 'projectcalico.org/v3' as const };

/** `nodes` nodes in racks of 40 with a ToR peer per rack, 20 pools, 8 blocks on the local node. */
function cluster(nodes: number): BirdInputs {
  const nodeList: Node[] = Array.from({ length: nodes }, (_, i) => ({
    ...v3,
    kind: 'Node',
    metadata: { name: `node-${i}`, labels: { rack: `r${Math.floor(i / 40)}` } },
    spec: { bgp: { ipv4Address: `10.${Math.floor(i / 250)}.${i % 250}.1/16` } },
  }));
  const pools: IPPool[] = Array.from({ length: 20 }, (_, i) => ({
    ...v3,
    kind: 'IPPool',
    metadata: { name: `pool-${i}` },
    spec: { cidr: `100.${64 + i}.0.0/16`, disableBGPExport: i % 5 === 0 },
  }));
  const peers: BGPPeer[] = Array.from({ length: Math.ceil(nodes / 40) }, (_, r) => ({
    ...v3,
    kind: 'BGPPeer',
    metadata: { name: `tor-r${r}` },
    spec: { peerIP: `172.16.${r}.1`, asNumber: 65000 + r, nodeSelector: `rack == 'r${r}'` },
  }));
  return {
    nodeName: 'node-0',
    nodes: nodeList,
    pools,
    peers,
    affinities: Array.from({ length: 8 }, (_, i) => ({
      cidr: `100.65.${i}.0/26`,
      state: 'confirmed',
    })),
  };
}

export const scenario: BenchScenario = {
  title: '12. BIRD configuration per reload',
  async run(context) {
    const nodes = Math.max(50, Math.round(500 * context.scale));
    const inputs = cluster(nodes);
    const file = join(context.workDir, 'bird.conf');
    const rounds = 15;
    const generate: number[] = [];
    const check: number[] = [];
    let text = '';
    for (let i = 0; i < rounds; i++) {
      const start = process.hrtime.bigint();
      text = generateBirdConfig(inputs);
      generate.push(Number(process.hrtime.bigint() - start) / 1e6);
      writeFileSync(file, text);
      const checkStart = process.hrtime.bigint();
      execFileSync('bird', ['-p', '-c', file]);
      check.push(Number(process.hrtime.bigint() - checkStart) / 1e6);
    }
    const value = percentile(generate, 50);
    const anchor = percentile(check, 50);
    context.log(`${nodes} nodes, ${text.length} bytes of configuration`);
    return [
      {
        metric: `generate, ${nodes}-node mesh, p50`,
        value,
        unit: 'ms',
        anchor: { name: 'bird -p on the same file, p50', value: anchor, unit: 'ms' },
        ratio: value / anchor,
        ratioMeaning: 'generate / bird -p (lower is better)',
        notes: `${Math.round(text.length / 1024)} KiB, ${nodes - 1} mesh sessions`,
      },
    ];
  },
};

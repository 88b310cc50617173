// 1. CNI ADD+DEL latency: cidrpool-ipam (Node.js, embedded store) against Debian's host-local
// (Go), measured in the same run, alternating, in a clean environment (no NODE_EXTRA_CA_CERTS,
// which costs every Node.js start ~65 ms on this machine kind: ENVIRONMENT.md).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStore } from '../src/datastore/embedded/index.js';
import { percentile, percentileFigures, seedCluster } from './support.js';
import type { BenchContext, BenchFigure, BenchScenario } from './types.js';

export const PLUGIN = fileURLToPath(new URL('../../bin/cidrpool-ipam', import.meta.url));
export const HOST_LOCAL = '/usr/lib/cni/host-local';

/**
 * CPU time (user + system, ms) of this process's finished children, from /proc/self/stat
 * (cutime + cstime, in USER_HZ = 100 ticks/s). A call's CPU time is the difference around it:
 * steadier than wall time when other jobs share the cores. Tick resolution: use sums.
 */
export function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17.
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** Run one CNI call; resolves to its wall time in ms. Rejects when the plugin fails. */
export function callPlugin(
  program: string,
  command: string,
  containerId: string,
  config: object,
): Promise<number> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_IFNAME: 'eth0',
    CNI_NETNS: '/var/run/netns/bench',
    CNI_PATH: '/usr/lib/cni',
  };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, [], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`${program} ${command} exited ${code}: ${out}`));
    });
    // host-local's VERSION exits without reading stdin: ignore the broken pipe.
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(config));
  });
}

/** A seeded embedded store in `dir` and the network configs of both plugins. */
export async function prepareConfigs(dir: string, node: string) {
  const dataDir = join(dir, 'store');
  const store = await openEmbeddedStore({ type: 'embedded', dataDir });
  try {
    await seedCluster(store, {
      pools: [{ name: 'bench-pool', cidr: '10.200.0.0/16' }],
      nodes: [node],
    });
  } finally {
    await store.close();
  }
  const hostLocalDir = join(dir, 'host-local');
  mkdirSync(hostLocalDir, { recursive: true });
  return {
    cidrpool: {
      cniVersion: '1.0.0',
      name: 'bench-net',
      nodename: node,
      datastore_type: 'embedded',
      data_dir: dataDir,
      ipam: { type: 'cidrpool-ipam' },
    },
    hostLocal: {
      cniVersion: '1.0.0',
      name: 'bench-net',
      ipam: { type: 'host-local', subnet: '10.201.0.0/16', dataDir: hostLocalDir },
    },
  };
}

export const scenario: BenchScenario = {
  title: '1. CNI ADD+DEL latency',
  async run(context: BenchContext): Promise<BenchFigure[]> {
    if (!existsSync(HOST_LOCAL))
      throw new Error(`${HOST_LOCAL} is missing (containernetworking-plugins)`);
    const configs = await prepareConfigs(context.workDir, 'bench-node');
    const rounds = Math.max(10, Math.round(200 * context.scale));
    const newSink = () => ({
      add: [] as number[],
      pair: [] as number[],
      version: [] as number[],
      cpu: { add: 0, del: 0, version: 0 },
    });
    const ours = newSink();
    const peer = newSink();
    // Warm the page cache for both binaries before measuring.
    await callPlugin(PLUGIN, 'VERSION', 'warm', configs.cidrpool);
    await callPlugin(HOST_LOCAL, 'VERSION', 'warm', configs.hostLocal);
    for (let i = 0; i < rounds; i++) {
      for (const [program, config, sink] of [
        [PLUGIN, configs.cidrpool, ours],
        [HOST_LOCAL, configs.hostLocal, peer],
      ] as const) {
        const id = `bench-${i}`;
        const cpu0 = childrenCpuMs();
        const add = await callPlugin(program, 'ADD', id, config);
        const cpu1 = childrenCpuMs();
        const del = await callPlugin(program, 'DEL', id, config);
        const cpu2 = childrenCpuMs();
        sink.add.push(add);
        sink.pair.push(add + del);
        sink.version.push(await callPlugin(program, 'VERSION', id, config));
        sink.cpu.add += cpu1 - cpu0;
        sink.cpu.del += cpu2 - cpu1;
        sink.cpu.version += childrenCpuMs() - cpu2;
      }
    }
    context.log(
      `${rounds} rounds; cidrpool ADD+DEL p50 ${percentile(ours.pair, 50).toFixed(1)} ms`,
    );
    /** Mean CPU time per call from the summed CPU times of both programs. */
    const cpuFigure = (metric: string, a: number, b: number, notes?: string): BenchFigure => ({
      metric,
      value: a / rounds,
      unit: 'ms',
      anchor: { name: 'host-local', value: b / rounds, unit: 'ms' },
      ratio: a / b,
      ratioMeaning: 'cidrpool-ipam / host-local (lower is better)',
      notes,
    });
    const figure = percentileFigures('host-local', 'cidrpool-ipam / host-local (lower is better)');
    return [
      figure(
        'ADD+DEL p50',
        ours.pair,
        peer.pair,
        50,
        `${rounds} rounds, embedded store, clean env`,
      ),
      figure('ADD+DEL p99', ours.pair, peer.pair, 99),
      figure('ADD p50', ours.add, peer.add, 50),
      figure(
        'start-up (VERSION) p50',
        ours.version,
        peer.version,
        50,
        'process start and exit only',
      ),
      cpuFigure(
        'ADD CPU time (mean)',
        ours.cpu.add,
        peer.cpu.add,
        'user + system of the plugin process; steadier than wall time on a busy machine',
      ),
      cpuFigure('DEL CPU time (mean)', ours.cpu.del, peer.cpu.del),
      cpuFigure('start-up (VERSION) CPU time (mean)', ours.cpu.version, peer.cpu.version),
    ];
  },
};

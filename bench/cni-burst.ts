// 2. CNI burst: 100 ADDs on one node with 10 in flight (a deployment scaling up), wall time,
// against the same burst through Debian's host-local, in the same run. Then the DELs.
import { existsSync } from 'node:fs';
import { HOST_LOCAL, PLUGIN, callPlugin, prepareConfigs } from './cni-latency.js';
import { runPool } from './support.js';
import type { BenchContext, BenchFigure, BenchScenario } from './types.js';

async function burst(
  program: string,
  config: object,
  count: number,
  parallel: number,
  prefix: string,
) {
  const started = performance.now();
  await runPool(
    count,
    parallel,
    async (i) => void (await callPlugin(program, 'ADD', `${prefix}-${i}`, config)),
  );
  const addMs = performance.now() - started;
  const delStarted = performance.now();
  await runPool(
    count,
    parallel,
    async (i) => void (await callPlugin(program, 'DEL', `${prefix}-${i}`, config)),
  );
  return { addMs, delMs: performance.now() - delStarted };
}

export const scenario: BenchScenario = {
  title: '2. CNI burst (100 ADDs, 10 in parallel, one node)',
  async run(context: BenchContext): Promise<BenchFigure[]> {
    if (!existsSync(HOST_LOCAL))
      throw new Error(`${HOST_LOCAL} is missing (containernetworking-plugins)`);
    const configs = await prepareConfigs(context.workDir, 'burst-node');
    const count = Math.max(10, Math.round(100 * context.scale));
    const ours = await burst(PLUGIN, configs.cidrpool, count, 10, 'burst');
    const peer = await burst(HOST_LOCAL, configs.hostLocal, count, 10, 'burst');
    context.log(
      `cidrpool ${count} ADDs in ${ours.addMs.toFixed(0)} ms, host-local ${peer.addMs.toFixed(0)} ms`,
    );
    const meaning = 'cidrpool-ipam / host-local (lower is better)';
    return [
      {
        metric: `${count} ADDs wall time`,
        value: ours.addMs,
        unit: 'ms',
        anchor: { name: 'host-local', value: peer.addMs, unit: 'ms' },
        ratio: ours.addMs / peer.addMs,
        ratioMeaning: meaning,
        notes: `10 in flight, embedded store; ${((count / ours.addMs) * 1000).toFixed(0)} ADD/s`,
      },
      {
        metric: `${count} DELs wall time`,
        value: ours.delMs,
        unit: 'ms',
        anchor: { name: 'host-local', value: peer.delMs, unit: 'ms' },
        ratio: ours.delMs / peer.delMs,
        ratioMeaning: meaning,
      },
    ];
  },
};

// 8. Pod ADD+DEL latency: cidrpool-cni delegating to cidrpool-ipam (Node.js, embedded store)
// against Debian's ptp delegating to host-local (Go), the reference plugin closest to Calico's
// wiring (a veth per pod with a host route). Both run in one node namespace on pods of their own,
// alternating, in a clean environment. Needs root (network namespaces).
import { existsSync } from 'node:fs';
import { NetnsScope } from '../test/helpers/netns.js';
import { POD_PLUGIN, runPodPlugin } from '../test/helpers/pod-plugin.js';
import { prepareConfigs } from './cni-latency.js';
import { percentile, percentileFigures } from './support.js';
import type { BenchContext, BenchFigure, BenchScenario } from './types.js';

const PTP = '/usr/lib/cni/ptp';

export const scenario: BenchScenario = {
  title: '10. Pod ADD+DEL latency (cidrpool-cni)',
  async run(context: BenchContext): Promise<BenchFigure[]> {
    if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
    if (!existsSync(PTP)) throw new Error(`${PTP} is missing (containernetworking-plugins)`);
    const configs = await prepareConfigs(context.workDir, 'bench-node');
    const ours = { ...configs.cidrpool, type: 'cidrpool-cni', mtu: 1450 };
    const peer = { ...configs.hostLocal, type: 'ptp', mtu: 1450 };
    const scope = new NetnsScope('cp11p-bench');
    const rounds = Math.max(10, Math.round(50 * context.scale));
    const times = {
      ours: [] as number[],
      peer: [] as number[],
      oursAdd: [] as number[],
      peerAdd: [] as number[],
    };
    try {
      const node = scope.create();
      const pod = scope.create();
      for (let i = 0; i < rounds; i++) {
        for (const [config, program, all, adds] of [
          [ours, POD_PLUGIN, times.ours, times.oursAdd],
          [peer, PTP, times.peer, times.peerAdd],
        ] as const) {
          const call = async (command: string) => {
            const started = performance.now();
            const run = await runPodPlugin({
              command,
              node,
              pod,
              containerId: `bench-${i}`,
              config,
              program,
            });
            if (run.code !== 0)
              throw new Error(`${program} ${command}: ${run.stdout}${run.stderr}`);
            return performance.now() - started;
          };
          const add = await call('ADD');
          const del = await call('DEL');
          adds.push(add);
          all.push(add + del);
        }
      }
    } finally {
      scope.cleanup();
    }
    context.log(
      `${rounds} rounds; cidrpool-cni ADD+DEL p50 ${percentile(times.ours, 50).toFixed(1)} ms`,
    );
    const figure = percentileFigures(
      'ptp + host-local',
      'cidrpool-cni + cidrpool-ipam / ptp + host-local (lower is better)',
    );
    return [
      figure(
        'ADD+DEL p50',
        times.ours,
        times.peer,
        50,
        `${rounds} rounds, embedded store, clean env, run inside a node namespace`,
      ),
      figure('ADD+DEL p99', times.ours, times.peer, 99),
      figure('ADD p50', times.oursAdd, times.peerAdd, 50),
    ];
  },
};

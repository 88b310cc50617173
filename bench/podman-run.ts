// 8. podman run --rm: what a user waits for. The same bridge network (isGateway, ipMasq) once
// with cidrpool-ipam (embedded store) and once with Debian's host-local, `podman run --rm ...
// true` alternating between the two, podman 4.3.1 with its CNI backend in a network namespace
// of its own (test/helpers/podman.ts). The difference is the IPAM plugin's share of a start.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsScope } from '../test/helpers/netns.js';
import { IMAGE, startPodman } from '../test/helpers/podman.js';
import { childrenCpuMs, PLUGIN, prepareConfigs } from './cni-latency.js';
import { percentile } from './support.js';
import type { BenchContext, BenchFigure, BenchScenario } from './types.js';

const NODE = 'bench-node';

export const scenario: BenchScenario = {
  title: '8. podman run --rm (bridge network)',
  async run(context: BenchContext): Promise<BenchFigure[]> {
    // The store and pool of scenario 1 (cni-latency.ts).
    const dataDir = (await prepareConfigs(context.workDir, NODE)).cidrpool.data_dir;
    symlinkSync(PLUGIN, join(context.workDir, 'cidrpool-ipam'));
    const scope = new NetnsScope('cp10bn');
    const podman = await startPodman({
      scope,
      pluginDirs: [context.workDir, '/usr/lib/cni'],
      networkPrefix: 'cp10-bench-',
    });
    try {
      const bridge = (name: string, ipam: object) => [
        { type: 'bridge', bridge: name, isGateway: true, ipMasq: true, ipam },
      ];
      podman.writeNetwork(
        'cp10-bench-cidrpool',
        bridge('cp10bb0', {
          type: 'cidrpool-ipam',
          nodename: NODE,
          datastore_type: 'embedded',
          data_dir: dataDir,
        }),
      );
      podman.writeNetwork(
        'cp10-bench-hostlocal',
        bridge('cp10bb1', {
          type: 'host-local',
          subnet: '10.211.0.0/24',
          dataDir: join(context.workDir, 'host-local'),
        }),
      );
      const rounds = Math.max(5, Math.round(30 * context.scale));
      const sinks = {
        ours: { wall: [] as number[], cpu: 0 },
        peer: { wall: [] as number[], cpu: 0 },
      };
      const runOnce = async (network: string, sink: { wall: number[]; cpu: number }) => {
        const cpu0 = childrenCpuMs();
        const started = performance.now();
        await podman.ok(['run', '--rm', '--network', network, IMAGE, 'true']);
        sink.wall.push(performance.now() - started);
        sink.cpu += childrenCpuMs() - cpu0;
      };
      // Warm both (image layers, plugin binaries, the bridge and its iptables chains).
      await podman.ok(['run', '--rm', '--network', 'cp10-bench-cidrpool', IMAGE, 'true']);
      await podman.ok(['run', '--rm', '--network', 'cp10-bench-hostlocal', IMAGE, 'true']);
      for (let i = 0; i < rounds; i++) {
        await runOnce('cp10-bench-cidrpool', sinks.ours);
        await runOnce('cp10-bench-hostlocal', sinks.peer);
      }
      const p50 = (a: number[]) => percentile(a, 50);
      context.log(
        `${rounds} rounds; p50 ${p50(sinks.ours.wall).toFixed(0)} ms vs ${p50(sinks.peer.wall).toFixed(0)} ms`,
      );
      const meaning = 'cidrpool-ipam network / host-local network (lower is better)';
      return [
        {
          metric: 'podman run --rm p50',
          value: p50(sinks.ours.wall),
          unit: 'ms',
          anchor: { name: 'host-local', value: p50(sinks.peer.wall), unit: 'ms' },
          ratio: p50(sinks.ours.wall) / p50(sinks.peer.wall),
          ratioMeaning: meaning,
          notes: `${rounds} rounds alternating, busybox image, bridge isGateway + ipMasq, embedded store`,
        },
        {
          metric: 'podman run --rm CPU time (mean)',
          value: sinks.ours.cpu / rounds,
          unit: 'ms',
          anchor: { name: 'host-local', value: sinks.peer.cpu / rounds, unit: 'ms' },
          ratio: sinks.ours.cpu / sinks.peer.cpu,
          ratioMeaning: meaning,
          notes: 'user + system of podman and the processes it waits for (plugins included)',
        },
      ];
    } finally {
      await podman.close();
      scope.cleanup();
    }
  },
};

// Scenario 8: the node agent at scale, on the embedded store and on etcd. In a network namespace
// of its own, a real `cidrpool node run` converges on 5,000 remote blocks (one per remote node,
// each with a VTEP), beside the anchor of the kernel work alone (the same routes, FDB and
// neighbour entries as one raw `ip -batch`/`bridge -batch`). Then blocks are claimed one by one
// for new nodes, and `ip monitor route` timestamps when each one's route appears: claim-to-route
// p50/p99, beside the time a plain watch of the blocks in another process sees the claim.
// Needs root. The datastore side runs in the namespace (bench/node-agent-writer.ts), where etcd
// listens on the namespace's loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { vtepMac } from '../src/dataplane/index.js';
import { startEtcdInNetns, type NetnsEtcd } from '../test/helpers/netns-etcd.js';
import { execIn, NetnsScope } from '../test/helpers/netns.js';
import { blockCidr, LOCAL_NODE } from './node-agent-writer.js';
import { percentile } from './support.js';
import type { BenchFigure, BenchScenario } from './types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = `${ROOT}bin/cidrpool`;
const WRITER = `${ROOT}dist/bench/node-agent-writer.js`;
const now = (): number => performance.timeOrigin + performance.now();

async function must(
  netns: string | undefined,
  program: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<string> {
  const r = await execIn(netns, program, args, { ...options, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`${program} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A namespace of `scope` with eth0 (192.168.10.11/24) up, its veth peer eth1 beside it. */
async function makeNamespace(scope: NetnsScope): Promise<string> {
  const name = scope.create();
  const ip = (...args: string[]) => must(name, 'ip', args);
  await ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  await ip('addr', 'add', '192.168.10.11/24', 'dev', 'eth0');
  await ip('link', 'set', 'eth0', 'up');
  await ip('link', 'set', 'eth1', 'up');
  return name;
}

/** Routes on vxlan.calico in `ns`. */
async function vxlanRouteCount(ns: string): Promise<number> {
  const r = await execIn(ns, 'ip', ['-4', 'route', 'show', 'dev', 'vxlan.calico'], {
    timeoutMs: 30_000,
  });
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean).length : 0;
}

/** The anchor: the same kernel entries written by one raw batch of each program. */
async function rawKernelMs(ns: string, remote: number): Promise<number> {
  await must(undefined, 'ip', [
    '-n',
    ns,
    'link',
    'add',
    'vxlan.calico',
    'type',
    'vxlan',
    'id',
    '4096',
    'local',
    '192.168.10.11',
    'dev',
    'eth0',
    'dstport',
    '4789',
    'nolearning',
  ]);
  await must(undefined, 'ip', ['-n', ns, 'link', 'set', 'vxlan.calico', 'mtu', '1450', 'up']);
  const ip: string[] = [];
  const bridge: string[] = [];
  for (let i = 1; i <= remote; i++) {
    const cidr = blockCidr(i);
    const vtep = cidr.split('/')[0]!;
    const mac = vtepMac(`node-${i - 1}`, 4);
    bridge.push(
      `fdb replace ${mac} dev vxlan.calico dst 172.16.${(i >> 8) & 255}.${i & 255} self permanent`,
    );
    ip.push(`neigh replace ${vtep} lladdr ${mac} dev vxlan.calico nud permanent`);
    ip.push(`route replace ${cidr} via ${vtep} dev vxlan.calico onlink proto 3 mtu 1450`);
  }
  const started = now();
  await must(ns, 'bridge', ['-batch', '-'], { stdin: `${bridge.join('\n')}\n` });
  await must(ns, 'ip', ['-batch', '-'], { stdin: `${ip.join('\n')}\n` });
  return now() - started;
}

interface StoreRun {
  convergeMs: number;
  claimToRoute: number[];
  watchDelivery: number[];
}

async function runOnStore(
  kind: 'embedded' | 'etcd',
  remote: number,
  claims: number,
  workDir: string,
  log: (m: string) => void,
): Promise<StoreRun> {
  const scope = new NetnsScope(`cp11d-bench-${kind}`);
  const children: ChildProcess[] = [];
  let etcd: NetnsEtcd | undefined;
  try {
    const ns = await makeNamespace(scope);
    if (kind === 'etcd') etcd = await startEtcdInNetns(ns);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: workDir,
      ...(etcd
        ? { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoint }
        : { DATASTORE_TYPE: 'embedded', CIDRPOOL_DATA_DIR: join(workDir, `data-${kind}`) }),
    };
    await must(ns, process.execPath, [WRITER, 'seed', String(remote), String(claims)], { env });
    // Converge: from the agent's start until every remote block has its route.
    const started = now();
    const agent = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        CLI,
        'node',
        'run',
        '--name',
        LOCAL_NODE,
        '--ip',
        '192.168.10.11/24',
        '--socket',
        'none',
        '--mtu-file',
        'none',
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(agent);
    let agentLog = '';
    agent.stderr!.on('data', (c: Buffer) => (agentLog += c.toString()));
    let convergeMs = Number.NaN;
    for (let i = 0; i < 1200; i++) {
      if ((await vxlanRouteCount(ns)) >= remote) {
        convergeMs = now() - started;
        break;
      }
      if (agent.exitCode !== null) throw new Error(`agent exited: ${agentLog}`);
      await delay(50);
    }
    if (Number.isNaN(convergeMs))
      throw new Error(`agent did not converge: ${agentLog.slice(-500)}`);
    log(`${kind}: converged on ${remote} blocks in ${convergeMs.toFixed(0)} ms`);
    // Claim-to-route latency.
    const monitor = spawn('ip', ['-n', ns, 'monitor', 'route'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(monitor);
    const appeared = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    createInterface({ input: monitor.stdout! }).on('line', (line) => {
      const dst = line.split(' ')[0]!;
      if (!appeared.has(dst)) appeared.set(dst, now());
      waiters.get(dst)?.();
    });
    await delay(200); // let `ip monitor` subscribe before the first claim
    const watcher = spawn('ip', ['netns', 'exec', ns, process.execPath, WRITER, 'watch'], {
      env,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    children.push(watcher);
    const watched = new Map<string, number>();
    const watcherReady = new Promise<void>((resolve) =>
      createInterface({ input: watcher.stdout! }).on('line', (line) => {
        if (line === 'ready') return resolve();
        const { dst, at } = JSON.parse(line) as { dst: string; at: number };
        if (!watched.has(dst)) watched.set(dst, at);
      }),
    );
    await watcherReady;
    const writer = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, WRITER, 'claim', String(remote)],
      { env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children.push(writer);
    let writerErr = '';
    writer.stderr!.on('data', (c: Buffer) => (writerErr += c.toString()));
    const results = createInterface({ input: writer.stdout! })[Symbol.asyncIterator]();
    const claimToRoute: number[] = [];
    const watchDelivery: number[] = [];
    for (let i = 0; i < claims; i++) {
      writer.stdin!.write('claim\n');
      const next = await results.next();
      if (next.done) throw new Error(`claim writer stopped: ${writerErr}`);
      const { dst, claimedAt } = JSON.parse(next.value as string) as {
        dst: string;
        claimedAt: number;
      };
      if (!appeared.has(dst)) {
        await Promise.race([
          new Promise<void>((resolve) => waiters.set(dst, resolve)),
          delay(10_000),
        ]);
      }
      const at = appeared.get(dst);
      if (at === undefined)
        throw new Error(`no route for ${dst} within 10 s: ${agentLog.slice(-500)}`);
      claimToRoute.push(at - claimedAt);
      for (let tries = 0; !watched.has(dst) && tries < 100; tries++) await delay(10);
      watchDelivery.push((watched.get(dst) ?? Number.NaN) - claimedAt);
    }
    writer.stdin!.end();
    return { convergeMs, claimToRoute, watchDelivery };
  } finally {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }
    await etcd?.stop();
    scope.cleanup();
  }
}

export const scenario: BenchScenario = {
  title: '13. Node agent: 5,000 remote blocks, claim-to-route',
  async run({ workDir, scale, log }) {
    const remote = Math.max(100, Math.round(5000 * scale));
    const claims = Math.max(20, Math.round(100 * scale));
    const anchorScope = new NetnsScope('cp11d-bench-raw');
    let rawMs: number;
    try {
      rawMs = await rawKernelMs(await makeNamespace(anchorScope), remote);
    } finally {
      anchorScope.cleanup();
    }
    log(`raw kernel batch for ${remote} blocks: ${rawMs.toFixed(0)} ms`);
    const figures: BenchFigure[] = [];
    for (const kind of ['embedded', 'etcd'] as const) {
      const run = await runOnStore(kind, remote, claims, workDir, log);
      const p50 = percentile(run.claimToRoute, 50);
      const p99 = percentile(run.claimToRoute, 99);
      const watch50 = percentile(run.watchDelivery, 50);
      log(
        `${kind}: claim-to-route p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; watch p50 ${watch50.toFixed(1)} ms`,
      );
      figures.push(
        {
          metric: `${kind}: converge on ${remote} remote blocks (agent start to last route)`,
          value: run.convergeMs,
          unit: 'ms',
          anchor: { name: 'raw ip/bridge -batch of the same entries', value: rawMs, unit: 'ms' },
          ratio: run.convergeMs / rawMs,
          ratioMeaning: 'agent / raw kernel writes (lower is better)',
          notes:
            'includes process start, datastore snapshot, tunnel-address pass and the kernel read-back',
        },
        {
          metric: `${kind}: claim started -> the block route on another node, p50`,
          value: p50,
          unit: 'ms',
          anchor: { name: 'plain watch in another process, p50', value: watch50, unit: 'ms' },
          ratio: p50 / watch50,
          ratioMeaning: 'agent / watch delivery alone (lower is better)',
          notes: `${claims} claims, one at a time, ${remote} blocks programmed`,
        },
        {
          metric: `${kind}: claim started -> the block route on another node, p99`,
          value: p99,
          unit: 'ms',
          anchor: {
            name: 'plain watch in another process, p99',
            value: percentile(run.watchDelivery, 99),
            unit: 'ms',
          },
          ratio: p99 / percentile(run.watchDelivery, 99),
          ratioMeaning: 'agent / watch delivery alone (lower is better)',
        },
      );
    }
    return figures;
  },
};

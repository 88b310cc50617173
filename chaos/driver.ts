// The chaos driver (issue 15): real `cidrpool-ipam` ADD/DEL and `cidrpool ipam assign/release`
// processes run concurrently against one datastore while the driver kill -9s them at random
// moments and injects datastore faults: etcd members of a 3-member cluster killed and
// restarted, or frozen (SIGSTOP) and thawed; the embedded store's disk (a tmpfs of its own)
// filled and emptied. Then every fault is healed, every uncertain workload is deleted again,
// and the invariants are checked from the datastore itself (invariants.ts).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatastoreConfig } from '../src/datastore/config-types.js';
import { seedStore, withStore } from '../test/cni/support.js';
import { startEtcd, type EtcdCluster } from '../test/helpers/etcd-cluster.js';
import { checkInvariants, type Workload } from './invariants.js';
import { runKillable, seededRandom, type RunOutcome } from './spawn.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PLUGIN = join(ROOT, 'bin', 'cidrpool-ipam');
const CLI = join(ROOT, 'bin', 'cidrpool');
const NETWORK = 'chaos';
const NODES = ['node-0', 'node-1', 'node-2'];

export interface ChaosOptions {
  readonly datastore: 'embedded' | 'etcd';
  readonly seed: number;
  /** Stop starting operations after this long, or after maxOps, whichever comes first. */
  readonly durationMs: number;
  readonly maxOps: number;
  /** Operations in flight at once. */
  readonly workers: number;
  /** Share of operations the driver kills -9, at a random moment within killWindowMs. */
  readonly killRate: number;
  readonly killWindowMs: number;
  /** A datastore fault starts every faultEveryMs and lasts faultMs. */
  readonly faultEveryMs: number;
  readonly faultMs: number;
  /** Size of the embedded store's tmpfs. */
  readonly tmpfsMiB: number;
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly datastore: string;
  readonly seed: number;
  readonly elapsedMs: number;
  readonly operations: number;
  readonly adds: number;
  readonly addsSucceeded: number;
  readonly dels: number;
  readonly delsSucceeded: number;
  readonly kills: number;
  readonly faults: Record<string, number>;
  /** Time from each fault's end to the next operation that succeeded (ms). */
  readonly recoveryMs: readonly number[];
  readonly retriedDels: number;
  readonly liveAtEnd: number;
  readonly violations: readonly string[];
  readonly ipamCheck: string;
}

interface Backend {
  readonly config: DatastoreConfig;
  readonly env: Record<string, string>;
  readonly cniKeys: Record<string, unknown>;
  /** Inject one fault now; resolves when it has been healed. */
  fault(random: () => number, counts: Record<string, number>): Promise<void>;
  close(): Promise<void>;
}

async function openEmbedded(options: ChaosOptions): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'cp15-chaos-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${options.tmpfsMiB}m`, 'cp15-chaos', dataDir]);
  const config: DatastoreConfig = { type: 'embedded', dataDir };
  return {
    config,
    env: { CIDRPOOL_DATA_DIR: dataDir },
    cniKeys: { datastore_type: 'embedded', data_dir: dataDir },
    async fault(_random, counts) {
      counts.diskFull = (counts.diskFull ?? 0) + 1;
      const filler = join(dataDir, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(1 << 20);
      try {
        for (let i = 0; i < 4096; i++) writeSync(fd, chunk); // until ENOSPC (bounded)
      } catch {
        // the disk is full: what this fault is for
      } finally {
        closeSync(fd);
      }
      await sleep(options.faultMs);
      rmSync(filler, { force: true });
    },
    async close() {
      try {
        execFileSync('umount', [dataDir]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

async function openEtcd(options: ChaosOptions): Promise<Backend> {
  const cluster: EtcdCluster = await startEtcd({ members: 3 });
  const endpoints = cluster.endpoints.join(',');
  return {
    config: { type: 'etcdv3', endpoints: cluster.endpoints },
    env: { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: endpoints },
    cniKeys: { datastore_type: 'etcdv3', etcd_endpoints: endpoints },
    async fault(random, counts) {
      const leader = await cluster.leaderIndex().catch(() => 0);
      const victim = random() < 0.5 ? leader : Math.floor(random() * 3);
      if (random() < 0.5) {
        counts.etcdKill = (counts.etcdKill ?? 0) + 1;
        if (victim === leader) counts.etcdLeaderKill = (counts.etcdLeaderKill ?? 0) + 1;
        await cluster.kill(victim);
        await sleep(options.faultMs);
        await cluster.restart(victim);
      } else {
        counts.etcdFreeze = (counts.etcdFreeze ?? 0) + 1;
        const pid = cluster.members[victim]!.pid;
        if (pid === undefined) return;
        process.kill(pid, 'SIGSTOP');
        try {
          await sleep(options.faultMs);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
      }
    },
    close: () => cluster.stop(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stopRequested = false;
/** Start no more operations: the run heals its faults, checks and cleans up as at its end. */
export function requestStop(): void {
  stopRequested = true;
}

/** Run one chaos session on one datastore; never throws for a violation (it is reported). */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed);
  const backend =
    options.datastore === 'embedded' ? await openEmbedded(options) : await openEtcd(options);
  try {
    return await drive(options, backend, random, log);
  } finally {
    await backend.close();
  }
}

async function drive(
  options: ChaosOptions,
  backend: Backend,
  random: () => number,
  log: (line: string) => void,
): Promise<ChaosReport> {
  await withStore(backend.config, (store) =>
    seedStore(store, {
      pools: [
        { name: 'chaos-v4', cidr: '10.200.0.0/16', blockSize: 27 },
        { name: 'chaos-v6', cidr: 'fd15:c4a0::/64', blockSize: 122 },
      ],
      nodes: NODES.map((name) => ({ name })),
    }),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    ...backend.env,
  };
  const cniConfig = (node: string) =>
    JSON.stringify({
      cniVersion: '1.0.0',
      name: NETWORK,
      type: 'calico',
      nodename: node,
      ...backend.cniKeys,
      ipam: { type: 'cidrpool-ipam', assign_ipv6: 'true' },
    });

  const live = new Map<string, Workload>();
  const uncertain = new Map<string, Workload>();
  const released = new Map<string, Workload>();
  const counts = { adds: 0, addsOk: 0, dels: 0, delsOk: 0, kills: 0 };
  const faults: Record<string, number> = {};
  const recoveryMs: number[] = [];
  let healedAt: number | undefined;
  let nextId = 0;
  const started = Date.now();

  /** Run the plugin or the CLI; killed -9 at a random moment of killWindowMs at killRate. */
  const run = (
    program: string,
    args: string[],
    mayKill: boolean,
    call: { extraEnv?: Record<string, string>; stdin?: string } = {},
  ) => {
    const kill = mayKill && random() < options.killRate;
    if (kill) counts.kills++;
    return runKillable(program, args, {
      env: { ...env, ...call.extraEnv },
      stdin: call.stdin,
      killAfterMs: kill ? random() * options.killWindowMs : undefined,
      timeoutMs: 120_000,
    });
  };
  const runPlugin = (command: string, w: Workload, mayKill: boolean) =>
    run(PLUGIN, [], mayKill, {
      extraEnv: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: w.id,
        CNI_IFNAME: 'eth0',
        CNI_NETNS: '/var/run/netns/none',
        CNI_PATH: '/usr/lib/cni',
      },
      stdin: cniConfig(w.node),
    });

  const noteSuccess = (startedAt: number) => {
    if (healedAt !== undefined && startedAt >= healedAt) {
      recoveryMs.push(Date.now() - healedAt);
      healedAt = undefined;
    }
  };

  const add = async (mayKill: boolean): Promise<void> => {
    const w: Workload = {
      id: `c${options.seed}x${nextId++}`,
      node: NODES[Math.floor(random() * NODES.length)]!,
      via: random() < 0.75 ? 'cni' : 'cli',
    };
    counts.adds++;
    const at = Date.now();
    const out: RunOutcome =
      w.via === 'cni'
        ? await runPlugin('ADD', w, mayKill)
        : await run(
            CLI,
            // prettier-ignore
            ['ipam', 'assign', '--node', w.node, '--pod', `pod-${w.id}`, '--handle', `${NETWORK}.${w.id}`, '--ipv6', '1', '-o', 'json'],
            mayKill,
          );
    if (!out.ok) {
      uncertain.set(w.id, w);
      return;
    }
    counts.addsOk++;
    noteSuccess(at);
    live.set(w.id, { ...w, ips: addressesOf(out.stdout) });
  };

  const del = async (w: Workload, mayKill: boolean): Promise<boolean> => {
    counts.dels++;
    const at = Date.now();
    const out =
      w.via === 'cni'
        ? await runPlugin('DEL', w, mayKill)
        : await run(CLI, ['ipam', 'release', '--handle', `${NETWORK}.${w.id}`], mayKill);
    // A handle that does not exist holds nothing: the CLI's release says so, and that is done.
    const done = out.ok || (!out.killed && /resource does not exist: IPAMHandle/.test(out.stderr));
    live.delete(w.id);
    if (!done) {
      uncertain.set(w.id, w);
      return false;
    }
    counts.delsOk++;
    noteSuccess(at);
    uncertain.delete(w.id);
    released.set(w.id, w);
    return true;
  };

  const pick = <T>(map: Map<string, T>): T | undefined => {
    if (map.size === 0) return undefined;
    const index = Math.floor(random() * Math.min(map.size, 64));
    let i = 0;
    for (const value of map.values()) if (i++ === index) return value;
    return undefined;
  };

  const running = () =>
    !stopRequested &&
    Date.now() - started < options.durationMs &&
    counts.adds + counts.dels < options.maxOps;
  const inFlight = new Set<string>();
  const worker = async () => {
    while (running()) {
      const r = random();
      const target = r < 0.1 ? pick(uncertain) : r < 0.5 ? pick(live) : undefined;
      if (target && !inFlight.has(target.id)) {
        inFlight.add(target.id);
        try {
          await del(target, true);
        } finally {
          inFlight.delete(target.id);
        }
      } else await add(true);
    }
  };
  let faulting = true;
  const faultLoop = async () => {
    while (faulting && running()) {
      await sleep(options.faultEveryMs * (0.5 + random()));
      if (!faulting || !running()) break;
      await backend.fault(random, faults);
      healedAt = Date.now();
    }
  };
  const reporter = setInterval(
    () =>
      log(
        `[${options.datastore}] ${Math.round((Date.now() - started) / 1000)} s: ${counts.adds} ADD (${counts.addsOk} ok), ${counts.dels} DEL (${counts.delsOk} ok), ${counts.kills} kills, faults ${JSON.stringify(faults)}, live ${live.size}, uncertain ${uncertain.size}`,
      ),
    10_000,
  );
  const faultsDone = faultLoop();
  try {
    await Promise.all(Array.from({ length: options.workers }, worker));
  } finally {
    faulting = false;
    clearInterval(reporter);
  }
  await faultsDone;
  const elapsedMs = Date.now() - started;

  // Every fault is healed: each uncertain workload gets DELs, without kills, until one succeeds.
  let retriedDels = 0;
  for (let round = 0; round < 20 && uncertain.size > 0; round++) {
    for (const w of [...uncertain.values()]) {
      retriedDels++;
      await del(w, false);
    }
  }
  if (healedAt !== undefined) {
    // No operation succeeded since the last fault ended: the first retried DEL is the measure.
    recoveryMs.push(Date.now() - healedAt);
  }
  const violations = uncertain.size
    ? [`${uncertain.size} workloads could not be deleted after 20 rounds of retried DELs`]
    : [];
  const checked = await checkInvariants(backend.config, { live, released, network: NETWORK });
  violations.push(...checked);
  const check = await runKillable(CLI, ['ipam', 'check'], { env, timeoutMs: 300_000 });
  const summary = /Check complete; found (\d+) problems\./.exec(check.stdout);
  if (!check.ok || !summary || summary[1] !== '0')
    violations.push(
      `ipam check is not clean: ${check.stdout.split('\n').slice(-12).join(' | ')} ${check.stderr}`,
    );
  return {
    datastore: options.datastore,
    seed: options.seed,
    elapsedMs,
    operations: counts.adds + counts.dels,
    adds: counts.adds,
    addsSucceeded: counts.addsOk,
    dels: counts.dels,
    delsSucceeded: counts.delsOk,
    kills: counts.kills,
    faults,
    recoveryMs,
    retriedDels,
    liveAtEnd: live.size,
    violations,
    ipamCheck: summary ? `${summary[1]} problems` : 'failed',
  };
}

/** The addresses (with masks) of a CNI 1.0 result or of `ipam assign -o json`. */
function addressesOf(stdout: string): string[] {
  const parsed = JSON.parse(stdout) as {
    ips?: { address: string }[];
    ipv4?: string[];
    ipv6?: string[];
  };
  if (parsed.ips) return parsed.ips.map((ip) => ip.address);
  return [...(parsed.ipv4 ?? []), ...(parsed.ipv6 ?? [])];
}

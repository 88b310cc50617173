// The chaos driver (issue 15): workloads are added and deleted concurrently against one
// datastore through several lanes of real programs (lanes.ts): CNI plugin and CLI processes,
// bulk CLI assigns, long-lived engine workers and node agents, all of them killed -9 at random
// moments, while datastore faults are injected (backends.ts): etcd members of a 3-member
// cluster killed and restarted or frozen and thawed; the embedded store's tmpfs filled. Then
// every fault is healed, every uncertain workload is deleted again, and the invariants are
// checked from the datastore itself (invariants.ts).
import { loadavg } from 'node:os';
import { seedStore, withStore } from '../test/cni/support.js';
import { agentLane } from './agent-lane.js';
import { openEmbedded, openEtcd, sleep, type Backend } from './backends.js';
import { engineLane } from './engine-lane.js';
import { checkInvariants } from './invariants.js';
import { deleteAll, runLane, retryUncertain, type Lane } from './lanes.js';
import { Ledger, type OperationCount, type Recovery, type Via } from './ledger.js';
import { childEnv, CLI, cliLane, cniLane } from './process-lanes.js';
import { runKillable, seededRandom } from './spawn.js';

const NETWORK = 'chaos';

export interface ChaosOptions {
  readonly datastore: 'embedded' | 'etcd';
  readonly seed: number;
  /** Stop starting operations after this long, maxOps operations or maxAllocations addresses. */
  readonly durationMs: number;
  readonly maxOps: number;
  readonly maxAllocations?: number;
  /** Plugin and CLI processes in flight at once (a quarter of them CLI). */
  readonly workers: number;
  /** Share of those processes the driver kills -9, at a random moment within killWindowMs. */
  readonly killRate: number;
  readonly killWindowMs: number;
  /** Bulk `ipam assign --ipv4 N` processes in flight (N up to bulkSize), killed as above. */
  readonly bulkWorkers?: number;
  readonly bulkSize?: number;
  /** Engine worker processes, calls in flight each, largest ADD, mean time between kills. */
  readonly engineWorkers?: number;
  readonly engineInFlight?: number;
  readonly engineSize?: number;
  readonly engineKillEveryMs?: number;
  /** Node agents (on the first nodes), requests in flight each, mean time between kills. */
  readonly agents?: number;
  readonly agentInFlight?: number;
  readonly agentKillEveryMs?: number;
  /** Nodes sharing the pools (at least 3), and the IPv4 addresses one node may hold. */
  readonly nodes?: number;
  readonly nodeCap?: number;
  /** A datastore fault starts every faultEveryMs (on average) and lasts faultMs. */
  readonly faultEveryMs: number;
  readonly faultMs: number;
  /** Size of the embedded store's tmpfs. */
  readonly tmpfsMiB: number;
  /** Seconds between progress lines. */
  readonly progressEverySec?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly datastore: string;
  readonly seed: number;
  readonly elapsedMs: number;
  readonly operations: number;
  /** "<via> ADD|DEL" → tried, succeeded (the DELs retried at the end included). */
  readonly byKind: Record<string, OperationCount>;
  /** Addresses answered by successful ADDs. */
  readonly allocations: number;
  readonly kills: Record<string, number>;
  readonly faults: Record<string, number>;
  /** Why calls failed, by lane and error code (or "killed"). */
  readonly failures: Record<string, number>;
  /** Time from each fault's end to the first operation that succeeded after it. */
  readonly recoveries: readonly Recovery[];
  readonly retriedDels: number;
  readonly liveAtEnd: number;
  readonly violations: readonly string[];
  readonly ipamCheck: string;
  /** The machine's 1-minute load average while the run worked: mean and maximum. */
  readonly load: { readonly mean: number; readonly max: number };
}

let stopRequested = false;
/** Start no more operations: the run heals its faults, checks and cleans up as at its end. */
export function requestStop(): void {
  stopRequested = true;
}

/** Run one chaos session on one datastore; never throws for a violation (it is reported). */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  if ((options.agents ?? 0) > 0 && !process.env.CHAOS_NETNS)
    throw new Error(
      'the node agent programs routes: run agents only inside a network namespace (--netns NAME)',
    );
  const backend =
    options.datastore === 'embedded' ? await openEmbedded(options) : await openEtcd(options);
  try {
    return await drive(options, backend);
  } finally {
    await backend.close();
  }
}

async function drive(options: ChaosOptions, backend: Backend): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed);
  const nodes = Array.from({ length: Math.max(3, options.nodes ?? 3) }, (_, i) => `node-${i}`);
  await withStore(backend.config, (store) =>
    seedStore(store, {
      pools: [
        { name: 'chaos-v4', cidr: '10.200.0.0/16', blockSize: 26 },
        { name: 'chaos-v6', cidr: 'fd15:c4a0::/64', blockSize: 122 },
      ],
      nodes: nodes.map((name) => ({ name })),
    }),
  );
  const ledger = new Ledger(String(options.seed), NETWORK);
  const started = Date.now();
  const running = () =>
    !stopRequested &&
    Date.now() - started < options.durationMs &&
    ledger.operationCount < options.maxOps &&
    ledger.allocations < (options.maxAllocations ?? Infinity);

  const lanes = new Map<Via, Lane>();
  const killLoops: Promise<void>[] = [];
  const common = { backend, ledger, random, running, log };
  if ((options.agents ?? 0) > 0) {
    const lane = await agentLane({
      ...common,
      network: NETWORK,
      nodes: nodes.slice(0, options.agents),
      inFlight: options.agentInFlight ?? 8,
      killEveryMs: options.agentKillEveryMs ?? 5000,
    });
    lanes.set('agent', lane);
    killLoops.push(lane.killLoops);
  }
  const agentSocket = (lanes.get('agent') as { socketOf?: (n: string) => string } | undefined)
    ?.socketOf;
  const processes = { ...common, nodes, network: NETWORK, agentSocket };
  const cliSlots = options.workers >= 2 ? Math.max(1, Math.round(options.workers / 4)) : 0;
  if (options.workers - cliSlots > 0)
    lanes.set(
      'cni',
      cniLane({ ...processes, slots: options.workers - cliSlots, ...kills(options) }),
    );
  if (cliSlots > 0) lanes.set('cli', cliLane({ ...processes, slots: cliSlots, ...kills(options) }));
  if ((options.bulkWorkers ?? 0) > 0)
    lanes.set(
      'bulk',
      cliLane(
        { ...processes, slots: options.bulkWorkers!, ...kills(options) },
        options.bulkSize ?? 64,
      ),
    );
  if ((options.engineWorkers ?? 0) > 0) {
    const lane = engineLane({
      ...common,
      nodes,
      workers: options.engineWorkers!,
      inFlight: options.engineInFlight ?? 8,
      maxSize: options.engineSize ?? 32,
      killEveryMs: options.engineKillEveryMs ?? 3000,
    });
    lanes.set('engine', lane);
    killLoops.push(lane.killLoops);
  }

  const loads: number[] = [];
  let faulting = true;
  const faultLoop = async () => {
    while (faulting && running()) {
      await sleep(options.faultEveryMs * (0.5 + random()));
      if (!faulting || !running()) break;
      try {
        await backend.fault(random, ledger);
      } catch (err) {
        // The rig failed (not the product): say so and go on with the run.
        ledger.faultInjected('faultError');
        log(`fault injection failed: ${String(err).slice(-600)}`);
      }
      ledger.faultHealed(options.datastore === 'etcd' ? 'etcd' : 'disk full');
    }
  };
  const progress = () =>
    log(
      `[${options.datastore}] ${Math.round((Date.now() - started) / 1000)} s: ${ledger.operationCount} operations, ${ledger.allocations} addresses allocated, kills ${JSON.stringify(ledger.kills)}, faults ${JSON.stringify(ledger.faults)}, live ${ledger.live.size}, uncertain ${ledger.uncertain.size}, load ${loadavg()[0]!.toFixed(1)}`,
    );
  const reporter = setInterval(
    () => {
      loads.push(loadavg()[0]!);
      progress();
    },
    (options.progressEverySec ?? 10) * 1000,
  );
  const faultsDone = faultLoop();
  try {
    await Promise.all(
      [...lanes.values()].map((lane) =>
        runLane(lane, { ledger, random, running, nodeCap: options.nodeCap ?? 600 }),
      ),
    );
  } finally {
    faulting = false;
    clearInterval(reporter);
  }
  await faultsDone;
  await Promise.all(killLoops);
  const elapsedMs = Date.now() - started;
  progress();

  // Every fault is healed: each uncertain workload gets DELs, without kills, until one succeeds.
  const retriedDels = await retryUncertain(lanes, ledger, 20, 8);
  // No operation succeeded since the last fault ended: the first retried DEL is the measure.
  ledger.closeRecovery();
  const violations = ledger.uncertain.size
    ? [`${ledger.uncertain.size} workloads could not be deleted after 20 rounds of retried DELs`]
    : [];
  const found = await checkInvariants(backend.config, ledger);
  violations.push(...found);
  // Addresses without an endpoint are leaks to `ipam check`: release them, then check again.
  const bare = [...ledger.live.values()].filter((w) => !w.endpoint);
  const releasedAtEnd = await deleteAll(lanes, ledger, bare, 8);
  if (releasedAtEnd < bare.length)
    violations.push(
      `${bare.length - releasedAtEnd} live workloads could not be released at the end`,
    );
  for (const v of await checkInvariants(backend.config, ledger))
    if (!found.includes(v)) violations.push(`after the final releases: ${v}`);
  for (const lane of lanes.values()) await lane.stop();
  const check = await runKillable(CLI, ['ipam', 'check'], {
    env: childEnv(backend),
    timeoutMs: 300_000,
  });
  const summary = /Check complete; found (\d+) problems\./.exec(check.stdout);
  if (!check.ok || !summary || summary[1] !== '0')
    violations.push(
      `ipam check is not clean: ${check.stdout.split('\n').slice(-12).join(' | ')} ${check.stderr}`,
    );
  return {
    datastore: options.datastore,
    seed: options.seed,
    elapsedMs,
    operations: ledger.operationCount,
    byKind: ledger.operations,
    allocations: ledger.allocations,
    kills: ledger.kills,
    faults: ledger.faults,
    failures: ledger.failures,
    recoveries: ledger.recoveries,
    retriedDels,
    liveAtEnd: ledger.live.size,
    violations,
    ipamCheck: summary ? `${summary[1]} problems` : 'failed',
    load: {
      mean: loads.length ? loads.reduce((a, b) => a + b, 0) / loads.length : loadavg()[0]!,
      max: Math.max(loadavg()[0]!, ...loads),
    },
  };
}

const kills = (o: ChaosOptions) => ({ killRate: o.killRate, killWindowMs: o.killWindowMs });

// The engine lane: long-lived worker processes (engine-worker.ts) drive the IPAM engine API,
// several calls in flight each, and are killed -9 at random moments (every killEveryMs on
// average, only while calls are in flight) and started again. A call whose answer was not read
// before the kill is uncertain, exactly as a killed plugin's.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sleep, type Backend } from './backends.js';
import type { EngineAnswer, EngineRequest } from './engine-worker.js';
import type { Lane, LaneOptions } from './lanes.js';

const WORKER = fileURLToPath(new URL('./engine-worker.js', import.meta.url));

/** One worker process; calls pending when it dies answer undefined. */
class EngineWorker {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, (answer: EngineAnswer | undefined) => void>();
  private nextId = 0;
  private stderr = '';
  readonly exited: Promise<void>;

  constructor(backend: Backend) {
    this.child = spawn(process.execPath, [WORKER, JSON.stringify(backend.config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const answer = JSON.parse(line) as EngineAnswer;
      this.pending.get(answer.id)?.(answer);
      this.pending.delete(answer.id);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-2000);
    });
    this.child.stdin!.on('error', () => undefined); // a killed worker closes its stdin
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        for (const answer of this.pending.values()) answer(undefined);
        this.pending.clear();
        resolve();
      }),
    );
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** What the worker printed last (an unexpected exit is reported with it). */
  get lastError(): string {
    return this.stderr;
  }

  call(request: Omit<EngineRequest, 'id'>): Promise<EngineAnswer | undefined> {
    if (!this.alive) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  /** Send `signal` now, without waiting (for exit hooks). */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Killed by the lane (its successor is being started). */
  killed = false;

  async kill(): Promise<void> {
    this.killed = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Close stdin and wait for the worker to finish its calls and exit (SIGKILL after 30 s). */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface EngineLaneOptions extends LaneOptions {
  readonly workers: number;
  /** Calls in flight per worker. */
  readonly inFlight: number;
  /** Each ADD asks 1..maxSize IPv4 addresses, and an eighth as many IPv6 half of the time. */
  readonly maxSize: number;
  /** Mean time between kills of each worker (0: never killed). */
  readonly killEveryMs: number;
}

/** The engine lane; its kill loops run until `running()` turns false. */
export function engineLane(o: EngineLaneOptions): Lane & { killLoops: Promise<void> } {
  const workers = Array.from({ length: o.workers }, () => new EngineWorker(o.backend));
  // However the driver ends, no worker outlives it.
  const killAll = () => workers.forEach((w) => w.signal('SIGKILL'));
  process.on('exit', killAll);
  let slot = 0;
  const killLoop = async (index: number) => {
    while (o.killEveryMs > 0 && o.running()) {
      // Exponential gaps: kills come at any moment, not on a beat.
      await sleep(-Math.log(1 - o.random()) * o.killEveryMs);
      const worker = workers[index]!;
      if (!o.running() || worker.inFlight === 0) continue;
      o.ledger.killed('engine worker');
      await worker.kill();
      if (workers[index] === worker) workers[index] = new EngineWorker(o.backend);
    }
  };
  /** The next worker in turn; one that died of itself (not killed) is reported and replaced. */
  const worker = () => {
    const index = slot++ % workers.length;
    const w = workers[index]!;
    if (w.alive || w.killed) return w;
    o.log(`engine worker exited by itself: ${w.lastError}`);
    return (workers[index] = new EngineWorker(o.backend));
  };
  return {
    via: 'engine',
    slots: o.workers * o.inFlight,
    next(random) {
      const node = o.nodes[Math.floor(random() * o.nodes.length)]!;
      const want = 1 + Math.floor(random() * o.maxSize);
      return o.ledger.workload(
        'engine',
        node,
        want,
        false,
        random() < 0.5 ? Math.ceil(want / 8) : 0,
      );
    },
    async add(w) {
      const answer = await worker().call({
        op: 'assign',
        handle: w.handle,
        node: w.node,
        num4: w.want,
        num6: w.want6 ?? 0,
      });
      if (answer?.ok) return answer.ips ?? [];
      o.ledger.failed('engine', reasonOf(answer));
      return undefined;
    },
    async del(w) {
      const answer = await worker().call({ op: 'release', handle: w.handle });
      if (answer?.ok) return true;
      o.ledger.failed('engine', reasonOf(answer));
      return false;
    },
    killLoops: Promise.all(workers.map((_, i) => killLoop(i))).then(() => undefined),
    async stop() {
      process.off('exit', killAll);
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

/** The error code a worker answered, or "killed" when it died before answering. */
const reasonOf = (answer: EngineAnswer | undefined) =>
  answer === undefined ? 'killed' : answer.ok ? 'ok' : answer.error.split(':')[0]!;

// One run of a real binary (`cidrpool` or `cidrpool-ipam`) that the chaos driver may kill -9 at
// a random moment: the outcome says whether it finished, failed, or was killed.
import { spawn } from 'node:child_process';

export interface RunOutcome {
  /** exited 0 */
  readonly ok: boolean;
  /** SIGKILLed by the driver (or by the timeout). */
  readonly killed: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

/**
 * Run `program args` with `env` and `stdin`; when `killAfterMs` is set, SIGKILL it then. A run
 * still going after `timeoutMs` is killed too (and reported as killed).
 */
export function runKillable(
  program: string,
  args: readonly string[],
  options: {
    env: NodeJS.ProcessEnv;
    stdin?: string;
    killAfterMs?: number;
    timeoutMs: number;
  },
): Promise<RunOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(program, [...args], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const kill = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const timers = [setTimeout(kill, options.timeoutMs)];
    if (options.killAfterMs !== undefined) timers.push(setTimeout(kill, options.killAfterMs));
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr
      .setEncoding('utf8')
      .on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.stdin.on('error', () => undefined); // a killed child closes its stdin early
    child.on('error', (err) => {
      timers.forEach(clearTimeout);
      resolve({ ok: false, killed, stdout, stderr: String(err), elapsedMs: Date.now() - started });
    });
    child.on('close', (code) => {
      timers.forEach(clearTimeout);
      resolve({
        ok: code === 0 && !killed,
        killed,
        stdout,
        stderr,
        elapsedMs: Date.now() - started,
      });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** A small seeded generator (mulberry32): the same seed drives the same choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

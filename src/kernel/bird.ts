// The thin adapter to BIRD 2 (Debian `bird2`): check a configuration with `bird -p`, write it
// atomically, ask a running BIRD to reload it (`birdc configure`), read its protocols, and run
// our own `bird -f` under supervision (restarted with backoff when it dies).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CidrpoolError } from '../errors/index.js';
import { runTool, type ToolOutput } from './run-tool.js';

/** Where the programs are (tests and packagers may point elsewhere). */
export interface BirdPrograms {
  readonly bird: string;
  readonly birdc: string;
}

export const DEFAULT_BIRD_PROGRAMS: BirdPrograms = { bird: 'bird', birdc: 'birdc' };

const COMMAND_TIMEOUT_MS = 10_000;

/** Run a BIRD program. Throws BGP_BIRD_UNAVAILABLE when it cannot run or times out. */
async function runProgram(program: string, args: readonly string[]): Promise<ToolOutput> {
  try {
    return await runTool(program, args, undefined, {
      timeoutMs: COMMAND_TIMEOUT_MS,
      installHint: 'install bird2 (apt-get install bird2)',
    });
  } catch (err) {
    throw new CidrpoolError(
      'BGP_BIRD_UNAVAILABLE',
      `cannot run ${program}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Check `text` with BIRD's own parser (`bird -p -c`), using a temporary file next to `nearPath`.
 * Throws BGP_CONFIG_REJECTED with BIRD's message, BGP_BIRD_UNAVAILABLE when bird cannot run.
 */
export async function checkBirdConfig(
  text: string,
  nearPath: string,
  programs: BirdPrograms = DEFAULT_BIRD_PROGRAMS,
): Promise<void> {
  const temp = join(dirname(nearPath), `.check-${randomBytes(6).toString('hex')}.conf`);
  await writeFile(temp, text);
  try {
    const { code, stderr, stdout } = await runProgram(programs.bird, ['-p', '-c', temp]);
    if (code !== 0) {
      throw new CidrpoolError(
        'BGP_CONFIG_REJECTED',
        `bird -p rejected the generated configuration: ${(stderr || stdout).trim()}`,
      );
    }
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Write `text` to `path` through a temporary file and a rename, so BIRD never reads half a file.
 * Returns false (and writes nothing) when the file already holds exactly `text`.
 */
export async function writeConfigAtomically(path: string, text: string): Promise<boolean> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === text) return false;
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
  return true;
}

/** Run `birdc -s socket <command...>`; returns its output. Throws BGP_BIRD_UNAVAILABLE. */
export async function birdc(
  socket: string,
  command: readonly string[],
  programs: BirdPrograms = DEFAULT_BIRD_PROGRAMS,
): Promise<string> {
  const { code, stdout, stderr } = await runProgram(programs.birdc, ['-s', socket, ...command]);
  // birdc prints `Unable to connect to server control socket` and exits non-zero when no BIRD runs.
  if (code !== 0 || /Unable to connect/i.test(stdout + stderr)) {
    throw new CidrpoolError(
      'BGP_BIRD_UNAVAILABLE',
      `birdc -s ${socket} ${command.join(' ')} failed: ${(stderr || stdout).trim()}`,
    );
  }
  return stdout;
}

/**
 * Ask the BIRD on `socket` to reload its configuration file. Throws BGP_CONFIG_REJECTED when
 * BIRD refuses the file, BGP_BIRD_UNAVAILABLE when it does not answer.
 */
export async function reconfigureBird(
  socket: string,
  programs: BirdPrograms = DEFAULT_BIRD_PROGRAMS,
): Promise<void> {
  const out = await birdc(socket, ['configure'], programs);
  if (!/Reconfigur|Reconfiguration in progress|Reconfigured/i.test(out)) {
    throw new CidrpoolError('BGP_CONFIG_REJECTED', `BIRD refused the configuration: ${out.trim()}`);
  }
}

/** The reply of `birdc show protocols` (the table `node status` reads). */
export const showProtocols = (
  socket: string,
  programs: BirdPrograms = DEFAULT_BIRD_PROGRAMS,
): Promise<string> => birdc(socket, ['show', 'protocols'], programs);

/** A BIRD started by us: `bird -f -c config -s socket`, restarted with backoff when it dies. */
export interface BirdSupervisor {
  /** The running BIRD's process id; undefined while it is being restarted. */
  pid(): number | undefined;
  /** Stop BIRD (SIGTERM, then SIGKILL after 5 s) and stop restarting it. */
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  readonly configFile: string;
  readonly socket: string;
  readonly programs?: BirdPrograms;
  /** One line of BIRD's stderr, or a supervision event. */
  readonly onLog: (level: 'info' | 'warning', message: string) => void;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Start BIRD in the foreground as our child and keep it running until stop(). */
export function superviseBird(options: SuperviseOptions): BirdSupervisor {
  const programs = options.programs ?? DEFAULT_BIRD_PROGRAMS;
  const minBackoff = options.minBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopping = false;
  let backoff = minBackoff;
  const abort = new AbortController();

  const start = (): void => {
    const startedAt = Date.now();
    const proc = spawn(programs.bird, ['-f', '-c', options.configFile, '-s', options.socket], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    let pending = '';
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.trim()) options.onLog('info', `bird: ${line}`);
    });
    exited = new Promise((resolve) => {
      proc.on('error', (err) => {
        options.onLog('warning', `cannot start ${programs.bird}: ${err.message}`);
      });
      proc.on('close', (code, signal) => {
        child = undefined;
        resolve();
        if (stopping) return;
        // A BIRD that ran for a while gets a fresh backoff; one that keeps dying waits longer.
        if (Date.now() - startedAt > maxBackoff) backoff = minBackoff;
        options.onLog(
          'warning',
          `bird exited (code ${code}, signal ${signal}); restarting in ${backoff} ms`,
        );
        const wait = backoff;
        backoff = Math.min(backoff * 2, maxBackoff);
        delay(wait, undefined, { signal: abort.signal }).then(
          () => {
            if (!stopping) start();
          },
          () => undefined,
        );
      });
    });
  };
  start();

  return {
    pid: () => child?.pid,
    async stop() {
      stopping = true;
      abort.abort();
      const proc = child;
      if (!proc) return;
      proc.kill('SIGTERM');
      const killTimer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killTimer);
    },
  };
}

// Running the kernel's programs (`ip`, `bridge`, `nft`, `sysctl`, `nsenter`, `unshare`, `bird`,
// `birdc`): the one place where a process is spawned and where its failure to run becomes a
// CidrpoolError. Every call is bounded by a timeout, so a wedged program cannot stall the agent's
// reconcile loop or a CNI call. What a program's non-zero exit means is each adapter's to say.
import { execFile } from 'node:child_process';
import { CidrpoolError } from '../errors/index.js';

/** How long one program may run before it is killed (a big `ip -batch` takes well under this). */
const TOOL_TIMEOUT_MS = 30_000;

/** The output of a program that ran to completion. */
export interface ToolOutput {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code (0 on success). */
  readonly code: number;
}

export interface ToolOptions {
  /** Kill the program after this long; default 30 s. */
  readonly timeoutMs?: number;
  /** What to install when the program is missing (the KERNEL_TOOL_MISSING hint). */
  readonly installHint?: string;
}

/**
 * Run `program args...` with `stdin`, and return its output whatever the exit code.
 * @throws CidrpoolError KERNEL_TOOL_MISSING when the program is not installed;
 *   KERNEL_COMMAND_FAILED when it cannot be started or times out.
 */
export function runTool(
  program: string,
  args: readonly string[],
  stdin?: string,
  options: ToolOptions = {},
): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      args,
      {
        timeout: options.timeoutMs ?? TOOL_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 256 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT') {
          reject(
            new CidrpoolError('KERNEL_TOOL_MISSING', `${program} is not installed or not on PATH`, {
              details: {
                command: program,
                hint: options.installHint ?? 'install iproute2 (scripts/setup.sh does)',
              },
            }),
          );
        } else if (error && typeof (error as { code?: unknown }).code !== 'number') {
          reject(
            new CidrpoolError(
              'KERNEL_COMMAND_FAILED',
              `${program} ${args.join(' ')}: ${error.message}`,
              {
                cause: error,
                details: { command: [program, ...args].join(' '), stderr },
              },
            ),
          );
        } else {
          resolve({ stdout, stderr, code: error ? Number((error as { code?: unknown }).code) : 0 });
        }
      },
    );
    child.stdin?.on('error', () => undefined); // the program may exit without reading stdin
    child.stdin?.end(stdin ?? '');
  });
}

/**
 * Run a program that must succeed and return its stdout.
 * @throws CidrpoolError KERNEL_COMMAND_FAILED (details.command, details.stderr), KERNEL_TOOL_MISSING
 */
export async function runToolOk(
  program: string,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  const out = await runTool(program, args, stdin);
  if (out.code !== 0) {
    const stderr = out.stderr.trim();
    throw new CidrpoolError(
      'KERNEL_COMMAND_FAILED',
      `${program} ${args.join(' ')} failed: ${stderr || `exit code ${out.code}`}`,
      {
        details: { command: [program, ...args].join(' '), stderr },
      },
    );
  }
  return out.stdout;
}

/**
 * Run a program whose stdout is JSON (`ip -j ...`) and parse it; empty output is [].
 * @throws CidrpoolError KERNEL_COMMAND_FAILED (also for output that is not JSON)
 */
export async function runToolJson<T>(program: string, args: readonly string[]): Promise<T[]> {
  const stdout = await runToolOk(program, args);
  if (stdout.trim() === '') return [];
  try {
    return JSON.parse(stdout) as T[];
  } catch (err) {
    throw new CidrpoolError(
      'KERNEL_COMMAND_FAILED',
      `${program} ${args.join(' ')} printed no JSON`,
      {
        cause: err,
        details: { command: [program, ...args].join(' '), stderr: stdout.slice(0, 200) },
      },
    );
  }
}

/** One line of a `-batch` run that failed, with the kernel's reason. */
export interface BatchFailure {
  readonly line: string;
  readonly error: string;
}

/**
 * Run `program -force -batch -` with one command per line: every line is tried, and the lines
 * that failed are returned with their reason (iproute2 prints `Command failed -:N` after the
 * reason). One process for any number of changes.
 * @throws CidrpoolError KERNEL_TOOL_MISSING, KERNEL_COMMAND_FAILED (the program did not run)
 */
export async function runBatch(program: string, lines: readonly string[]): Promise<BatchFailure[]> {
  if (lines.length === 0) return [];
  const out = await runTool(program, ['-force', '-batch', '-'], `${lines.join('\n')}\n`);
  if (out.code === 0) return [];
  const failures: BatchFailure[] = [];
  let reason: string[] = [];
  for (const text of out.stderr.split('\n')) {
    const m = /^Command failed -:(\d+)/.exec(text);
    if (m) {
      failures.push({
        line: lines[Number(m[1]) - 1] ?? `line ${m[1]}`,
        error: reason.join(' ').trim(),
      });
      reason = [];
    } else if (text.trim()) {
      reason.push(text.trim());
    }
  }
  if (failures.length === 0)
    failures.push({ line: lines.join('; ').slice(0, 200), error: out.stderr.trim() });
  return failures;
}

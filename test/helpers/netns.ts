// Network namespaces for tests (root only). Every namespace gets a unique name with the given
// prefix and the test's pid, and `NetnsScope.cleanup()` deletes all of them, so a test changes
// nothing in the root namespace and leaves nothing behind.
import { execFileSync, spawn } from 'node:child_process';

/** True when this process can create network namespaces. */
export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * The reason to skip, or undefined when namespaces can be used. Only a missing root is a reason:
 * missing tools are a broken setup (scripts/setup.sh installs them) and must fail, not skip.
 */
export function netnsSkipReason(): string | undefined {
  return isRoot() ? undefined : 'needs root to create network namespaces (run the tests as root)';
}

let counter = 0;

export interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program, optionally inside a namespace (`ip netns exec`), with env and stdin. */
export function execIn(
  netns: string | undefined,
  program: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const [cmd, argv] = netns
    ? ['ip', ['netns', 'exec', netns, program, ...args]]
    : [program, [...args]];
  return new Promise((resolve, reject) => {
    // Bounded: a hung program is killed and the test fails on its exit code instead of stalling.
    const child = spawn(cmd as string, argv as string[], {
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the program may exit without reading stdin
    child.stdin.end(options.stdin ?? '');
  });
}

/** Namespaces created by one test; delete them all with cleanup(). */
export class NetnsScope {
  private readonly names: string[] = [];

  constructor(private readonly prefix: string) {}

  /** Create a namespace named `<prefix>-<pid>-<n>` with its loopback up; returns the name. */
  create(): string {
    const name = `${this.prefix}-${process.pid}-${++counter}`;
    execFileSync('ip', ['netns', 'add', name]);
    this.names.push(name);
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** The path runtimes pass as CNI_NETNS. */
  static pathOf(name: string): string {
    return `/var/run/netns/${name}`;
  }

  /** Delete every namespace this scope created (veths inside go with them). */
  cleanup(): void {
    for (const name of this.names.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
  }
}

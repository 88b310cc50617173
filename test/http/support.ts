// The real `cidrpool dashboard` process for browser tests: started on a free loopback port with a
// sandbox's datastore, stopped with SIGTERM (and awaited).
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, type Sandbox } from '../cli/support.js';

export interface DashboardProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/** Start `cidrpool dashboard ...args` and wait (at most 20 s) for the line naming its URL. */
export function startDashboardProcess(
  sb: Sandbox,
  args: readonly string[] = [],
): Promise<DashboardProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'dashboard', '--listen', '127.0.0.1:0', ...args],
    { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dashboard did not start within 20 s:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /serving (http:\/\/\S+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dashboard exited with ${code} before serving:\n${output}`));
    });
  });
}

/** The rows of `ipam show --show-blocks`: grouping, CIDR, total, in use (the count). */
export function parseShowBlocks(
  text: string,
): { grouping: string; cidr: string; total: string; inUse: number }[] {
  const rows = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 6 || (cells[1] !== 'IP Pool' && cells[1] !== 'Block')) continue;
    rows.push({
      grouping: cells[1]!,
      cidr: cells[2]!,
      total: cells[3]!,
      inUse: Number(/^(\d+)/.exec(cells[4]!)![1]),
    });
  }
  return rows;
}

/** The numbers of `ipam check`'s text. */
export function parseCheck(text: string): {
  problems: number;
  allocations: number;
  blockAffinity: Map<string, string>;
  nodeAllocations: Map<string, number>;
} {
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const blockAffinity = new Map<string, string>();
  for (const m of text.matchAll(/^ IPAM block (\S+) affinity=(\S+):$/gm))
    blockAffinity.set(m[1]!, m[2]!);
  const nodeAllocations = new Map<string, number>();
  for (const m of text.matchAll(/^ {2}(\S+) has (\d+) allocations$/gm))
    nodeAllocations.set(m[1]!, Number(m[2]));
  return {
    problems: num(/^Check complete; found (\d+) problems\.$/m),
    allocations: num(/^IPAM blocks record (\d+) allocations\.$/m),
    blockAffinity,
    nodeAllocations,
  };
}

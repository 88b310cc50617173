// Runs iproute2's `ip` (and `sysctl`) in the current network namespace or in another one given
// by path (`nsenter --net=<path>`, as CNI_NETNS names it), and translates their failures into
// KERNEL_* errors: this is the one place where the text of a failed kernel command is read.
import { readFileSync, writeFileSync } from 'node:fs';
import { CidrpoolError, type ErrorCode } from '../errors/index.js';
import { runTool } from './run-tool.js';

/** Where a command runs: the caller's own namespace, or the namespace at `netns` (a path). */
export interface Where {
  readonly netns?: string;
}

/** Longest one command may take: a wedged kernel call must fail the CNI call, not hang it. */
const TIMEOUT_MS = 20_000;

/** The command line that runs `argv` at `where`. */
function inNamespace(where: Where, argv: readonly string[]): string[] {
  return where.netns ? ['nsenter', `--net=${where.netns}`, '--', ...argv] : [...argv];
}

/** Which KERNEL_ code a failed command's stderr means. */
function classify(stderr: string, where: Where): ErrorCode {
  if (where.netns && /^nsenter: (cannot open|reassociate to namespace)/m.test(stderr))
    return 'KERNEL_NETNS_NOT_FOUND';
  if (/Invalid "netns" value/.test(stderr)) return 'KERNEL_NETNS_NOT_FOUND';
  if (/Cannot find device|does not exist|No such device/.test(stderr))
    return 'KERNEL_LINK_NOT_FOUND';
  if (/File exists/.test(stderr)) return 'KERNEL_EXISTS';
  return 'KERNEL_COMMAND_FAILED';
}

/**
 * Run `argv` at `where` with `stdin`; returns stdout. Throws KERNEL_TOOL_MISSING (the program or
 * nsenter is not installed), KERNEL_NETNS_NOT_FOUND, KERNEL_LINK_NOT_FOUND, KERNEL_EXISTS or
 * KERNEL_COMMAND_FAILED, each quoting the command and what it printed.
 */
export async function runCommand(
  where: Where,
  argv: readonly string[],
  stdin?: string,
): Promise<string> {
  const full = inNamespace(where, argv);
  const result = await runTool(full[0]!, full.slice(1), stdin, {
    timeoutMs: TIMEOUT_MS,
    installHint:
      'install iproute2 (ip), util-linux (nsenter) and procps (sysctl); scripts/setup.sh does',
  });
  if (result.code === 0) return result.stdout;
  const shown = `${argv.join(' ')}${where.netns ? ` (in ${where.netns})` : ''}`;
  const text = (result.stderr || result.stdout).trim() || `exit ${String(result.code)}`;
  const code = classify(result.stderr, where);
  const message =
    code === 'KERNEL_NETNS_NOT_FOUND' && where.netns && text.startsWith('nsenter:')
      ? `network namespace ${where.netns} cannot be entered: ${text}`
      : `${shown} failed: ${text}`;
  throw new CidrpoolError(code, message, {
    details: { command: shown, stderr: result.stderr.trim(), ...(stdin ? { input: stdin } : {}) },
  });
}

/**
 * Run `ip -batch -` at `where` with one command per line (no process per command); `json` adds
 * `-j` so that `show` lines print JSON. Returns stdout. iproute2 stops at the first failing line
 * and names it (`Command failed -:N`). Throws as runCommand.
 */
export function runIpBatch(
  where: Where,
  lines: readonly string[],
  options: { json?: boolean } = {},
): Promise<string> {
  return runCommand(
    where,
    ['ip', ...(options.json ? ['-j'] : []), '-batch', '-'],
    lines.join('\n'),
  );
}

/** `ip -j <args>` at `where`, parsed. Throws as runCommand. */
export async function runIpJson<T>(where: Where, args: readonly string[]): Promise<T> {
  const out = await runCommand(where, ['ip', '-j', ...args]);
  return (out.trim() === '' ? [] : JSON.parse(out)) as T;
}

/** `/proc/sys/<key>`: the caller's own namespace needs no process, only a file. */
const procPath = (key: string): string => `/proc/sys/${key}`;

/** A sysctl file of the caller's namespace failed: which KERNEL_ code, with the key named. */
function sysctlError(key: string, action: string, err: unknown): CidrpoolError {
  const e = err as NodeJS.ErrnoException;
  const code: ErrorCode = e.code === 'ENOENT' ? 'KERNEL_LINK_NOT_FOUND' : 'KERNEL_COMMAND_FAILED';
  return new CidrpoolError(code, `${action} sysctl ${key} failed: ${e.message}`, {
    cause: err,
    details: { key },
  });
}

/**
 * Set sysctls given as `net/ipv4/conf/eth0/proxy_arp` style keys (slashes, so interface names
 * with dots work) at `where`: as files in the caller's namespace, with one `sysctl -w` process in
 * another. Throws as runCommand; KERNEL_LINK_NOT_FOUND for a key that does not exist here.
 */
export async function writeSysctls(
  where: Where,
  values: Readonly<Record<string, string>>,
): Promise<void> {
  const entries = Object.entries(values);
  if (entries.length === 0) return;
  if (!where.netns) {
    for (const [key, value] of entries) {
      try {
        writeFileSync(procPath(key), value);
      } catch (err) {
        throw sysctlError(key, 'writing', err);
      }
    }
    return;
  }
  await runCommand(where, ['sysctl', '-q', '-w', ...entries.map(([k, v]) => `${k}=${v}`)]);
}

/** Read one sysctl at `where` (trimmed). Throws as writeSysctls. */
export async function readSysctl(where: Where, key: string): Promise<string> {
  if (!where.netns) {
    try {
      return readFileSync(procPath(key), 'utf8').trim();
    } catch (err) {
      throw sysctlError(key, 'reading', err);
    }
  }
  return (await runCommand(where, ['sysctl', '-n', key])).trim();
}

// IPAM delegation as the CNI library's invoke package does it: find the plugin named by
// `ipam.type` in CNI_PATH, run it with the caller's environment (CNI_COMMAND set to the command)
// and the whole network config on stdin, and read its result or its CNI error.
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { CidrpoolError } from '../../errors/index.js';

/** What the IPAM plugin assigned, whatever cniVersion its result was printed in. */
export interface IpamResult {
  /** `10.65.0.5/26`, `fd00::5/122`, ... as the plugin printed them. */
  readonly addresses: readonly string[];
  /** The plugin's `dns` object, passed on in our result. */
  readonly dns?: Readonly<Record<string, unknown>>;
}

/** Longer than any IPAM call should take (kubelet's own CNI timeout is minutes). */
const TIMEOUT_MS = 120_000;

/**
 * The executable `type` in the folders of `cniPath`. Throws CNI_IPAM_PLUGIN_NOT_FOUND with the
 * invoke package's wording (`failed to find plugin "x" in path [...]`).
 */
export function findPlugin(type: string, cniPath: string): string {
  const dirs = cniPath.split(':').filter((d) => d !== '');
  if (type !== '' && !type.includes('/')) {
    for (const dir of dirs) {
      const candidate = join(dir, type);
      try {
        accessSync(candidate, constants.X_OK);
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // Not in this folder.
      }
    }
  }
  throw new CidrpoolError(
    'CNI_IPAM_PLUGIN_NOT_FOUND',
    `failed to find plugin "${type}" in path [${dirs.join(' ')}]`,
    {
      details: {
        hint: `ipam.type names an executable in one of CNI_PATH's folders: put ${type || 'the IPAM plugin'} there (cidrpool-ipam is in this package's bin/) or fix ipam.type`,
      },
    },
  );
}

/**
 * Run the IPAM plugin `type` for `command` with `processEnv` and `stdin` (the network config
 * text); returns its stdout. Throws CNI_IPAM_PLUGIN_NOT_FOUND, or CNI_IPAM_PLUGIN_FAILED carrying
 * the plugin's own CNI error code, msg and details (`details.cniCode`), as Calico passes them on.
 */
export function execIpam(
  command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC',
  type: string,
  processEnv: NodeJS.ProcessEnv,
  stdin: string,
): Promise<string> {
  const program = findPlugin(type, processEnv.CNI_PATH ?? '');
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      [],
      {
        env: { ...processEnv, CNI_COMMAND: command },
        timeout: TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        reject(pluginError(type, command, stdout, stderr, err));
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(stdin);
  });
}

function pluginError(
  type: string,
  command: string,
  stdout: string,
  stderr: string,
  err: Error,
): CidrpoolError {
  let parsed: { code?: unknown; msg?: unknown; details?: unknown } | undefined;
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed.msg === 'string') {
    return new CidrpoolError('CNI_IPAM_PLUGIN_FAILED', parsed.msg, {
      details: {
        plugin: type,
        command,
        ...(typeof parsed.code === 'number' ? { cniCode: parsed.code } : {}),
        ...(typeof parsed.details === 'string' ? { hint: parsed.details } : {}),
      },
    });
  }
  const said = (stderr || stdout).trim() || err.message;
  return new CidrpoolError(
    'CNI_IPAM_PLUGIN_FAILED',
    `IPAM plugin ${type} ${command} failed: ${said}`,
    { details: { plugin: type, command } },
  );
}

/**
 * The addresses of an IPAM result in any cniVersion's shape (`ips[].address`, or `ip4.ip` /
 * `ip6.ip` before 0.3.0). Throws CNI_IPAM_RESULT_INVALID for text that is not a result or has no
 * address (Calico: `IPAM plugin returned no IP addresses in result`).
 */
export function parseIpamResult(type: string, stdout: string): IpamResult {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(stdout) as Record<string, unknown>;
  } catch (err) {
    throw new CidrpoolError(
      'CNI_IPAM_RESULT_INVALID',
      `IPAM plugin ${type} printed a result that is not JSON: ${(err as Error).message}`,
    );
  }
  const ips = Array.isArray(parsed.ips) ? (parsed.ips as { address?: unknown }[]) : [];
  const legacy = [parsed.ip4, parsed.ip6].map((o) =>
    typeof o === 'object' && o !== null ? (o as { ip?: unknown }).ip : undefined,
  );
  const addresses = [...ips.map((ip) => ip.address), ...legacy].filter(
    (a): a is string => typeof a === 'string' && a.includes('/'),
  );
  if (addresses.length === 0) {
    throw new CidrpoolError(
      'CNI_IPAM_RESULT_INVALID',
      'IPAM plugin returned no IP addresses in result',
      {
        details: {
          hint: `check that the ${type} configuration in "ipam" can assign an address (e.g. assign_ipv4 is not "false")`,
        },
      },
    );
  }
  const dns = parsed.dns;
  return {
    addresses,
    ...(typeof dns === 'object' && dns !== null && Object.keys(dns).length > 0
      ? { dns: dns as Record<string, unknown> }
      : {}),
  };
}

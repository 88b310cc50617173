// The forecast's samples kept in a state file, so a restarted dashboard still knows the rate. The
// file lives outside the datastore (the dashboard never writes there): one per datastore, under
// `--state-dir` (default `${XDG_STATE_HOME:-~/.local/state}/cidrpool/dashboard`), named by a
// hash of what identifies the store (its etcd endpoints, or the embedded store's folder).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { absolutePath } from '../datastore/data-dir.js';
import { CidrpoolError } from '../errors/index.js';
import type { UsageSample } from './forecast.js';

/** The default state folder: `${XDG_STATE_HOME:-~/.local/state}/cidrpool/dashboard`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_STATE_HOME'];
  const base = xdg && isAbsolute(xdg) ? xdg : join(env['HOME'] || homedir(), '.local', 'state');
  return join(base, 'cidrpool', 'dashboard');
}

/**
 * The state file for `config` under `dir` (created if missing). Throws HTTP_STATE_DIR when the
 * folder cannot be created.
 */
export function forecastStateFile(
  dir: string,
  config: DatastoreConfig,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const folder = absolutePath(dir, env);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (err) {
    throw new CidrpoolError(
      'HTTP_STATE_DIR',
      `--state-dir ${dir}: cannot create ${folder} (${(err as Error).message}); give a writable folder`,
      { cause: err },
    );
  }
  const identity =
    config.type === 'etcdv3'
      ? `etcdv3 ${[...config.endpoints].sort().join(',')}`
      : `embedded ${config.dataDir}`;
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return join(folder, `forecast-${config.type}-${hash}.json`);
}

interface StateFile {
  readonly version: 1;
  /** Samples per pool name, oldest first. */
  readonly samples: Record<string, readonly UsageSample[]>;
}

/** The samples kept in `file`; empty when it is missing or unreadable (`log` says which). */
export function loadSamples(
  file: string,
  log: (message: string) => void,
): Map<string, UsageSample[]> {
  const out = new Map<string, UsageSample[]>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log(`dashboard: cannot read the forecast state ${file}: ${(err as Error).message}`);
    return out;
  }
  try {
    const state = JSON.parse(text) as StateFile;
    if (state.version !== 1) throw new Error(`version ${String(state.version)} is not 1`);
    for (const [pool, list] of Object.entries(state.samples))
      out.set(
        pool,
        list
          .filter((s) => Number.isFinite(s.at) && Number.isFinite(s.inUse))
          .map((s) => ({ ...s })),
      );
  } catch (err) {
    log(`dashboard: ignoring the forecast state ${file}: ${(err as Error).message}`);
    out.clear();
  }
  return out;
}

/** Write the samples to `file` whole (a temporary file renamed over it). Throws on I/O errors. */
export function saveSamples(
  file: string,
  samples: ReadonlyMap<string, readonly UsageSample[]>,
): void {
  const state: StateFile = { version: 1, samples: Object.fromEntries(samples) };
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(state));
  renameSync(temporary, file);
}

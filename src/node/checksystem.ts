// `cidrpool node checksystem`: probe this host (src/kernel/system-probe.ts), read the IP pools
// when a datastore is there, and print which requirement holds and which pool needs what is
// missing. Changes nothing: no datastore is created, no module loaded, no namespace named.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeResource } from '../client/stored-form.js';
import { listAll } from '../datastore/api.js';
import { DEFAULT_CONFIG_FILE, loadDatastoreConfig } from '../datastore/config.js';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { DATABASE_FILE_NAME } from '../datastore/embedded/open-database.js';
import { resourcePrefix } from '../datastore/keys.js';
import { openDatastore } from '../datastore/open.js';
import { evaluateSystem, renderCheckReport } from '../dataplane/system-requirements.js';
import { CidrpoolError } from '../errors/index.js';
import { probeSystem } from '../kernel/system-probe.js';
import type { IPPool } from '../resources/types.js';

export interface CheckSystemFlags {
  readonly config?: string;
}

/** The pools, or why they were not read (a missing datastore is not this command's problem). */
async function readPools(config: DatastoreConfig): Promise<{ pools?: IPPool[]; note?: string }> {
  if (config.type === 'embedded' && !existsSync(join(config.dataDir, DATABASE_FILE_NAME))) {
    return { note: `no embedded datastore in ${config.dataDir}; pool checks skipped` };
  }
  try {
    const store = await openDatastore(
      config.type === 'etcdv3'
        ? { ...config, callTimeoutMs: config.callTimeoutMs ?? 3000 }
        : config,
    );
    try {
      const kvs = await listAll(store, resourcePrefix('IPPool'));
      return { pools: kvs.map((kv) => decodeResource(kv) as IPPool) };
    } finally {
      await store.close();
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      note: `cannot read IP pools from the ${config.type} datastore (${message}); pool checks skipped`,
    };
  }
}

/**
 * Print the report on stdout. Throws NODE_CHECKSYSTEM_FAILED (exit 1) when something this node
 * or one of its pools needs is missing; DS_CONFIG for a bad datastore configuration.
 */
export async function runCheckSystemCommand(flags: CheckSystemFlags): Promise<void> {
  const config = await loadDatastoreConfig({
    configFile: flags.config ?? DEFAULT_CONFIG_FILE,
    env: process.env,
  });
  const [facts, { pools, note }] = await Promise.all([probeSystem(), readPools(config)]);
  const report = evaluateSystem(facts, pools, note);
  process.stdout.write(renderCheckReport(report));
  if (report.problems.length > 0) {
    throw new CidrpoolError(
      'NODE_CHECKSYSTEM_FAILED',
      `node checksystem: ${report.problems.length} problem(s) found (listed above)`,
    );
  }
}

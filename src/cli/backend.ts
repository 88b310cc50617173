// The datastore, IPAM engine and resource client one CLI invocation works on. The CLI is an
// entry point, so it is where the concrete datastore is chosen (-c file, environment, or the
// embedded default).
import type { ResourceClient } from '../client/types.js';
import type { Datastore } from '../datastore/api.js';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { openDatastore } from '../datastore/open.js';
import { DEFAULT_CONFIG_FILE, loadDatastoreConfig } from '../datastore/config.js';
import { createResourceClient } from '../client/index.js';
import type { Ipam, IpamEnvironment } from '../ipam/types.js';
import { createIpam, createProcessEnvironment } from '../ipam/index.js';
import { log } from './log.js';

/** What a command works on; close() releases the datastore connection. */
export interface Backend {
  readonly store: Datastore;
  readonly ipam: Ipam;
  readonly client: ResourceClient;
  close(): Promise<void>;
}

/** Options every datastore-touching command accepts. */
export interface DatastoreOptions {
  /** -c/--config: a CalicoAPIConfig file. */
  readonly config?: string;
}

/** The clock, randomness and logger the IPAM engine is given (STYLE.md: injected). */
export const cliEnvironment = (): IpamEnvironment =>
  createProcessEnvironment((level, message, fields) => log(level, message, fields));

/**
 * The datastore configuration of this invocation: the -c file, by default calicoctl's
 * /etc/calico/calicoctl.cfg; when that default is missing, the environment (surfaces.md §1.1).
 */
export async function resolveDatastoreConfig(options: DatastoreOptions): Promise<DatastoreConfig> {
  return loadDatastoreConfig({
    configFile: options.config ?? DEFAULT_CONFIG_FILE,
    env: process.env,
  });
}

/** Open the datastore and build the IPAM engine and resource client on it. */
export async function openBackend(options: DatastoreOptions): Promise<Backend> {
  const config = await resolveDatastoreConfig(options);
  log('debug', 'opening datastore', { type: config.type });
  const store = await openDatastore(config);
  const ipam = createIpam(store, cliEnvironment());
  const client = createResourceClient(store, ipam);
  return { store, ipam, client, close: () => store.close() };
}

/** Run `work` with an open backend, closing it afterwards whatever happens. */
export async function withBackend<T>(
  options: DatastoreOptions,
  work: (backend: Backend) => Promise<T>,
): Promise<T> {
  const backend = await openBackend(options);
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}

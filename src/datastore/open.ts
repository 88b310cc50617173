// Open the datastore a configuration names. Entry points (cli, cni) and tests only.
import type { Datastore } from './api.js';
import type { DatastoreConfig } from './config-types.js';
import { openEmbeddedStore } from './embedded/index.js';

/**
 * Open the datastore `config` describes: the embedded SQLite store, or etcd v3. The etcd backend
 * is imported only when configured, so short-lived processes on the embedded store (the CNI
 * plugin) never pay the ~165 ms load of the etcd3 package. Throws DS_CONFIG for a bad
 * configuration (unwritable data folder, bad endpoint or certificate) and DS_UNAVAILABLE when
 * etcd cannot be reached.
 */
export async function openDatastore(config: DatastoreConfig): Promise<Datastore> {
  if (config.type === 'embedded') return openEmbeddedStore(config);
  const { openEtcdStore } = await import('./etcd/index.js');
  return openEtcdStore(config);
}

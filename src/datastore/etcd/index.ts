// The etcd v3 backend of the Datastore contract. Loaded lazily by datastore/open.ts: importing
// etcd3 costs ~165 ms, which only processes that use etcd should pay.
import type { Datastore } from '../api.js';
import type { EtcdConfig } from '../config-types.js';
import { resolveConnectionSettings } from './connection-settings.js';
import { EndpointPool } from './endpoint-pool.js';
import { EtcdStore } from './etcd-store.js';
import { EtcdWatch } from './etcd-watch.js';

/**
 * Open a Datastore on the etcd v3 cluster of `config`, after checking that one of its endpoints
 * answers (all are asked at once, so a dead endpoint costs no time when another is up).
 * Throws DS_CONFIG (bad endpoint, unreadable or mismatched TLS file, TLS handshake or credentials
 * refused: the message names the endpoint or the file) or DS_UNAVAILABLE (no endpoint answered
 * within callTimeoutMs: the message names every endpoint and why).
 */
export async function openEtcdStore(config: EtcdConfig): Promise<Datastore> {
  const pool = new EndpointPool(resolveConnectionSettings(config));
  try {
    await pool.probe();
  } catch (error) {
    pool.close();
    throw error;
  }
  return new EtcdStore(
    pool,
    (prefix, after, onEvent, onError, onClosed) =>
      new EtcdWatch(pool, prefix, after, onEvent, onError, onClosed),
  );
}

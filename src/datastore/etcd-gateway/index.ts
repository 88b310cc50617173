// The etcd v3 backend through etcd's JSON gateway over node:http(s): EtcdStore's logic on a
// connection that needs no gRPC client. For short-lived processes (the CNI plugin): loading the
// `etcd3` package costs ~165 ms per process. docs/design/datastore.md explains the choice.
import type { Datastore } from '../api.js';
import type { EtcdConfig } from '../config-types.js';
import { resolveConnectionSettings } from '../etcd/connection-settings.js';
import { EtcdStore } from '../etcd/etcd-store.js';
import { GatewayConnection } from './gateway-connection.js';
import { GatewayWatch } from './gateway-watch.js';

/**
 * A Datastore on the etcd cluster of `config` through its JSON gateway. Opening makes no
 * round trip: the first call finds a working endpoint. Throws DS_CONFIG for a bad endpoint or
 * unreadable TLS file; calls throw as the gRPC backend's (DS_UNAVAILABLE, DS_CONFIG, ...).
 */
export async function openEtcdGatewayStore(config: EtcdConfig): Promise<Datastore> {
  const connection = await connect(config);
  return new EtcdStore(
    connection,
    (prefix, after, onEvent, onError, onClosed) =>
      new GatewayWatch(connection, prefix, after, onEvent, onError, onClosed),
  );
}

/**
 * The ID of the etcd cluster `config` reaches (decimal text): equal for two endpoint lists of
 * one cluster, different for two clusters. Throws as openEtcdGatewayStore, and DS_UNAVAILABLE
 * when no endpoint answers.
 */
export async function etcdClusterId(config: EtcdConfig): Promise<string> {
  const connection = await connect(config);
  try {
    return await connection.clusterId();
  } finally {
    connection.close();
  }
}

async function connect(config: EtcdConfig): Promise<GatewayConnection> {
  const settings = resolveConnectionSettings(config);
  const secure = settings.endpoints[0]!.startsWith('https://');
  const transport = secure ? await import('node:https') : await import('node:http');
  return new GatewayConnection(
    {
      endpoints: settings.endpoints,
      tls: settings.credentials
        ? {
            ca: settings.credentials.rootCertificate,
            cert: settings.credentials.certChain,
            key: settings.credentials.privateKey,
          }
        : undefined,
      auth: settings.auth,
      callTimeoutMs: settings.callTimeoutMs,
      tlsFiles: { ...settings.tlsFiles },
    },
    transport as typeof import('node:http'),
  );
}

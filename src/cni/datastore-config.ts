// The datastore this call uses: from the network config, else the environment (as calico-ipam
// does: it exports the config keys to the environment and then reads the environment).
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { CidrpoolError } from '../errors/index.js';
import type { NetConf } from './config.js';

/**
 * Map `datastore_type`, `etcd_*` and our `data_dir` (falling back to DATASTORE_TYPE,
 * ETCD_ENDPOINTS, ETCD_*_FILE and CIDRPOOL_DATA_DIR) to a DatastoreConfig. Without any of
 * them: the embedded store in `${XDG_DATA_HOME:-~/.local/share}/cidrpool`, like the CLI.
 * Throws CNI_INVALID_CONFIG for `kubernetes` (KDD is not implemented) or an unknown type.
 */
export function toDatastoreConfig(conf: NetConf, env: NodeJS.ProcessEnv): DatastoreConfig {
  const endpoints = conf.etcdEndpoints ?? env.ETCD_ENDPOINTS;
  const type =
    conf.datastoreType ??
    env.DATASTORE_TYPE ??
    (conf.etcdEndpoints ? 'etcdv3' : undefined) ??
    'embedded';
  if (type === 'etcdv3') {
    const list = (endpoints ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    if (list.length === 0) {
      throw new CidrpoolError(
        'CNI_INVALID_CONFIG',
        'failed to load netconf: datastore_type is "etcdv3" but etcd_endpoints is empty',
        { details: { hint: 'set etcd_endpoints, e.g. "http://127.0.0.1:2379"' } },
      );
    }
    return {
      type: 'etcdv3',
      endpoints: list,
      caCertFile: conf.etcdCaCertFile ?? (env.ETCD_CA_CERT_FILE || undefined),
      certFile: conf.etcdCertFile ?? (env.ETCD_CERT_FILE || undefined),
      keyFile: conf.etcdKeyFile ?? (env.ETCD_KEY_FILE || undefined),
      username: conf.etcdUsername ?? (env.ETCD_USERNAME || undefined),
      password: conf.etcdPassword ?? (env.ETCD_PASSWORD || undefined),
      // A pod start should fail fast and be retried by the kubelet, not hang.
      callTimeoutMs: 5000,
    };
  }
  if (type === 'embedded') {
    const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
    return {
      type: 'embedded',
      dataDir: conf.dataDir ?? (env.CIDRPOOL_DATA_DIR || join(base, 'cidrpool')),
    };
  }
  throw new CidrpoolError(
    'CNI_INVALID_CONFIG',
    `failed to load netconf: datastore_type "${type}" is not supported`,
    {
      details: {
        hint: 'use "etcdv3" (with etcd_endpoints) or "embedded" (with data_dir); the Kubernetes datastore is not implemented',
      },
    },
  );
}

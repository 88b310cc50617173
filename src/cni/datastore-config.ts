// The datastore this call uses: from the network config, else the environment (as calico-ipam
// does: it exports the config keys to the environment and then reads the environment).
import type { DatastoreConfig } from '../datastore/config-types.js';
import { absolutePath, defaultDataDir } from '../datastore/data-dir.js';
import { CidrpoolError } from '../errors/index.js';
import type { NetConf } from './config.js';

/**
 * Map `datastore_type`, `etcd_*` and our `data_dir` (falling back to DATASTORE_TYPE,
 * ETCD_ENDPOINTS, ETCD_*_FILE and CIDRPOOL_DATA_DIR, each also with a CALICO_ prefix) to a
 * DatastoreConfig; etcd endpoints alone mean etcdv3. Without any of them: the embedded store in
 * `${XDG_DATA_HOME:-~/.local/share}/cidrpool`, like the CLI.
 * Throws CNI_INVALID_CONFIG for `kubernetes` (KDD is not implemented) or an unknown type.
 */
export function toDatastoreConfig(conf: NetConf, env: NodeJS.ProcessEnv): DatastoreConfig {
  // As the CLI (and libcalico-go's envconfig) reads the environment: CALICO_<NAME>, then <NAME>.
  // An empty key or variable counts as unset (Calico exports only non-empty config keys).
  const fromEnv = (name: string): string | undefined =>
    env[`CALICO_${name}`] || env[name] || undefined;
  const endpoints = conf.etcdEndpoints || fromEnv('ETCD_ENDPOINTS');
  const type =
    conf.datastoreType || fromEnv('DATASTORE_TYPE') || (endpoints ? 'etcdv3' : 'embedded');
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
      caCertFile: conf.etcdCaCertFile || fromEnv('ETCD_CA_CERT_FILE'),
      certFile: conf.etcdCertFile || fromEnv('ETCD_CERT_FILE'),
      keyFile: conf.etcdKeyFile || fromEnv('ETCD_KEY_FILE'),
      username: conf.etcdUsername || fromEnv('ETCD_USERNAME'),
      password: conf.etcdPassword || fromEnv('ETCD_PASSWORD'),
      // A pod start should fail fast and be retried by the kubelet, not hang.
      callTimeoutMs: 5000,
    };
  }
  if (type === 'embedded') {
    const dir = conf.dataDir || fromEnv('CIDRPOOL_DATA_DIR');
    return { type: 'embedded', dataDir: dir ? absolutePath(dir, env) : defaultDataDir(env) };
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

// How a datastore is chosen and configured. CONTRACT used by datastore/, cli/ and cni/.
//
// `loadDatastoreConfig` (src/datastore/config.ts) resolves, in order: a config file given with
// -c (calicoctl's CalicoAPIConfig: `apiVersion: projectcalico.org/v3`, `kind: CalicoAPIConfig`,
// `spec.datastoreType: etcdv3 | embedded`, `spec.etcdEndpoints`, `spec.etcdCACertFile`,
// `spec.etcdCertFile`, `spec.etcdKeyFile`, `spec.etcdUsername`, `spec.etcdPassword`,
// `spec.dataDir`), then the environment (DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_CA_CERT_FILE,
// ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD, CIDRPOOL_DATA_DIR), else embedded
// in `${XDG_DATA_HOME:-~/.local/share}/cidrpool`.
// `openDatastore` (src/datastore/open.ts, entry points only) opens it; etcd3 is loaded lazily.

export interface EmbeddedConfig {
  readonly type: 'embedded';
  /** Folder holding the SQLite file (created with mode 0700; the file 0600). */
  readonly dataDir: string;
  /** `full` (default, durable) or `normal` (faster; a power loss may lose the last commits). */
  readonly synchronous?: 'full' | 'normal';
}

export interface EtcdConfig {
  readonly type: 'etcdv3';
  /** e.g. ['http://127.0.0.1:2379'] */
  readonly endpoints: readonly string[];
  readonly caCertFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly username?: string;
  readonly password?: string;
  /** Per-call deadline in milliseconds (default 5000). */
  readonly callTimeoutMs?: number;
}

export type DatastoreConfig = EmbeddedConfig | EtcdConfig;

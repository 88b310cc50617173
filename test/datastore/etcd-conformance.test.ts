// The shared datastore conformance suite on a real single-member etcd started for this file.
import { defineConformanceSuite } from '../../src/datastore/conformance/suite.js';
import type { EtcdConfig } from '../../src/datastore/config-types.js';
import { openEtcdStore } from '../../src/datastore/etcd/index.js';
import { startEtcd } from '../helpers/etcd-cluster.js';

const cluster = await startEtcd({ members: 1 });
const config: EtcdConfig = { type: 'etcdv3', endpoints: cluster.endpoints };

defineConformanceSuite('etcdv3', {
  open: () => openEtcdStore(config),
  workerConfig: () => config,
  teardown: () => cluster.stop(),
});

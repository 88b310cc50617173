// The shared datastore conformance suite on etcd's JSON gateway (the CNI plugin's light etcd
// path), against a real single-member etcd started for this file.
import { defineConformanceSuite } from '../../src/datastore/conformance/suite.js';
import type { EtcdConfig } from '../../src/datastore/config-types.js';
import { openEtcdGatewayStore } from '../../src/datastore/etcd-gateway/index.js';
import { startEtcd } from '../helpers/etcd-cluster.js';

const cluster = await startEtcd({ members: 1 });
const config: EtcdConfig = { type: 'etcdv3', endpoints: cluster.endpoints };

defineConformanceSuite('etcdv3 through the JSON gateway', {
  open: () => openEtcdGatewayStore(config),
  workerConfig: () => config,
  teardown: () => cluster.stop(),
});

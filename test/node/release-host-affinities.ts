// `node dist/test/node/release-host-affinities.js NODE`: release every block affinity of NODE
// (empty blocks are deleted), on the datastore the environment names. The BGP end-to-end test
// runs it inside a network namespace, where an etcd on an underlay address is reachable.
import { loadDatastoreConfig } from '../../src/datastore/config.js';
import { openDatastore } from '../../src/datastore/open.js';
import { createTestIpam } from '../cni/support.js';

const node = process.argv[2];
if (!node) throw new Error('usage: release-host-affinities NODE');
const store = await openDatastore(await loadDatastoreConfig({ env: process.env }));
try {
  await (await createTestIpam(store)).releaseHostAffinities(node, true);
} finally {
  await store.close();
}

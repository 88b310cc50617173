// The etcd store with etcd's user/password authentication turned on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCidrpoolError } from '../../src/errors/index.js';
import type { EtcdConfig } from '../../src/datastore/config-types.js';
import { openEtcdStore } from '../../src/datastore/etcd/index.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';

const isConfigError = (error: unknown, text: string): true => {
  assert.ok(isCidrpoolError(error, 'DS_CONFIG'), String(error));
  assert.ok(error.message.includes(text), error.message);
  return true;
};

describe('etcd store with authentication', () => {
  let cluster: EtcdCluster;
  let config: EtcdConfig;

  before(async () => {
    cluster = await startEtcd({ members: 1 });
    await cluster.etcdctl(['user', 'add', 'root:s3cret']);
    await cluster.etcdctl(['auth', 'enable']);
    config = { type: 'etcdv3', endpoints: cluster.endpoints, username: 'root', password: 's3cret' };
  });
  after(async () => {
    await cluster?.stop();
  });

  it('works with the right user and password', async () => {
    const store = await openEtcdStore(config);
    try {
      await store.put('/cidrpool-auth/a', 'x');
      assert.equal((await store.get('/cidrpool-auth/a'))?.value, 'x');
      const stored = await cluster.etcdctl([
        '--user=root:s3cret',
        'get',
        '--print-value-only',
        '/cidrpool-auth/a',
      ]);
      assert.equal(stored.toString(), 'x\n');
    } finally {
      await store.close();
    }
  });

  it('a wrong password fails the open with DS_CONFIG', async () => {
    await assert.rejects(openEtcdStore({ ...config, password: 'wrong' }), (error) =>
      isConfigError(error, 'authentication failed'),
    );
  });

  it('no credentials against an etcd with auth fails with DS_CONFIG at the first call', async () => {
    const attempt = async () => {
      const store = await openEtcdStore({ type: 'etcdv3', endpoints: cluster.endpoints });
      try {
        await store.get('/cidrpool-auth/a');
      } finally {
        await store.close();
      }
    };
    await assert.rejects(attempt(), (error) => isConfigError(error, cluster.endpoints[0]!));
  });
});

// etcd's JSON gateway (the CNI plugin's light etcd path) over TLS with client certificates and
// with user/password authentication, against real etcd servers started here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EtcdConfig } from '../../src/datastore/config-types.js';
import { openEtcdGatewayStore } from '../../src/datastore/etcd-gateway/index.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import {
  generateTestCertificates,
  mutualTls,
  type TestCertificates,
} from '../helpers/etcd-certs.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';

/** Open with `config`, write and read one key; resolves to what was read back. */
async function roundTrip(config: EtcdConfig, key: string): Promise<string | undefined> {
  const store = await openEtcdGatewayStore(config);
  try {
    await store.put(key, 'value');
    return (await store.get(key))?.value;
  } finally {
    await store.close();
  }
}

const failsWith = (code: string, text: string) => (error: unknown) => {
  assert.ok(isCidrpoolError(error), String(error));
  assert.equal(error.code, code, error.message);
  assert.ok(error.message.includes(text), `"${error.message}" should mention ${text}`);
  return true;
};

describe('etcd JSON gateway over TLS and with authentication', () => {
  let certs: TestCertificates;
  let tls: EtcdCluster;
  let auth: EtcdCluster;
  before(async () => {
    certs = generateTestCertificates();
    [tls, auth] = await Promise.all([
      startEtcd({
        members: 1,
        tls: mutualTls(certs),
      }),
      startEtcd({ members: 1 }),
    ]);
    await auth.etcdctl(['user', 'add', 'root:s3cret']);
    await auth.etcdctl(['auth', 'enable']);
  });
  after(async () => {
    await Promise.all([tls?.stop(), auth?.stop()]);
    certs?.remove();
  });

  it('works with the right CA, client certificate and key', async () => {
    const config: EtcdConfig = {
      type: 'etcdv3',
      endpoints: tls.endpoints,
      caCertFile: certs.caFile,
      certFile: certs.clientCertFile,
      keyFile: certs.clientKeyFile,
    };
    assert.equal(await roundTrip(config, '/cidrpool-gw/tls'), 'value');
    const stored = await tls.etcdctl(['get', '--print-value-only', '/cidrpool-gw/tls']);
    assert.equal(stored.toString(), 'value\n');
  });

  it('without a client certificate the server requires, the first call fails with DS_CONFIG', async () => {
    const config: EtcdConfig = {
      type: 'etcdv3',
      endpoints: tls.endpoints,
      caCertFile: certs.caFile,
    };
    await assert.rejects(roundTrip(config, '/cidrpool-gw/no-cert'), (error: unknown) => {
      assert.ok(isCidrpoolError(error), String(error));
      assert.equal(error.code, 'DS_CONFIG', error.message);
      assert.ok(error.message.includes(tls.endpoints[0]!), error.message);
      return true;
    });
  });

  it('authenticates with user and password, and refuses a wrong password with DS_CONFIG', async () => {
    const config: EtcdConfig = {
      type: 'etcdv3',
      endpoints: auth.endpoints,
      username: 'root',
      password: 's3cret',
    };
    assert.equal(await roundTrip(config, '/cidrpool-gw/auth'), 'value');
    await assert.rejects(
      roundTrip({ ...config, password: 'wrong' }, '/cidrpool-gw/auth'),
      failsWith('DS_CONFIG', 'refused the credentials'),
    );
    await assert.rejects(
      roundTrip({ type: 'etcdv3', endpoints: auth.endpoints }, '/cidrpool-gw/anonymous'),
      failsWith('DS_CONFIG', 'refused the credentials'),
    );
  });
});

// The etcd store over TLS with client certificates (--client-cert-auth), and the errors a wrong
// CA, a missing key file or a missing client certificate give: one line naming the file.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCidrpoolError } from '../../src/errors/index.js';
import type { EtcdConfig } from '../../src/datastore/config-types.js';
import { openEtcdStore } from '../../src/datastore/etcd/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/support.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';
import {
  generateTestCertificates,
  mutualTls,
  type TestCertificates,
} from '../helpers/etcd-certs.js';

/** Assert that opening with `config` fails with DS_CONFIG on one line that mentions `text`. */
async function assertOpenFails(config: EtcdConfig, text: string): Promise<void> {
  const started = Date.now();
  await assert.rejects(openEtcdStore(config), (error: unknown) => {
    assert.ok(isCidrpoolError(error), `expected a CidrpoolError, got ${String(error)}`);
    assert.equal(error.code, 'DS_CONFIG', error.message);
    assert.ok(error.message.includes(text), `"${error.message}" should mention ${text}`);
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
    return true;
  });
  assert.ok(Date.now() - started < 3000, `failed after ${Date.now() - started} ms`);
}

describe('etcd store over TLS', () => {
  let certs: TestCertificates;
  let cluster: EtcdCluster;
  let config: EtcdConfig;

  before(async () => {
    certs = generateTestCertificates();
    cluster = await startEtcd({
      members: 1,
      tls: mutualTls(certs),
    });
    config = {
      type: 'etcdv3',
      endpoints: cluster.endpoints,
      caCertFile: certs.caFile,
      certFile: certs.clientCertFile,
      keyFile: certs.clientKeyFile,
    };
  });
  after(async () => {
    await cluster?.stop();
    certs?.remove();
  });

  it('works with the right CA, client certificate and key', async () => {
    assert.ok(cluster.endpoints[0]!.startsWith('https://127.0.0.1:'));
    const store = await openEtcdStore(config);
    try {
      const created = await store.create('/cidrpool-tls/a', 'value');
      assert.deepEqual(await store.get('/cidrpool-tls/a'), created);
      const stored = await cluster.etcdctl(['get', '--print-value-only', '/cidrpool-tls/a']);
      assert.equal(stored.toString(), 'value\n');
    } finally {
      await store.close();
    }
  });

  it('the CLI on https://127.0.0.1 prints no DEP0123 warning (issue 15)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cp15-tls-'));
    try {
      const run = await runCli(['get', 'ippool'], {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        DATASTORE_TYPE: 'etcdv3',
        ETCD_ENDPOINTS: cluster.endpoints.join(','),
        ETCD_CA_CERT_FILE: certs.caFile,
        ETCD_CERT_FILE: certs.clientCertFile,
        ETCD_KEY_FILE: certs.clientKeyFile,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /DEP0123|DeprecationWarning/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a CA that did not sign the server certificate fails the open, naming the CA file', async () => {
    await assertOpenFails({ ...config, caCertFile: certs.wrongCaFile }, certs.wrongCaFile);
  });

  it('a missing key file fails the open, naming the file', async () => {
    const keyFile = `${certs.dir}/missing-key.pem`;
    await assertOpenFails({ ...config, keyFile }, keyFile);
  });

  it('a key that does not belong to the certificate fails the open, naming the key file', async () => {
    await assertOpenFails({ ...config, keyFile: certs.serverKeyFile }, certs.serverKeyFile);
  });

  it('an http:// endpoint for an etcd that serves https says which scheme to use', async () => {
    const endpoints = cluster.endpoints.map((url) => url.replace('https://', 'http://'));
    await assert.rejects(openEtcdStore({ type: 'etcdv3', endpoints }), (error: unknown) => {
      assert.ok(isCidrpoolError(error, 'DS_UNAVAILABLE'), String(error));
      assert.ok(error.message.includes(endpoints[0]!), error.message);
      assert.ok(error.message.includes('https://'), error.message);
      return true;
    });
  });

  it('no client certificate when the server requires one fails the open clearly', async () => {
    await assertOpenFails({ ...config, certFile: undefined, keyFile: undefined }, 'TLS');
  });
});

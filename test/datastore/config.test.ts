// loadDatastoreConfig: calicoctl's CalicoAPIConfig files and environment, plus cidrpool's embedded
// datastore as the default.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CONFIG_FILE, loadDatastoreConfig } from '../../src/datastore/config.js';
import { defaultDataDir } from '../../src/datastore/data-dir.js';
import { isCidrpoolError } from '../../src/errors/index.js';

const root = mkdtempSync(join(tmpdir(), 'cidrpool-config-'));
after(() => rmSync(root, { recursive: true, force: true }));
let files = 0;

/** Write a config file and return its path. */
function configFile(text: string, ext = 'cfg'): string {
  const path = join(root, `config-${++files}.${ext}`);
  writeFileSync(path, text);
  return path;
}

const caFile = join(root, 'ca.pem');
writeFileSync(caFile, 'not really a certificate');

/** Assert a DS_CONFIG error whose one-line message contains every part. */
async function rejectsConfig(promise: Promise<unknown>, ...parts: string[]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isCidrpoolError(err, 'DS_CONFIG'), `expected DS_CONFIG, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    for (const part of parts)
      assert.ok(err.message.includes(part), `"${err.message}" names ${part}`);
    return true;
  });
}

const HOME = '/home/tester';

describe('loadDatastoreConfig from the environment', () => {
  it('defaults to the embedded store in ~/.local/share/cidrpool', async () => {
    assert.deepEqual(await loadDatastoreConfig({ env: { HOME } }), {
      type: 'embedded',
      dataDir: '/home/tester/.local/share/cidrpool',
    });
  });

  it('honours an absolute XDG_DATA_HOME and ignores a relative one', async () => {
    assert.equal(defaultDataDir({ HOME, XDG_DATA_HOME: '/xdg' }), '/xdg/cidrpool');
    assert.equal(
      defaultDataDir({ HOME, XDG_DATA_HOME: 'relative' }),
      '/home/tester/.local/share/cidrpool',
    );
  });

  it('reads CIDRPOOL_DATA_DIR (made absolute, ~ expanded) and CIDRPOOL_SYNCHRONOUS', async () => {
    assert.deepEqual(
      await loadDatastoreConfig({
        env: { HOME, CIDRPOOL_DATA_DIR: '~/pools', CIDRPOOL_SYNCHRONOUS: 'normal' },
      }),
      { type: 'embedded', dataDir: '/home/tester/pools', synchronous: 'normal' },
    );
    assert.deepEqual(await loadDatastoreConfig({ env: { HOME, CIDRPOOL_DATA_DIR: 'rel/dir' } }), {
      type: 'embedded',
      dataDir: resolve('rel/dir'),
    });
    await rejectsConfig(
      loadDatastoreConfig({ env: { HOME, CIDRPOOL_SYNCHRONOUS: 'sometimes' } }),
      'CIDRPOOL_SYNCHRONOUS',
      '"sometimes"',
    );
  });

  it('ETCD_ENDPOINTS alone selects etcdv3; the list is comma-separated as in calicoctl', async () => {
    assert.deepEqual(
      await loadDatastoreConfig({
        env: {
          ETCD_ENDPOINTS: 'http://10.0.0.1:2379, https://etcd-2.example:2379,',
          ETCD_USERNAME: 'root',
          ETCD_PASSWORD: 'secret',
          ETCD_CA_CERT_FILE: caFile,
        },
      }),
      {
        type: 'etcdv3',
        endpoints: ['http://10.0.0.1:2379', 'https://etcd-2.example:2379'],
        caCertFile: caFile,
        username: 'root',
        password: 'secret',
      },
    );
  });

  it('CALICO_-prefixed variables win over the plain ones, as with envconfig', async () => {
    const config = await loadDatastoreConfig({
      env: {
        CALICO_DATASTORE_TYPE: 'etcdv3',
        DATASTORE_TYPE: 'kubernetes',
        CALICO_ETCD_ENDPOINTS: 'http://127.0.0.1:2379',
      },
    });
    assert.deepEqual(config, { type: 'etcdv3', endpoints: ['http://127.0.0.1:2379'] });
  });

  it('DATASTORE_TYPE=etcdv3 without endpoints is DS_CONFIG naming ETCD_ENDPOINTS', async () => {
    await rejectsConfig(
      loadDatastoreConfig({ env: { DATASTORE_TYPE: 'etcdv3' } }),
      'environment',
      'ETCD_ENDPOINTS',
    );
  });

  it('the kubernetes datastore is DS_CONFIG saying it is not supported', async () => {
    await rejectsConfig(
      loadDatastoreConfig({ env: { DATASTORE_TYPE: 'kubernetes' } }),
      'DATASTORE_TYPE',
      'kubernetes datastore is not supported',
    );
    await rejectsConfig(
      loadDatastoreConfig({ env: { DATASTORE_TYPE: 'etcd' } }),
      'DATASTORE_TYPE',
      '"etcd" is not a datastore type',
    );
  });

  it('bad endpoints and missing certificate files are named with their value', async () => {
    await rejectsConfig(
      loadDatastoreConfig({ env: { ETCD_ENDPOINTS: '127.0.0.1:2379' } }),
      'ETCD_ENDPOINTS',
      '"127.0.0.1:2379" is not an endpoint URL',
    );
    await rejectsConfig(
      loadDatastoreConfig({
        env: { ETCD_ENDPOINTS: 'http://e:2379', ETCD_CA_CERT_FILE: join(root, 'missing.pem') },
      }),
      'ETCD_CA_CERT_FILE',
      'missing.pem',
      'ENOENT',
    );
    await rejectsConfig(
      loadDatastoreConfig({ env: { ETCD_ENDPOINTS: 'http://e:2379', ETCD_CERT_FILE: caFile } }),
      'ETCD_KEY_FILE',
    );
  });

  it('collects every issue, not only the first', async () => {
    await assert.rejects(
      loadDatastoreConfig({
        env: {
          ETCD_ENDPOINTS: 'nope',
          ETCD_KEY_FILE: join(root, 'missing.key'),
          ETCD_PASSWORD: 'p',
        },
      }),
      (err: unknown) => {
        assert.ok(isCidrpoolError(err, 'DS_CONFIG'));
        assert.deepEqual(
          err.issues.map((issue) => issue.path),
          ['ETCD_ENDPOINTS', 'ETCD_KEY_FILE', 'ETCD_CERT_FILE', 'ETCD_USERNAME'],
        );
        assert.match(err.message, /\(and 3 more\)$/);
        return true;
      },
    );
  });
});

describe('loadDatastoreConfig from a CalicoAPIConfig file', () => {
  it('reads calicoctl etcdv3 files; the environment is then not used', async () => {
    const file = configFile(`apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata:
spec:
  datastoreType: "etcdv3"
  etcdEndpoints: "http://etcd1:2379,http://etcd2:2379"
  etcdCACertFile: ${caFile}
  etcdUsername: admin
  etcdPassword: hunter2
`);
    const config = await loadDatastoreConfig({
      configFile: file,
      env: { DATASTORE_TYPE: 'kubernetes', ETCD_ENDPOINTS: 'http://other:2379' },
    });
    assert.deepEqual(config, {
      type: 'etcdv3',
      endpoints: ['http://etcd1:2379', 'http://etcd2:2379'],
      caCertFile: caFile,
      username: 'admin',
      password: 'hunter2',
    });
  });

  it('accepts JSON, an endpoint list, and ignores the Kubernetes fields calicoctl allows', async () => {
    const file = configFile(
      JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'CalicoAPIConfig',
        metadata: {},
        spec: {
          etcdEndpoints: ['http://a:2379', 'http://b:2379'],
          kubeconfig: '/root/.kube/config',
        },
      }),
      'json',
    );
    assert.deepEqual(await loadDatastoreConfig({ configFile: file }), {
      type: 'etcdv3',
      endpoints: ['http://a:2379', 'http://b:2379'],
    });
  });

  it('reads the embedded store with dataDir and synchronous', async () => {
    const file = configFile(`apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
spec:
  datastoreType: embedded
  dataDir: /var/lib/cidrpool
  synchronous: NORMAL
`);
    assert.deepEqual(await loadDatastoreConfig({ configFile: file }), {
      type: 'embedded',
      dataDir: '/var/lib/cidrpool',
      synchronous: 'normal',
    });
  });

  it('a file without a datastore or endpoints means the embedded store in the default folder', async () => {
    const file = configFile('apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n');
    assert.deepEqual(await loadDatastoreConfig({ configFile: file, env: { HOME } }), {
      type: 'embedded',
      dataDir: '/home/tester/.local/share/cidrpool',
    });
  });

  it('kubernetes in a file is DS_CONFIG naming the file and spec.datastoreType', async () => {
    const file = configFile(
      'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: kubernetes\n',
    );
    await rejectsConfig(
      loadDatastoreConfig({ configFile: file }),
      file,
      'spec.datastoreType',
      'not supported',
    );
  });

  it('a wrong apiVersion or kind is DS_CONFIG with calicoctl-like words', async () => {
    const file = configFile('apiVersion: v1\nkind: Config\nspec: {}\n');
    await assert.rejects(loadDatastoreConfig({ configFile: file }), (err: unknown) => {
      assert.ok(isCidrpoolError(err, 'DS_CONFIG'));
      assert.match(err.message, /apiVersion: unknown APIVersion "v1"/);
      assert.deepEqual(
        err.issues.map((issue) => issue.path),
        ['apiVersion', 'kind'],
      );
      return true;
    });
  });

  it('unknown and unsupported fields are DS_CONFIG naming the field', async () => {
    await rejectsConfig(
      loadDatastoreConfig({
        configFile: configFile(
          'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoint: http://x:2379\n',
        ),
      }),
      'spec.etcdEndpoint',
      'unknown field',
    );
    await rejectsConfig(
      loadDatastoreConfig({
        configFile: configFile(
          'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdCACert: "-----BEGIN"\n',
        ),
      }),
      'spec.etcdCACert',
      'not supported',
    );
    await rejectsConfig(
      loadDatastoreConfig({
        configFile: configFile(
          'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  dataDir: 42\n',
        ),
      }),
      'spec.dataDir',
      'must be a string',
    );
  });

  it('a YAML syntax error is DS_CONFIG with its line and column', async () => {
    const file = configFile('apiVersion: projectcalico.org/v3\nkind: [CalicoAPIConfig\n');
    await assert.rejects(loadDatastoreConfig({ configFile: file }), (err: unknown) => {
      assert.ok(isCidrpoolError(err, 'DS_CONFIG'));
      assert.ok(err.message.startsWith(`config file ${file}: `), err.message);
      assert.ok(!err.message.includes('\n'));
      assert.ok(err.position && err.position.line >= 2, 'the position is set');
      return true;
    });
  });

  it('a missing file is DS_CONFIG in calicoctl words', async () => {
    const file = join(root, 'absent.cfg');
    await rejectsConfig(
      loadDatastoreConfig({ configFile: file }),
      `Error reading config file: ${file}`,
    );
  });

  it(
    'the missing default file falls back to the environment silently, as calicoctl does',
    { skip: existsSync(DEFAULT_CONFIG_FILE) && `${DEFAULT_CONFIG_FILE} exists on this machine` },
    async () => {
      assert.deepEqual(
        await loadDatastoreConfig({
          configFile: DEFAULT_CONFIG_FILE,
          env: { ETCD_ENDPOINTS: 'http://127.0.0.1:2379' },
        }),
        { type: 'etcdv3', endpoints: ['http://127.0.0.1:2379'] },
      );
    },
  );
});

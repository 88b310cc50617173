// The plugin loads only what a call needs (a pod start waits on it): VERSION loads neither the
// engine nor a store; ADD on the embedded store never loads the etcd client (~165 ms) or the
// YAML parser; a kubeconfig loads `yaml`. A module-resolution hook (node --import) records every
// module the real ./bin/cidrpool-ipam script resolves. The script runs the esbuild bundle
// (dist/cni: an entry file and chunks), so each bundle file it loads is expanded into the source
// modules it holds, from the build's metafile (dist/cni/meta.json); packages left external
// (better-sqlite3, etcd3, yaml) are resolved as themselves.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.js';
import { PLUGIN, REPO_ROOT, cleanEnv, seedStore, withStore } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cni-startup-'));
const dataDir = join(dir, 'store');
const hook = join(dir, 'record-loads.mjs');
writeFileSync(
  hook,
  `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.CIDRPOOL_TEST_LOAD_LOG, result.url + '\\\\n');
  return result;
}\`));
`,
);

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}
const BUNDLE = `${REPO_ROOT}dist/cni/`;
const metafile = JSON.parse(readFileSync(`${BUNDLE}meta.json`, 'utf8')) as Metafile;

/**
 * The resolved URLs, one a line, with every bundle file followed by the source modules in it
 * (`<repo>/src/ipam/index.ts`). A bundle file the metafile does not list fails the test: it
 * could hold anything.
 */
function expandBundle(urls: string): string {
  const lines: string[] = [];
  for (const url of urls.split('\n').filter((u) => u !== '')) {
    lines.push(url);
    if (!url.startsWith(`file://${BUNDLE}`)) continue;
    const output = metafile.outputs[url.slice('file://'.length + REPO_ROOT.length)];
    assert.ok(output, `${url} is not in dist/cni/meta.json (stale bundle? run npm run build)`);
    for (const input of Object.keys(output.inputs)) lines.push(`${REPO_ROOT}${input}`);
  }
  return lines.join('\n');
}

/**
 * Run the plugin under the hook; resolves to the exit code, stdout and the loaded modules (see
 * expandBundle). Asynchronous, so the fake API server in this process can answer meanwhile.
 */
function runRecorded(command: string, config: object, args = '') {
  const log = join(dir, `loads-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, '');
  const child = spawn(process.execPath, ['--import', hook, PLUGIN], {
    env: cleanEnv({
      CIDRPOOL_TEST_LOAD_LOG: log,
      CNI_COMMAND: command,
      CNI_CONTAINERID: 'startup-1',
      CNI_IFNAME: 'eth0',
      CNI_NETNS: '/var/run/netns/none',
      CNI_PATH: '/usr/lib/cni',
      CNI_ARGS: args,
    }),
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stdin.on('error', () => undefined);
  child.stdin.end(JSON.stringify(config));
  return new Promise<{ code: number | null; stdout: string; loads: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout, loads: expandBundle(readFileSync(log, 'utf8')) }),
    );
  });
}

describe('cidrpool-ipam start-up: load only what the call needs', () => {
  let api: FakeKubeApi;
  before(async () => {
    api = await startFakeKubeApi({ pods: { 'ns/p': {} }, namespaces: { ns: {} } });
    await withStore({ type: 'embedded', dataDir }, (store) =>
      seedStore(store, { pools: [{ name: 'p', cidr: '10.93.0.0/16' }], nodes: [{ name: 'n1' }] }),
    );
  });
  after(async () => {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = {
    cniVersion: '1.0.0',
    name: 'net',
    nodename: 'n1',
    datastore_type: 'embedded',
    data_dir: dataDir,
    ipam: { type: 'cidrpool-ipam' },
  };

  it('VERSION loads no engine, no store, no etcd client, no yaml', async () => {
    const run = await runRecorded('VERSION', config);
    assert.equal(run.code, 0, run.stdout);
    // The bundle ran, not tsc's output: the expansion below is what was loaded.
    assert.match(run.loads, /\/dist\/cni\/main\.js/);
    assert.ok(!run.loads.includes('/dist/src/'), 'the plugin loaded tsc output, not the bundle');
    assert.match(run.loads, /\/src\/cni\/main\.ts/);
    assert.match(run.loads, /\/src\/cni\/versions\.ts/);
    for (const heavy of ['/src/ipam/', '/src/datastore/', 'better-sqlite3', 'etcd3', '/yaml/']) {
      assert.ok(!run.loads.includes(heavy), `VERSION loaded ${heavy}`);
    }
  });

  it('ADD on the embedded store loads SQLite and the engine, never etcd3 or yaml', async () => {
    const run = await runRecorded('ADD', config);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.loads, /better-sqlite3/);
    assert.match(run.loads, /\/src\/ipam\/index\.ts/);
    assert.match(run.loads, /\/src\/datastore\/embedded\/index\.ts/);
    assert.ok(!run.loads.includes('/dist/src/'), 'the plugin loaded tsc output, not the bundle');
    assert.ok(!run.loads.includes('etcd3'), 'ADD on the embedded store loaded etcd3');
    assert.ok(!run.loads.includes('/src/datastore/etcd/'), 'ADD loaded the etcd backend');
    assert.ok(!run.loads.includes('/yaml/'), 'ADD without a kubeconfig loaded yaml');
    assert.ok(
      !run.loads.includes('/src/cni/kube/'),
      'ADD without policy.type k8s loaded the API reader',
    );
    assert.equal((await runRecorded('DEL', config)).code, 0);
  });

  it('a kubeconfig loads yaml (and only then)', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\ncurrent-context: c\nclusters: [{name: k, cluster: {server: "${api.url}"}}]\n` +
        `users: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n`,
    );
    const withKube = { ...config, policy: { type: 'k8s' }, kubernetes: { kubeconfig } };
    const run = await runRecorded('ADD', withKube, 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p');
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.loads, /\/yaml\//);
    assert.match(run.loads, /\/src\/cni\/kube\/connection\.ts/);
    assert.equal(
      (await runRecorded('DEL', withKube, 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p')).code,
      0,
    );
  });
});

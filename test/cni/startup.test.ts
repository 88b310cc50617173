// The plugin loads only what a call needs (a pod start waits on it), and runs from its V8 code
// cache (docs/cni.md "Start-up cost"). The real ./bin/cidrpool-ipam runs under a hook
// (node --import) that records what it compiles and loads:
// - every vm.Script (the bin compiles dist/cni/ipam-thin.js, then dist/cni/plugin.js unless the
//   node agent took the call), with the cache it was given and whether V8 rejected it;
// - every require() of a package or file (Module._load) and every ES module resolved;
// - with CIDRPOOL_TEST_INSTRUMENT, each source module of the bundle whose code runs: esbuild
//   wraps the modules reached through import() in lazy initialisers (__esm, and __commonJS for
//   better-sqlite3's files), named by source path; the hook makes them log their name. (The
//   edited script no longer matches its cache, so these runs compile from source.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { startAgent, type RunningAgent } from '../node/ipam-agent-support.js';
import { PLUGIN, REPO_ROOT, cleanEnv, seedStore, withStore } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'cni-startup-'));
const dataDir = join(dir, 'store');
const hook = join(dir, 'record-loads.mjs');
writeFileSync(
  hook,
  `import { appendFileSync } from 'node:fs';
import Module, { builtinModules, register } from 'node:module';
import vm from 'node:vm';
const log = (line) => appendFileSync(process.env.CIDRPOOL_TEST_LOAD_LOG, line + '\\n');
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.CIDRPOOL_TEST_LOAD_LOG, 'import ' + result.url + '\\\\n');
  return result;
}\`));
const load = Module._load;
Module._load = function (request, ...rest) {
  const plain = request.replace(/^node:/, '');
  if (!builtinModules.includes(plain)) log('require ' + Module._resolveFilename(request, ...rest));
  return load.call(this, request, ...rest);
};
globalThis.__cidrpoolTestInit = (name) => log('init ' + name);
const edits = [
  ['function __init() {', 'function __init() { if (fn) __cidrpoolTestInit(__getOwnPropNames(fn)[0]);'],
  ['function __require() {', 'function __require() { if (!mod) __cidrpoolTestInit(__getOwnPropNames(cb)[0]);'],
];
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(code, options) {
    // The thin entry has no lazy modules (nothing of it is instrumented).
    if (process.env.CIDRPOOL_TEST_INSTRUMENT && !options.filename.endsWith('/ipam-thin.js')) {
      for (const [from, to] of edits) {
        if (!code.includes(from)) log('instrument-failed ' + from);
        code = code.replace(from, to);
      }
    }
    super(code, options);
    log('script ' + options.filename + ' cache ' + (options.cachedData?.length ?? 0) +
      ' rejected ' + this.cachedDataRejected);
  }
};
`,
);

interface Recorded {
  code: number | null;
  stdout: string;
  /** The log lines: `script <file> cache <bytes> rejected <bool>`, `require <file>`, ... */
  loads: string;
}

/**
 * Run `program` (the plugin by default) under the hook; resolves to the exit code, stdout and
 * the log. Asynchronous, so the fake API server in this process can answer meanwhile.
 */
function runRecorded(
  command: string,
  config: object,
  options: { args?: string; instrument?: boolean; program?: string } = {},
): Promise<Recorded> {
  const log = join(dir, `loads-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, '');
  const child = spawn(process.execPath, ['--import', hook, options.program ?? PLUGIN], {
    env: cleanEnv({
      CIDRPOOL_TEST_LOAD_LOG: log,
      CIDRPOOL_TEST_INSTRUMENT: options.instrument ? '1' : undefined,
      CNI_COMMAND: command,
      CNI_CONTAINERID: 'startup-1',
      CNI_IFNAME: 'eth0',
      CNI_NETNS: '/var/run/netns/none',
      CNI_PATH: '/usr/lib/cni',
      CNI_ARGS: options.args ?? '',
    }),
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stdin.on('error', () => undefined);
  child.stdin.end(JSON.stringify(config));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, loads: readFileSync(log, 'utf8') }));
  });
}

const SCRIPT = `${REPO_ROOT}dist/cni/plugin.js`;
const THIN = `${REPO_ROOT}dist/cni/ipam-thin.js`;
after(() => rmSync(dir, { recursive: true, force: true }));

/** The bundle ran (not tsc's dist/src), and the instrumentation took. */
function assertBundleRan(run: Recorded): void {
  assert.match(run.loads, new RegExp(`^script ${SCRIPT} `, 'm'));
  assert.ok(!run.loads.includes('/dist/src/'), 'the plugin loaded tsc output, not the bundle');
  assert.ok(!run.loads.includes('instrument-failed'), `esbuild's helpers changed:\n${run.loads}`);
}

describe('cidrpool-ipam start-up: load only what the call needs', () => {
  let api: FakeKubeApi;
  before(async () => {
    api = await startFakeKubeApi({ pods: { 'ns/p': {} }, namespaces: { ns: {} } });
    await withStore({ type: 'embedded', dataDir }, (store) =>
      seedStore(store, { pools: [{ name: 'p', cidr: '10.93.0.0/16' }], nodes: [{ name: 'n1' }] }),
    );
  });
  after(() => api.stop());

  const config = {
    cniVersion: '1.0.0',
    name: 'net',
    nodename: 'n1',
    datastore_type: 'embedded',
    data_dir: dataDir,
    ipam: { type: 'cidrpool-ipam' },
  };

  it('VERSION runs no engine, no store, no etcd client, no yaml', async () => {
    const run = await runRecorded('VERSION', config, { instrument: true });
    assert.equal(run.code, 0, run.stdout);
    assertBundleRan(run);
    assert.match(run.loads, /^init src\/cni\/handle\.ts$/m);
    for (const heavy of ['src/ipam/', 'src/datastore/', 'better-sqlite3', 'etcd3', '/yaml/']) {
      assert.ok(!run.loads.includes(heavy), `VERSION loaded ${heavy}:\n${run.loads}`);
    }
  });

  it('ADD on the embedded store runs SQLite and the engine, never etcd3 or yaml', async () => {
    const run = await runRecorded('ADD', config, { instrument: true });
    assert.equal(run.code, 0, run.stdout);
    assertBundleRan(run);
    assert.match(run.loads, /^init node_modules\/better-sqlite3\/lib\/database\.js$/m);
    assert.match(run.loads, /^require .*\/better-sqlite3\/build\/Release\/better_sqlite3\.node$/m);
    assert.match(run.loads, /^init src\/ipam\/index\.ts$/m);
    assert.match(run.loads, /^init src\/datastore\/embedded\/index\.ts$/m);
    assert.ok(!run.loads.includes('etcd3'), 'ADD on the embedded store loaded etcd3');
    assert.ok(!run.loads.includes('src/datastore/etcd/'), 'ADD ran the etcd backend');
    assert.ok(!run.loads.includes('/yaml/'), 'ADD without a kubeconfig loaded yaml');
    assert.ok(
      !run.loads.includes('src/cni/kube/'),
      'ADD without policy.type k8s ran the API reader',
    );
    // better-sqlite3's JavaScript is in the bundle: only its addon comes from node_modules.
    assert.ok(!/^require .*better-sqlite3\/lib\//m.test(run.loads), run.loads);
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
    const args = 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p';
    const run = await runRecorded('ADD', withKube, { args, instrument: true });
    assert.equal(run.code, 0, run.stdout);
    assertBundleRan(run);
    assert.match(run.loads, /^require .*\/node_modules\/yaml\//m);
    assert.match(run.loads, /^init src\/cni\/kube\/connection\.ts$/m);
    assert.equal((await runRecorded('DEL', withKube, { args })).code, 0);
  });
});

describe('cidrpool-ipam start-up: the code cache', () => {
  const config = {
    cniVersion: '1.0.0',
    name: 'net',
    nodename: 'n1',
    datastore_type: 'embedded',
    data_dir: join(dir, 'cache-store'),
    ipam: { type: 'cidrpool-ipam' },
  };
  before(() =>
    withStore({ type: 'embedded', dataDir: config.data_dir }, (store) =>
      seedStore(store, { pools: [{ name: 'p', cidr: '10.94.0.0/16' }], nodes: [{ name: 'n1' }] }),
    ),
  );

  it('VERSION, ADD and DEL compile dist/cni/plugin.js with the cache the build made', async () => {
    const sizes = new Map<string, number>();
    for (const command of ['VERSION', 'ADD', 'DEL']) {
      const run = await runRecorded(command, config);
      assert.equal(run.code, 0, run.stdout);
      const used = new RegExp(`^script ${SCRIPT} cache (\\d+) rejected false$`, 'm').exec(
        run.loads,
      );
      assert.ok(used && Number(used[1]) > 0, `${command} ran without the cache:\n${run.loads}`);
      sizes.set(command, Number(used[1]));
    }
    // VERSION has a smaller cache of its own; every other call the full one.
    assert.ok(sizes.get('VERSION')! < sizes.get('ADD')!, JSON.stringify([...sizes]));
    assert.equal(sizes.get('ADD'), sizes.get('DEL'));
  });

  it('a cache not made from the very bytes of plugin.js is not used', async () => {
    // A copy of the install whose plugin.js differs from the one the cache was made of in a
    // few bytes only (V8's own check is the length): VERSION must print the edited script's
    // output, not run the cached bytecode of the original.
    const copy = join(dir, 'copy');
    mkdirSync(join(copy, 'bin'), { recursive: true });
    mkdirSync(join(copy, 'dist/cni'), { recursive: true });
    copyFileSync(`${REPO_ROOT}package.json`, join(copy, 'package.json'));
    copyFileSync(PLUGIN, join(copy, 'bin/cidrpool-ipam'));
    copyFileSync(`${REPO_ROOT}bin/cni-bundle.js`, join(copy, 'bin/cni-bundle.js'));
    copyFileSync(`${REPO_ROOT}bin/package.json`, join(copy, 'bin/package.json'));
    copyFileSync(`${SCRIPT}.cache`, join(copy, 'dist/cni/plugin.js.cache'));
    copyFileSync(THIN, join(copy, 'dist/cni/ipam-thin.js'));
    const original = readFileSync(SCRIPT, 'utf8');
    const edited = original.replace('cniVersion: CURRENT_VERSION', 'cniVersion: "edited-bytes!"');
    assert.notEqual(edited, original, 'formatVersionInfo changed: update this test');
    assert.equal(edited.length, original.length);
    writeFileSync(join(copy, 'dist/cni/plugin.js'), edited);

    const run = await runRecorded('VERSION', config, { program: join(copy, 'bin/cidrpool-ipam') });
    assert.equal(run.code, 0, run.stdout);
    assert.equal(JSON.parse(run.stdout).cniVersion, 'edited-bytes!');
    assert.match(run.loads, /^script .*\/copy\/dist\/cni\/plugin\.js cache 0 rejected undefined$/m);
  });
});

describe('cidrpool-ipam start-up: through the node agent, and on etcd', () => {
  let etcd: EtcdCluster;
  let agent: RunningAgent;
  const agentDataDir = join(dir, 'agent-store');
  const config = {
    cniVersion: '1.0.0',
    name: 'net',
    nodename: 'n1',
    datastore_type: 'embedded',
    data_dir: agentDataDir,
    ipam: { type: 'cidrpool-ipam' },
  };
  before(async () => {
    etcd = await startEtcd({ members: 1 });
    for (const ds of [
      { type: 'embedded' as const, dataDir: agentDataDir },
      { type: 'etcdv3' as const, endpoints: etcd.endpoints },
    ]) {
      await withStore(ds, (store) =>
        seedStore(store, { pools: [{ name: 'p', cidr: '10.95.0.0/16' }], nodes: [{ name: 'n1' }] }),
      );
    }
    agent = await startAgent(
      { type: 'embedded', dataDir: agentDataDir },
      'n1',
      join(dir, 'a.sock'),
    );
  });
  after(async () => {
    await agent?.stop();
    await etcd?.stop();
  });

  it('ADD through the agent runs only the thin entry: no plugin bundle, no store, no engine', async () => {
    const viaAgent = { ...config, agent_socket: agent.socket };
    const run = await runRecorded('ADD', viaAgent);
    assert.equal(run.code, 0, run.stdout);
    assert.ok(JSON.parse(run.stdout).ips.length === 1, run.stdout);
    const scripts = run.loads.split('\n').filter((line) => line.startsWith('script '));
    assert.deepEqual(
      scripts.map((line) => line.split(' ')[1]),
      [THIN],
      `ADD through the agent compiled more than the thin entry:\n${run.loads}`,
    );
    // Nothing from node_modules or tsc's output: the thin entry needs node:net and itself.
    const loaded = run.loads.split('\n').filter((line) => /^(require|import) /.test(line));
    assert.deepEqual(
      loaded.filter((line) => !line.includes(`${REPO_ROOT}bin/`)),
      [],
      run.loads,
    );
    assert.equal((await runRecorded('DEL', viaAgent)).code, 0);
  });

  it('an agent for another node is refused: the full plugin runs the call on the datastore', async () => {
    const otherNode = { ...config, nodename: 'n2', agent_socket: agent.socket };
    const run = await runRecorded('DEL', otherNode);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.loads, new RegExp(`^script ${THIN} `, 'm'));
    assert.match(run.loads, new RegExp(`^script ${SCRIPT} `, 'm'));
  });

  it('ADD on etcd talks to its JSON gateway and never loads the gRPC client', async () => {
    const onEtcd = {
      ...config,
      datastore_type: 'etcdv3',
      etcd_endpoints: etcd.endpoints.join(','),
      data_dir: undefined,
    };
    const run = await runRecorded('ADD', onEtcd, { instrument: true });
    assert.equal(run.code, 0, run.stdout);
    assertBundleRan(run);
    assert.match(run.loads, /^init src\/datastore\/etcd-gateway\/index\.ts$/m);
    assert.ok(!run.loads.includes('etcd3'), `ADD on etcd loaded etcd3:\n${run.loads}`);
    assert.ok(!run.loads.includes('better-sqlite3/build'), 'ADD on etcd loaded SQLite');
    assert.equal((await runRecorded('DEL', onEtcd)).code, 0);
  });
});

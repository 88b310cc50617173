// cidrpool-ipam's CNI protocol surface, spawned for real: VERSION, the environment checks, and
// configuration errors (CNI error JSON with code 7 and a message naming the key to fix). None of
// these calls reaches a datastore.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ALL_VERSIONS, CLI, PLUGIN, REPO_ROOT, cleanEnv, runPlugin } from './support.js';
import { spawnSync } from 'node:child_process';

const dataDir = mkdtempSync(join(tmpdir(), 'cni-protocol-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const config = (extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}) => ({
  cniVersion: '1.0.0',
  name: 'k8s-pod-network',
  type: 'calico',
  datastore_type: 'embedded',
  data_dir: dataDir,
  nodename: 'node-a',
  ...extra,
  ipam: { type: 'cidrpool-ipam', ...ipam },
});

describe('cidrpool-ipam protocol', () => {
  it('VERSION lists every supported version', async () => {
    const run = await runPlugin({ command: 'VERSION', config: { cniVersion: '1.0.0' } });
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(run.json, { cniVersion: '1.1.0', supportedVersions: ALL_VERSIONS });
  });

  it('prints what it is to stderr without CNI_COMMAND', () => {
    const run = spawnSync(PLUGIN, [], { env: cleanEnv(), input: '' });
    assert.equal(run.status, 0);
    assert.equal(run.stdout.toString(), '');
    assert.match(
      run.stderr.toString(),
      /^cidrpool CNI IPAM \S+\nCNI protocol versions supported: 0\.1\.0, .*1\.1\.0\n$/,
    );
  });

  it('prints just the version to stdout with -v, as calico-ipam does', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    // CNI_COMMAND set too: -v wins, as in calico-ipam (the flag is read first).
    const run = spawnSync(PLUGIN, ['-v'], { env: cleanEnv({ CNI_COMMAND: 'ADD' }), input: '' });
    assert.equal(run.status, 0);
    assert.equal(run.stdout.toString(), `${version}\n`);
    assert.equal(run.stderr.toString(), '');
  });

  it('refuses -upgrade (not implemented) instead of exiting 0 as if it had migrated', () => {
    const run = spawnSync(PLUGIN, ['-upgrade'], { env: cleanEnv(), input: '' });
    assert.equal(run.status, 1);
    assert.equal(run.stdout.toString(), '');
    assert.match(run.stderr.toString(), /-upgrade .* is not implemented/);
  });

  it("names every missing variable in the Go skel's order (code 4)", async () => {
    const run = await runPlugin({
      command: 'ADD',
      config: config(),
      env: { CNI_CONTAINERID: '', CNI_IFNAME: '', CNI_NETNS: '' },
    });
    assert.equal(run.code, 1);
    assert.deepEqual(run.json, {
      code: 4,
      msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing',
    });
  });

  it('checks CNI_CONTAINERID and CNI_IFNAME as the Go skel does (code 4)', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ CNI_CONTAINERID: 'has space' }, 'invalid characters in containerID'],
      [{ CNI_CONTAINERID: '-lead' }, 'invalid characters in containerID'],
      [{ CNI_IFNAME: 'a-very-long-ifname' }, 'interface name is too long'],
      [{ CNI_IFNAME: '..' }, 'interface name is . or ..'],
      [{ CNI_IFNAME: 'eth/0' }, 'interface name contains / or : or whitespace characters'],
    ];
    for (const [env, msg] of cases) {
      for (const command of ['ADD', 'DEL']) {
        const run = await runPlugin({ command, config: config(), env });
        assert.equal(run.code, 1, run.stdout);
        assert.equal(run.json?.code, 4);
        assert.equal(run.json?.msg, msg);
        assert.match(String(run.json?.details), /CNI_(CONTAINERID|IFNAME) ".*" (may|must)/);
      }
    }
  });

  it('rejects an unknown command (code 4)', async () => {
    const run = await runPlugin({ command: 'FROB', config: config() });
    assert.equal(run.code, 1);
    assert.equal(run.json?.code, 4);
    assert.match(String(run.json?.msg), /unknown CNI_COMMAND: FROB/);
  });

  it('rejects JSON booleans for assign_ipv4 / assign_ipv6 as Calico does (code 7)', async () => {
    const run = await runPlugin({
      command: 'ADD',
      config: config({}, { assign_ipv4: true, assign_ipv6: false }),
    });
    assert.equal(run.code, 1);
    assert.equal(run.json?.code, 7);
    const msg = String(run.json?.msg);
    assert.match(msg, /^failed to load netconf: /);
    assert.match(msg, /ipam\.assign_ipv4: true must be a string/);
    assert.match(msg, /ipam\.assign_ipv6: false must be a string/);
    assert.match(msg, /write "true" \(with quotes\)/);
  });

  it('rejects a pool list that is not a list of strings (code 7)', async () => {
    const run = await runPlugin({
      command: 'ADD',
      config: config({}, { ipv4_pools: '10.0.0.0/8' }),
    });
    assert.equal(run.json?.code, 7);
    assert.match(
      String(run.json?.msg),
      /ipam\.ipv4_pools: "10\.0\.0\.0\/8" must be a list of strings/,
    );
  });

  it("rejects a bad network name with Calico's message (code 7)", async () => {
    const run = await runPlugin({ command: 'ADD', config: config({ name: 'bad name!' }) });
    assert.equal(run.json?.code, 7);
    // Verbatim when it is the only problem; what to write instead is in details.
    assert.equal(
      run.json?.msg,
      'invalid characters detected in the given network name. Only letters a-z, numbers 0-9, and symbols _.- are supported',
    );
    assert.match(String(run.json?.details), /"bad-name-"/);
  });

  it('rejects stdin that is not JSON (code 6)', async () => {
    const run = await runPlugin({ command: 'ADD', config: '{"cniVersion": ' });
    assert.equal(run.code, 1);
    assert.equal(run.json?.code, 6);
    assert.match(String(run.json?.msg), /^failed to load netconf: /);
  });

  it('rejects an unsupported cniVersion (code 1)', async () => {
    const run = await runPlugin({ command: 'ADD', config: config({ cniVersion: '2.0.0' }) });
    assert.equal(run.json?.code, 1);
    // The Go skel's wording: the versions are in details.
    assert.equal(run.json?.msg, 'incompatible CNI versions');
    assert.equal(
      run.json?.details,
      `config is "2.0.0", plugin supports [${ALL_VERSIONS.map((v) => `"${v}"`).join(' ')}]`,
    );
  });

  it('refuses CHECK before 0.4.0 (code 1), as the Go skel does', async () => {
    for (const v of ALL_VERSIONS.filter((x) => x < '0.4.0')) {
      const run = await runPlugin({ command: 'CHECK', config: config({ cniVersion: v }) });
      assert.equal(run.code, 1, v);
      assert.deepEqual(
        { code: run.json?.code, msg: run.json?.msg },
        { code: 1, msg: 'config version does not allow CHECK' },
        v,
      );
    }
  });

  it('rejects the Kubernetes datastore and etcd without endpoints (code 7)', async () => {
    const kdd = await runPlugin({
      command: 'ADD',
      config: config({ datastore_type: 'kubernetes' }),
    });
    assert.equal(kdd.json?.code, 7);
    assert.match(String(kdd.json?.msg), /datastore_type "kubernetes" is not supported/);
    assert.match(String(kdd.json?.details), /use "etcdv3"/);
    const etcd = await runPlugin({ command: 'DEL', config: config({ datastore_type: 'etcdv3' }) });
    assert.equal(etcd.json?.code, 7);
    assert.match(String(etcd.json?.msg), /etcd_endpoints is empty/);
  });

  it('refuses etcd_discovery_srv rather than silently using another store (code 7)', async () => {
    const run = await runPlugin({
      command: 'ADD',
      config: config({ datastore_type: undefined, etcd_discovery_srv: 'example.com' }),
    });
    assert.equal(run.code, 1);
    assert.equal(run.json?.code, 7);
    assert.match(String(run.json?.msg), /etcd_discovery_srv: "example\.com" is not supported/);
    assert.match(String(run.json?.msg), /etcd_endpoints instead/);
  });

  it('rejects an unknown result_routes value (code 7)', async () => {
    const run = await runPlugin({ command: 'ADD', config: config({}, { result_routes: 'some' }) });
    assert.equal(run.json?.code, 7);
    assert.match(String(run.json?.msg), /ipam\.result_routes: "some" must be "auto" or "none"/);
  });

  it('rejects a malformed CNI_ARGS pair (code 4)', async () => {
    const run = await runPlugin({ command: 'ADD', config: config(), args: 'IgnoreUnknown=1;oops' });
    assert.equal(run.json?.code, 4);
    assert.match(String(run.json?.msg), /invalid pair "oops"/);
  });
});

describe('cidrpool-ipam datastore errors', () => {
  it('answers 11 (try again later) when etcd cannot be reached', async () => {
    const run = await runPlugin({
      command: 'DEL',
      config: config({ datastore_type: 'etcdv3', etcd_endpoints: 'http://127.0.0.1:1' }),
    });
    assert.equal(run.code, 1);
    assert.equal(run.json?.code, 11);
    assert.match(String(run.json?.msg), /127\.0\.0\.1:1/);
  });

  it('answers 7 with the key to fix when data_dir cannot be used', async () => {
    const run = await runPlugin({
      command: 'ADD',
      config: config({ data_dir: '/etc/hostname/x' }),
    });
    assert.equal(run.code, 1);
    assert.equal(run.json?.code, 7);
    assert.match(String(run.json?.msg), /\/etc\/hostname\/x/);
    assert.match(String(run.json?.details), /data_dir/);
  });
});

describe('cidrpool-ipam default datastore, as the CLI finds it', () => {
  const home = mkdtempSync(join(tmpdir(), 'cni-home-'));
  after(() => rmSync(home, { recursive: true, force: true }));
  const seed = [
    'apiVersion: projectcalico.org/v3',
    'kind: IPPool',
    'metadata: {name: env-pool}',
    'spec: {cidr: 10.77.0.0/24}',
    '---',
    'apiVersion: projectcalico.org/v3',
    'kind: Node',
    'metadata: {name: node-a}',
  ].join('\n');
  const conf = { cniVersion: '1.0.0', name: 'net', nodename: 'node-a', ipam: { type: 'x' } };
  const plugin = (env: Record<string, string>, command = 'ADD') =>
    spawnSync(PLUGIN, [], {
      cwd: home,
      env: cleanEnv({
        HOME: home,
        CNI_COMMAND: command,
        CNI_CONTAINERID: 'env-1',
        CNI_NETNS: '/x',
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/x',
        ...env,
      }),
      input: JSON.stringify(conf),
    });

  it("uses the CLI's default store even with a relative XDG_DATA_HOME (ignored, per XDG)", () => {
    // cwd = HOME, so a relative XDG_DATA_HOME taken as is would name another folder.
    const env = { XDG_DATA_HOME: 'relative/data' };
    const created = spawnSync(CLI, ['create', '-f', '-'], {
      cwd: home,
      env: cleanEnv({ HOME: home, ...env }),
      input: seed,
    });
    assert.equal(created.status, 0, created.stderr.toString());
    const add = plugin(env);
    assert.equal(add.status, 0, add.stdout.toString());
    assert.match(add.stdout.toString(), /"10\.77\.0\.\d+\/26"/);
    assert.equal(plugin(env, 'DEL').status, 0);
  });

  it('reads CIDRPOOL_DATA_DIR with ~ and the CALICO_ prefix, as the CLI does', () => {
    const dir = join(home, 'store-b');
    const created = spawnSync(CLI, ['create', '-f', '-'], {
      env: cleanEnv({ HOME: home, CIDRPOOL_DATA_DIR: dir }),
      input: seed,
    });
    assert.equal(created.status, 0, created.stderr.toString());
    const envs: Record<string, string>[] = [
      { CIDRPOOL_DATA_DIR: '~/store-b' },
      { CALICO_CIDRPOOL_DATA_DIR: '~/store-b', CIDRPOOL_DATA_DIR: '/nonexistent/x' },
    ];
    for (const env of envs) {
      const add = plugin(env);
      assert.equal(add.status, 0, add.stdout.toString());
      assert.equal(plugin(env, 'DEL').status, 0);
    }
  });

  it('takes ETCD_ENDPOINTS alone to mean etcdv3, as the CLI does', () => {
    const run = plugin({ ETCD_ENDPOINTS: 'http://127.0.0.1:1' }, 'DEL');
    assert.equal(run.status, 1);
    const out = JSON.parse(run.stdout.toString()) as { code: number; msg: string };
    assert.equal(out.code, 11);
    assert.match(out.msg, /127\.0\.0\.1:1/);
  });
});

// cidrpool-ipam's CNI protocol surface, spawned for real: VERSION, the environment checks, and
// configuration errors (CNI error JSON with code 7 and a message naming the key to fix). None of
// these calls reaches a datastore.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ALL_VERSIONS, PLUGIN, cleanEnv, runPlugin } from './support.js';
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

  it('prints what it is to stderr without CNI_COMMAND, and with -v', () => {
    for (const args of [[], ['-v']]) {
      const run = spawnSync(PLUGIN, args, { env: cleanEnv(), input: '' });
      assert.equal(run.status, 0);
      assert.equal(run.stdout.toString(), '');
      assert.match(run.stderr.toString(), /CNI protocol versions supported: 0\.1\.0, .*1\.1\.0/);
    }
  });

  it('names every missing variable (code 4)', async () => {
    const run = await runPlugin({
      command: 'ADD',
      config: config(),
      env: { CNI_CONTAINERID: '', CNI_IFNAME: '', CNI_NETNS: '' },
    });
    assert.equal(run.code, 1);
    assert.deepEqual(run.json, {
      code: 4,
      msg: 'required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_NETNS] missing',
    });
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
    assert.match(String(run.json?.msg), /invalid characters detected in the given network name/);
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
    assert.match(String(run.json?.msg), /incompatible CNI versions; config is "2\.0\.0"/);
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

  it('rejects an unknown result_routes value (code 7)', async () => {
    const run = await runPlugin({ command: 'ADD', config: config({}, { result_routes: 'some' }) });
    assert.equal(run.json?.code, 7);
    assert.match(String(run.json?.msg), /ipam\.result_routes: "some" must be "calico" or "none"/);
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

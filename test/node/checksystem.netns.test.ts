// `cidrpool node checksystem` as a user runs it, inside a namespace the test created (so that
// its forwarding sysctl can be set without touching the host): real probes, real pools on the
// embedded store, the exit code, and no trace left behind.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execIn, NetnsScope, netnsSkipReason } from '../helpers/netns.js';

const PREFIX = 'cp11n';
const CLI = fileURLToPath(new URL('../../../bin/cidrpool', import.meta.url));

describe('cidrpool node checksystem', { skip: netnsSkipReason() }, () => {
  const scope = new NetnsScope(PREFIX);
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-`));
  const env = { PATH: process.env.PATH, HOME: dir, CIDRPOOL_DATA_DIR: join(dir, 'data') };
  let ns: string;

  const cidrpool = (args: string[], stdin?: string, extraEnv: object = {}) =>
    execIn(ns, process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, stdin });
  const sysctl = async (value: 0 | 1) =>
    assert.equal((await execIn(ns, 'sysctl', ['-qw', `net.ipv4.ip_forward=${value}`])).code, 0);
  const line = (stdout: string, name: string) =>
    stdout.split('\n').find((l) => l.trimStart().startsWith(`${name} `)) ?? '';

  before(async () => {
    ns = scope.create();
    await sysctl(1);
  });
  after(() => {
    scope.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  // The probes run in anonymous namespaces (unshare --net): nothing is named under /run/netns
  // (not asserted here: parallel tests add and remove namespaces there all the time).
  it('without a datastore: checks the host only, creates no datastore and leaves no trace', async () => {
    const linksBefore = (await execIn(ns, 'ip', ['-j', 'link'])).stdout;
    const result = await cidrpool(['node', 'checksystem']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^Checking kernel version\.\.\.\n/);
    for (const name of ['veth', 'vxlan', 'nf_tables (nat, masquerade, fib)', 'ip', 'nft']) {
      assert.match(line(result.stdout, name), / OK/, `${name}:\n${result.stdout}`);
    }
    assert.match(line(result.stdout, 'net.ipv4.ip_forward'), / OK/);
    assert.match(
      result.stdout,
      /IP pools +WARNING: no embedded datastore in .*pool checks skipped/,
    );
    assert.match(result.stdout, /System meets the requirements/);
    assert.equal((await execIn(ns, 'ip', ['-j', 'link'])).stdout, linksBefore);
    assert.equal((await execIn(ns, 'ls', [join(dir, 'data')])).code, 2, 'no data dir was created');
  });

  it('names the pool that needs a kernel feature this host lacks, and exits 1 for it', async () => {
    const pools = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata: { name: vx }
spec: { cidr: 10.244.0.0/16, vxlanMode: Always, natOutgoing: true }
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: { name: tunnels }
spec: { cidr: 10.10.0.0/16, ipipMode: Always, disabled: true }
`;
    assert.equal((await cidrpool(['apply', '-f', '-'], pools)).code, 0);
    const result = await cidrpool(['node', 'checksystem']);
    assert.match(line(result.stdout, 'pool vx'), / OK$/);
    // The verdict follows the real probe: this project's test kernels have no ipip module.
    if (/ OK/.test(line(result.stdout, 'ipip'))) {
      assert.equal(result.code, 0, result.stdout);
    } else {
      assert.equal(result.code, 1, result.stdout);
      assert.match(line(result.stdout, 'ipip'), /FAIL: .*needed by pool tunnels$/);
      assert.match(
        result.stdout,
        /\n {2}- pool tunnels has ipipMode: Always but this kernel has no ipip module\n/,
      );
      assert.match(result.stderr, /node checksystem: 1 problem\(s\) found/);
    }
  });

  it('fails when forwarding is off, and says how to turn it on', async () => {
    await cidrpool(['delete', 'ippool', 'tunnels']);
    await sysctl(0);
    const result = await cidrpool(['node', 'checksystem']);
    await sysctl(1);
    assert.equal(result.code, 1, result.stdout);
    assert.match(
      line(result.stdout, 'net.ipv4.ip_forward'),
      /FAIL: is 0; set it with sysctl -w net\.ipv4\.ip_forward=1; needed by pod traffic leaving the node/,
    );
  });

  it('an unreachable datastore is a warning, not a failure of the host', async () => {
    const result = await cidrpool(['node', 'checksystem'], undefined, {
      DATASTORE_TYPE: 'etcdv3',
      ETCD_ENDPOINTS: 'http://127.0.0.1:9',
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /IP pools +WARNING: cannot read IP pools from the etcdv3 datastore/,
    );
  });
});

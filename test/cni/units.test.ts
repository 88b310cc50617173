// The plugin's pure pieces, in process: Go time text, endpoint names, result rendering, the
// per-node lock file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { endpointNameOf, randomUuid, toHostNetwork } from '../../src/client/workload-endpoint.js';
import { formatGoTime, handleIdOf, legacyHandleIdOf } from '../../src/cni/handle.js';
import { parseNetConf } from '../../src/cni/config.js';
import { acquireLock } from '../../src/cni/lock.js';
import { resolveNodeName } from '../../src/cni/nodename.js';
import { buildResult } from '../../src/cni/result.js';
import { epochNanos } from '../../src/cni/session.js';
import { isCidrpoolError } from '../../src/errors/index.js';

describe('cidrpool-ipam building blocks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cni-units-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("formats timestamps like Go's time.Time.String() in UTC", () => {
    const base = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5)) * 1_000_000n;
    assert.equal(formatGoTime(base + 123_456_789n), '2026-01-02 03:04:05.123456789 +0000 UTC');
    assert.equal(formatGoTime(base + 120_000_000n), '2026-01-02 03:04:05.12 +0000 UTC');
    assert.equal(formatGoTime(base), '2026-01-02 03:04:05 +0000 UTC');
  });

  it('makes random version 4 UUIDs for endpoint uids', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const uuid = randomUuid();
      assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(uuid);
    }
    assert.equal(seen.size, 200);
  });

  it('reads the epoch in nanoseconds, close to Date.now() and never going back', () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const a = epochNanos();
    const b = epochNanos();
    assert.ok(b >= a);
    assert.ok(a >= before - 2_000_000n && a <= BigInt(Date.now() + 2) * 1_000_000n, `${a}`);
  });

  it('names endpoints and handles as Calico does', () => {
    const pod = {
      orchestrator: 'k8s',
      namespace: 'ns',
      pod: 'my-pod',
      containerId: 'c-1',
    } as const;
    assert.equal(endpointNameOf('node-1', pod, 'eth0'), 'node--1-k8s-my--pod-eth0');
    const cni = { orchestrator: 'cni', namespace: 'default', containerId: 'ab-cd' } as const;
    assert.equal(endpointNameOf('n1', cni, 'eth0'), 'n1-cni-ab--cd-eth0');
    assert.equal(handleIdOf('k8s-pod-network', 'c-1'), 'k8s-pod-network.c-1');
    assert.equal(legacyHandleIdOf(pod), 'ns.my-pod');
    assert.equal(legacyHandleIdOf(cni), 'ab-cd');
    assert.equal(toHostNetwork('10.0.0.5/26'), '10.0.0.5/32');
    assert.equal(toHostNetwork('fd00::5/122'), 'fd00::5/128');
  });

  it("resolves the node name in Calico's order: nodename, nodename_file, hostname", () => {
    const file = join(dir, 'nodename');
    writeFileSync(file, 'node-from-file\n');
    const conf = (extra: object) => parseNetConf(JSON.stringify({ name: 'n', ...extra }));
    assert.equal(resolveNodeName(conf({ nodename: 'a', nodename_file: file })), 'a');
    assert.equal(resolveNodeName(conf({ nodename_file: file, hostname: 'h' })), 'node-from-file');
    assert.equal(resolveNodeName(conf({ nodename_file: join(dir, 'absent'), hostname: 'h' })), 'h');
    // Inside `ipam` too, for plugins such as bridge that hand their whole config to IPAM.
    assert.equal(resolveNodeName(conf({ ipam: { nodename: 'from-ipam' } })), 'from-ipam');
  });

  it('renders a result without routes as calico-ipam does', () => {
    const a = { ips: [{ address: '10.0.0.5/26', family: 4 as const }], routes: [] };
    assert.deepEqual(buildResult('1.0.0', a), {
      cniVersion: '1.0.0',
      ips: [{ address: '10.0.0.5/26' }],
    });
    assert.deepEqual(buildResult('0.2.0', a), {
      cniVersion: '0.2.0',
      ip4: { ip: '10.0.0.5/26' },
      dns: {},
    });
  });

  it('takes over a lock whose owner is dead, and leaves no file behind', async () => {
    const path = join(dir, 'locks', 'stale.lock');
    const first = await acquireLock(path);
    await first.release();
    // A pid far above pid_max (4194304) is never alive.
    writeFileSync(path, '99999999\n');
    const lock = await acquireLock(path, 5_000);
    assert.equal(lock.acquired, true);
    await lock.release();
    assert.deepEqual(readdirSync(join(dir, 'locks')), []);
  });

  it('waits for a live holder and gives up with CNI_LOCK_TIMEOUT (retryable, code 11)', async () => {
    const path = join(dir, 'held.lock');
    const held = await acquireLock(path);
    await assert.rejects(acquireLock(path, 50), (err) => {
      assert.ok(isCidrpoolError(err, 'CNI_LOCK_TIMEOUT'));
      assert.equal(err.spec.cniCode, 11);
      assert.equal(err.retryable, true);
      return true;
    });
    await held.release();
    const next = await acquireLock(path, 1_000);
    assert.equal(next.acquired, true);
    await next.release();
  });

  it('proceeds unlocked when the lock folder cannot be written (best effort, like Calico)', async () => {
    const lock = await acquireLock('/etc/hostname/cannot/x.lock', 100);
    assert.equal(lock.acquired, false);
    await lock.release();
  });
});

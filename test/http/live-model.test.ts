// The dashboard's live model against the engine: after every kind of change, the block part it
// keeps from watch events must equal a fresh getUtilization (what `ipam show` prints), and its
// check part a fresh `ipam check`. Both stores. Plus the pure helpers of access and forecast.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IPAM_CONFIG_KEY } from '../../src/datastore/keys.js';
import { startCheckWorker } from '../../src/http/check-worker.js';
import { forecastStateFile } from '../../src/http/forecast-state.js';
import { encodeConfig } from '../../src/ipam/model.js';
import { DEFAULT_IPAM_CONFIG } from '../../src/ipam/types.js';
import { bearerChecker, isLoopbackHostHeader, parseListen } from '../../src/http/access.js';
import { parseGoTime, slopePerHour, UsageHistory } from '../../src/http/forecast.js';
import { LiveModel } from '../../src/http/live-model.js';
import type { Ipam } from '../../src/ipam/index.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import {
  defineOnBothStores,
  deletePool,
  putNode,
  putPool,
  putReservation,
  v4Request,
} from '../helpers/ipam-fixtures.js';

const both = defineOnBothStores();

/** Wait (at most 10 s) until the live model equals the engine's own reports. */
async function assertCaughtUp(live: LiveModel, ipam: Ipam, step: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 200; i++) {
    await live.settled();
    const want = await ipam.getUtilization();
    const report = await ipam.check();
    const model = live.model;
    try {
      assert.equal(model.snapshot.checkPending, false);
      assert.deepEqual(model.utilization, want);
      assert.equal(model.snapshot.problems.problemCount, report.problemCount);
      assert.deepEqual(model.report.nodeAllocations, report.nodeAllocations);
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`after ${step}, the live model never caught up: ${last}`);
}

both(
  'the live model follows every change as ipam show and ipam check see it',
  async (t, env, ipam) => {
    await putPool(t.store, 'pool-a', { cidr: '10.0.0.0/24', blockSize: 29 });
    await putPool(t.store, 'pool-b', { cidr: '10.1.0.0/24', blockSize: 28 });
    await putNode(t.store, 'n1');
    await putNode(t.store, 'n2');
    const live = new LiveModel(t.store, ipam, { now: env.now, debounceMs: 10 });
    // The first version is published before the first `ipam check` ends, and says so.
    const firstPending = new Promise<boolean>((resolve) => {
      const off = live.subscribe(() => {
        off();
        resolve(live.model.snapshot.checkPending);
      });
    });
    await live.start();
    assert.equal(await firstPending, true);
    try {
      await assertCaughtUp(live, ipam, 'start');
      const a = await ipam.autoAssign(v4Request('n1', 12, { handleId: 'h1' }));
      await ipam.autoAssign(v4Request('n2', 3, { handleId: 'h2' }));
      await assertCaughtUp(live, ipam, 'assign');
      await ipam.releaseIps(a.ipv4.ips.slice(0, 5).map((ip) => ({ address: ip.split('/')[0]! })));
      await assertCaughtUp(live, ipam, 'release');
      await putReservation(t.store, 'r1', ['10.0.0.0/28', '10.1.0.200']);
      await assertCaughtUp(live, ipam, 'reservation');
      await deletePool(t.store, 'pool-b');
      await assertCaughtUp(live, ipam, 'pool deletion (its blocks become orphans)');
      await ipam.releaseHostAffinities('n2', false);
      await assertCaughtUp(live, ipam, 'affinity release');
      // Search answers from the check part.
      const hits = await live.search('h1');
      assert.equal(hits.hits.length, 7);
    } finally {
      await live.close();
    }
  },
);

both(
  'addresses whose cooldown ends are freed at the next sample, without any write',
  async (t, env, ipam) => {
    await t.store.put(
      IPAM_CONFIG_KEY,
      encodeConfig({ ...DEFAULT_IPAM_CONFIG, ipCooldownSeconds: 60 }),
    );
    await putPool(t.store, 'pool-a', { cidr: '10.0.0.0/24', blockSize: 29 });
    await putNode(t.store, 'n1');
    const a = await ipam.autoAssign(v4Request('n1', 4, { handleId: 'h1' }));
    const live = new LiveModel(t.store, ipam, { now: env.now, debounceMs: 10, sampleEveryMs: 50 });
    await live.start();
    try {
      await ipam.releaseIps(a.ipv4.ips.slice(0, 2).map((ip) => ({ address: ip.split('/')[0]! })));
      await assertCaughtUp(live, ipam, 'release (cooling down)');
      const cooling = live.model.snapshot.pools[0]!.inUse;
      env.advance(61_000);
      await assertCaughtUp(live, ipam, 'cooldown over');
      assert.notEqual(
        live.model.snapshot.pools[0]!.inUse,
        cooling,
        'the cooled-down addresses are free',
      );
    } finally {
      await live.close();
    }
  },
);

both('the forecast keeps its samples across a restart in its state file', async (t, env, ipam) => {
  await putPool(t.store, 'pool-a', { cidr: '10.0.0.0/24', blockSize: 29 });
  await putNode(t.store, 'n1');
  const dir = mkdtempSync(join(tmpdir(), 'cpdb-state-'));
  try {
    const stateFile = forecastStateFile(dir, { type: 'embedded', dataDir: '/nowhere' });
    const first = new LiveModel(t.store, ipam, { now: env.now, debounceMs: 10, stateFile });
    await first.start();
    await first.settled();
    assert.equal(first.model.snapshot.forecast[0]!.method, 'none');
    await first.close();
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      samples: Record<string, unknown[]>;
    };
    assert.ok(saved.samples['pool-a']!.length >= 1, 'the samples were saved on close');

    // Twenty minutes and 8 addresses later, a new dashboard fits a rate over both runs.
    env.advance(20 * 60_000);
    await ipam.autoAssign(v4Request('n1', 8, { handleId: 'h1' }));
    const second = new LiveModel(t.store, ipam, { now: env.now, debounceMs: 10, stateFile });
    await second.start();
    try {
      await second.settled();
      const forecast = second.model.snapshot.forecast[0]!;
      assert.equal(forecast.method, 'samples');
      assert.ok(Math.abs(forecast.ratePerHour! - 24) < 1e-9, String(forecast.ratePerHour));
      assert.match(
        forecast.basis,
        /kept across restarts in .*forecast-embedded-[0-9a-f]{16}\.json/,
      );
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('the check worker fails a check whose store cannot be opened, and starts again on the next', async () => {
  const checker = startCheckWorker({ type: 'embedded', dataDir: '/dev/null/cpdb-no-such-dir' });
  try {
    for (let i = 0; i < 2; i++) await assert.rejects(checker.run(), /cpdb-no-such-dir|exited with/);
  } finally {
    await checker.close();
  }
});

describe('dashboard access and forecast helpers', () => {
  it('parses --listen and knows loopback', () => {
    assert.deepEqual(parseListen('127.0.0.1:9180'), {
      host: '127.0.0.1',
      port: 9180,
      loopback: true,
    });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0, loopback: true });
    assert.equal(parseListen('0.0.0.0:80').loopback, false);
    assert.equal(parseListen('localhost:1').loopback, true);
    for (const bad of ['9180', 'host:80', '1.2.3.4:70000', '[::1]']) {
      assert.throws(
        () => parseListen(bad),
        (e: unknown) => isCidrpoolError(e) && e.code === 'HTTP_LISTEN' && e.message.includes(bad),
      );
    }
  });

  it('checks bearer tokens and Host headers', () => {
    const check = bearerChecker('a-token-of-some-length');
    assert.equal(check(undefined), 'missing');
    assert.equal(check('Basic abc'), 'missing');
    assert.equal(check('Bearer a-token-of-some-length'), 'ok');
    assert.equal(check('bearer  a-token-of-some-length '), 'ok');
    assert.equal(check('Bearer a-token-of-some-lengtH'), 'wrong');
    assert.equal(check('Bearer a'), 'wrong');
    assert.equal(isLoopbackHostHeader('127.0.0.1:9180'), true);
    assert.equal(isLoopbackHostHeader('[::1]:9180'), true);
    assert.equal(isLoopbackHostHeader('localhost'), true);
    assert.equal(isLoopbackHostHeader('evil.example:9180'), false);
    assert.equal(isLoopbackHostHeader('127.0.0.1.evil.example'), false);
    assert.equal(isLoopbackHostHeader(undefined), false);
  });

  it("reads Calico's timestamps and fits a net rate", () => {
    assert.equal(
      parseGoTime('2026-01-02 03:04:05.123456789 +0000 UTC'),
      Date.UTC(2026, 0, 2, 3, 4, 5, 123),
    );
    assert.equal(parseGoTime('2026-01-02 03:04:05 +0100 CET'), Date.UTC(2026, 0, 2, 2, 4, 5));
    assert.equal(parseGoTime('yesterday'), undefined);
    const hour = 3600_000;
    assert.equal(
      slopePerHour([
        { at: 0, inUse: 10 },
        { at: hour, inUse: 30 },
        { at: 2 * hour, inUse: 50 },
      ]),
      20,
    );
    assert.equal(slopePerHour([{ at: 0, inUse: 10 }]), 0);
    const history = new UsageHistory();
    history.record(0, [{ pool: 'a', inUse: 1 }]);
    history.record(7 * hour, [{ pool: 'a', inUse: 2 }]);
    assert.deepEqual(history.samples('a'), [{ at: 7 * hour, inUse: 2 }]);
    history.record(8 * hour, []);
    assert.deepEqual(history.samples('a'), []);
  });
});

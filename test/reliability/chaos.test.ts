// The bounded chaos run of CI (issue 15): the real plugin and CLI (one call and bulk assigns) and
// a long-lived engine worker, killed -9 at random moments, on the embedded store with its disk
// filled and on a 3-member etcd with members killed and frozen; every invariant must hold
// afterwards. `npm run chaos` runs the long version (and the node agent lane, in a namespace).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runChaos, type ChaosOptions } from '../../chaos/driver.js';
import { checkInvariants } from '../../chaos/invariants.js';
import { buildWorkloadEndpoint, writeEndpoint } from '../../src/client/workload-endpoint.js';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { createTestIpam, seedStore, withStore } from '../cni/support.js';

const SEED = Number(process.env.CHAOS_SEED ?? 20261207);

const bounded = (datastore: ChaosOptions['datastore'], durationMs: number): ChaosOptions => ({
  datastore,
  seed: SEED,
  durationMs,
  maxOps: 5000,
  workers: 3,
  killRate: 0.25,
  killWindowMs: 600,
  // One bulk CLI lane and one engine worker killed every 4 s on average: the long run's lanes.
  bulkWorkers: 1,
  bulkSize: 16,
  engineWorkers: 1,
  engineInFlight: 4,
  engineSize: 16,
  engineKillEveryMs: 4000,
  faultEveryMs: 5000,
  faultMs: 1200,
  tmpfsMiB: 32,
  log: (line) => console.log(line),
});

describe(`chaos, bounded (seed ${SEED}; CHAOS_SEED=N to replay)`, () => {
  for (const [datastore, durationMs] of [
    ['embedded', 30_000],
    ['etcd', 40_000],
  ] as const) {
    it(`${datastore}: no invariant broken after kills and faults`, async () => {
      const report = await runChaos(bounded(datastore, durationMs));
      console.log(JSON.stringify(report));
      assert.deepEqual(report.violations, []);
      assert.equal(report.ipamCheck, '0 problems');
      const ok = (kind: string) => report.byKind[kind]?.ok ?? 0;
      assert.ok(ok('cni ADD') > 0 && ok('cni DEL') > 0, 'work was done');
      assert.ok(ok('engine ADD') > 0 && ok('bulk ADD') > 0, 'every lane worked');
      assert.ok((report.kills['cni plugin'] ?? 0) > 0, 'plugin processes were killed');
      assert.ok((report.kills['engine worker'] ?? 0) > 0, 'engine workers were killed');
      assert.ok(Object.keys(report.faults).length > 0, 'faults were injected');
    });
  }

  it('the invariant check finds a lost allocation, a released handle that holds, and a stale endpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp15-invariants-'));
    const config: DatastoreConfig = { type: 'embedded', dataDir: dir };
    try {
      await withStore(config, async (store) => {
        await seedStore(store, {
          pools: [{ name: 'p', cidr: '10.201.0.0/24' }],
          nodes: [{ name: 'n' }],
        });
        const ipam = await createTestIpam(store);
        const base = { num4: 1, num6: 0, hostname: 'n', intendedUse: 'Workload' } as const;
        const a = await ipam.autoAssign({ ...base, handleId: 'chaos.a' });
        await ipam.autoAssign({ ...base, handleId: 'chaos.b' });
        // An endpoint of container c on a's address.
        await writeEndpoint(
          store,
          buildWorkloadEndpoint({
            node: 'n',
            workload: { orchestrator: 'cni', namespace: 'default', containerId: 'c' },
            ifName: 'eth0',
            network: 'chaos',
            addresses: a.ipv4.ips,
            creationTimestamp: '2026-01-01T00:00:00Z',
          }),
        );
      });
      const workload = { node: 'n', via: 'cni', endpoint: true, want: 1 } as const;
      const problems = await checkInvariants(config, {
        network: 'chaos',
        live: new Map([
          ['a', { ...workload, id: 'a', handle: 'chaos.a', ips: ['10.201.0.250/26'] }],
        ]),
        released: new Set(['chaos.b']),
      });
      const text = problems.join('\n');
      assert.match(text, /lost allocation: chaos\.a/);
      assert.match(text, /chaos\.b still holds/);
      assert.match(text, /endpoint default\/n-cni-c-eth0 names .* held by chaos\.a/);
      assert.match(text, /live workload a has no endpoint/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The resource client against the real embedded store. IPPool delete uses a recording stand-in
// for the IPAM engine (only releasePoolAffinities); resource-client-ipam.test.ts uses the engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCidrpoolError } from '../../src/errors/index.js';
import { blockKey, resourceKey, resourcePrefix } from '../../src/datastore/keys.js';
import { POOL_MESSAGES } from '../../src/resources/index.js';
import {
  API_VERSION_V3,
  type IPAMConfiguration,
  type IPPool,
  type WorkloadEndpoint,
} from '../../src/resources/types.js';
import { NOW_TEXT, openHarness, pool, recordingIpam, type Harness } from './support.js';

/** Assert that `promise` rejects with `code` and, when given, exactly `message`. */
async function rejectsWith(promise: Promise<unknown>, code: string, message?: string | RegExp) {
  await assert.rejects(promise, (err) => {
    assert.ok(isCidrpoolError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });
}

describe('resource client', () => {
  let h: Harness;
  let stored: { cidr: string; observed: unknown }[];
  before(async () => {
    const fake = recordingIpam(
      async () => (await h.store.get(resourceKey('IPPool', 'gone')))?.value,
    );
    stored = fake.calls;
    h = await openHarness(fake.ipam);
  });
  after(async () => h.close());

  describe('create', () => {
    it("stores Calico's JSON: key order, defaults, uid and creationTimestamp, no resourceVersion", async () => {
      const created = await h.client.create(
        pool('p1', { cidr: '10.0.0.0/16', natOutgoing: true, disabled: false }),
      );
      const kv = await h.store.get(resourceKey('IPPool', 'p1'));
      assert.equal(
        kv?.value,
        `{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"p1","uid":"uid-1","creationTimestamp":"${NOW_TEXT}"},"spec":{"cidr":"10.0.0.0/16","vxlanMode":"Never","ipipMode":"Never","natOutgoing":true,"blockSize":26,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"],"assignmentMode":"Automatic"}}`,
      );
      assert.equal(created.metadata.resourceVersion, kv?.revision);
      assert.equal(created.metadata.uid, 'uid-1');
      assert.equal(created.spec.blockSize, 26);
    });

    it('stores the canonical IPv6 text', async () => {
      const created = await h.client.create(pool('v6', { cidr: 'FD00:0:0:1::/64' }));
      assert.equal(created.spec.cidr, 'fd00:0:0:1::/64');
      assert.equal(created.spec.blockSize, 122);
    });

    it('refuses a second create with calicoctl text', async () => {
      await rejectsWith(
        h.client.create(pool('p1', { cidr: '10.0.0.0/16' })),
        'CLIENT_ALREADY_EXISTS',
        'resource already exists: IPPool(p1)',
      );
    });

    it('validates fully before writing anything', async () => {
      await rejectsWith(
        h.client.create(pool('bad', { cidr: '10.9.0.1/16', blockSize: 33 })),
        'CLIENT_VALIDATION',
        /^error with the following fields:\n-  spec.cidr = '10.9.0.1\/16' \(IPPool CIDR must be strictly masked; IPPool CIDR is not strictly masked: the network address is "10.9.0.0\/16"\)\n-  spec.blockSize = '33'/,
      );
      assert.equal(await h.store.get(resourceKey('IPPool', 'bad')), undefined);
    });

    it('refuses a resourceVersion on create', async () => {
      const p = pool('rv', { cidr: '10.50.0.0/16' });
      p.metadata.resourceVersion = '5';
      await rejectsWith(h.client.create(p), 'CLIENT_VALIDATION', /metadata.resourceVersion/);
    });

    it('rule 19: refuses a pool overlapping any other pool, disabled ones too', async () => {
      await h.client.create(pool('off', { cidr: '10.200.0.0/16', disabled: true }));
      await rejectsWith(
        h.client.create(pool('p2', { cidr: '10.0.128.0/17' })),
        'CLIENT_VALIDATION',
        `error with field spec.cidr = '10.0.128.0/17' (${POOL_MESSAGES.overlap('p2', 'p1', '10.0.0.0/16')})`,
      );
      await rejectsWith(
        h.client.create(pool('p3', { cidr: '10.0.0.0/8' })),
        'CLIENT_VALIDATION',
        /IPPool\(p3\) CIDR overlaps with IPPool\(off\) CIDR 10.200.0.0\/16\)\n-  .*IPPool\(p3\) CIDR overlaps with IPPool\(p1\) CIDR 10.0.0.0\/16/,
      );
      await rejectsWith(
        h.client.create(pool('p4', { cidr: 'fd00::/16' })),
        'CLIENT_VALIDATION',
        /IPPool\(p4\) CIDR overlaps with IPPool\(v6\) CIDR fd00:0:0:1::\/64/,
      );
      // Neighbours and the other family do not overlap.
      await h.client.create(pool('p5', { cidr: '10.1.0.0/16' }));
      await h.client.create(pool('p6', { cidr: 'fd00:0:0:2::/64' }));
    });

    it('rule 20: refuses a blockSize that differs from existing blocks in the pool', async () => {
      await h.store.put(blockKey(4, '10.30.0.0/24'), '{}');
      await h.store.put(blockKey(6, 'fd30::/120'), '{}');
      await rejectsWith(
        h.client.create(pool('b1', { cidr: '10.30.0.0/16' })),
        'CLIENT_VALIDATION',
        new RegExp(POOL_MESSAGES.blockSizeConflict),
      );
      await rejectsWith(
        h.client.create(pool('b2', { cidr: 'fd30::/64' })),
        'CLIENT_VALIDATION',
        /use blockSize 120/,
      );
      await h.client.create(pool('b3', { cidr: '10.30.0.0/16', blockSize: 24 }));
      await h.client.create(pool('b4', { cidr: 'fd30::/64', blockSize: 120 }));
    });

    it('applies the IPAMConfiguration rules', async () => {
      const config: IPAMConfiguration = {
        apiVersion: API_VERSION_V3,
        kind: 'IPAMConfiguration',
        metadata: { name: 'cluster' },
        spec: { strictAffinity: false, autoAllocateBlocks: true },
      };
      await rejectsWith(
        h.client.create(config),
        'CLIENT_VALIDATION',
        /Cannot create an IPAMConfiguration resource with a name other than "default"/,
      );
      const created = await h.client.create({
        ...config,
        metadata: { name: 'default' },
        spec: {} as IPAMConfiguration['spec'],
      });
      assert.deepEqual(created.spec, { strictAffinity: false, autoAllocateBlocks: true });
    });
  });

  describe('get, find, list', () => {
    it('gets with defaults and the revision, and reports missing ones', async () => {
      const got = (await h.client.get('IPPool', 'p1')) as IPPool;
      assert.equal(got.spec.nodeSelector, 'all()');
      assert.equal(
        got.metadata.resourceVersion,
        (await h.store.get(resourceKey('IPPool', 'p1')))?.revision,
      );
      assert.equal(await h.client.find('IPPool', 'nope'), undefined);
      await rejectsWith(
        h.client.get('IPPool', 'nope'),
        'CLIENT_NOT_FOUND',
        'resource does not exist: IPPool(nope)',
      );
    });

    it('lists by name with the read revision', async () => {
      const listed = await h.client.list('IPPool');
      const names = listed.items.map((p) => p.metadata.name);
      assert.deepEqual(names, [...names].sort());
      assert.ok(names.includes('p1') && names.includes('v6'));
      assert.ok(
        Number(listed.revision) >=
          Math.max(...listed.items.map((i) => Number(i.metadata.resourceVersion))),
      );
    });

    it('lists a namespaced kind per namespace or across all', async () => {
      const wep = (ns: string, name: string): WorkloadEndpoint => ({
        apiVersion: API_VERSION_V3,
        kind: 'WorkloadEndpoint',
        metadata: { name, namespace: ns },
        spec: { node: 'node1', ipNetworks: ['10.0.0.5/32'] },
      });
      await h.client.create(wep('ns-a', 'w1'));
      await h.client.create(wep('ns-b', 'w2'));
      await rejectsWith(
        h.client.create(wep('ns-a', 'w1')),
        'CLIENT_ALREADY_EXISTS',
        'resource already exists: WorkloadEndpoint(ns-a/w1)',
      );
      assert.deepEqual(
        (await h.client.list('WorkloadEndpoint', 'ns-a')).items.map((w) => w.metadata.name),
        ['w1'],
      );
      assert.deepEqual(
        (await h.client.list('WorkloadEndpoint')).items.map((w) => w.metadata.name),
        ['w1', 'w2'],
      );
      assert.ok(await h.store.get(`${resourcePrefix('WorkloadEndpoint', 'ns-b')}w2`));
    });
  });

  describe('update', () => {
    it('replaces labels and spec, keeps uid and creationTimestamp', async () => {
      const before = await h.client.create(
        pool('u1', { cidr: '10.60.0.0/16' }, { a: '1', b: '2' }),
      );
      const updated = await h.client.update(
        pool('u1', { cidr: '10.60.0.0/16', natOutgoing: true }, { c: '3' }),
      );
      assert.deepEqual(updated.metadata.labels, { c: '3' });
      assert.equal(updated.metadata.uid, before.metadata.uid);
      assert.equal(updated.metadata.creationTimestamp, NOW_TEXT);
      assert.equal(updated.spec.natOutgoing, true);
      assert.notEqual(updated.metadata.resourceVersion, before.metadata.resourceVersion);
    });

    it('compares and swaps on a given resourceVersion', async () => {
      const current = await h.client.get('IPPool', 'u1');
      const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1' } };
      await rejectsWith(h.client.update(stale), 'CLIENT_CONFLICT', 'update conflict: IPPool(u1)');
      await h.client.update(current); // The current version succeeds.
    });

    it('enforces rule 21', async () => {
      await rejectsWith(
        h.client.update(pool('u1', { cidr: '10.61.0.0/16' })),
        'CLIENT_VALIDATION',
        /IPPool CIDR cannot be modified/,
      );
      await rejectsWith(
        h.client.update(pool('u1', { cidr: '10.60.0.0/16', blockSize: 24 })),
        'CLIENT_VALIDATION',
        /IPPool BlockSize cannot be modified/,
      );
      await h.client.create(pool('lb', { cidr: '10.70.0.0/16', allowedUses: ['LoadBalancer'] }));
      await rejectsWith(
        h.client.update(pool('lb', { cidr: '10.70.0.0/16', allowedUses: ['Workload'] })),
        'CLIENT_VALIDATION',
        /from LoadBalacer to Workload or Tunnel/,
      );
    });

    it('reports a missing resource', async () => {
      await rejectsWith(
        h.client.update(pool('ghost', { cidr: '10.80.0.0/16' })),
        'CLIENT_NOT_FOUND',
        'resource does not exist: IPPool(ghost)',
      );
    });
  });

  describe('apply', () => {
    it('creates, then updates in place keeping the identity', async () => {
      const first = await h.client.apply(pool('a1', { cidr: '10.90.0.0/16' }, { x: '1' }));
      const second = await h.client.apply(pool('a1', { cidr: '10.90.0.0/16', disabled: true }));
      assert.equal(second.metadata.uid, first.metadata.uid);
      assert.equal(second.metadata.labels, undefined, 'labels are replaced wholesale');
      assert.equal(second.spec.disabled, true);
    });

    it('fails on a stale resourceVersion with the out-of-date reason', async () => {
      const p = pool('a1', { cidr: '10.90.0.0/16' });
      p.metadata.resourceVersion = '2';
      await assert.rejects(h.client.apply(p), (err) => {
        assert.ok(isCidrpoolError(err, 'CLIENT_CONFLICT'));
        assert.equal(err.message, 'update conflict: IPPool(a1)');
        assert.match(
          String(err.details.reason),
          /resource version '2' is out of date \(latest: \d+\)/,
        );
        return true;
      });
    });

    it('retries conflicts: concurrent applies of one resource all succeed', async () => {
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          h.client.apply(pool('a2', { cidr: '10.91.0.0/16' }, { n: String(i) })),
        ),
      );
      assert.equal(new Set(results.map((r) => r.metadata.uid)).size, 1);
    });

    it('does not run the create-only rules against the pool itself', async () => {
      await h.store.put(blockKey(4, '10.92.0.0/26'), '{}');
      await h.client.apply(pool('a3', { cidr: '10.92.0.0/16' }));
      await h.client.apply(pool('a3', { cidr: '10.92.0.0/16', natOutgoing: true }));
    });
  });

  describe('delete', () => {
    it('deletes a non-pool resource and returns it', async () => {
      const deleted = await h.client.delete('WorkloadEndpoint', 'w2', 'ns-b');
      assert.equal(deleted.metadata.name, 'w2');
      assert.equal(await h.client.find('WorkloadEndpoint', 'w2', 'ns-b'), undefined);
      await rejectsWith(
        h.client.delete('WorkloadEndpoint', 'w2', 'ns-b'),
        'CLIENT_NOT_FOUND',
        'resource does not exist: WorkloadEndpoint(ns-b/w2)',
      );
    });

    it('honours a resourceVersion precondition', async () => {
      await rejectsWith(
        h.client.delete('WorkloadEndpoint', 'w1', 'ns-a', '1'),
        'CLIENT_CONFLICT',
        'update conflict: WorkloadEndpoint(ns-a/w1)',
      );
      const current = await h.client.get('WorkloadEndpoint', 'w1', 'ns-a');
      await h.client.delete('WorkloadEndpoint', 'w1', 'ns-a', current.metadata.resourceVersion);
    });

    it('IPPool: disables the pool, releases its affinities, then deletes it', async () => {
      await h.client.create(pool('gone', { cidr: '10.100.0.0/16' }));
      const deleted = (await h.client.delete('IPPool', 'gone')) as IPPool;
      assert.equal(deleted.spec.disabled, true);
      assert.equal(stored.length, 1);
      assert.equal(stored[0]?.cidr, '10.100.0.0/16');
      // When the affinities were released the pool was stored disabled, and not yet deleted.
      assert.match(String(stored[0]?.observed), /"disabled":true/);
      assert.equal(await h.client.find('IPPool', 'gone'), undefined);
    });

    it('IPPool: a disabled pool is not rewritten before its affinities go', async () => {
      const created = await h.client.create(
        pool('gone', { cidr: '10.101.0.0/16', disabled: true }),
      );
      await h.client.delete('IPPool', 'gone', undefined, created.metadata.resourceVersion);
      assert.equal(stored.length, 2);
      assert.match(String(stored[1]?.observed), new RegExp(`"uid":"${created.metadata.uid}"`));
    });

    it('IPPool: a stale resourceVersion changes nothing', async () => {
      const created = await h.client.create(pool('kept', { cidr: '10.102.0.0/16' }));
      await rejectsWith(
        h.client.delete('IPPool', 'kept', undefined, '1'),
        'CLIENT_CONFLICT',
        'update conflict: IPPool(kept)',
      );
      const after = (await h.client.get('IPPool', 'kept')) as IPPool;
      assert.equal(after.metadata.resourceVersion, created.metadata.resourceVersion);
      assert.equal(stored.length, 2);
    });
  });

  it('reports a stored value that is not JSON as DS_CORRUPT', async () => {
    await h.store.put(resourceKey('Node', 'broken'), '{not json');
    await rejectsWith(h.client.get('Node', 'broken'), 'DS_CORRUPT');
  });
});

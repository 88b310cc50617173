// What only the etcd backend promises beyond the conformance suite: the bytes in etcd are
// exactly what was written (etcdctl sees them, and the store reads what etcdctl wrote), the
// revisions are etcd's mod revisions, a watch from a compacted revision fails clearly, and a
// failed transaction names the first condition that failed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCidrpoolError } from '../../src/errors/index.js';
import type { Datastore, WatchEvent } from '../../src/datastore/api.js';
import { blockKey, affinityKey, handleKey } from '../../src/datastore/keys.js';
import { openEtcdStore } from '../../src/datastore/etcd/index.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';

interface EtcdctlKv {
  key: string;
  value?: string;
  mod_revision: number;
}

/** `etcdctl get --prefix -w json`: keys and values base64, so bytes compare exactly. */
async function etcdctlGetPrefix(
  cluster: EtcdCluster,
  prefix: string,
): Promise<Map<string, { value: Buffer; revision: string }>> {
  const out = JSON.parse(
    (await cluster.etcdctl(['get', '--prefix', prefix, '-w', 'json'])).toString(),
  ) as {
    kvs?: EtcdctlKv[];
  };
  return new Map(
    (out.kvs ?? []).map((kv) => [
      Buffer.from(kv.key, 'base64').toString('utf8'),
      // JSON output omits an empty value (protobuf drops empty fields).
      { value: Buffer.from(kv.value ?? '', 'base64'), revision: String(kv.mod_revision) },
    ]),
  );
}

describe('etcd store: bytes, revisions and errors as etcd has them', () => {
  let cluster: EtcdCluster;
  let store: Datastore;

  before(async () => {
    cluster = await startEtcd({ members: 1 });
    store = await openEtcdStore({ type: 'etcdv3', endpoints: cluster.endpoints });
  });
  after(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('values written through the store read back with etcdctl get --prefix byte for byte', async () => {
    const written = new Map<string, string>([
      [
        blockKey(4, '10.0.0.0/26'),
        '{"cidr":"10.0.0.0/26","sequenceNumber":1780000000000000001,"allocations":[null,0]}',
      ],
      [blockKey(6, 'fd00::/122'), '{"cidr":"fd00::/122","note":"ünïcödé ✓ \\u0000 tab\\t"}'],
      [affinityKey('node1', 4, '10.0.0.0/26'), '{"state":"pending","deleted":false}'],
      [handleKey('k8s-pod-network.abc'), ''],
    ]);
    const revisions = new Map<string, string>();
    for (const [key, value] of written) revisions.set(key, (await store.put(key, value)).revision);
    const stored = await etcdctlGetPrefix(cluster, '/calico/ipam/v2/');
    assert.deepEqual([...stored.keys()].sort(), [...written.keys()].sort());
    for (const [key, value] of written) {
      assert.deepEqual(stored.get(key)!.value, Buffer.from(value, 'utf8'), key);
      assert.equal(stored.get(key)!.revision, revisions.get(key), `${key}: mod revision`);
    }
  });

  it('reads what etcdctl wrote, with etcd mod revisions as revisions', async () => {
    const key = '/calico/resources/v3/projectcalico.org/ippools/from-etcdctl';
    const value =
      '{"kind":"IPPool","apiVersion":"projectcalico.org/v3","spec":{"cidr":"10.1.0.0/16"}}';
    await cluster.etcdctl(['put', key, value]);
    const read = await store.get(key);
    const stored = await etcdctlGetPrefix(cluster, key);
    assert.deepEqual(read, { key, value, revision: stored.get(key)!.revision });
    const updated = await store.update(key, `${value} `, read!.revision);
    assert.ok(BigInt(updated.revision) > BigInt(read!.revision));
  });

  it('a failed transaction names the first condition that failed, in the order given', async () => {
    const p = '/cidrpool-store/txn/';
    const a = await store.put(`${p}a`, '1');
    const b = await store.put(`${p}b`, '1');
    await store.put(`${p}b`, '2'); // b is now stale
    await store.put(`${p}c`, '1'); // c is not absent
    const attempt = store.txn(
      [
        { key: `${p}a`, revision: a.revision },
        { key: `${p}b`, revision: b.revision },
        { key: `${p}c`, absent: true },
      ],
      [{ op: 'put', key: `${p}a`, value: 'changed' }],
    );
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(isCidrpoolError(error, 'DS_CONFLICT'), String(error));
      assert.equal(error.details['key'], `${p}b`);
      return true;
    });
    assert.equal((await store.get(`${p}a`))?.value, '1');
  });

  it('list with startAfter outside the prefix starts at the prefix or returns nothing', async () => {
    const p = '/cidrpool-store/list/';
    for (const name of ['a', 'b', 'c']) await store.put(`${p}${name}`, name);
    const before = await store.list(p, { startAfter: '/cidrpool-store/a' });
    assert.deepEqual(
      before.items.map((kv) => kv.key),
      [`${p}a`, `${p}b`, `${p}c`],
    );
    const beyond = await store.list(p, { startAfter: '/cidrpool-store/m' });
    assert.deepEqual(beyond.items, []);
    assert.equal(beyond.more, false);
    assert.ok(BigInt(beyond.revision) >= BigInt(before.revision));
    const page = await store.list(p, { limit: 2, startAfter: `${p}a` });
    assert.deepEqual(
      page.items.map((kv) => kv.key),
      [`${p}b`, `${p}c`],
    );
    assert.equal(page.more, false);
  });

  it("lists answers larger than gRPC's default 4 MiB message limit", async () => {
    const p = '/cidrpool-store/big/';
    const value = 'x'.repeat(100 * 1024);
    const keys = Array.from({ length: 60 }, (_, i) => `${p}${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((key) => store.put(key, value)));
    const listed = await store.list(p);
    assert.deepEqual(
      listed.items.map((kv) => kv.key),
      keys,
    );
    assert.ok(listed.items.every((kv) => kv.value === value));
  });

  it('a watch from a compacted revision fails with DS_COMPACTED naming the compaction', async () => {
    const p = '/cidrpool-store/compacted/';
    const first = await store.put(`${p}x`, '1');
    const last = await store.put(`${p}x`, '2');
    await cluster.etcdctl(['compact', last.revision]);
    const error = await new Promise<Error>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no error within 5 s')), 5000);
      store.watch(
        p,
        String(BigInt(first.revision) - 1n),
        (event: WatchEvent) => reject(new Error(`unexpected event ${JSON.stringify(event)}`)),
        (err) => {
          clearTimeout(timer);
          resolve(err);
        },
      );
    });
    assert.ok(isCidrpoolError(error, 'DS_COMPACTED'), String(error));
    assert.match(error.message, /compacted/);
  });

  it("a transaction over etcd's 128-operation limit is DS_REJECTED and writes nothing", async () => {
    const p = '/cidrpool-store/too-many-ops/';
    const operations = Array.from({ length: 129 }, (_, i) => ({
      op: 'put' as const,
      key: `${p}${i}`,
      value: 'x',
    }));
    await assert.rejects(
      () => store.txn([], operations),
      (err) => isCidrpoolError(err, 'DS_REJECTED') && /too many operations/i.test(err.message),
    );
    assert.equal((await store.list(p)).items.length, 0);
  });
});

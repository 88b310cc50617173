// The datastore conformance suite: ONE test body that every backend (embedded, etcd v3) must pass.
// A backend's test file calls defineConformanceSuite with a harness; the cases register with
// node:test. Every case works under its own random key prefix, so backends may share state.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isCidrpoolError } from '../../errors/index.js';
import { listAll, listKeys, readAll, type Datastore, type KeyValue } from '../api.js';
import type { DatastoreConfig } from '../config-types.js';
import { collectEvents } from './collect-events.js';
import { runWorkers } from './run-workers.js';

export interface ConformanceHarness {
  /** A new client of the backend under test (the suite closes it). */
  open(): Promise<Datastore>;
  /** A configuration that other OS processes can open the same datastore with. */
  workerConfig(): DatastoreConfig;
  /** Called once, after the last case (and after the suite closed its client). */
  teardown?(): Promise<void>;
}

const byteOrder = (keys: readonly string[]): string[] =>
  [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** Assert that `promise` rejects with a CidrpoolError of `code` (and `details.key` when given). */
async function rejectsWith(promise: Promise<unknown>, code: string, key?: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isCidrpoolError(err), `expected a CidrpoolError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (key !== undefined) assert.equal(err.details['key'], key);
    return true;
  });
}

/**
 * Register the conformance cases for one backend with node:test (a `describe` named after
 * `backendName`). Every case uses its own random key prefix under `/cidrpool-conformance/`.
 * The concurrency case needs the compiled worker, dist/test/helpers/store-worker.js.
 */
export function defineConformanceSuite(backendName: string, harness: ConformanceHarness): void {
  describe(`datastore conformance: ${backendName}`, () => {
    let store: Datastore;
    const run = randomUUID();
    let caseNumber = 0;
    /** A fresh prefix for one case. */
    const freshPrefix = (): string => `/cidrpool-conformance/${run}/${++caseNumber}/`;

    before(async () => {
      store = await harness.open();
    });
    after(async () => {
      await store?.close();
      await harness.teardown?.();
    });

    it('get of an absent key is undefined', async () => {
      assert.equal(await store.get(`${freshPrefix()}missing`), undefined);
    });

    it('create writes if absent, and throws DS_ALREADY_EXISTS otherwise', async () => {
      const key = `${freshPrefix()}a`;
      const created = await store.create(key, 'one');
      assert.equal(created.key, key);
      assert.equal(created.value, 'one');
      assert.deepEqual(await store.get(key), created);
      await rejectsWith(store.create(key, 'two'), 'DS_ALREADY_EXISTS');
      assert.deepEqual(await store.get(key), created, 'a failed create changes nothing');
    });

    it('update needs the current revision: DS_CONFLICT when stale, DS_NOT_FOUND when absent', async () => {
      const prefix = freshPrefix();
      const key = `${prefix}a`;
      const v1 = await store.create(key, 'one');
      const v2 = await store.update(key, 'two', v1.revision);
      assert.equal(v2.value, 'two');
      assert.ok(BigInt(v2.revision) > BigInt(v1.revision), 'an update gets a newer revision');
      assert.deepEqual(await store.get(key), v2);
      await rejectsWith(store.update(key, 'stale', v1.revision), 'DS_CONFLICT', key);
      assert.deepEqual(await store.get(key), v2, 'a failed update changes nothing');
      await rejectsWith(store.update(`${prefix}missing`, 'x', v1.revision), 'DS_NOT_FOUND');
      assert.equal(await store.get(`${prefix}missing`), undefined);
    });

    it('delete with a revision is conditional; delete of an absent key is DS_NOT_FOUND', async () => {
      const prefix = freshPrefix();
      const key = `${prefix}a`;
      const v1 = await store.create(key, 'one');
      const v2 = await store.update(key, 'two', v1.revision);
      await rejectsWith(store.delete(key, v1.revision), 'DS_CONFLICT', key);
      assert.deepEqual(await store.get(key), v2);
      await store.delete(key, v2.revision);
      assert.equal(await store.get(key), undefined);
      await rejectsWith(store.delete(key, v2.revision), 'DS_NOT_FOUND');
      await rejectsWith(store.delete(key), 'DS_NOT_FOUND');
      await store.create(key, 'again');
      await store.delete(key);
      assert.equal(await store.get(key), undefined, 'a delete without revision is unconditional');
    });

    it('put writes unconditionally, creating or overwriting', async () => {
      const key = `${freshPrefix()}a`;
      const p1 = await store.put(key, 'one');
      assert.deepEqual(await store.get(key), p1);
      const p2 = await store.put(key, 'two');
      assert.ok(BigInt(p2.revision) > BigInt(p1.revision));
      assert.deepEqual(await store.get(key), { key, value: 'two', revision: p2.revision });
    });

    it('every write gets a newer revision than the one before', async () => {
      const prefix = freshPrefix();
      const revisions: bigint[] = [];
      for (const name of ['a', 'b', 'c', 'a']) {
        revisions.push(BigInt((await store.put(`${prefix}${name}`, name)).revision));
      }
      for (let i = 1; i < revisions.length; i++) assert.ok(revisions[i]! > revisions[i - 1]!);
      const listed = await store.list(prefix);
      assert.ok(BigInt(listed.revision) >= revisions.at(-1)!, 'a read sees the latest revision');
    });

    it('list returns the keys under a prefix in byte order, not numeric order', async () => {
      const prefix = freshPrefix();
      const names = [
        '10.0.2.0-26',
        '10.0.10.0-26',
        '10.0.1.0-26',
        'fd00::-122',
        'fd00:0:0:1::-122',
        'B',
        'a',
        'a/b',
        '~',
        '\uff61', // U+FF61 sorts after U+1F980 in UTF-16 but before it in UTF-8 bytes
        '\u{1f980}',
      ];
      for (const name of names) await store.put(`${prefix}${name}`, name);
      // Neighbours that share the prefix text but not the folder must not be listed.
      await store.put(prefix.slice(0, -1), 'parent');
      await store.put(`${prefix.slice(0, -1)}0`, 'sibling');
      const result = await store.list(prefix);
      const expected = byteOrder(names.map((name) => `${prefix}${name}`));
      assert.deepEqual(
        result.items.map((item) => item.key),
        expected,
      );
      assert.ok(
        expected.indexOf(`${prefix}10.0.1.0-26`) < expected.indexOf(`${prefix}10.0.10.0-26`),
      );
      assert.ok(
        expected.indexOf(`${prefix}10.0.10.0-26`) < expected.indexOf(`${prefix}10.0.2.0-26`),
      );
      assert.equal(result.more, false);
      for (const item of result.items) {
        assert.equal(item.value, item.key.slice(prefix.length));
        assert.ok(BigInt(item.revision) <= BigInt(result.revision));
      }
      assert.deepEqual((await store.list(`${prefix}nothing-here/`)).items, []);
    });

    it('list pages with limit and startAfter', async () => {
      const prefix = freshPrefix();
      const keys = ['k1', 'k10', 'k2', 'k3', 'k4'].map((name) => `${prefix}${name}`);
      for (const key of keys) await store.put(key, key);
      const pages: KeyValue[][] = [];
      let startAfter: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await store.list(prefix, { limit: 2, startAfter });
        assert.ok(page.items.length <= 2);
        pages.push(page.items);
        if (!page.more) break;
        startAfter = page.items.at(-1)!.key;
      }
      assert.deepEqual(
        pages.map((page) => page.map((item) => item.key.slice(prefix.length))),
        [['k1', 'k10'], ['k2', 'k3'], ['k4']],
      );
      const afterLast = await store.list(prefix, { limit: 2, startAfter: keys.at(-1) });
      assert.deepEqual(afterLast.items, []);
      assert.equal(afterLast.more, false);
      const keyPages: KeyValue[] = [];
      for (let startAfter: string | undefined; ;) {
        const page = await store.list(prefix, { limit: 2, startAfter, keysOnly: true });
        keyPages.push(...page.items);
        if (!page.more) break;
        startAfter = page.items.at(-1)!.key;
      }
      const full = await store.list(prefix);
      assert.deepEqual(
        keyPages,
        full.items.map((item) => ({ ...item, value: '' })),
        'keysOnly: the same keys and revisions, values empty',
      );
      assert.deepEqual(await listKeys(store, prefix, 3), keyPages);
      const exact = await store.list(prefix, { limit: 5 });
      assert.equal(exact.items.length, 5);
      const all = await listAll(store, prefix, 3);
      assert.deepEqual(
        all.map((item) => item.key),
        byteOrder(keys),
      );
    });

    it('readMany answers gets and lists in order, at one revision', async () => {
      const prefix = freshPrefix();
      const keys = ['k1', 'k10', 'k2', 'k3'].map((name) => `${prefix}list/${name}`);
      for (const key of keys) await store.put(key, key);
      const single = await store.put(`${prefix}single`, 'one');
      await store.put(`${prefix}list0`, 'a neighbour, not under the folder');
      const batch = await store.readMany([
        { get: `${prefix}single` },
        { list: `${prefix}list/` },
        { get: `${prefix}absent` },
        { list: `${prefix}list/`, limit: 3 },
        { list: `${prefix}nothing/` },
      ]);
      assert.equal(batch.responses.length, 5);
      assert.deepEqual(batch.responses[0], { kv: single });
      assert.deepEqual(batch.responses[2], { kv: undefined });
      const listed = batch.responses[1] as { items: KeyValue[]; more: boolean };
      assert.deepEqual(
        listed.items.map((kv) => kv.key),
        byteOrder(keys),
      );
      assert.equal(listed.more, false);
      const page = batch.responses[3] as { items: KeyValue[]; more: boolean };
      assert.equal(page.items.length, 3);
      assert.equal(page.more, true);
      assert.deepEqual(batch.responses[4], { items: [], more: false });
      assert.ok(BigInt(batch.revision) >= BigInt(single.revision));
      // readAll follows the pages of every list.
      const all = await readAll(
        store,
        [{ list: `${prefix}list/` }, { get: `${prefix}single` }, { get: `${prefix}absent` }],
        2,
      );
      assert.deepEqual(
        all.map((items) => items.map((kv) => kv.key)),
        [byteOrder(keys), [`${prefix}single`], []],
      );
      assert.deepEqual((await store.readMany([])).responses, []);
      // More requests than etcd takes in one transaction (128) are answered all the same.
      const many = await store.readMany(
        Array.from({ length: 300 }, (_, i) => ({
          get: i % 2 ? `${prefix}single` : `${prefix}x${i}`,
        })),
      );
      assert.equal(many.responses.length, 300);
      many.responses.forEach((response, i) =>
        assert.deepEqual(response, { kv: i % 2 ? single : undefined }),
      );
    });

    it('txn applies every operation at one revision when all conditions hold', async () => {
      const prefix = freshPrefix();
      const a = await store.create(`${prefix}a`, 'a1');
      await store.create(`${prefix}gone`, 'x');
      const result = await store.txn(
        [
          { key: `${prefix}a`, revision: a.revision },
          { key: `${prefix}new`, absent: true },
        ],
        [
          { op: 'put', key: `${prefix}a`, value: 'a2' },
          { op: 'put', key: `${prefix}new`, value: 'n1' },
          { op: 'delete', key: `${prefix}gone` },
        ],
      );
      assert.deepEqual(await store.get(`${prefix}a`), {
        key: `${prefix}a`,
        value: 'a2',
        revision: result.revision,
      });
      assert.deepEqual(await store.get(`${prefix}new`), {
        key: `${prefix}new`,
        value: 'n1',
        revision: result.revision,
      });
      assert.equal(await store.get(`${prefix}gone`), undefined);
      // A deleted key is absent again for the next transaction.
      const again = await store.txn(
        [{ key: `${prefix}gone`, absent: true }],
        [{ op: 'put', key: `${prefix}gone`, value: 'back' }],
      );
      assert.ok(BigInt(again.revision) > BigInt(result.revision));
      assert.equal((await store.get(`${prefix}gone`))?.value, 'back');
    });

    it('txn writes nothing when a condition fails, and DS_CONFLICT names the key', async () => {
      const prefix = freshPrefix();
      const a = await store.create(`${prefix}a`, 'a1');
      const b1 = await store.create(`${prefix}b`, 'b1');
      const b2 = await store.update(`${prefix}b`, 'b2', b1.revision);
      const ops = [
        { op: 'put', key: `${prefix}a`, value: 'changed' },
        { op: 'put', key: `${prefix}c`, value: 'created' },
        { op: 'delete', key: `${prefix}b` },
      ] as const;
      await rejectsWith(
        store.txn(
          [
            { key: `${prefix}a`, revision: a.revision },
            { key: `${prefix}b`, revision: b1.revision },
          ],
          ops,
        ),
        'DS_CONFLICT',
        `${prefix}b`,
      );
      await rejectsWith(
        store.txn([{ key: `${prefix}a`, absent: true }], ops),
        'DS_CONFLICT',
        `${prefix}a`,
      );
      await rejectsWith(
        store.txn([{ key: `${prefix}missing`, revision: a.revision }], ops),
        'DS_CONFLICT',
        `${prefix}missing`,
      );
      assert.deepEqual(
        (await store.list(prefix)).items,
        [a, b2],
        'a failed transaction writes nothing',
      );
    });

    it(
      'txn is atomic under concurrency from several OS processes (no lost update)',
      {
        timeout: 300_000,
      },
      async () => {
        const prefix = freshPrefix();
        const workers = 4;
        const iterations = 40;
        const counters = 3;
        const results = await runWorkers(harness.workerConfig(), workers, {
          prefix,
          counters,
          iterations,
        });
        const items = await listAll(store, prefix);
        const values = new Map(items.map((item) => [item.key.slice(prefix.length), item]));
        assert.equal(
          values.get('total')?.value,
          String(workers * iterations),
          'lost update on total',
        );
        let sum = 0;
        for (let i = 0; i < counters; i++) sum += Number(values.get(`counter-${i}`)?.value ?? 0);
        assert.equal(sum, workers * iterations, 'lost update on a counter');
        // Each successful transaction had its own revision: none was applied twice or merged.
        const revisions = results.flatMap((result) => result.revisions);
        assert.equal(new Set(revisions).size, workers * iterations);
        assert.equal(values.get('total')?.revision, maxRevision(revisions));
      },
    );

    it('watch delivers puts and deletes after a revision, in order', async () => {
      const prefix = freshPrefix();
      const initial = await store.put(`${prefix}a`, 'a0');
      const start = (await store.list(prefix)).revision;
      const watch = collectEvents(store, prefix, start, 5);
      const other = await harness.open();
      try {
        const a1 = await store.update(`${prefix}a`, 'a1', initial.revision);
        await store.put(`${prefix.slice(0, -1)}-outside`, 'not watched');
        const b = await other.create(`${prefix}b`, 'b1'); // another client's write is seen too
        const t = await store.txn(
          [],
          [
            { op: 'delete', key: `${prefix}a` },
            { op: 'put', key: `${prefix}c`, value: 'c1' },
          ],
        );
        await other.delete(`${prefix}b`, b.revision);
        const events = await watch.done;
        const bDelete = events[4]!;
        assert.deepEqual(events.slice(0, 4), [
          { type: 'put', key: `${prefix}a`, value: 'a1', revision: a1.revision },
          { type: 'put', key: `${prefix}b`, value: 'b1', revision: b.revision },
          { type: 'delete', key: `${prefix}a`, revision: t.revision },
          { type: 'put', key: `${prefix}c`, value: 'c1', revision: t.revision },
        ]);
        assert.equal(bDelete.type, 'delete');
        assert.equal(bDelete.key, `${prefix}b`);
        assert.equal(bDelete.value, undefined);
        assert.ok(BigInt(bDelete.revision) > BigInt(t.revision));
      } finally {
        await other.close();
      }
    });

    it('watch from an older revision replays the history after it', async () => {
      const prefix = freshPrefix();
      const start = (await store.list(prefix)).revision;
      const p1 = await store.put(`${prefix}x`, '1');
      const p2 = await store.put(`${prefix}x`, '2');
      await store.delete(`${prefix}x`);
      const events = await collectEvents(store, prefix, p1.revision, 2).done;
      assert.deepEqual(
        events.map((event) => [event.type, event.value]),
        [
          ['put', '2'],
          ['delete', undefined],
        ],
      );
      assert.equal(events[0]!.revision, p2.revision);
      const all = await collectEvents(store, prefix, start, 3).done;
      assert.deepEqual(
        all.map((event) => event.type),
        ['put', 'put', 'delete'],
      );
    });

    it('stores large values intact', async () => {
      const key = `${freshPrefix()}big`;
      // Half a MiB: under etcd's default 1.5 MiB request limit, far above a block's size.
      const value = Array.from({ length: 512 * 1024 }, (_, i) =>
        String.fromCharCode(33 + (i % 90)),
      ).join('');
      await store.put(key, value);
      assert.equal((await store.get(key))?.value, value);
      assert.equal((await store.list(key)).items[0]?.value, value);
    });

    it('keys and values with unusual characters and unicode round-trip', async () => {
      const prefix = freshPrefix();
      const names = [
        'with space',
        'per%cent?query#hash',
        'back\\slash',
        'quote"\'',
        'colon::dash-',
        'tab\there',
        'new\nline',
        'k8s-pod-network.0123456789abcdef',
        'ключ',
        '键',
        'crab-\u{1f980}',
        'combining-e\u0301',
      ];
      for (const name of names) await store.create(`${prefix}${name}`, `value of ${name} ✓`);
      for (const name of names) {
        assert.equal((await store.get(`${prefix}${name}`))?.value, `value of ${name} ✓`, name);
      }
      const listed = (await store.list(prefix)).items.map((item) => item.key);
      assert.deepEqual(listed, byteOrder(names.map((name) => `${prefix}${name}`)));
    });
  });
}

/** The largest of some decimal revisions. */
function maxRevision(revisions: readonly string[]): string | undefined {
  return revisions.reduce<string | undefined>(
    (max, revision) => (max === undefined || BigInt(revision) > BigInt(max) ? revision : max),
    undefined,
  );
}

// What only the embedded (SQLite) datastore does: files and modes, configuration errors,
// durability settings, persistence across opens, lock timeouts and watch-log trimming.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { WatchEvent } from '../../src/datastore/api.js';
import {
  DATABASE_FILE_NAME,
  openEmbeddedStore,
  type EmbeddedDatastore,
} from '../../src/datastore/embedded/index.js';
import { openDatastore } from '../../src/datastore/open.js';
import { isCidrpoolError, isRetryable, type CidrpoolError } from '../../src/errors/index.js';

const root = mkdtempSync(join(tmpdir(), 'cidrpool-embedded-'));
let dirs = 0;
const freshDir = (): string => join(root, `store-${++dirs}`);
after(() => rmSync(root, { recursive: true, force: true }));

/** Assert a CidrpoolError of `code` whose message is one line containing every `parts`. */
function assertError(err: unknown, code: string, ...parts: string[]): true {
  assert.ok(isCidrpoolError(err), `expected a CidrpoolError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
  for (const part of parts) assert.ok(err.message.includes(part), `"${err.message}" names ${part}`);
  return true;
}

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('embedded datastore files', () => {
  it('creates the folder 0700 and the database file 0600 (WAL files too)', async () => {
    const dataDir = join(freshDir(), 'nested', 'data');
    const store = await openEmbeddedStore({ type: 'embedded', dataDir });
    try {
      await store.put('/k', 'v');
      assert.equal(store.file, join(dataDir, DATABASE_FILE_NAME));
      assert.equal(mode(dataDir), 0o700);
      assert.equal(mode(store.file), 0o600);
      // While a connection is open in WAL mode, SQLite keeps the -wal and -shm files.
      assert.equal(mode(`${store.file}-wal`), 0o600);
      assert.equal(mode(`${store.file}-shm`), 0o600);
    } finally {
      await store.close();
    }
  });

  it('a data folder that cannot be created is DS_CONFIG naming the path and the fix', async () => {
    // Under a regular file, so the check holds even for root (who may write anywhere else).
    const blocker = join(freshDir() + '-file');
    writeFileSync(blocker, 'not a folder');
    const dataDir = join(blocker, 'data');
    await assert.rejects(openEmbeddedStore({ type: 'embedded', dataDir }), (err) =>
      assertError(err, 'DS_CONFIG', dataDir, 'CIDRPOOL_DATA_DIR'),
    );
  });

  it('a data folder under /proc fails at once instead of hanging (Node 20 mkdir -p loops there)', async () => {
    const dataDir = '/proc/cidrpool-test-no-such-dir/data';
    await assert.rejects(
      () => openEmbeddedStore({ type: 'embedded', dataDir }),
      (err) => assertError(err, 'DS_CONFIG', '/proc/cidrpool-test-no-such-dir'),
    );
  });

  it('a data folder that is a file is DS_CONFIG', async () => {
    const dataDir = freshDir();
    writeFileSync(dataDir, 'a file, not a folder');
    await assert.rejects(openEmbeddedStore({ type: 'embedded', dataDir }), (err) =>
      assertError(err, 'DS_CONFIG', dataDir),
    );
  });

  it('a database file that is not SQLite is DS_CONFIG naming the file and the fix', async () => {
    const dataDir = freshDir();
    const first = await openEmbeddedStore({ type: 'embedded', dataDir });
    await first.close();
    writeFileSync(join(dataDir, DATABASE_FILE_NAME), 'x'.repeat(4096));
    await assert.rejects(openEmbeddedStore({ type: 'embedded', dataDir }), (err) =>
      assertError(err, 'DS_CONFIG', join(dataDir, DATABASE_FILE_NAME), 'move it away'),
    );
  });

  it('a database written by a newer cidrpool is DS_CONFIG', async () => {
    const dataDir = freshDir();
    const first = await openEmbeddedStore({ type: 'embedded', dataDir });
    await first.close();
    const raw = new BetterSqlite3(join(dataDir, DATABASE_FILE_NAME));
    raw.pragma('user_version = 99');
    raw.close();
    await assert.rejects(openEmbeddedStore({ type: 'embedded', dataDir }), (err) =>
      assertError(err, 'DS_CONFIG', 'schema version 99', 'upgrade cidrpool'),
    );
  });
});

describe('embedded datastore settings', () => {
  it('uses WAL and synchronous FULL by default', async () => {
    const store = await openEmbeddedStore({ type: 'embedded', dataDir: freshDir() });
    try {
      assert.deepEqual(
        { ...store.settings(), busyTimeoutMs: undefined },
        { journalMode: 'wal', synchronous: 'full', busyTimeoutMs: undefined },
      );
      assert.ok(store.settings().busyTimeoutMs >= 1000, 'a busy timeout is set');
    } finally {
      await store.close();
    }
  });

  it('uses synchronous NORMAL when configured, and still persists writes', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ type: 'embedded', dataDir, synchronous: 'normal' });
    const written = await store.put('/k', 'v');
    assert.equal(store.settings().synchronous, 'normal');
    await store.close();
    const again = await openEmbeddedStore({ type: 'embedded', dataDir });
    try {
      assert.deepEqual(await again.get('/k'), written);
      assert.equal(again.settings().synchronous, 'full', 'the level is per connection');
    } finally {
      await again.close();
    }
  });
});

describe('embedded datastore behaviour', () => {
  it('keeps values and the revision counter across close and open', async () => {
    const dataDir = freshDir();
    const first = await openEmbeddedStore({ type: 'embedded', dataDir });
    const a = await first.put('/a', '1');
    const b = await first.put('/b', '2');
    await first.close();
    const second = await openEmbeddedStore({ type: 'embedded', dataDir });
    try {
      assert.deepEqual((await second.list('/')).items, [a, b]);
      const c = await second.put('/c', '3');
      assert.ok(BigInt(c.revision) > BigInt(b.revision), 'revisions never go back');
    } finally {
      await second.close();
    }
  });

  it('a fresh store is at revision 1 and its first write at 2, like etcd', async () => {
    const store = await openEmbeddedStore({ type: 'embedded', dataDir: freshDir() });
    try {
      assert.equal((await store.list('/')).revision, '1');
      assert.equal((await store.put('/k', 'v')).revision, '2');
    } finally {
      await store.close();
    }
  });

  it('a transaction that changes nothing does not use a revision', async () => {
    const store = await openEmbeddedStore({ type: 'embedded', dataDir: freshDir() });
    try {
      const written = await store.put('/k', 'v');
      const result = await store.txn(
        [{ key: '/k', revision: written.revision }],
        [{ op: 'delete', key: '/absent' }],
      );
      assert.equal(result.revision, written.revision);
      assert.equal((await store.list('/')).revision, written.revision);
    } finally {
      await store.close();
    }
  });

  it('a write lock held past the busy timeout is DS_UNAVAILABLE (retryable)', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ type: 'embedded', dataDir }, { busyTimeoutMs: 50 });
    const other = new BetterSqlite3(join(dataDir, DATABASE_FILE_NAME));
    try {
      other.exec('BEGIN IMMEDIATE');
      await assert.rejects(store.put('/k', 'v'), (err) => {
        assertError(err, 'DS_UNAVAILABLE', 'busy timeout');
        assert.ok(isRetryable(err));
        return true;
      });
      assert.equal(await store.get('/k'), undefined, 'reads do not wait for writers');
      other.exec('ROLLBACK');
      await store.put('/k', 'v');
    } finally {
      other.close();
      await store.close();
    }
  });

  it('operations after close are DS_UNAVAILABLE; close is idempotent', async () => {
    const store = await openEmbeddedStore({ type: 'embedded', dataDir: freshDir() });
    await store.close();
    await store.close();
    await assert.rejects(store.get('/k'), (err) => assertError(err, 'DS_UNAVAILABLE', 'closed'));
  });

  it('a watch from a trimmed revision fails with DS_COMPACTED; a recent one works', async () => {
    const store: EmbeddedDatastore = await openEmbeddedStore(
      { type: 'embedded', dataDir: freshDir() },
      { logRetention: 5, trimEvery: 5 },
    );
    try {
      for (let i = 0; i < 20; i++) await store.put('/w/k', String(i)); // revisions 2..21
      const failure = await new Promise<CidrpoolError>((resolve, reject) => {
        store.watch(
          '/w/',
          '3',
          () => reject(new Error('no event expected')),
          (error) => resolve(error as CidrpoolError),
        );
      });
      assertError(failure, 'DS_COMPACTED', 'revision 3', 'list again');
      // Trimmed at revision 20 up to revision 15: a watch from 15 sees every event after it.
      const events: WatchEvent[] = [];
      await new Promise<void>((resolve, reject) => {
        const watcher = store.watch(
          '/w/',
          '15',
          (event) => {
            events.push(event);
            if (events.length === 6) void watcher.close().then(resolve);
          },
          reject,
        );
      });
      assert.deepEqual(
        events.map((event) => event.value),
        ['14', '15', '16', '17', '18', '19'],
      );
    } finally {
      await store.close();
    }
  });

  it('close stops the watchers of the store', async () => {
    const store = await openEmbeddedStore({ type: 'embedded', dataDir: freshDir() });
    const events: WatchEvent[] = [];
    store.watch('/', '1', (event) => events.push(event));
    await store.close();
    // Nothing keeps the process alive and no event arrives: the test would hang otherwise.
    assert.deepEqual(events, []);
  });
});

describe('openDatastore', () => {
  it('opens the embedded store an embedded config names', async () => {
    const dataDir = freshDir();
    const store = await openDatastore({ type: 'embedded', dataDir, synchronous: 'normal' });
    try {
      assert.equal(store.type, 'embedded');
      await store.put('/k', 'v');
      assert.equal(mode(join(dataDir, DATABASE_FILE_NAME)), 0o600);
    } finally {
      await store.close();
    }
  });

  it('does not load the etcd3 package for an embedded store', () => {
    // etcd3 is CommonJS, so once loaded it is in the CommonJS cache (each test file runs in its
    // own process, so only this file's imports count).
    const cache = createRequire(import.meta.url).cache;
    const loaded = Object.keys(cache).filter((path) => path.includes('/node_modules/etcd3/'));
    assert.deepEqual(loaded, []);
  });
});

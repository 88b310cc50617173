// The embedded datastore: the revisioned key-value contract of api.ts on one SQLite file.
//
// Revisions work like etcd's: one global counter in `meta`, bumped once by every transaction that
// changes something; every key written by that transaction gets the new value as mod revision.
// Writes run in BEGIN IMMEDIATE transactions, so several OS processes (parallel CNI calls) can
// write the same file: each takes the write lock up front and waits up to the busy timeout for it,
// instead of failing with SQLITE_BUSY when a read transaction tries to become a write one.
import type { Database, Statement } from 'better-sqlite3';
import { CidrpoolError } from '../../errors/index.js';
import type {
  Datastore,
  KeyValue,
  ListOptions,
  ListResult,
  ReadManyResult,
  ReadRequest,
  ReadResponse,
  Revision,
  TxnCondition,
  TxnOperation,
  TxnResult,
  WatchEvent,
  Watcher,
} from '../api.js';
import { decodeKey, encodeKey } from '../key-bytes.js';
import { prefixRange, type KeyRange } from './key-range.js';
import { translateSqliteError } from './sqlite-errors.js';
import { PollingWatcher, type LogBatch } from './watch-poller.js';

export interface EmbeddedStoreOptions {
  /** Watchers poll the log this often (milliseconds). */
  readonly watchPollMs: number;
  /** The log keeps at least the events of this many most recent revisions. */
  readonly logRetention: number;
  /** Log trimming runs when the revision is a multiple of this. */
  readonly trimEvery: number;
}

interface KvRow {
  value: string;
  mod_revision: number;
}

interface ListRow {
  key: Buffer;
  value: string;
  mod_revision: number;
}

type KeyRow = Omit<ListRow, 'value'>;

interface LogRow {
  id: number;
  revision: number;
  type: number;
  key: Buffer;
  value: string | null;
}

const PUT = 0;
const DELETE = 1;
/** Rows read by one watch poll; a watcher behind by more polls again at once. */
const WATCH_BATCH = 1000;

/** A revision string of the contract as a number, or undefined when it is not a revision. */
function parseRevision(revision: Revision): number | undefined {
  return /^\d{1,15}$/.test(revision) ? Number(revision) : undefined;
}

/** The prepared statements of one connection. */
class Statements {
  readonly getKv: Statement<[Buffer], KvRow>;
  readonly getMeta: Statement<[string], { value: number }>;
  readonly setMeta: Statement<[number, string]>;
  readonly upsertKv: Statement<[{ key: Buffer; value: string; revision: number }]>;
  readonly deleteKv: Statement<[Buffer]>;
  readonly insertLog: Statement<[number, number, Buffer, string | null]>;
  readonly trimLog: Statement<[number]>;
  readonly listBounded: Statement<[Buffer, Buffer, number], ListRow>;
  readonly listOpen: Statement<[Buffer, number], ListRow>;
  readonly listKeysBounded: Statement<[Buffer, Buffer, number], KeyRow>;
  readonly listKeysOpen: Statement<[Buffer, number], KeyRow>;
  readonly logBounded: Statement<[number, number, Buffer, Buffer, number], LogRow>;
  readonly logOpen: Statement<[number, number, Buffer, number], LogRow>;

  constructor(db: Database) {
    this.getKv = db.prepare('SELECT value, mod_revision FROM kv WHERE key = ?');
    this.getMeta = db.prepare('SELECT value FROM meta WHERE name = ?');
    this.setMeta = db.prepare('UPDATE meta SET value = ? WHERE name = ?');
    this.upsertKv = db.prepare(
      `INSERT INTO kv (key, value, mod_revision, create_revision, version) VALUES (@key, @value, @revision, @revision, 1)
       ON CONFLICT (key) DO UPDATE SET
         value = excluded.value, mod_revision = excluded.mod_revision, version = version + 1`,
    );
    this.deleteKv = db.prepare('DELETE FROM kv WHERE key = ?');
    this.insertLog = db.prepare('INSERT INTO log (revision, type, key, value) VALUES (?, ?, ?, ?)');
    this.trimLog = db.prepare('DELETE FROM log WHERE revision <= ?');
    // LIMIT -1 is "no limit" in SQLite.
    this.listBounded = db.prepare(
      'SELECT key, value, mod_revision FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?',
    );
    this.listOpen = db.prepare(
      'SELECT key, value, mod_revision FROM kv WHERE key >= ? ORDER BY key LIMIT ?',
    );
    this.listKeysBounded = db.prepare(
      'SELECT key, mod_revision FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?',
    );
    this.listKeysOpen = db.prepare(
      'SELECT key, mod_revision FROM kv WHERE key >= ? ORDER BY key LIMIT ?',
    );
    this.logBounded = db.prepare(
      `SELECT id, revision, type, key, value FROM log
       WHERE id > ? AND revision > ? AND key >= ? AND key < ? ORDER BY id LIMIT ?`,
    );
    this.logOpen = db.prepare(
      `SELECT id, revision, type, key, value FROM log
       WHERE id > ? AND revision > ? AND key >= ? ORDER BY id LIMIT ?`,
    );
  }
}

/** The key after which a page starts: the larger of the prefix start and startAfter + 0x00. */
function lowerBound(range: KeyRange, startAfter: string | undefined): Buffer {
  if (startAfter === undefined) return range.start;
  const after = Buffer.concat([encodeKey(startAfter), Buffer.from([0])]);
  return Buffer.compare(after, range.start) > 0 ? after : range.start;
}

/** What SQLite reports about an open embedded datastore (for diagnostics and tests). */
export interface EmbeddedStoreSettings {
  /** `wal` */
  readonly journalMode: string;
  /** `full` or `normal` */
  readonly synchronous: string;
  readonly busyTimeoutMs: number;
}

/** The embedded datastore: the contract plus what only it has. */
export interface EmbeddedDatastore extends Datastore {
  readonly type: 'embedded';
  /** The SQLite file. */
  readonly file: string;
  /** The live settings of the connection, read back from SQLite. */
  settings(): EmbeddedStoreSettings;
}

const SYNCHRONOUS_LEVELS = ['off', 'normal', 'full', 'extra'];

/** The contract of api.ts on a better-sqlite3 connection; see openEmbeddedStore. */
export class EmbeddedStore implements EmbeddedDatastore {
  readonly type = 'embedded' as const;
  readonly #db: Database;
  readonly #file: string;
  readonly #options: EmbeddedStoreOptions;
  readonly #sql: Statements;
  readonly #watchers = new Set<PollingWatcher>();
  #closed = false;

  constructor(db: Database, file: string, options: EmbeddedStoreOptions) {
    this.#db = db;
    this.#file = file;
    this.#options = options;
    try {
      this.#sql = new Statements(db);
    } catch (err) {
      throw translateSqliteError(err, file);
    }
  }

  get file(): string {
    return this.#file;
  }

  settings(): EmbeddedStoreSettings {
    return this.#run(() => {
      const level = Number(this.#db.pragma('synchronous', { simple: true }));
      return {
        journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
        synchronous: SYNCHRONOUS_LEVELS[level] ?? String(level),
        busyTimeoutMs: Number(this.#db.pragma('busy_timeout', { simple: true })),
      };
    });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return this.#run(() => {
      const row = this.#sql.getKv.get(encodeKey(key));
      return row && { key, value: row.value, revision: String(row.mod_revision) };
    });
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    // One read transaction: the items and the revision come from the same snapshot.
    return this.#run(() =>
      this.#db
        .transaction((): ListResult => ({
          ...this.#listPage(prefix, options),
          revision: String(this.#currentRevision()),
        }))
        .deferred(),
    );
  }

  async readMany(requests: readonly ReadRequest[]): Promise<ReadManyResult> {
    return this.#run(() =>
      this.#db
        .transaction((): ReadManyResult => {
          const revision = String(this.#currentRevision());
          const responses = requests.map((request): ReadResponse => {
            if ('list' in request) return this.#listPage(request.list, { limit: request.limit });
            const row = this.#sql.getKv.get(encodeKey(request.get));
            return {
              kv: row && { key: request.get, value: row.value, revision: String(row.mod_revision) },
            };
          });
          return { responses, revision };
        })
        .deferred(),
    );
  }

  /** One page of a prefix; call inside a read transaction. */
  #listPage(prefix: string, options: ListOptions): { items: KeyValue[]; more: boolean } {
    const limit = options.limit !== undefined && options.limit > 0 ? Math.floor(options.limit) : 0;
    const range = prefixRange(prefix);
    const start = lowerBound(range, options.startAfter);
    const fetch = limit > 0 ? limit + 1 : -1;
    const sql = this.#sql;
    const rows: (KeyRow & { value?: string })[] = options.keysOnly
      ? range.end
        ? sql.listKeysBounded.all(start, range.end, fetch)
        : sql.listKeysOpen.all(start, fetch)
      : range.end
        ? sql.listBounded.all(start, range.end, fetch)
        : sql.listOpen.all(start, fetch);
    const more = limit > 0 && rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map((row) => ({
      key: decodeKey(row.key),
      value: row.value ?? '',
      revision: String(row.mod_revision),
    }));
    return { items, more };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const revision = this.#write((rev) => {
      if (this.#sql.getKv.get(encodeKey(key))) {
        throw new CidrpoolError('DS_ALREADY_EXISTS', `key ${key} already exists`, {
          details: { key },
        });
      }
      return this.#apply(rev, [{ op: 'put', key, value }]);
    });
    return { key, value, revision: String(revision) };
  }

  async update(key: string, value: string, expectedRevision: Revision): Promise<KeyValue> {
    const revision = this.#write((rev) => {
      this.#checkRevision(key, expectedRevision);
      return this.#apply(rev, [{ op: 'put', key, value }]);
    });
    return { key, value, revision: String(revision) };
  }

  async put(key: string, value: string): Promise<KeyValue> {
    const revision = this.#write((rev) => this.#apply(rev, [{ op: 'put', key, value }]));
    return { key, value, revision: String(revision) };
  }

  async delete(key: string, expectedRevision?: Revision): Promise<void> {
    this.#write((rev) => {
      if (expectedRevision === undefined) {
        if (!this.#sql.getKv.get(encodeKey(key))) throw this.#notFound(key);
      } else {
        this.#checkRevision(key, expectedRevision);
      }
      return this.#apply(rev, [{ op: 'delete', key }]);
    });
  }

  async txn(
    conditions: readonly TxnCondition[],
    operations: readonly TxnOperation[],
  ): Promise<TxnResult> {
    const revision = this.#write((rev) => {
      for (const condition of conditions) {
        const row = this.#sql.getKv.get(encodeKey(condition.key));
        if ('absent' in condition) {
          if (row) {
            throw new CidrpoolError(
              'DS_CONFLICT',
              `transaction condition failed: key ${condition.key} exists (revision ${row.mod_revision})`,
              { details: { key: condition.key, actualRevision: String(row.mod_revision) } },
            );
          }
        } else if (!row || row.mod_revision !== parseRevision(condition.revision)) {
          throw new CidrpoolError(
            'DS_CONFLICT',
            `transaction condition failed: key ${condition.key} is ` +
              (row ? `at revision ${row.mod_revision}` : 'absent') +
              `, not at revision ${condition.revision}`,
            {
              details: {
                key: condition.key,
                expectedRevision: condition.revision,
                actualRevision: row ? String(row.mod_revision) : undefined,
              },
            },
          );
        }
      }
      return this.#apply(rev, operations);
    });
    return { revision: String(revision) };
  }

  watch(
    prefix: string,
    afterRevision: Revision,
    onEvent: (event: WatchEvent) => void,
    onError?: (error: Error) => void,
  ): Watcher {
    const after = parseRevision(afterRevision);
    if (after === undefined) {
      throw new CidrpoolError(
        'INTERNAL',
        `watch of ${prefix}: "${afterRevision}" is not a revision`,
      );
    }
    this.#assertOpen();
    const range = prefixRange(prefix);
    const watcher = new PollingWatcher({
      prefix,
      afterRevision: after,
      pollMs: this.#options.watchPollMs,
      readBatch: (afterId, afterRev) => this.#readLog(range, afterId, afterRev),
      onEvent,
      onError,
      onStop: (stopped) => this.#watchers.delete(stopped),
    });
    this.#watchers.add(watcher);
    return watcher;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    for (const watcher of [...this.#watchers]) await watcher.close();
    this.#closed = true;
    this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new CidrpoolError('DS_UNAVAILABLE', `embedded datastore ${this.#file} is closed`, {
        details: { file: this.#file },
      });
    }
  }

  /** Run `fn` against the open connection, translating SQLite errors. */
  #run<T>(fn: () => T): T {
    this.#assertOpen();
    try {
      return fn();
    } catch (err) {
      throw translateSqliteError(err, this.#file);
    }
  }

  #currentRevision(): number {
    return this.#sql.getMeta.get('revision')!.value;
  }

  /**
   * One write transaction (BEGIN IMMEDIATE). `fn` gets the revision the transaction will have and
   * returns the revision it ended at: that one when it changed something, else the current one.
   */
  #write(fn: (nextRevision: number) => number): number {
    const revision = this.#run(() =>
      this.#db
        .transaction(() => {
          const current = this.#currentRevision();
          const result = fn(current + 1);
          if (result > current) {
            this.#sql.setMeta.run(result, 'revision');
            this.#trimLog(result);
          }
          return result;
        })
        .immediate(),
    );
    for (const watcher of this.#watchers) watcher.wake();
    return revision;
  }

  /** Apply operations at `revision`; returns it, or the current revision when nothing changed. */
  #apply(revision: number, operations: readonly TxnOperation[]): number {
    let changed = false;
    for (const operation of operations) {
      const key = encodeKey(operation.key);
      if (operation.op === 'put') {
        this.#sql.upsertKv.run({ key, value: operation.value, revision });
        this.#sql.insertLog.run(revision, PUT, key, operation.value);
        changed = true;
      } else if (this.#sql.deleteKv.run(key).changes > 0) {
        // Like etcd, deleting an absent key inside a transaction is no change and no event.
        this.#sql.insertLog.run(revision, DELETE, key, null);
        changed = true;
      }
    }
    return changed ? revision : revision - 1;
  }

  /** Throw DS_NOT_FOUND when the key is absent, DS_CONFLICT when it is at another revision. */
  #checkRevision(key: string, expectedRevision: Revision): void {
    const row = this.#sql.getKv.get(encodeKey(key));
    if (!row) throw this.#notFound(key);
    if (row.mod_revision !== parseRevision(expectedRevision)) {
      throw new CidrpoolError(
        'DS_CONFLICT',
        `key ${key} changed since it was read: it is at revision ${row.mod_revision}, not ${expectedRevision}`,
        {
          details: {
            key,
            expectedRevision,
            actualRevision: String(row.mod_revision),
          },
        },
      );
    }
  }

  #notFound(key: string): CidrpoolError {
    return new CidrpoolError('DS_NOT_FOUND', `key ${key} does not exist`, { details: { key } });
  }

  /**
   * Log trimming policy: every `trimEvery` revisions, drop the events of revisions older than the
   * last `logRetention`, and record the highest dropped revision so a watch that needs them fails
   * with DS_COMPACTED instead of missing events.
   */
  #trimLog(revision: number): void {
    const { logRetention, trimEvery } = this.#options;
    if (revision % trimEvery !== 0 || revision <= logRetention) return;
    const upTo = revision - logRetention;
    this.#sql.trimLog.run(upTo);
    if (upTo > this.#sql.getMeta.get('compacted')!.value) this.#sql.setMeta.run(upTo, 'compacted');
  }

  #readLog(range: KeyRange, afterId: number, afterRevision: number): LogBatch {
    return this.#run(() =>
      this.#db
        .transaction((): LogBatch => {
          const revision = this.#currentRevision();
          const compacted = this.#sql.getMeta.get('compacted')!.value;
          const rows = range.end
            ? this.#sql.logBounded.all(afterId, afterRevision, range.start, range.end, WATCH_BATCH)
            : this.#sql.logOpen.all(afterId, afterRevision, range.start, WATCH_BATCH);
          const events = rows.map((row) => ({
            id: row.id,
            type: row.type === PUT ? ('put' as const) : ('delete' as const),
            key: decodeKey(row.key),
            ...(row.type === PUT ? { value: row.value ?? '' } : {}),
            revision: String(row.revision),
          }));
          return { events, more: rows.length === WATCH_BATCH, revision, compacted };
        })
        .deferred(),
    );
  }
}

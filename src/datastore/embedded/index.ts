// The embedded datastore: SQLite (better-sqlite3) in one file, `cidrpool.db`, in the data folder.
// Only the entry points (cli, cni), open.ts and tests import this module.
import type { EmbeddedConfig } from '../config-types.js';
import {
  EmbeddedStore,
  type EmbeddedDatastore,
  type EmbeddedStoreOptions,
  type EmbeddedStoreSettings,
} from './embedded-store.js';
import { DATABASE_FILE_NAME, openDatabase } from './open-database.js';

export { DATABASE_FILE_NAME, type EmbeddedDatastore, type EmbeddedStoreSettings };

/** Tuning knobs of the embedded datastore that are not part of the user's configuration. */
export interface EmbeddedStoreTuning {
  /** How long a write waits for other processes' write lock before DS_UNAVAILABLE (default 30000). */
  readonly busyTimeoutMs?: number;
  /** Watch poll interval in milliseconds (default 50). Writes of this process wake watchers at once. */
  readonly watchPollMs?: number;
  /**
   * The watch log keeps the events of at least this many latest revisions (default 1000). The log
   * holds a copy of every value written, so this bounds its size (1000 block writes of a few KB
   * are a few MB); pollers run every `watchPollMs`, so a live watcher is never that far behind.
   */
  readonly logRetention?: number;
  /** Trim the watch log when the revision is a multiple of this (default 100). */
  readonly trimEvery?: number;
}

const positive = (value: number | undefined, fallback: number): number =>
  value !== undefined && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;

/**
 * Open the embedded datastore in `config.dataDir`, creating the folder (mode 0700) and the file
 * `cidrpool.db` (mode 0600) when missing. The file is in WAL mode; writes are BEGIN IMMEDIATE
 * transactions with a busy timeout, so several processes may write at once. `synchronous: 'full'`
 * (default) makes every commit durable; `'normal'` is faster but a power loss may lose the last
 * commits (never corrupts the file).
 *
 * Watch history: every `trimEvery` (100) revisions the log drops the events older than the last
 * `logRetention` (1000) revisions; a watch that needs dropped events fails with DS_COMPACTED
 * (list again, then watch from the list's revision).
 *
 * Throws DS_CONFIG (one line naming the path and the fix) when the folder or file cannot be
 * created or written, or the file is not a cidrpool database; DS_UNAVAILABLE when other writers
 * hold the lock past the busy timeout during first-time setup.
 */
export async function openEmbeddedStore(
  config: EmbeddedConfig,
  tuning: EmbeddedStoreTuning = {},
): Promise<EmbeddedDatastore> {
  const { db, file } = openDatabase({
    dataDir: config.dataDir,
    synchronous: config.synchronous === 'normal' ? 'normal' : 'full',
    busyTimeoutMs: positive(tuning.busyTimeoutMs, 30_000),
  });
  const options: EmbeddedStoreOptions = {
    watchPollMs: positive(tuning.watchPollMs, 50),
    logRetention: positive(tuning.logRetention, 1000),
    trimEvery: positive(tuning.trimEvery, 100),
  };
  try {
    return new EmbeddedStore(db, file, options);
  } catch (err) {
    db.close();
    throw err;
  }
}

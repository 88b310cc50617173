// Opening the SQLite file of the embedded datastore: folder (0700), file (0600), WAL, busy
// timeout, synchronous level, schema.
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { CidrpoolError } from '../../errors/index.js';
import { ensureSchema } from './schema.js';
import { translateFsError, translateSqliteError } from './sqlite-errors.js';

/** The name of the database file inside the data directory. */
export const DATABASE_FILE_NAME = 'cidrpool.db';

export interface OpenDatabaseOptions {
  readonly dataDir: string;
  readonly synchronous: 'full' | 'normal';
  /** How long a writer waits for another process's write lock before DS_UNAVAILABLE. */
  readonly busyTimeoutMs: number;
}

/**
 * mkdir -p, one component at a time. Node 20's own `recursive: true` loops forever on some
 * paths (under /proc it keeps retrying ENOENT), so a bad data dir would hang the caller; this
 * walk is bounded by the path's depth and fails with the first component's error.
 */
function makeDirectories(path: string, mode: number): void {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      statSync(dir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(dir) === dir) throw err;
      missing.push(dir);
    }
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (err) {
      // Another process may have created it between our stat and our mkdir.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

let nativeBinding: string | undefined | null = null;

/**
 * better-sqlite3's compiled addon, resolved once. Passing its path skips the package's search
 * through a dozen candidate paths (the `bindings` module), which every short-lived CNI call paid.
 * Undefined (the package searches as usual) when it cannot be resolved.
 */
function findNativeBinding(): string | undefined {
  if (nativeBinding === null) {
    try {
      nativeBinding = createRequire(import.meta.url).resolve(
        'better-sqlite3/build/Release/better_sqlite3.node',
      );
    } catch {
      nativeBinding = undefined;
    }
  }
  return nativeBinding;
}

/** Create the data folder (0700) and an empty database file (0600) unless they exist. */
function prepareFiles(dataDir: string, file: string): void {
  try {
    makeDirectories(dataDir, 0o700);
    if (!statSync(dataDir).isDirectory())
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    throw translateFsError(err, dataDir);
  }
  try {
    // Created here, not by SQLite, so the mode is 0600 from the start; SQLite gives the -wal and
    // -shm files the mode of the database file.
    closeSync(openSync(file, 'a', 0o600));
  } catch (err) {
    throw translateFsError(err, dataDir);
  }
}

/**
 * Open (creating if needed) the database of the embedded datastore in `dataDir`.
 * Throws DS_CONFIG naming the path and the fix when the folder or file cannot be created or
 * written, or the file is not a cidrpool database; DS_UNAVAILABLE when other processes hold the
 * write lock past the busy timeout while the tables are being created.
 */
export function openDatabase(options: OpenDatabaseOptions): { db: Database; file: string } {
  const file = join(options.dataDir, DATABASE_FILE_NAME);
  prepareFiles(options.dataDir, file);
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(file, {
      timeout: options.busyTimeoutMs,
      nativeBinding: findNativeBinding(),
    });
    // WAL lets readers run while one writer commits, and is persistent in the file.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') {
      throw new CidrpoolError(
        'DS_CONFIG',
        `embedded datastore ${file} cannot use write-ahead logging (journal mode ${String(mode)}); ` +
          'put the data folder on a local file system',
        { details: { file } },
      );
    }
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    ensureSchema(db, file);
    return { db, file };
  } catch (err) {
    db?.close();
    throw translateSqliteError(err, file);
  }
}

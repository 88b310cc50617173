// Opening the SQLite file of the embedded datastore: folder (0700), file (0600), WAL, busy
// timeout, synchronous level, schema.
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

/** Create the data folder (0700) and an empty database file (0600) unless they exist. */
function prepareFiles(dataDir: string, file: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
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
    db = new BetterSqlite3(file, { timeout: options.busyTimeoutMs });
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

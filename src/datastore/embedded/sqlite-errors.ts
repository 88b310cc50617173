// The one place where SQLite and file system errors become CidrpoolErrors (STYLE.md, "Errors":
// only adapters translate foreign errors).
import { CidrpoolError } from '../../errors/index.js';

/** An error thrown by better-sqlite3 or node:fs, seen through the fields we read. */
interface ForeignError {
  readonly code?: unknown;
  readonly message?: unknown;
}

const codeOf = (err: unknown): string =>
  typeof (err as ForeignError)?.code === 'string' ? ((err as ForeignError).code as string) : '';

const messageOf = (err: unknown): string =>
  err instanceof Error ? err.message : String((err as ForeignError)?.message ?? err);

/**
 * Translate an error thrown while opening or using the SQLite file at `file`.
 * CidrpoolErrors pass through unchanged. A lock that stays busy past the busy timeout and I/O
 * failures are DS_UNAVAILABLE (retryable); a file that is not a database, is corrupt or cannot be
 * opened or written is DS_CONFIG, with one line that names the file and the fix.
 */
export function translateSqliteError(err: unknown, file: string): Error {
  if (err instanceof CidrpoolError) return err;
  const code = codeOf(err);
  // Extended result codes (SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_FSYNC) share their primary's meaning.
  const base = code.startsWith('SQLITE_') ? code.split('_').slice(0, 2).join('_') : code;
  const cause = err;
  switch (base) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new CidrpoolError(
        'DS_UNAVAILABLE',
        `embedded datastore ${file} stayed locked by other writers past the busy timeout; retry`,
        { cause, details: { file, sqliteCode: code } },
      );
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new CidrpoolError(
        'DS_CONFIG',
        `embedded datastore ${file} is not a valid cidrpool database (${messageOf(err)}); ` +
          'restore it from a backup, or move it away to start with an empty datastore',
        { cause, details: { file, sqliteCode: code } },
      );
    case 'SQLITE_READONLY':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return new CidrpoolError(
        'DS_CONFIG',
        `embedded datastore ${file} cannot be opened for writing (${messageOf(err)}); ` +
          'make its folder and file writable by this user, or choose another folder with ' +
          'CIDRPOOL_DATA_DIR or spec.dataDir',
        { cause, details: { file, sqliteCode: code } },
      );
    case 'SQLITE_FULL':
    case 'SQLITE_IOERR':
    case 'SQLITE_PROTOCOL':
      return new CidrpoolError('DS_UNAVAILABLE', `embedded datastore ${file}: ${messageOf(err)}`, {
        cause,
        details: { file, sqliteCode: code },
      });
    default:
      return new CidrpoolError('INTERNAL', `embedded datastore ${file}: ${messageOf(err)}`, {
        cause,
        details: { file, sqliteCode: code || undefined },
      });
  }
}

/**
 * Translate a file system error met while preparing the data directory `dir`: always DS_CONFIG,
 * one line naming the path and the fix.
 */
export function translateFsError(err: unknown, dir: string): CidrpoolError {
  const code = codeOf(err);
  const message = messageOf(err);
  // Node's messages already start with the code ("EACCES: permission denied, mkdir '/x'").
  const reason = code && !message.startsWith(code) ? `${code}: ${message}` : message;
  return new CidrpoolError(
    'DS_CONFIG',
    `embedded datastore folder ${dir} cannot be created or written (${reason}); ` +
      'choose a writable folder with CIDRPOOL_DATA_DIR or spec.dataDir',
    { cause: err, details: { dataDir: dir, errno: code || undefined } },
  );
}

// The tables of the embedded datastore and their creation. One SQLite file holds:
//   kv    the current value of every key (keys are BLOBs: memcmp order = etcd byte order)
//   meta  the global revision counter and the highest revision trimmed from the log
//   log   one row per changed key per revision (puts and deletes), read by watchers
import type { Database } from 'better-sqlite3';
import { CidrpoolError } from '../../errors/index.js';

/** Bumped when the tables change in a way older code cannot read. */
export const SCHEMA_VERSION = 1;

const CREATE_TABLES = `
  CREATE TABLE IF NOT EXISTS kv (
    key BLOB PRIMARY KEY,
    value TEXT NOT NULL,
    mod_revision INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    version INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY,
    revision INTEGER NOT NULL,
    type INTEGER NOT NULL,
    key BLOB NOT NULL,
    value TEXT
  );
  CREATE INDEX IF NOT EXISTS log_revision ON log (revision);
  -- etcd starts a new cluster at revision 1; so do we.
  INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 1), ('compacted', 0);
`;

/**
 * Create the tables on first use (inside an IMMEDIATE transaction, so processes that open a new
 * file at the same time do not race) and check the schema version of an existing file.
 * Throws DS_CONFIG when the file was written by a newer cidrpool.
 */
export function ensureSchema(db: Database, file: string): void {
  const current = (): number => db.pragma('user_version', { simple: true }) as number;
  if (current() === SCHEMA_VERSION) return;
  db.transaction(() => {
    const version = current();
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new CidrpoolError(
        'DS_CONFIG',
        `embedded datastore ${file} has schema version ${version}, newer than this cidrpool ` +
          `understands (${SCHEMA_VERSION}); upgrade cidrpool`,
        { details: { file, schemaVersion: version } },
      );
    }
    db.exec(CREATE_TABLES);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

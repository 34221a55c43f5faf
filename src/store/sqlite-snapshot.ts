import BetterSqlite3 from 'better-sqlite3';

/** How long the snapshot waits for a running platform's write to finish. */
const busyTimeoutMs = 5000;

/**
 * A consistent copy of a SQLite database file (its WAL included) into `target`, by VACUUM
 * INTO: safe while a platform writes to it from another process, since SQLite's own locking
 * gives the copy one point in time.
 */
export function snapshotSqliteFile(file: string, target: string): void {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
}

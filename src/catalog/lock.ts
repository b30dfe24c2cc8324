/**
 * One writer per DATA_DIR, enforced by a lock the kernel releases. The lock is a small SQLite file
 * opened in `locking_mode = EXCLUSIVE` and written once: SQLite then holds an fcntl (POSIX advisory)
 * write lock on it for as long as the connection is open, and the kernel drops that lock when the
 * process exits, however it dies. The pid file this replaces could block a restart after a kill -9
 * when the pid was reused by any live process; the file's existence now means nothing, only the
 * kernel lock does.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { FindthisError } from '../core/errors.js';

export interface DataDirLock {
  readonly file: string;
  /** Releases the lock (idempotent). */
  release(): void;
}

/**
 * Takes the exclusive lock on `file` (created if absent). Throws DATA_DIR_LOCKED "DATA_DIR is in use"
 * when another live process (or another open catalog in this one) holds it.
 */
export function acquireLock(file: string): DataDirLock {
  let db: Database.Database;
  try {
    db = openLockDatabase(file);
  } catch (error) {
    // A pid lock file left by an older version is not a database: it holds no lock, so it goes.
    if ((error as { code?: string }).code !== 'SQLITE_NOTADB') throw error;
    rmSync(file, { force: true });
    db = openLockDatabase(file);
  }
  return {
    file,
    release: () => {
      if (db.open) db.close();
    },
  };
}

function openLockDatabase(file: string): Database.Database {
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY');
    // The first write takes the exclusive lock; in this locking mode it is kept until close.
    db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, since TEXT NOT NULL)');
    db.prepare('INSERT OR REPLACE INTO holder (id, pid, since) VALUES (1, ?, ?)').run(process.pid, new Date().toISOString());
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw inUse(file, error);
    throw error;
  }
}

function inUse(file: string, cause: unknown): FindthisError {
  return new FindthisError(
    'DATA_DIR_LOCKED',
    `DATA_DIR is in use: ${file} is locked by another running process (the service and the ingest/query CLI must not share a DATA_DIR at once; stop it or use another DATA_DIR)`,
    { cause },
  );
}

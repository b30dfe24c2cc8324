/**
 * Backup and restore of a DATA_DIR's catalog. The catalog (SQLite) holds everything that cannot be
 * recomputed: products, images, vectors, thumbnails, the learned transform, idempotency keys; the
 * index files are caches rebuilt from it. A backup is SQLite's online backup API (better-sqlite3's
 * `backup()`): a consistent copy taken page by page while the service keeps writing (in WAL mode a
 * reader needs no lock the service holds). A restore needs the DATA_DIR to itself (its lock), puts
 * the copy in place of catalog.sqlite and drops the index caches, which the next start rebuilds.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { FindthisError } from '../core/errors.js';
import { acquireLock } from './lock.js';

export const CATALOG_FILE = 'catalog.sqlite';

export interface BackupResult {
  file: string;
  bytes: number;
  products: number;
  images: number;
}

/** Copies `<dataDir>/catalog.sqlite` to `dest` (written beside it, then renamed: never half a file). */
export async function backupCatalog(dataDir: string, dest: string, onProgress: (done: number, total: number) => void = () => {}): Promise<BackupResult> {
  const source = join(dataDir, CATALOG_FILE);
  if (!existsSync(source)) throw new FindthisError('NOT_FOUND', `No catalog at ${source} (DATA_DIR)`);
  if (!existsSync(dirname(dest))) throw new FindthisError('INVALID_FIELD', `Expected an existing folder for the backup file, but ${dirname(dest)} does not exist`);
  const partial = `${dest}.partial`;
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    await db.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress(totalPages - remainingPages, totalPages);
        return 256; // pages per step: the service's writes interleave between steps
      },
    });
  } finally {
    db.close();
  }
  const counts = describeCatalog(partial);
  renameSync(partial, dest);
  return { file: dest, bytes: statSync(dest).size, ...counts };
}

/**
 * Replaces `<dataDir>/catalog.sqlite` with the backup `source`. Refused (DATA_DIR_LOCKED) while the
 * service or a CLI uses the DATA_DIR; refused (INVALID_FIELD) when `source` is not a findthis catalog.
 */
export async function restoreCatalog(dataDir: string, source: string): Promise<BackupResult> {
  if (!existsSync(source)) throw new FindthisError('INVALID_FIELD', `Expected an existing backup file, but ${source} does not exist`);
  const counts = describeCatalog(source);
  const target = join(dataDir, CATALOG_FILE);
  mkdirSync(dataDir, { recursive: true });
  const lock = acquireLock(`${target}.lock`);
  try {
    const incoming = `${target}.restoring`;
    rmSync(incoming, { force: true });
    const db = new Database(source, { readonly: true, fileMustExist: true });
    try {
      await db.backup(incoming);
    } finally {
      db.close();
    }
    // The old catalog's WAL must not be replayed into the restored file.
    for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
    renameSync(incoming, target);
    rmSync(join(dataDir, 'indexes'), { recursive: true, force: true });
    rmSync(join(dataDir, 'indexes.next'), { recursive: true, force: true });
    return { file: target, bytes: statSync(target).size, ...counts };
  } finally {
    lock.release();
  }
}

/** Product and image counts of a catalog file; INVALID_FIELD when it is not one. */
function describeCatalog(file: string): { products: number; images: number } {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const encoder = db.prepare("SELECT value FROM meta WHERE key = 'encoder'").pluck().get();
    if (typeof encoder !== 'string') throw new Error('it has no encoder record');
    return db.prepare('SELECT (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM images) AS images').get() as { products: number; images: number };
  } catch (error) {
    throw new FindthisError('INVALID_FIELD', `Expected a findthis catalog backup, but ${file} is not one (${(error as Error).message})`, { cause: error });
  } finally {
    db?.close();
  }
}

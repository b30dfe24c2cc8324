/**
 * The SQLite catalog file: its tables, the schema version, and opening a file checked against the
 * encoder (Catalog holds the statements over it).
 */
import Database from 'better-sqlite3';
import { FindthisError } from '../core/errors.js';
import { describeEncoder, identityOf, type EncoderIdentity } from './encoder-identity.js';
import { IDEMPOTENCY_SCHEMA } from './idempotency.js';
import { THUMBNAILS_SCHEMA } from './thumbnails.js';

/**
 * Bumped when the tables change. Older versions listed in UPGRADABLE_VERSIONS are upgraded when opened
 * (version 1 lacks the thumbnails table: it gains an empty one, see thumbnails.ts); any other
 * version is refused, not migrated silently.
 */
export const CATALOG_SCHEMA_VERSION = 3;
/** Versions whose upgrade is only tables added by SCHEMA's CREATE ... IF NOT EXISTS (2 lacks idempotency_keys). */
const UPGRADABLE_VERSIONS = new Set([1, 2]);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
  id TEXT PRIMARY KEY,
  metadata TEXT NOT NULL DEFAULT '{}',
  created TEXT NOT NULL
);
-- AUTOINCREMENT: ids of deleted rows are never reused, so a stale index cache can never name a new object.
CREATE TABLE IF NOT EXISTS images (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  sha256 TEXT,
  created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_product ON images(product_id);
CREATE TABLE IF NOT EXISTS objects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  score REAL NOT NULL,
  x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
  vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_by_image ON objects(image_id);
-- At most one row: the learned vector transform (whitening) applied before indexing, as its own bytes.
CREATE TABLE IF NOT EXISTS transform (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  kind TEXT NOT NULL,
  data BLOB NOT NULL,
  created TEXT NOT NULL
);
${THUMBNAILS_SCHEMA}${IDEMPOTENCY_SCHEMA}`;

/**
 * Opens (or creates) the database at `file` in WAL mode for vectors from `encoder`: creates the tables,
 * upgrades an older listed version, records the encoder of a new catalog. Throws INDEX_MISMATCH for
 * another schema version or another encoder (and closes the database).
 */
export function openCatalogDatabase(file: string, encoder: EncoderIdentity): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    const isNew = version === 0;
    if (!isNew && version !== CATALOG_SCHEMA_VERSION && !UPGRADABLE_VERSIONS.has(version)) {
      throw new FindthisError(
        'INDEX_MISMATCH',
        `Expected schema version ${CATALOG_SCHEMA_VERSION} for catalog ${file}, but got ${version}`,
      );
    }
    db.exec(SCHEMA);
    const stored = storedEncoder(db);
    if (stored === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('encoder', ?)").run(JSON.stringify(identityOf(encoder)));
      db.pragma(`user_version = ${CATALOG_SCHEMA_VERSION}`);
    } else {
      const expected = describeEncoder(identityOf(encoder));
      const got = describeEncoder(stored);
      if (expected !== got) {
        throw new FindthisError(
          'INDEX_MISMATCH',
          `Catalog ${file} was built with another encoder: expected ${expected}, but got ${got} (use another DATA_DIR, or re-ingest with this encoder)`,
        );
      }
      if (version !== CATALOG_SCHEMA_VERSION) db.pragma(`user_version = ${CATALOG_SCHEMA_VERSION}`);
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The encoder identity recorded in the catalog's meta table, or undefined before the first open for writing. */
export function storedEncoder(db: Database.Database): EncoderIdentity | undefined {
  const text = db.prepare("SELECT value FROM meta WHERE key = 'encoder'").pluck().get() as string | undefined;
  return text === undefined ? undefined : (JSON.parse(text) as EncoderIdentity);
}

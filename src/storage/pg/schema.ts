/**
 * The PostgreSQL schema of the pg storage backend, as numbered migrations. `migrate` applies the
 * ones a database lacks, in order, each in its own transaction, under an advisory lock so that
 * replicas starting together never run one twice; `schema_migrations` records what was applied.
 * A database with a migration this version does not know is refused (an older findthis must not
 * write a newer schema).
 *
 * Layout (the search tables are built per transform, see search-tables.ts):
 * - products, images, objects: the catalog; objects keep the raw encoder vector (pgvector `vector`)
 *   so that whitening can be learned again, and their product id (the Citus distribution key).
 * - search_state: one row, the version every replica compares per request (bumped when the
 *   transform or the LSH centre changes), the transform's bytes and the acceptance model learned
 *   under it, the LSH centre, the vector counters the matcher needs (kept in step by every write, so
 *   a search never counts rows), and the catalog version every add and delete bumps.
 * - region_labels, and product_sums_<n> beside each pair of search tables: see reference-tables.ts.
 * - idempotency_keys: ingest answers by Idempotency-Key (add-image.ts).
 * - search_vectors_<n> / lsh_keys_<n>: the transformed vectors (a partial HNSW index on inner
 *   product over the whole photos, the only ones searched) and each whole photo's LSH key per table
 *   (b-tree on (table_no, key)); <n> comes from search_tables_seq when a
 *   pair is built, and search_state.tables names the live pair.
 */
import type { Pool, PoolClient } from 'pg';
import { describeEncoder, type EncoderIdentity } from '../../catalog/encoder-identity.js';
import { FindthisError } from '../../core/errors.js';
import { IDEMPOTENCY_KEYS_SQL } from './add-image.js';
import { addSearchReference, addSumChanges } from './reference-tables.js';
import { searchWholePhotosOnly } from './search-tables.js';

/** Session advisory lock keys (any two fixed int8 values unlikely to clash with an application's). */
export const LOCKS = { migrate: 0x66696e_0001, rebuild: 0x66696e_0002 } as const;

/** A migration is SQL, or steps that need to know the live search tables' names (`apply`). */
const MIGRATIONS: readonly { version: number; name: string; sql?: string; apply?: (client: PoolClient) => Promise<void> }[] = [
  {
    version: 1,
    name: 'catalog and search state',
    sql: `
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE products (
  id text PRIMARY KEY,
  metadata jsonb NOT NULL DEFAULT '{}',
  created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE images (
  id bigserial PRIMARY KEY,
  product_id text NOT NULL REFERENCES products(id) ON DELETE CASCADE,
  width integer NOT NULL,
  height integer NOT NULL,
  sha256 text,
  created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX images_by_product ON images(product_id);
CREATE TABLE objects (
  id bigserial PRIMARY KEY,
  image_id bigint NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  product_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('whole', 'region')),
  label text NOT NULL,
  score double precision NOT NULL,
  x1 double precision NOT NULL, y1 double precision NOT NULL, x2 double precision NOT NULL, y2 double precision NOT NULL,
  raw vector NOT NULL
);
CREATE INDEX objects_by_image ON objects(image_id);
CREATE INDEX objects_by_product ON objects(product_id);
CREATE SEQUENCE search_tables_seq;
CREATE TABLE search_state (
  id integer PRIMARY KEY CHECK (id = 1),
  version bigint NOT NULL,
  tables bigint NOT NULL,
  transform_kind text NOT NULL,
  transform_data bytea,
  dim integer NOT NULL,
  lsh_centre bytea NOT NULL,
  lsh_centred_at bigint NOT NULL,
  vectors bigint NOT NULL,
  whole_images bigint NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'thumbnails',
    sql: `
CREATE TABLE thumbnails (
  image_id bigint PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
  type text NOT NULL,
  data bytea NOT NULL,
  etag text NOT NULL
);
`,
  },
  { version: 3, name: 'acceptance model, catalog version, product sums, region labels', apply: addSearchReference },
  { version: 4, name: 'idempotency keys', sql: IDEMPOTENCY_KEYS_SQL },
  { version: 5, name: 'product sums say when they changed', apply: addSumChanges },
  { version: 6, name: 'search whole photos only', apply: searchWholePhotosOnly },
  { version: 7, name: 'product deletes say when they happened', sql: 'ALTER TABLE search_state ADD COLUMN products_removed_at bigint NOT NULL DEFAULT 0' },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Applies the missing migrations; returns the versions it applied. */
export function migrate(pool: Pool): Promise<number[]> {
  return withAdvisoryLock(pool, LOCKS.migrate, async (client) => {
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    const applied = new Set(rows.map((row) => row.version));
    const unknown = rows.find((row) => !MIGRATIONS.some((m) => m.version === row.version));
    if (unknown) {
      throw new FindthisError('INDEX_MISMATCH', `The database has schema migration ${unknown.version}, newer than this findthis knows (${SCHEMA_VERSION}); upgrade findthis`);
    }
    const done: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await inTransaction(client, async () => {
        if (migration.sql) await client.query(migration.sql);
        await migration.apply?.(client);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      });
      done.push(migration.version);
    }
    return done;
  });
}

/** Records `encoder` in a new database's meta table; INDEX_MISMATCH when the database holds vectors of another encoder. */
export async function checkEncoder(pool: Pool, encoder: EncoderIdentity): Promise<void> {
  await pool.query("INSERT INTO meta (key, value) VALUES ('encoder', $1) ON CONFLICT (key) DO NOTHING", [JSON.stringify(encoder)]);
  const { rows } = await pool.query("SELECT value FROM meta WHERE key = 'encoder'");
  const expected = describeEncoder(encoder);
  const got = describeEncoder(JSON.parse(rows[0].value) as EncoderIdentity);
  if (expected !== got) {
    throw new FindthisError('INDEX_MISMATCH', `The database catalog was built with another encoder: expected ${expected}, but got ${got} (use another database, or re-ingest with this encoder)`);
  }
}

/** How long a session waiting for an advisory lock sleeps between tries: doubling from the first to the last. */
export const LOCK_RETRY_MS = { first: 25, last: 1_000 } as const;

/**
 * Runs `fn` on one connection holding the session advisory lock `key` (LOCKS); with `tryLock`,
 * returns undefined at once when another session holds it. A wait for the lock holds no connection:
 * it tries, gives the connection back to the pool and sleeps (LOCK_RETRY_MS), so that a replica
 * whose optimize waits for another replica's rebuild keeps its whole pool for searches and adds.
 */
export function withAdvisoryLock<T>(pool: Pool, key: number, fn: (client: PoolClient) => Promise<T>): Promise<T>;
export function withAdvisoryLock<T>(pool: Pool, key: number, fn: (client: PoolClient) => Promise<T>, options: { tryLock: true }): Promise<T | undefined>;
export async function withAdvisoryLock<T>(pool: Pool, key: number, fn: (client: PoolClient) => Promise<T>, options: { tryLock?: boolean } = {}): Promise<T | undefined> {
  for (let pause: number = LOCK_RETRY_MS.first; ; pause = Math.min(2 * pause, LOCK_RETRY_MS.last)) {
    const client = await pool.connect();
    try {
      const { rows } = await client.query('SELECT pg_try_advisory_lock($1) AS locked', [key]);
      if (rows[0].locked) {
        try {
          return await fn(client);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key]);
        }
      }
    } finally {
      client.release();
    }
    if (options.tryLock) return undefined;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** Runs `fn` between BEGIN and COMMIT on `client`, rolling back when it throws. */
export async function inTransaction<T>(client: PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

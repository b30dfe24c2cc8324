/**
 * Creates the first search tables, and rebuilds them under a transform, the database's counterpart of optimize's index
 * rebuild: new tables are filled beside the live ones while searches and writes go on (rows of a
 * product deleted meanwhile are skipped), then one short transaction catches up with objects added
 * meanwhile (deletes cascade into the new tables by themselves), swaps the new pair in, bumps the search_state version and drops the old pair.
 *
 * One rebuild at a time per database: a session advisory lock. (On PGlite every wire connection is
 * the same session, so the lock does not exclude there; the swap transaction still runs alone.)
 */
import type pg from 'pg';
import type { ObjectKind } from '../../core/types.js';
import { INDEXED_KIND } from '../../pipeline/catalog-indexes.js';
import type { HnswParams, LshParams } from '../../indexing/types.js';
import type { VectorTransform } from '../../embedding/vector-transform.js';
import type { AcceptanceModel } from '../../acceptance/model.js';
import { SqlLshKeys } from './lsh-keys.js';
import { countAgain } from './reference-tables.js';
import { inTransaction, LOCKS, withAdvisoryLock } from './schema.js';
import { createHnswIndex, createSearchTables, dropSearchTables, insertSearchRows, parseVector, searchTables } from './search-tables.js';

/** Rows written per INSERT while filling new tables. */
const BATCH = 500;

export interface RebuildResult {
  /** False when skipped (the version moved meanwhile). */
  rebuilt: boolean;
  /** Vectors the new tables search: the whole photos (INDEXED_KIND). */
  indexed: number;
}

/** A stored object's raw vector, and whether it is a whole photo. */
type RawRow = { id: number; kind: ObjectKind; vector: Float32Array };
type RawRows = () => AsyncIterable<RawRow>;

export interface RebuildOptions {
  /** Skip (rebuilt: false) when the version is no longer this one (a background re-centring). */
  onlyIfVersion?: number;
  /** The acceptance model learned under the new transform (null: none), swapped in with it; absent: keep the stored one. */
  acceptance?: AcceptanceModel | null;
}

/** A new database gets its first (empty, untransformed) search tables and state row, under the rebuild lock. */
export async function createFirstSearchTables(pool: pg.Pool, dim: number, hnsw: HnswParams): Promise<void> {
  await withAdvisoryLock(pool, LOCKS.rebuild, async (client) => {
    const existing = await client.query('SELECT 1 FROM search_state');
    if (existing.rowCount !== 0) return;
    await inTransaction(client, async () => {
      const suffix = Number((await client.query("SELECT nextval('search_tables_seq') AS n")).rows[0].n);
      const tables = searchTables(suffix);
      await createSearchTables(client, tables, dim);
      await createHnswIndex(client, tables, hnsw);
      await client.query(
        "INSERT INTO search_state (id, version, tables, transform_kind, transform_data, dim, lsh_centre, lsh_centred_at, vectors, whole_images) VALUES (1, 1, $1, 'identity', NULL, $2, $3, 0, 0, 0)",
        [suffix, dim, Buffer.alloc(dim * 4)],
      );
    });
  });
}

/** Rebuilds on `client`, which holds the rebuild lock (withAdvisoryLock(pool, LOCKS.rebuild, …)). */
export async function rebuildSearchTables(
  client: pg.PoolClient,
  transform: VectorTransform,
  index: { lsh: LshParams; hnsw: HnswParams },
  rawRows: RawRows,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const suffix = Number((await client.query("SELECT nextval('search_tables_seq') AS n")).rows[0].n);
  try {
    return await fillAndSwap(client, suffix, transform, index, rawRows, options);
  } catch (error) {
    await dropSearchTables(client, searchTables(suffix)).catch(() => undefined);
    if (error instanceof VersionMoved) return { rebuilt: false, indexed: 0 };
    throw error;
  }
}

async function fillAndSwap(
  client: pg.PoolClient,
  suffix: number,
  transform: VectorTransform,
  index: { lsh: LshParams; hnsw: HnswParams },
  rawRows: RawRows,
  { onlyIfVersion, acceptance }: RebuildOptions,
): Promise<RebuildResult> {
  const tables = searchTables(suffix);
  await createSearchTables(client, tables, transform.outputDim);
  // Two passes over the raw vectors keep memory flat: the LSH centre (the mean of the transformed
  // whole photos, the vectors LSH holds) must be known before the first key is computed.
  const sum = new Float64Array(transform.outputDim);
  let count = 0;
  for await (const { kind, vector } of rawRows()) {
    if (kind !== INDEXED_KIND) continue;
    const transformed = transform.apply(vector);
    for (let d = 0; d < sum.length; d++) sum[d]! += transformed[d]!;
    count++;
  }
  const centre = Float32Array.from(sum, (value) => (count > 0 ? value / count : 0));
  const lshKeys = new SqlLshKeys(index.lsh, transform.outputDim, centre);
  const write = (batch: RawRow[]): Promise<void> =>
    insertSearchRows(client, tables, batch.map(({ id, kind, vector }) => {
      const transformed = transform.apply(vector);
      return { id, vector: transformed, keys: kind === INDEXED_KIND ? lshKeys.keys(transformed) : undefined };
    }));
  // A product deleted after its rows were read would fail the batch's foreign keys (and the whole
  // rebuild): each batch locks its products' rows (as an add's image does) and copies only theirs; a
  // delete waits for the batch, then cascades into the new tables too.
  const copy = (batch: RawRow[]): Promise<void> =>
    inTransaction(client, async () => {
      const { rows } = await client.query('SELECT o.id FROM objects o JOIN products p ON p.id = o.product_id WHERE o.id = ANY($1) FOR KEY SHARE OF p', [batch.map(({ id }) => id)]);
      const present = new Set(rows.map((row) => Number(row.id)));
      await write(batch.filter(({ id }) => present.has(id)));
    });
  let batch: RawRow[] = [];
  for await (const row of rawRows()) {
    batch.push(row);
    if (batch.length === BATCH) {
      await copy(batch);
      batch = [];
    }
  }
  await copy(batch);
  // pgvector builds HNSW faster over a filled table than row by row.
  await createHnswIndex(client, tables, index.hnsw);
  return inTransaction(client, async () => {
    const state = await client.query('SELECT version, tables FROM search_state WHERE id = 1 FOR UPDATE');
    const version = Number(state.rows[0].version);
    if (onlyIfVersion !== undefined && version !== onlyIfVersion) throw new VersionMoved();
    // Objects added since the fill (their search rows went to the old tables).
    const missing = await client.query(`SELECT o.id, o.kind, o.raw::text AS raw FROM objects o WHERE NOT EXISTS (SELECT 1 FROM ${tables.vectors} s WHERE s.object_id = o.id) ORDER BY o.id`);
    await write(missing.rows.map((row) => ({ id: Number(row.id), kind: row.kind as ObjectKind, vector: parseVector(row.raw) })));
    const counted = (await client.query(`SELECT count(*) AS n, count(*) FILTER (WHERE whole) AS indexed FROM ${tables.vectors}`)).rows[0];
    const [vectors, indexed] = [Number(counted.n), Number(counted.indexed)];
    // Summed here, in the swap, so that every add and delete before it is counted once (one pass in SQL).
    await countAgain(client, tables);
    const { spec } = transform;
    await client.query(
      'UPDATE search_state SET version = version + 1, tables = $1, transform_kind = $2, transform_data = $3, dim = $4, lsh_centre = $5, lsh_centred_at = $6, whole_images = $6, vectors = $7 WHERE id = 1',
      [suffix, spec.kind, spec.kind === 'whitening' ? Buffer.from(spec.data) : null, transform.outputDim, Buffer.from(centre.buffer), indexed, vectors],
    );
    if (acceptance !== undefined) await client.query('UPDATE search_state SET acceptance = $1 WHERE id = 1', [acceptance === null ? null : JSON.stringify(acceptance)]);
    await dropSearchTables(client, searchTables(Number(state.rows[0].tables)));
    return { rebuilt: true, indexed };
  });
}

class VersionMoved extends Error {}

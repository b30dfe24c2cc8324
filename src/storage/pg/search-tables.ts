/**
 * One pair of search tables, `search_vectors_<n>` (every object's transformed vector, `whole` for the
 * whole photos, with a partial HNSW index on inner product over those) and `lsh_keys_<n>` (one row
 * per whole photo and LSH table, b-tree on (table_no, key)), with `product_sums_<n>` beside them
 * (each product's transformed vectors summed, see reference-tables.ts), and the three ways to ask
 * them for neighbours. As in-process (INDEXED_KIND), only whole photos are searched: a search
 * compares every object with those only; the detections' rows stay for the sums.
 * Vectors are unit length, so inner product is the cosine: a score is −(a <#> b). Rows cascade away
 * with their object, so a delete needs no second statement.
 */
import type { ClientBase } from 'pg';
import type { ObjectKind } from '../../core/types.js';
import type { HnswParams, IndexKind, SearchStats } from '../../indexing/types.js';
import type { LshProbes } from './lsh-keys.js';

export interface SearchTables {
  vectors: string;
  keys: string;
  sums: string;
}

export function searchTables(suffix: number): SearchTables {
  return { vectors: `search_vectors_${suffix}`, keys: `lsh_keys_${suffix}`, sums: `product_sums_${suffix}` };
}

/** Creates an empty pair for `dim`-dimensional vectors; the HNSW index comes with createHnswIndex. */
export async function createSearchTables(client: ClientBase, tables: SearchTables, dim: number): Promise<void> {
  await client.query(`CREATE TABLE ${tables.vectors} (
    object_id bigint PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    whole boolean NOT NULL,
    embedding vector(${dim}) NOT NULL)`);
  await client.query(`CREATE TABLE ${tables.keys} (
    object_id bigint NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
    table_no smallint NOT NULL,
    key bigint NOT NULL)`);
  await client.query(`CREATE INDEX ${tables.keys}_bucket ON ${tables.keys} (table_no, key)`);
  await client.query(`CREATE INDEX ${tables.keys}_object ON ${tables.keys} (object_id)`);
  await createProductSums(client, tables, dim);
}

/** The pair's product sums (a product's row cascades away with it; `changed`: the catalog version that last changed it). */
export async function createProductSums(client: ClientBase, tables: SearchTables, dim: number): Promise<void> {
  await client.query(`CREATE TABLE ${tables.sums} (
    product_id text PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE,
    sum vector(${dim}) NOT NULL,
    changed bigint NOT NULL DEFAULT 0)`);
  await client.query(`CREATE INDEX ${tables.sums}_changed ON ${tables.sums} (changed)`);
}

/**
 * Migration 6: a database whose live pair indexed every object searches whole photos only: its rows
 * say which are, and its detections lose their LSH keys. Its HNSW index over every vector is dropped
 * before the rows are marked (each marked row would otherwise be one more HNSW insert) and built again
 * over the whole photos only, with its own settings; the LSH centre counts as never estimated, so the
 * first add to a catalog of 1000+ whole photos rebuilds in the background (pg-store.ts,
 * recentreWhenGrown).
 */
export async function searchWholePhotosOnly(client: ClientBase): Promise<void> {
  const { rows } = await client.query('SELECT tables FROM search_state WHERE id = 1');
  if (rows.length === 0) return; // a new database: its first pair is made so
  const tables = searchTables(Number(rows[0].tables));
  const hnsw = await client.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE indexname = $1', [`${tables.vectors}_hnsw`]);
  await client.query(`DROP INDEX IF EXISTS ${tables.vectors}_hnsw`);
  await client.query(`ALTER TABLE ${tables.vectors} ADD COLUMN whole boolean NOT NULL DEFAULT false`);
  await client.query(`UPDATE ${tables.vectors} s SET whole = true FROM objects o WHERE o.id = s.object_id AND o.kind = 'whole'`);
  await client.query(`ALTER TABLE ${tables.vectors} ALTER COLUMN whole DROP DEFAULT`);
  const definition = hnsw.rows[0]?.indexdef;
  if (definition) await client.query(`${definition} WHERE whole`);
  await client.query(`DELETE FROM ${tables.keys} k USING objects o WHERE o.id = k.object_id AND o.kind <> 'whole'`);
  await client.query('UPDATE search_state SET lsh_centred_at = 0 WHERE id = 1');
}

/** HNSW over the whole photos only (a query asks `WHERE whole`, so the planner uses this partial index). */
export async function createHnswIndex(client: ClientBase, tables: SearchTables, params: HnswParams): Promise<void> {
  await client.query(
    `CREATE INDEX ${tables.vectors}_hnsw ON ${tables.vectors} USING hnsw (embedding vector_ip_ops) WITH (m = ${params.M}, ef_construction = ${params.efConstruction}) WHERE whole`,
  );
}

export async function dropSearchTables(client: ClientBase, tables: SearchTables): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${tables.sums}, ${tables.keys}, ${tables.vectors}`);
}

/** One object's search row: its transformed vector, and for a whole photo its LSH keys (one per LSH table). */
export interface SearchRow {
  id: number;
  vector: Float32Array;
  /** Undefined for a detection: only whole photos are searched. */
  keys: number[] | undefined;
}

/** Adds transformed vectors, each a whole photo's with its LSH keys. */
export async function insertSearchRows(client: ClientBase, tables: SearchTables, rows: readonly SearchRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(`INSERT INTO ${tables.vectors} (object_id, whole, embedding) SELECT * FROM unnest($1::bigint[], $2::boolean[], $3::vector[])`, [
    rows.map(({ id }) => id),
    rows.map(({ keys }) => keys !== undefined),
    rows.map(({ vector }) => vectorText(vector)),
  ]);
  const keyIds: number[] = [];
  const tableNos: number[] = [];
  const keyValues: number[] = [];
  for (const { id, keys } of rows) {
    keys?.forEach((key, t) => {
      keyIds.push(id);
      tableNos.push(t);
      keyValues.push(key);
    });
  }
  await client.query(`INSERT INTO ${tables.keys} (object_id, table_no, key) SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bigint[])`, [keyIds, tableNos, keyValues]);
}

/** A stored object found near a query, with what the matcher shows of it. */
export interface NeighbourRow {
  id: number;
  imageId: number;
  productId: string;
  kind: ObjectKind;
  label: string;
  score: number;
  bbox: [number, number, number, number];
  metadata: Record<string, unknown>;
  /** Cosine similarity to the query. */
  similarity: number;
}

/** The objects and products columns every neighbour query returns, for rows `nn(object_id, d)`. */
const RESOLVE = `SELECT o.id, o.image_id, o.product_id, o.kind, o.label, o.score, o.x1, o.y1, o.x2, o.y2, p.metadata, -nn.d AS similarity
  FROM nn JOIN objects o ON o.id = nn.object_id JOIN products p ON p.id = o.product_id ORDER BY nn.d, o.id`;

export interface NeighbourAnswer {
  rows: NeighbourRow[];
  stats: SearchStats;
}

/**
 * The `limit` stored whole photos nearest to `query` by `kind` (`context.size`: how many there are):
 * HNSW through pgvector's partial index (iterative
 * scan, so a limit above ef_search still fills); exact as a sequential scan (the `+ 0` keeps the
 * planner off the index); LSH as a probe of key ranges, re-ranked exactly in SQL, answered by HNSW
 * when the buckets hold fewer than min(limit, size) vectors (stats.fellBack, as IndexSet does).
 */
export async function nearest(
  client: ClientBase,
  tables: SearchTables,
  kind: IndexKind,
  query: Float32Array,
  limit: number,
  context: { size: number; probes: () => LshProbes },
): Promise<NeighbourAnswer> {
  const q = vectorText(query);
  switch (kind) {
    case 'hnsw': {
      const sql = `WITH nn AS (SELECT object_id, embedding <#> $1 AS d FROM ${tables.vectors} WHERE whole ORDER BY embedding <#> $1 LIMIT $2) ${RESOLVE}`;
      const { rows } = await client.query(sql, [q, limit]);
      return { rows: rows.map(toNeighbour), stats: { bucketsProbed: 0, candidatesScored: 0, fellBack: false } };
    }
    case 'exact': {
      const sql = `WITH nn AS (SELECT object_id, embedding <#> $1 AS d FROM ${tables.vectors} WHERE whole ORDER BY (embedding <#> $1) + 0 LIMIT $2) ${RESOLVE}`;
      const { rows } = await client.query(sql, [q, limit]);
      return { rows: rows.map(toNeighbour), stats: { bucketsProbed: 0, candidatesScored: context.size, fellBack: false } };
    }
    case 'lsh': {
      const probes = context.probes();
      const sql = `WITH candidates AS (
          SELECT DISTINCT k.object_id FROM unnest($3::smallint[], $4::bigint[], $5::bigint[]) AS p(t, lo, hi)
          JOIN ${tables.keys} k ON k.table_no = p.t AND k.key >= p.lo AND k.key < p.hi),
        scored AS (SELECT c.object_id, s.embedding <#> $1 AS d, count(*) OVER () AS candidates
          FROM candidates c JOIN ${tables.vectors} s ON s.object_id = c.object_id),
        nn AS (SELECT object_id, d, candidates FROM scored ORDER BY d LIMIT $2)
        SELECT r.*, (SELECT max(candidates) FROM nn) AS candidates FROM (${RESOLVE}) r`;
      const { rows } = await client.query(sql, [q, limit, probes.tables, probes.lo, probes.hi]);
      const candidatesScored = rows.length > 0 ? Number(rows[0].candidates) : 0;
      const stats = { bucketsProbed: probes.tables.length, candidatesFound: candidatesScored, candidatesScored, fellBack: false };
      if (rows.length >= Math.min(limit, context.size)) return { rows: rows.map(toNeighbour), stats };
      const fallback = await nearest(client, tables, 'hnsw', query, limit, context);
      return { rows: fallback.rows, stats: { ...stats, fellBack: true } };
    }
  }
}

/** pgvector's text form: `[0.1,0.2,…]`. A float32 printed as its double is read back as the same float32. */
export function vectorText(vector: Float32Array): string {
  return `[${vector.join(',')}]`;
}

export function parseVector(text: string): Float32Array {
  return Float32Array.from(JSON.parse(text) as number[]);
}

function toNeighbour(row: Record<string, unknown>): NeighbourRow {
  return {
    id: Number(row.id),
    imageId: Number(row.image_id),
    productId: String(row.product_id),
    kind: row.kind as ObjectKind,
    label: String(row.label),
    score: Number(row.score),
    bbox: [Number(row.x1), Number(row.y1), Number(row.x2), Number(row.y2)],
    metadata: row.metadata as Record<string, unknown>,
    similarity: Number(row.similarity),
  };
}

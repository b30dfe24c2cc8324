/**
 * The pg storage backend against a real PostgreSQL wire server: PGlite with pgvector, served by
 * pglite-socket in this process, queried with `pg` like any PostgreSQL. Two PgStore objects on one
 * URL stand for two replicas. The in-process LshIndex is the reference for the SQL LSH.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { clusteredData, row } from '../benchmarks/lib/clustered-vectors.js';
import { ExactIndex } from '../src/indexing/exact-index.js';
import { LshIndex } from '../src/indexing/lsh-index.js';
import type { LshParams } from '../src/indexing/types.js';
import { VectorStore } from '../src/indexing/vector-store.js';
import { identityTransform } from '../src/embedding/vector-transform.js';
import { startLocalEngine, type LocalEngine } from '../src/storage/pg/local-engine.js';
import { PgStore, type PgStoreOptions, type SearchSnapshot } from '../src/storage/pg/pg-store.js';
import { LOCKS, SCHEMA_VERSION, withAdvisoryLock } from '../src/storage/pg/schema.js';
import { rebuildSearchTables } from '../src/storage/pg/rebuild.js';
import { KeyTaken } from '../src/storage/pg/add-image.js';
import type { AddedImage } from '../src/catalog/records.js';

const dim = 32;
const products = 60;
const perImage = 3;
const data = clusteredData({ n: products * perImage, queries: 20, dim, clusters: 30, seed: 5 });
const lsh: LshParams = { hashSize: 8, numTables: 6, probeRadius: 1, seed: 7, vectorsPerBucket: 2 };
const encoder = { model: 'synthetic', dim };

let engine: LocalEngine;
let a: PgStore;
let b: PgStore;
let options: PgStoreOptions;

function objectsOf(p: number) {
  return Array.from({ length: perImage }, (_, i) => ({
    kind: i === 0 ? ('whole' as const) : ('region' as const),
    label: i === 0 ? 'image' : 'thing',
    score: 0.5 + i / 10,
    bbox: [i, i, 10 + i, 10 + i] as [number, number, number, number],
    vector: row(data.vectors, dim, p * perImage + i),
  }));
}

/** One statement on a connection of its own (what an operator's psql would do). */
async function sql(statement: string) {
  const client = new pg.Client({ connectionString: engine.url });
  await client.connect();
  try {
    return (await client.query(statement)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  engine = await startLocalEngine({ port: 0 });
  // ef_search below the whole photos stored (60), so that a limit above it shows the iterative scan.
  options = { url: engine.url, encoder, index: { lsh, hnsw: { M: 16, efConstruction: 64, efSearch: 16 } } };
  a = await PgStore.open(options);
  b = await PgStore.open(options);
  // Through replica A; half of the catalog before the rebuild below, half after.
  for (let p = 0; p < products; p++) await a.addImage({ productId: `p${p}`, metadata: { n: p }, width: 100, height: 80, objects: objectsOf(p) });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await engine?.stop();
});

describe('PgStore', () => {
  it('applies its migrations once, records them, and refuses another encoder', async () => {
    const client = new pg.Client({ connectionString: engine.url });
    await client.connect();
    const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
    await client.end();
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    await expect(PgStore.open({ ...options, encoder: { model: 'synthetic', dim: 64 } })).rejects.toMatchObject({ code: 'INDEX_MISMATCH' });
    // A port nobody listens on: a start-up error naming the database, its password hidden.
    const nowhere = 'postgres://postgres:secret@127.0.0.1:1/postgres';
    const refused = PgStore.open({ ...options, url: nowhere });
    await expect(refused).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(refused).rejects.toThrow(/127\.0\.0\.1:1.*FINDTHIS_DATABASE_URL/);
    await expect(refused).rejects.not.toThrow(/secret/);
    await expect(PgStore.open({ ...options, index: { ...options.index, lsh: { ...lsh, probes: 8 } } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(PgStore.open({ ...options, index: { ...options.index, lsh: { ...lsh, rerank: 500 } } })).rejects.toThrow(/index\.lsh\.rerank 500/);
  });

  it('serves what one replica stored to the other: products, counts and exact neighbours', async () => {
    expect(await b.counts()).toEqual({ products, images: products, objects: products * perImage });
    const product = await b.product('p7');
    expect(product?.metadata).toEqual({ n: 7 });
    expect(product?.objects.map((o) => [o.label, o.score, o.bbox])).toEqual(objectsOf(7).map((o) => [o.label, o.score, o.bbox]));

    // Only the whole photos (the first object of each image) are searched, as in-process.
    const store = new VectorStore(dim);
    for (let i = 0; i < products * perImage; i += perImage) store.set(String(i), row(data.vectors, dim, i));
    const exact = new ExactIndex(store);
    const snapshot = await b.refresh();
    for (let q = 0; q < 5; q++) {
      const query = row(data.queries, dim, q);
      const expected = exact.search(query, 10).neighbors;
      const got = await b.nearest(snapshot, 'exact', query, 10);
      // Object ids count from 1 in insertion order: vector i is object i + 1.
      expect(got.rows.map((r) => r.id - 1)).toEqual(expected.map((n) => Number(n.id)));
      got.rows.forEach((r, i) => expect(r.similarity).toBeCloseTo(expected[i]!.score, 5));
      const fromHnsw = await b.nearest(snapshot, 'hnsw', query, 10);
      expect(fromHnsw.rows[0]?.id).toBe(got.rows[0]?.id);
    }
    // A limit above ef_search still fills (iterative scan), with whole photos only.
    const many = (await b.nearest(snapshot, 'hnsw', row(data.queries, dim, 0), 40)).rows;
    expect(many).toHaveLength(40);
    expect(many.every((r) => r.kind === 'whole')).toBe(true);
  });

  it('after a rebuild, probes exactly the buckets the in-process LshIndex holds, and every replica follows', async () => {
    const before = await b.refresh();
    await a.rebuild(identityTransform(dim));
    const after = await b.refresh();
    expect(after.version).toBe(before.version + 1);
    expect(after.centredAt).toBe(products);

    const store = new VectorStore(dim);
    for (let i = 0; i < products * perImage; i += perImage) store.set(String(i + 1), row(data.vectors, dim, i));
    const reference = LshIndex.build(store, lsh);
    for (let q = 0; q < 10; q++) {
      const query = row(data.queries, dim, q);
      const expected = reference.search(query, 5);
      const got = await b.nearest(after, 'lsh', query, 5);
      expect(got.stats).toEqual(expected.stats);
      expect(got.rows.map((r) => String(r.id))).toEqual(expected.neighbors.map((n) => n.id));
    }
  });

  it('deletes through one replica are gone for the other at once, search rows included', async () => {
    const query = row(data.vectors, dim, 42 * perImage);
    const first = await b.nearest(await b.refresh(), 'exact', query, 1);
    expect(first.rows[0]?.productId).toBe('p42');
    expect(await a.removeProduct('p42')).toBe(true);
    expect(await a.removeProduct('p42')).toBe(false);
    const snapshot = await b.refresh();
    expect(snapshot.vectors).toBe((products - 1) * perImage);
    for (const kind of ['exact', 'hnsw', 'lsh'] as const) {
      expect((await b.nearest(snapshot, kind, query, 5)).rows.map((r) => r.productId)).not.toContain('p42');
    }
    expect(await b.product('p42')).toBeUndefined();
  });

  it('a replica holding an older version stores its next add under the new transform', async () => {
    const stale = await b.refresh();
    await a.rebuild(identityTransform(dim));
    expect((await a.refresh()).version).toBe(stale.version + 1);
    await b.addImage({ productId: 'late', width: 10, height: 10, objects: objectsOf(42) });
    const found = await a.nearest(await a.refresh(), 'lsh', row(data.vectors, dim, 42 * perImage), 1);
    expect(found.rows[0]?.productId).toBe('late');
    expect(found.stats.fellBack).toBe(false);
  });

  it('keeps each product vector sum and the region label counts in step with adds, deletes and rebuilds', async () => {
    // After the adds, the delete of p42 and the rebuilds above: what B reads is what the catalog holds.
    const expectStored = async (store: PgStore) => {
      const stored = await store.storedReference();
      expect(stored.catalogVersion).toBe((await store.refresh()).catalogVersion);
      expect(stored.sums.map((s) => s.productId).sort()).toEqual([...Array.from({ length: products }, (_, p) => `p${p}`).filter((id) => id !== 'p42'), 'late'].sort());
      for (const { productId, vector } of stored.sums) {
        const p = productId === 'late' ? 42 : Number(productId.slice(1));
        const objects = objectsOf(p);
        vector.forEach((value, k) => expect(value).toBeCloseTo(objects.reduce((sum, o) => sum + o.vector[k]!, 0), 5));
      }
      expect(stored.regionLabels).toEqual(new Map([['thing', products * (perImage - 1)]]));
    };
    await expectStored(b);
    // Read again after a write, a replica gets only what changed since its last read.
    const full = await b.storedReference();
    const held = new Set(full.sums.map((sum) => sum.productId));
    await a.addImage({ productId: 'extra', width: 10, height: 10, objects: objectsOf(3) });
    expect((await b.refresh()).catalogVersion).toBe(full.catalogVersion + 1);
    const added = await b.storedReference(full);
    expect(added.sums.map((sum) => sum.productId)).toEqual(['extra']);
    expect(added.products).toBeUndefined(); // no product was deleted since
    expect(await a.removeProduct('extra')).toBe(true);
    expect((await b.refresh()).catalogVersion).toBe(full.catalogVersion + 2);
    const removed = await b.storedReference(added);
    expect(removed.sums).toEqual([]);
    expect(removed.products?.sort()).toEqual([...held].sort());
    // A delete older than the last read is not read again.
    await a.addImage({ productId: 'extra', width: 10, height: 10, objects: objectsOf(3) });
    const readded = await b.storedReference(removed);
    expect([readded.sums.map((sum) => sum.productId), readded.products]).toEqual([['extra'], undefined]);
    expect(await a.removeProduct('extra')).toBe(true);
    await expectStored(b);

    // A database from before migration 3 gets them from its stored vectors when it is opened.
    const [{ tables }] = await sql('SELECT tables FROM search_state');
    await sql(`DROP TABLE product_sums_${tables}; DROP TABLE region_labels; ALTER TABLE search_state DROP COLUMN catalog_version, DROP COLUMN acceptance; DELETE FROM schema_migrations WHERE version IN (3, 5)`);
    const reopened = await PgStore.open(options);
    try {
      await expectStored(reopened);
    } finally {
      await reopened.close();
    }
    // One from before deletes said when they happened (migration 7): a delete after it is still seen.
    await sql('ALTER TABLE search_state DROP COLUMN products_removed_at; DELETE FROM schema_migrations WHERE version = 7');
    const withDeletes = await PgStore.open(options);
    try {
      const before = await withDeletes.storedReference();
      await withDeletes.addImage({ productId: 'brief', width: 10, height: 10, objects: objectsOf(5) });
      expect(await withDeletes.removeProduct('brief')).toBe(true);
      const after = await withDeletes.storedReference(before);
      expect(after.products?.sort()).toEqual(before.sums.map((sum) => sum.productId).sort());
      await expectStored(withDeletes);
    } finally {
      await withDeletes.close();
    }
    // One migrated to 3 before sums said when they changed gets the column (migration 5).
    await sql(`ALTER TABLE product_sums_${tables} DROP COLUMN changed; DELETE FROM schema_migrations WHERE version = 5`);
    const migrated = await PgStore.open(options);
    try {
      await expectStored(migrated);
    } finally {
      await migrated.close();
    }
  });

  it('migrates a database whose search tables indexed every object to whole photos only', async () => {
    // As before migration 6: no `whole` column (its partial HNSW index goes with it), HNSW over every
    // vector, LSH keys for the detections too.
    const [{ tables }] = await sql('SELECT tables FROM search_state');
    await sql(`ALTER TABLE search_vectors_${tables} DROP COLUMN whole;
      CREATE INDEX search_vectors_${tables}_hnsw ON search_vectors_${tables} USING hnsw (embedding vector_ip_ops);
      INSERT INTO lsh_keys_${tables} (object_id, table_no, key) SELECT id, 0, 0 FROM objects WHERE kind = 'region';
      DELETE FROM schema_migrations WHERE version = 6`);
    const migrated = await PgStore.open(options);
    try {
      const [marked] = await sql(`SELECT count(*) FILTER (WHERE s.whole <> (o.kind = 'whole')) AS wrong, count(*) FILTER (WHERE s.whole) AS whole
        FROM search_vectors_${tables} s JOIN objects o ON o.id = s.object_id`);
      const snapshot = await migrated.refresh();
      expect({ wrong: Number(marked.wrong), whole: Number(marked.whole) }).toEqual({ wrong: 0, whole: snapshot.wholeImages });
      expect(await sql(`SELECT 1 FROM lsh_keys_${tables} k JOIN objects o ON o.id = k.object_id WHERE o.kind <> 'whole'`)).toEqual([]);
      expect(snapshot.centredAt).toBe(0);
      // The HNSW index is built again over the whole photos only, with its settings.
      const [{ indexdef }] = await sql(`SELECT indexdef FROM pg_indexes WHERE indexname = 'search_vectors_${tables}_hnsw'`);
      expect(indexdef).toMatch(/USING hnsw .*WHERE whole/);
      for (const kind of ['exact', 'hnsw', 'lsh'] as const) {
        const found = await migrated.nearest(snapshot, kind, row(data.queries, dim, 1), 10);
        expect(found.rows).toHaveLength(10);
        expect(found.rows.every((r) => r.kind === 'whole')).toBe(true);
      }
    } finally {
      await migrated.close();
    }
  });

  it('stores an add\'s Idempotency-Key with it, and an add whose key was stored meanwhile stores nothing', async () => {
    const keyed = { key: 'retry-1', fingerprint: 'f1', answer: (added: AddedImage) => JSON.stringify(added) };
    const added = await a.addImage({ productId: 'keyed', width: 10, height: 10, objects: objectsOf(5) }, keyed);
    expect(await b.storedAnswer('retry-1')).toEqual({ fingerprint: 'f1', answer: JSON.stringify(added) });
    const counts = await b.counts();
    await expect(b.addImage({ productId: 'keyed', width: 10, height: 10, objects: objectsOf(5) }, keyed)).rejects.toBeInstanceOf(KeyTaken);
    expect(await b.counts()).toEqual(counts);
    expect(await b.storedAnswer('never-used')).toBeUndefined();
  });
});

describe('a rebuild while another replica deletes and adds', () => {
  it('copies neither the deleted product nor its sum, and keeps the add', async () => {
    await a.addImage({ productId: 'doomed', width: 10, height: 10, objects: objectsOf(11) });
    const doomed = new Set((await a.product('doomed'))!.objects.map((o) => o.id));
    // The rebuild's raw rows, read through replica A; once its second pass (the copy) has read the
    // doomed product's rows, replica B deletes that product and adds another, before the copy is written.
    let pass = 0;
    async function* rawRows() {
      pass++;
      for await (const row of a.labelledVectors()) {
        yield row;
        if (pass === 2 && row.id === Math.max(...doomed)) {
          expect(await b.removeProduct('doomed')).toBe(true);
          await b.addImage({ productId: 'arrived', width: 10, height: 10, objects: objectsOf(12) });
        }
      }
    }
    const pool = new pg.Pool({ connectionString: engine.url, max: 1 });
    const before = await a.refresh();
    let after: SearchSnapshot;
    try {
      const result = await withAdvisoryLock(pool, LOCKS.rebuild, (client) => rebuildSearchTables(client, identityTransform(dim), options.index, rawRows));
      expect(result.rebuilt).toBe(true);
      expect(pass).toBe(2);
      after = await a.refresh();
      expect(after.version).toBe(before.version + 1);
      // Every stored object has its search row, and nothing else does.
      const { rows } = await pool.query(`SELECT (SELECT count(*) FROM objects) AS objects, (SELECT count(*) FROM ${after.tables.vectors}) AS vectors`);
      expect(Number(rows[0].vectors)).toBe(Number(rows[0].objects));
      expect(after.vectors).toBe(Number(rows[0].objects));
    } finally {
      await pool.end();
    }
    const stored = (await a.storedReference()).sums.map((sum) => sum.productId);
    expect(stored).not.toContain('doomed');
    expect(stored).toContain('arrived');
    for (const kind of ['exact', 'hnsw', 'lsh'] as const) {
      const found = await a.nearest(after, kind, row(data.vectors, dim, 11 * perImage), 3);
      expect(found.rows.map((r) => r.productId)).not.toContain('doomed');
    }
    // 'arrived' holds p12's vectors: both are nearest.
    const arrived = await a.nearest(after, 'exact', row(data.vectors, dim, 12 * perImage), 2);
    expect(arrived.rows.map((r) => r.productId).sort()).toEqual(['arrived', 'p12']);
  });
});

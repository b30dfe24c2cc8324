/**
 * The catalog and its search tables in PostgreSQL (pgvector), through a `pg` Pool: what the service
 * keeps in SQLite and in-process indexes on the embedded backend. Nothing a search needs is cached
 * per process except the transform, acceptance model and LSH planes of the current search_state
 * version, and that version (with the catalog version every write bumps) is read on every
 * `refresh()` (one short query), so replicas sharing one database see each other's adds, deletes and
 * rebuilds at once.
 *
 * Writes lock the search_state row first (an add bumps its counters), so a rebuild's swap, which
 * updates that row, never interleaves with a write, and a write prepared under an older version is
 * retried with the new transform.
 */
import pg from 'pg';
import { checkString } from '../../config/checks.js';
import { FindthisError } from '../../core/errors.js';
import { PRODUCT_ID_EXPECTED, PRODUCT_ID_PATTERN, type AddedImage, type CatalogCounts, type NewImage, type ProductRecord, type ProductSummary } from '../../catalog/records.js';
import type { EncoderIdentity } from '../../catalog/encoder-identity.js';
import type { Thumbnail } from '../../catalog/thumbnails.js';
import type { StoredAnswer } from '../../catalog/idempotency.js';
import { insertImage, storedAnswer, type IdempotentAdd } from './add-image.js';
import { readProduct, readProductPage, readThumbnail } from './catalog-reads.js';
import type { ObjectKind } from '../../core/types.js';
import { activeBitsFor, recentreDue } from '../../indexing/lsh-hyperplanes.js';
import type { HnswParams, IndexKind, LshParams } from '../../indexing/types.js';
import { rawTransform, transformFromSpec, type VectorTransform } from '../../embedding/vector-transform.js';
import type { AcceptanceModel } from '../../acceptance/model.js';
import { INDEXED_KIND } from '../../pipeline/catalog-indexes.js';
import { SqlLshKeys } from './lsh-keys.js';
import { readStoredReference, recordRemoved, type ReadBefore, type StoredReference } from './reference-tables.js';
import { checkEncoder, inTransaction, LOCKS, migrate, withAdvisoryLock } from './schema.js';
import { createFirstSearchTables, rebuildSearchTables, type RebuildResult } from './rebuild.js';
import { nearest, parseVector, searchTables, type NeighbourAnswer, type SearchTables } from './search-tables.js';

export interface PgStoreOptions {
  /** postgres://… (FINDTHIS_DATABASE_URL). */
  url: string;
  encoder: EncoderIdentity;
  index: { lsh: LshParams; hnsw: HnswParams };
  /** Connections this process keeps open. Default 4. */
  poolSize?: number;
  /** Told about background work (LSH re-centring) and dropped idle connections. */
  log?: (message: string) => void;
}

/** What one request searches with: the live tables, transform and LSH planes, and the counters. */
export interface SearchSnapshot {
  version: number;
  tables: SearchTables;
  transform: VectorTransform;
  lshKeys: SqlLshKeys;
  /** Stored vectors, and whole-image vectors among them. */
  vectors: number;
  wholeImages: number;
  /** Whole photos (the searched vectors) when the LSH centre was last estimated. */
  centredAt: number;
  /** Bumped by every add and delete (reference-tables.ts). */
  catalogVersion: number;
  /** Learned by the optimize that made this version's transform; undefined: answer unjudged. */
  acceptance: AcceptanceModel | undefined;
}

class StaleSnapshot extends Error {}

export class PgStore {
  private snapshot: SearchSnapshot | undefined;
  /** Pooled connections already given this process's HNSW settings. */
  private readonly configured = new WeakSet<pg.PoolClient>();
  private recentring: Promise<unknown> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    readonly encoder: EncoderIdentity,
    private readonly options: PgStoreOptions,
  ) {}

  /** Connects, applies missing migrations, checks the encoder (INDEX_MISMATCH) and creates the first search tables. */
  static async open(options: PgStoreOptions): Promise<PgStore> {
    if ((options.index.lsh.probes ?? 0) > 0) {
      // Margin-ordered probes need every table's projections per bucket; the SQL LSH probes by Hamming radius only.
      throw new FindthisError('INVALID_CONFIG', `index.lsh.probes ${options.index.lsh.probes} is not supported with a database (FINDTHIS_DATABASE_URL): set it to 0 and use index.lsh.probeRadius`);
    }
    if ((options.index.lsh.rerank ?? 0) > 0) {
      // SimHash sketches live beside the in-process tables; the SQL LSH re-ranks every candidate it finds.
      throw new FindthisError('INVALID_CONFIG', `index.lsh.rerank ${options.index.lsh.rerank} is not supported with a database (FINDTHIS_DATABASE_URL): set it to 0`);
    }
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 4 });
    const log = options.log ?? (() => undefined);
    pool.on('error', (error) => log(`database connection dropped: ${error.message}`));
    try {
      await migrate(pool);
      await checkEncoder(pool, options.encoder);
      await createFirstSearchTables(pool, rawTransform(options.encoder).outputDim, options.index.hnsw);
      const store = new PgStore(pool, options.encoder, options);
      await store.refresh();
      return store;
    } catch (error) {
      await pool.end();
      if (error instanceof FindthisError) throw error;
      // Unreachable host, refused connection, bad credentials, no pgvector: say which database, without its password.
      const where = new URL(options.url);
      if (where.password) where.password = '***';
      throw new FindthisError('INVALID_CONFIG', `Cannot use the database at ${where.toString()} (FINDTHIS_DATABASE_URL): ${(error as Error).message}`, { cause: error });
    }
  }

  /** The current search state: one query for the version and counters, and the transform reloaded when the version moved. */
  async refresh(): Promise<SearchSnapshot> {
    const { rows } = await this.pool.query('SELECT version, vectors, whole_images, lsh_centred_at, catalog_version FROM search_state WHERE id = 1');
    const row = rows[0];
    const version = Number(row.version);
    const counters = { vectors: Number(row.vectors), wholeImages: Number(row.whole_images), centredAt: Number(row.lsh_centred_at), catalogVersion: Number(row.catalog_version) };
    if (this.snapshot?.version !== version) {
      const loaded = await this.pool.query('SELECT version, tables, transform_kind, transform_data, dim, lsh_centre, acceptance FROM search_state WHERE id = 1');
      const state = loaded.rows[0];
      const transform = state.transform_kind === 'whitening'
        ? transformFromSpec({ kind: 'whitening', data: state.transform_data as Buffer })
        : rawTransform(this.encoder);
      const centre = new Float32Array(new Uint8Array(state.lsh_centre as Buffer).slice().buffer);
      const acceptance = state.acceptance as AcceptanceModel | null;
      this.snapshot = {
        version: Number(state.version),
        tables: searchTables(Number(state.tables)),
        transform,
        lshKeys: new SqlLshKeys(this.options.index.lsh, Number(state.dim), centre),
        ...counters,
        acceptance: acceptance?.learnedFrom.transform === transform.id ? acceptance : undefined,
      };
    } else {
      this.snapshot = { ...this.snapshot, ...counters };
    }
    return this.snapshot;
  }

  /** The `limit` stored whole photos nearest to a transformed query, resolved to their objects and products. */
  async nearest(snapshot: SearchSnapshot, kind: IndexKind, query: Float32Array, limit: number): Promise<NeighbourAnswer> {
    const client = await this.pool.connect();
    try {
      if (!this.configured.has(client)) {
        // Iterative scans let a query ask HNSW for more neighbours than ef_search (the matcher doubles its ask).
        await client.query(`SET hnsw.ef_search = ${this.options.index.hnsw.efSearch}; SET hnsw.iterative_scan = strict_order`);
        this.configured.add(client);
      }
      // Only whole photos are searched: they size the LSH buckets, as the in-process index's size does.
      const bits = activeBitsFor(snapshot.lshKeys.params, snapshot.wholeImages);
      return await nearest(client, snapshot.tables, kind, query, limit, { size: snapshot.wholeImages, probes: () => snapshot.lshKeys.probes(query, bits) });
    } finally {
      client.release();
    }
  }

  /**
   * Stores one image, its objects (raw vectors) and their search rows, creating the product if new.
   * All-or-nothing. With `idempotency`, its answer is stored under its key in the same transaction;
   * KeyTaken (nothing stored) when the key was stored meanwhile.
   */
  async addImage(input: NewImage, idempotency?: IdempotentAdd): Promise<AddedImage> {
    checkString('productId', input.productId, PRODUCT_ID_PATTERN, PRODUCT_ID_EXPECTED);
    for (const object of input.objects) {
      if (object.vector.length !== this.encoder.dim) {
        throw new FindthisError('INDEX_MISMATCH', `Expected vectors of dimension ${this.encoder.dim} for the database catalog, but got ${object.vector.length}`);
      }
    }
    const wholeImages = input.objects.filter((object) => object.kind === 'whole').length;
    const client = await this.pool.connect();
    try {
      for (;;) {
        const snapshot = await this.refresh();
        const vectors = input.objects.map((object) => snapshot.transform.apply(object.vector));
        const keys = vectors.map((vector, i) => (input.objects[i]!.kind === INDEXED_KIND ? snapshot.lshKeys.keys(vector) : undefined));
        try {
          const added = await inTransaction(client, async () => {
            const state = await client.query('UPDATE search_state SET vectors = vectors + $1, whole_images = whole_images + $2, catalog_version = catalog_version + 1 WHERE id = 1 RETURNING version, catalog_version', [input.objects.length, wholeImages]);
            if (Number(state.rows[0].version) !== snapshot.version) throw new StaleSnapshot();
            return insertImage(client, { tables: snapshot.tables, catalogVersion: Number(state.rows[0].catalog_version) }, input, vectors, keys, idempotency);
          });
          this.recentreWhenGrown(snapshot.wholeImages + wholeImages, snapshot.centredAt);
          return added;
        } catch (error) {
          if (!(error instanceof StaleSnapshot)) throw error;
        }
      }
    } finally {
      client.release();
    }
  }

  /** Deletes the product, its images, objects and search rows (cascade). False when there was no such product. */
  async removeProduct(id: string): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      return await inTransaction(client, async () => {
        await client.query('SELECT version FROM search_state WHERE id = 1 FOR UPDATE');
        const { rows } = await client.query("SELECT count(*) AS vectors, count(*) FILTER (WHERE kind = 'whole') AS whole FROM objects WHERE product_id = $1", [id]);
        await recordRemoved(client, id);
        const deleted = await client.query('DELETE FROM products WHERE id = $1', [id]);
        if (deleted.rowCount === 0) return false;
        await client.query(
          'UPDATE search_state SET vectors = vectors - $1, whole_images = whole_images - $2, catalog_version = catalog_version + 1, products_removed_at = catalog_version + 1 WHERE id = 1',
          [Number(rows[0].vectors), Number(rows[0].whole)],
        );
        return true;
      });
    } finally {
      client.release();
    }
  }

  /** The product with its images and objects (no vectors), or undefined. */
  product(id: string): Promise<ProductRecord | undefined> {
    return readProduct(this.pool, id);
  }

  /** One page of products in id order, each with its image count and first image. */
  listProducts(offset: number, limit: number): Promise<ProductSummary[]> {
    return readProductPage(this.pool, offset, limit);
  }

  /** The image's thumbnail; `undefined` when the image has none, `null` when there is no such image. */
  thumbnail(imageId: number): Promise<Thumbnail | undefined | null> {
    return readThumbnail(this.pool, imageId);
  }

  async counts(): Promise<CatalogCounts> {
    const { rows } = await this.pool.query('SELECT (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM images) AS images, (SELECT vectors FROM search_state) AS objects');
    return { products: Number(rows[0].products), images: Number(rows[0].images), objects: Number(rows[0].objects) };
  }

  /** Every stored raw vector with its object's product, image and label, in id order (read in pages). */
  async *labelledVectors(filter: { kind?: ObjectKind } = {}): AsyncIterableIterator<{ id: number; productId: string; imageId: number; kind: ObjectKind; label: string; vector: Float32Array }> {
    let after = 0;
    for (;;) {
      const { rows } = await this.pool.query(
        'SELECT id, product_id, image_id, kind, label, raw::text AS raw FROM objects WHERE id > $1 AND ($2::text IS NULL OR kind = $2) ORDER BY id LIMIT 1000',
        [after, filter.kind ?? null],
      );
      for (const row of rows) yield { id: Number(row.id), productId: row.product_id, imageId: Number(row.image_id), kind: row.kind, label: row.label, vector: parseVector(row.raw) };
      if (rows.length < 1000) return;
      after = Number(rows[rows.length - 1].id);
    }
  }

  /** What an ingest stored under an Idempotency-Key, or undefined. */
  storedAnswer(key: string): Promise<StoredAnswer | undefined> {
    return storedAnswer(this.pool, key);
  }

  /** The live pair's product sums (those changed since `before`) and the region label counts, consistent with one catalog version (reference-tables.ts). */
  async storedReference(before?: ReadBefore): Promise<StoredReference> {
    const client = await this.pool.connect();
    try {
      return await inTransaction(client, () => readStoredReference(client, before));
    } finally {
      client.release();
    }
  }

  /**
   * Re-indexes every stored vector under `transform` into new search tables (LSH centre re-estimated,
   * HNSW built), then swaps them in and bumps the version: every replica picks the new transform up
   * at its next request. One rebuild at a time per database (advisory lock).
   */
  async rebuild(transform: VectorTransform): Promise<RebuildResult> {
    return this.underRebuildLock((rebuild) => rebuild(transform));
  }

  /**
   * Runs `fn` holding the database's rebuild lock, so that an optimize (learn, then rebuild) runs once
   * at a time across every replica; `fn` rebuilds with the function it is given.
   */
  async underRebuildLock<T>(fn: (rebuild: (transform: VectorTransform, acceptance?: AcceptanceModel | null) => Promise<RebuildResult>) => Promise<T>): Promise<T> {
    const result = await withAdvisoryLock(this.pool, LOCKS.rebuild, (client) =>
      fn((transform, acceptance) => rebuildSearchTables(client, transform, this.options.index, () => this.labelledVectors(), acceptance === undefined ? {} : { acceptance })),
    );
    await this.refresh();
    return result;
  }

  async close(): Promise<void> {
    await this.recentring;
    await this.pool.end();
  }

  /** After an add: once the whole photos have doubled since the LSH centre was estimated, rebuild under the same transform (one at a time, in the background). */
  private recentreWhenGrown(wholeImages: number, centredAt: number): void {
    if (this.options.index.lsh.hashSize === 0 || this.recentring || !recentreDue(wholeImages, centredAt)) return;
    const log = this.options.log ?? (() => undefined);
    this.recentring = (async () => {
      const snapshot = await this.refresh();
      const result = await withAdvisoryLock(
        this.pool,
        LOCKS.rebuild,
        (client) => rebuildSearchTables(client, snapshot.transform, this.options.index, () => this.labelledVectors(), { onlyIfVersion: snapshot.version }),
        { tryLock: true },
      );
      if (result?.rebuilt) log(`LSH centre re-estimated over ${result.indexed} whole photos`);
    })()
      .catch((error: unknown) => log(`LSH re-centring failed: ${String(error)}`))
      .finally(() => {
        this.recentring = undefined;
      });
  }
}

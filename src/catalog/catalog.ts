/**
 * The catalog: products, their images, each image's objects and the objects' raw vectors, in one
 * SQLite file (better-sqlite3, WAL). It is the source of truth: index files are caches rebuilt from
 * `vectors()`. Raw (untransformed) vectors are kept so that a learned transform can be learned again.
 * The tables and opening the file: sqlite-schema.ts; the records it takes and returns: records.ts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { checkString } from '../config/checks.js';
import { bytesOf } from '../core/bytes.js';
import { FindthisError } from '../core/errors.js';
import { WHOLE_IMAGE_LABEL, type ObjectKind } from '../core/types.js';
import { identityOf, type EncoderIdentity } from './encoder-identity.js';
import { IdempotencyStore } from './idempotency.js';
import { acquireLock, type DataDirLock } from './lock.js';
import {
  PRODUCT_ID_EXPECTED,
  PRODUCT_ID_PATTERN,
  type AddedImage,
  type CatalogCounts,
  type ImageRecord,
  type NewImage,
  type ObjectRecord,
  type ObjectRef,
  type ProductMetadata,
  type ProductRecord,
  type ProductSummary,
} from './records.js';
import { openCatalogDatabase, storedEncoder } from './sqlite-schema.js';
import { ThumbnailStore } from './thumbnails.js';

/** An objects row as SQLite returns it (the vector left out). */
interface ObjectRow {
  id: number;
  image_id: number;
  label: string;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export class Catalog {
  readonly file: string;
  readonly encoder: EncoderIdentity;
  readonly thumbnails: ThumbnailStore;
  /** Ingest answers by Idempotency-Key, written in the ingest's transaction. */
  readonly idempotency: IdempotencyStore;
  private readonly db: Database.Database;
  private readonly lock: DataDirLock;
  private readonly statements;

  private constructor(file: string, db: Database.Database, encoder: EncoderIdentity, lock: DataDirLock) {
    this.file = file;
    this.db = db;
    this.encoder = encoder;
    this.lock = lock;
    this.thumbnails = new ThumbnailStore(db);
    this.idempotency = new IdempotencyStore(db);
    this.statements = {
      insertProduct: db.prepare('INSERT INTO products (id, metadata, created) VALUES (?, ?, ?)'),
      updateMetadata: db.prepare('UPDATE products SET metadata = ? WHERE id = ?'),
      productExists: db.prepare('SELECT 1 FROM products WHERE id = ?').pluck(),
      product: db.prepare('SELECT id, metadata, created FROM products WHERE id = ?'),
      insertImage: db.prepare('INSERT INTO images (product_id, width, height, sha256, created) VALUES (?, ?, ?, ?, ?)'),
      insertObject: db.prepare(
        'INSERT INTO objects (image_id, label, score, x1, y1, x2, y2, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      imagesOf: db.prepare('SELECT id, width, height, sha256, created FROM images WHERE product_id = ? ORDER BY id'),
      objectsOf: db.prepare(
        'SELECT o.id, o.image_id, o.label, o.score, o.x1, o.y1, o.x2, o.y2 FROM objects o JOIN images i ON i.id = o.image_id WHERE i.product_id = ? ORDER BY o.id',
      ),
      objectIdsOf: db
        .prepare('SELECT o.id FROM objects o JOIN images i ON i.id = o.image_id WHERE i.product_id = ? ORDER BY o.id')
        .pluck(),
      deleteProduct: db.prepare('DELETE FROM products WHERE id = ?'),
      objectRefs: db.prepare(
        'SELECT o.id, o.image_id, o.label, o.score, o.x1, o.y1, o.x2, o.y2, i.product_id FROM objects o JOIN images i ON i.id = o.image_id ORDER BY o.id',
      ),
      metadata: db.prepare('SELECT metadata FROM products WHERE id = ?').pluck(),
      vectors: db.prepare('SELECT id, vector FROM objects ORDER BY id'),
      wholeImageVectors: db.prepare('SELECT id, vector FROM objects WHERE label = ? ORDER BY id').bind(WHOLE_IMAGE_LABEL),
      labelledVectors: db.prepare(
        'SELECT i.product_id AS productId, o.image_id AS imageId, o.label, o.vector FROM objects o JOIN images i ON i.id = o.image_id ORDER BY o.id',
      ),
      transform: db.prepare('SELECT kind, data FROM transform WHERE id = 1'),
      saveTransform: db.prepare('INSERT OR REPLACE INTO transform (id, kind, data, created) VALUES (1, ?, ?, ?)'),
      clearTransform: db.prepare('DELETE FROM transform'),
      productPage: db.prepare(
        `SELECT p.id, p.metadata, p.created,
           (SELECT count(*) FROM images i WHERE i.product_id = p.id) AS images,
           (SELECT min(i.id) FROM images i WHERE i.product_id = p.id) AS imageId
         FROM products p ORDER BY p.id LIMIT ? OFFSET ?`,
      ),
      counts: db.prepare(
        'SELECT (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM images) AS images, (SELECT count(*) FROM objects) AS objects',
      ),
    };
  }

  /**
   * Opens (or creates) the catalog at `file` for vectors from `encoder`. Takes the kernel-held lock on `<file>.lock` (lock.ts) so that
   * two processes (the service and the ingest CLI) never write one catalog at once. Throws
   * INDEX_MISMATCH when the catalog was built with another encoder, DATA_DIR_LOCKED when it is locked.
   */
  static open(file: string, encoder: EncoderIdentity): Catalog {
    mkdirSync(dirname(file), { recursive: true });
    const lock = acquireLock(`${file}.lock`);
    let db: Database.Database | undefined;
    try {
      db = openCatalogDatabase(file, encoder);
      return new Catalog(file, db, identityOf(encoder), lock);
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  /**
   * Opens an existing catalog under the encoder it was built with, whatever this process's config
   * says: for maintenance that stores no vectors (filling thumbnails), which then needs no models.
   */
  static openExisting(file: string): Catalog {
    if (!existsSync(file)) throw new FindthisError('INVALID_CONFIG', `Expected a catalog at ${file}, but there is none (is DATA_DIR right?)`);
    const reader = new Database(file, { readonly: true, fileMustExist: true });
    let stored: EncoderIdentity | undefined;
    try {
      stored = storedEncoder(reader);
    } finally {
      reader.close();
    }
    if (stored === undefined) throw new FindthisError('INVALID_CONFIG', `Expected a catalog at ${file}, but it records no encoder (nothing was ever ingested)`);
    return Catalog.open(file, stored);
  }

  /** Runs `fn` in one transaction (nested calls become savepoints): all of it is stored, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Stores one image and its objects, creating the product if new. All-or-nothing. */
  addImage(input: NewImage): AddedImage {
    checkString('productId', input.productId, PRODUCT_ID_PATTERN, PRODUCT_ID_EXPECTED);
    for (const object of input.objects) {
      if (kindOfStored(object.label) !== object.kind) {
        // The kind is read back from the label: a region labelled `image` would come back as the whole photo.
        throw new FindthisError('INTERNAL', `A ${object.kind} object cannot be stored with label ${JSON.stringify(object.label)}: the catalog tells the whole photo by label ${WHOLE_IMAGE_LABEL}`);
      }
      if (object.vector.length !== this.encoder.dim) {
        throw new FindthisError(
          'INDEX_MISMATCH',
          `Expected vectors of dimension ${this.encoder.dim} for catalog ${this.file}, but got ${object.vector.length}`,
        );
      }
    }
    return this.transaction(() => {
      const now = new Date().toISOString();
      const createdProduct = !this.statements.productExists.get(input.productId);
      if (createdProduct) {
        this.statements.insertProduct.run(input.productId, JSON.stringify(input.metadata ?? {}), now);
      } else if (input.metadata !== undefined) {
        this.statements.updateMetadata.run(JSON.stringify(input.metadata), input.productId);
      }
      const imageId = Number(
        this.statements.insertImage.run(input.productId, input.width, input.height, input.sha256 ?? null, now).lastInsertRowid,
      );
      const objectIds = input.objects.map((object) => {
        const [x1, y1, x2, y2] = object.bbox;
        const vector = bytesOf(object.vector);
        return Number(this.statements.insertObject.run(imageId, object.label, object.score, x1, y1, x2, y2, vector).lastInsertRowid);
      });
      if (input.thumbnail) this.thumbnails.put(imageId, input.thumbnail);
      return { imageId, objectIds, createdProduct };
    });
  }

  hasProduct(id: string): boolean {
    return Boolean(this.statements.productExists.get(id));
  }

  /** The product with its images and objects (no vectors), or undefined. */
  product(id: string): ProductRecord | undefined {
    const row = this.statements.product.get(id) as { id: string; metadata: string; created: string } | undefined;
    if (!row) return undefined;
    return {
      id: row.id,
      metadata: JSON.parse(row.metadata) as ProductMetadata,
      created: row.created,
      images: this.statements.imagesOf.all(id) as ImageRecord[],
      objects: (this.statements.objectsOf.all(id) as ObjectRow[]).map(toObjectRecord),
    };
  }

  /** One page of products in id order, each with its image count and first image. */
  listProducts(offset: number, limit: number): ProductSummary[] {
    type Row = Omit<ProductSummary, 'metadata'> & { metadata: string };
    return (this.statements.productPage.all(limit, offset) as Row[]).map((row) => ({ ...row, metadata: JSON.parse(row.metadata) as ProductMetadata }));
  }

  /** The ids of a product's objects (what the indexes hold for it). */
  objectIdsOf(productId: string): number[] {
    return this.statements.objectIdsOf.all(productId) as number[];
  }

  /** Deletes the product, its images and objects (cascade). False when there was no such product. */
  removeProduct(id: string): boolean {
    return this.statements.deleteProduct.run(id).changes > 0;
  }

  /** Every stored object with its product id (no vectors), in id order: what search results point at. */
  *objectRefs(): IterableIterator<ObjectRef> {
    for (const row of this.statements.objectRefs.iterate() as IterableIterator<ObjectRow & { product_id: string }>) {
      yield { ...toObjectRecord(row), productId: row.product_id };
    }
  }

  /** The product's metadata, or undefined when there is no such product. */
  metadata(productId: string): ProductMetadata | undefined {
    const text = this.statements.metadata.get(productId) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as ProductMetadata);
  }

  /** Every stored raw vector (with `kind` 'whole', the whole photos' only), keyed by its index id (the object id as text), in id order. */
  *vectors(kind?: 'whole'): IterableIterator<[string, Float32Array]> {
    const statement = kind === 'whole' ? this.statements.wholeImageVectors : this.statements.vectors;
    for (const row of statement.iterate() as IterableIterator<{ id: number; vector: Buffer }>) {
      yield [String(row.id), toFloat32(row.vector)];
    }
  }

  /** Every stored raw vector with the product, image and label of its object: what whitening learns from. */
  *labelledVectors(): IterableIterator<{ productId: string; imageId: number; kind: ObjectKind; label: string; vector: Float32Array }> {
    type Row = { productId: string; imageId: number; label: string; vector: Buffer };
    for (const row of this.statements.labelledVectors.iterate() as IterableIterator<Row>) {
      yield { productId: row.productId, imageId: row.imageId, kind: kindOfStored(row.label), label: row.label, vector: toFloat32(row.vector) };
    }
  }

  /** A JSON value kept under `key` in the catalog's meta table (e.g. the learned acceptance model), or undefined. */
  setting<T>(key: string): T | undefined {
    const text = this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /** Stores a JSON value under `key` (undefined removes it). The encoder's identity is not a setting. */
  saveSetting(key: string, value: unknown): void {
    if (key === 'encoder') throw new FindthisError('INTERNAL', 'The encoder identity is not a setting');
    if (value === undefined) this.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
    else this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, JSON.stringify(value));
  }

  /** The stored vector transform (e.g. `whitening` and its bytes), or undefined when vectors are indexed raw. */
  storedTransform(): { kind: string; data: Buffer } | undefined {
    return this.statements.transform.get() as { kind: string; data: Buffer } | undefined;
  }

  /** Stores the transform the indexes are built under, replacing any other; undefined removes it. */
  saveTransform(transform: { kind: string; data: Buffer } | undefined): void {
    if (transform) this.statements.saveTransform.run(transform.kind, transform.data, new Date().toISOString());
    else this.statements.clearTransform.run();
  }

  counts(): CatalogCounts {
    return this.statements.counts.get() as CatalogCounts;
  }

  close(): void {
    if (!this.db.open) return;
    this.db.close();
    this.lock.release();
  }
}

function toObjectRecord(row: ObjectRow): ObjectRecord {
  return { id: row.id, imageId: row.image_id, kind: kindOfStored(row.label), label: row.label, score: row.score, bbox: [row.x1, row.y1, row.x2, row.y2] };
}

/** The catalog stores labels only (so catalogs written before kinds existed still open): the whole photo is the one labelled `image`. */
function kindOfStored(label: string): ObjectKind {
  return label === WHOLE_IMAGE_LABEL ? 'whole' : 'region';
}

/** SQLite blobs need not be 4-byte aligned: copy into a fresh buffer. */
function toFloat32(blob: Buffer): Float32Array {
  const copy = new Float32Array(blob.byteLength / 4);
  new Uint8Array(copy.buffer).set(blob);
  return copy;
}

/** The SQLite catalog on real files: round trips, cascades, all-or-nothing writes, encoder check, lock. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog } from '../src/catalog/catalog.js';
import { CATALOG_SCHEMA_VERSION } from '../src/catalog/sqlite-schema.js';
import type { EncoderIdentity } from '../src/catalog/encoder-identity.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import type { EmbeddedObject } from '../src/core/types.js';

const ENCODER = { model: 'mobilenetv2_int8', sha256: 'cc028fe6cae7bc11', dim: 8, inputSize: 224, pooling: 'gem', gemP: 3 };
/** The encoder meta with some fields changed (any meta field counts, known to the catalog or not). */
const encoderWith = (fields: Record<string, string | number>): EncoderIdentity => ({ ...ENCODER, ...fields });

function unit(seed: number): Float32Array {
  const v = Float32Array.from({ length: ENCODER.dim }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function objects(seed: number, count: number): EmbeddedObject[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: i === 0 ? 'whole' : 'region',
    label: i === 0 ? 'image' : 'banana',
    score: i === 0 ? 1 : 0.5,
    bbox: [i, i, 100 + i, 80 + i],
    vector: unit(seed * 10 + i),
  }));
}

let dir: string;
let file: string;
const LOCK_MODULE = join(PROJECT_ROOT, 'src', 'catalog', 'lock.ts');
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'findthis-catalog-'));
  file = join(dir, 'catalog.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Catalog', () => {
  it('stores products, images, objects and the exact raw vectors, and reads them back after reopening', () => {
    const catalog = Catalog.open(file, ENCODER);
    const first = catalog.addImage({ productId: 'Banana', metadata: { price: 2 }, width: 100, height: 80, sha256: 'ab', objects: objects(1, 3) });
    expect(first.createdProduct).toBe(true);
    const second = catalog.addImage({ productId: 'Banana', width: 50, height: 50, objects: objects(2, 1) });
    expect(second.createdProduct).toBe(false);
    catalog.close();

    const reopened = Catalog.open(file, ENCODER);
    const product = reopened.product('Banana');
    expect(product?.metadata).toEqual({ price: 2 });
    expect(product?.images.map((image) => image.id)).toEqual([first.imageId, second.imageId]);
    expect(product?.objects.map((o) => o.id)).toEqual([...first.objectIds, ...second.objectIds]);
    expect(product?.objects[1]).toMatchObject({ kind: 'region', label: 'banana', score: 0.5, bbox: [1, 1, 101, 81], imageId: first.imageId });
    const vectors = new Map(reopened.vectors());
    expect(vectors.size).toBe(4);
    expect(vectors.get(String(first.objectIds[2]))).toEqual(unit(12));
    const refs = [...reopened.objectRefs()];
    expect(refs.map((ref) => ref.id)).toEqual([...first.objectIds, ...second.objectIds]);
    expect(refs[0]).toMatchObject({ productId: 'Banana', imageId: first.imageId, kind: 'whole', label: 'image', bbox: [0, 0, 100, 80] });
    expect([...reopened.labelledVectors()].map((row) => row.kind)).toEqual(['whole', 'region', 'region', 'whole']);
    expect(reopened.metadata('Banana')).toEqual({ price: 2 });
    expect(reopened.metadata('Nope')).toBeUndefined();
    expect(reopened.counts()).toEqual({ products: 1, images: 2, objects: 4 });
    reopened.close();
  });

  it('refuses an object whose kind its label would not give back, storing nothing', () => {
    const catalog = Catalog.open(file, ENCODER);
    const [whole, region] = objects(1, 2);
    const mislabelled = { ...region!, label: 'image' };
    expect(() => catalog.addImage({ productId: 'p', width: 1, height: 1, objects: [whole!, mislabelled] })).toThrow(
      expect.objectContaining({ code: 'INTERNAL', message: expect.stringContaining('A region object cannot be stored with label "image"') }),
    );
    expect(catalog.counts()).toEqual({ products: 0, images: 0, objects: 0 });
    catalog.close();
  });

  it('replaces metadata only when given', () => {
    const catalog = Catalog.open(file, ENCODER);
    catalog.addImage({ productId: 'p', metadata: { a: 1 }, width: 1, height: 1, objects: objects(1, 1) });
    catalog.addImage({ productId: 'p', width: 1, height: 1, objects: objects(2, 1) });
    expect(catalog.product('p')?.metadata).toEqual({ a: 1 });
    catalog.addImage({ productId: 'p', metadata: { b: 2 }, width: 1, height: 1, objects: objects(3, 1) });
    expect(catalog.product('p')?.metadata).toEqual({ b: 2 });
    catalog.close();
  });

  it('deletes a product with its images, objects and vectors (cascade), and never reuses their ids', () => {
    const catalog = Catalog.open(file, ENCODER);
    const kept = catalog.addImage({ productId: 'keep', width: 1, height: 1, objects: objects(1, 2) });
    const gone = catalog.addImage({ productId: 'gone', width: 1, height: 1, objects: objects(2, 3) });
    expect(catalog.objectIdsOf('gone')).toEqual(gone.objectIds);
    expect(catalog.removeProduct('gone')).toBe(true);
    expect(catalog.removeProduct('gone')).toBe(false);
    expect(catalog.product('gone')).toBeUndefined();
    expect([...catalog.vectors()].map(([id]) => id)).toEqual(kept.objectIds.map(String));
    expect(catalog.counts()).toEqual({ products: 1, images: 1, objects: 2 });
    const next = catalog.addImage({ productId: 'new', width: 1, height: 1, objects: objects(3, 1) });
    expect(next.objectIds[0]).toBeGreaterThan(Math.max(...gone.objectIds));
    catalog.close();
  });

  it('rolls back everything a transaction wrote when it throws', () => {
    const catalog = Catalog.open(file, ENCODER);
    expect(() =>
      catalog.transaction(() => {
        catalog.addImage({ productId: 'half', metadata: {}, width: 1, height: 1, objects: objects(1, 2) });
        throw new Error('index write failed');
      }),
    ).toThrow('index write failed');
    expect(catalog.product('half')).toBeUndefined();
    expect(catalog.counts()).toEqual({ products: 0, images: 0, objects: 0 });
    catalog.close();
  });

  it('refuses a vector of the wrong dimension without storing anything', () => {
    const catalog = Catalog.open(file, ENCODER);
    const bad = [...objects(1, 1), { kind: 'region', label: 'x', score: 1, bbox: [0, 0, 1, 1], vector: new Float32Array(4) } as EmbeddedObject];
    expect(() => catalog.addImage({ productId: 'p', width: 1, height: 1, objects: bad })).toThrow(
      /Expected vectors of dimension 8 for catalog .*, but got 4/,
    );
    expect(catalog.counts().products).toBe(0);
    catalog.close();
  });

  it('refuses a bad product id', () => {
    const catalog = Catalog.open(file, ENCODER);
    expect(() => catalog.addImage({ productId: '../x', width: 1, height: 1, objects: objects(1, 1) })).toThrow(
      'Expected 1–128 characters of A–Z a–z 0–9 . _ : - for productId, but got "../x"',
    );
    catalog.close();
  });

  it('refuses to open a catalog built with another encoder: INDEX_MISMATCH, expected and got', () => {
    Catalog.open(file, ENCODER).close();
    let error: any;
    try {
      Catalog.open(file, encoderWith({ model: 'resnet50', dim: 2048 }));
    } catch (caught) {
      error = caught;
    }
    expect(error?.code).toBe('INDEX_MISMATCH');
    expect(error.message).toContain('expected resnet50 (dim 2048, gemP 3, inputSize 224, pooling gem, sha256 cc028fe6cae7)');
    expect(error.message).toContain('but got mobilenetv2_int8 (dim 8, gemP 3, inputSize 224, pooling gem, sha256 cc028fe6cae7)');
    expect(() => Catalog.open(file, encoderWith({ gemP: 4 }))).toThrow(/another encoder/);
    // a field the encoder meta gains later is compared too
    expect(() => Catalog.open(file, encoderWith({ imageInputSize: 416 }))).toThrow(/expected .*imageInputSize 416/);
    // a refused open leaves the lock free
    Catalog.open(file, ENCODER).close();
  });

  it('keeps a thumbnail per image in the image\'s transaction, lists what lacks one, and deletes it with the product', () => {
    const catalog = Catalog.open(file, ENCODER);
    const webp = Buffer.from('RIFF....WEBPVP8 fake bytes');
    const withThumbnail = catalog.addImage({ productId: 'p', width: 1, height: 1, sha256: 'aa', objects: objects(1, 1), thumbnail: webp });
    const without = catalog.addImage({ productId: 'q', width: 1, height: 1, sha256: 'bb', objects: objects(2, 1) });
    const stored = catalog.thumbnails.get(withThumbnail.imageId);
    expect(stored?.data.equals(webp)).toBe(true);
    expect(stored?.type).toBe('image/webp');
    expect(stored?.etag).toMatch(/^"[\w-]{27}"$/);
    expect(catalog.thumbnails.get(without.imageId)).toBeUndefined(); // the image exists, its thumbnail does not
    expect(catalog.thumbnails.get(9999)).toBeNull(); // no such image
    expect(catalog.thumbnails.missing()).toEqual([{ imageId: without.imageId, productId: 'q', sha256: 'bb' }]);
    // a failed ingest leaves no thumbnail behind
    expect(() =>
      catalog.transaction(() => {
        catalog.addImage({ productId: 'r', width: 1, height: 1, objects: objects(3, 1), thumbnail: webp });
        throw new Error('index write failed');
      }),
    ).toThrow('index write failed');
    expect(catalog.removeProduct('p')).toBe(true);
    expect(catalog.thumbnails.get(withThumbnail.imageId)).toBeNull();
    catalog.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM thumbnails').pluck().get()).toBe(0);
    db.close();
  });

  it('upgrades a version-1 catalog (no thumbnails table) when opened, keeping its products', () => {
    const catalog = Catalog.open(file, ENCODER);
    const old = catalog.addImage({ productId: 'old', width: 1, height: 1, sha256: 'cc', objects: objects(1, 2) });
    catalog.close();
    // what a catalog written before thumbnails looks like
    const db = new Database(file);
    db.exec('DROP TABLE thumbnails');
    db.pragma('user_version = 1');
    db.close();

    const upgraded = Catalog.open(file, ENCODER);
    expect(upgraded.counts()).toEqual({ products: 1, images: 1, objects: 2 });
    expect(upgraded.thumbnails.get(old.imageId)).toBeUndefined();
    expect(upgraded.thumbnails.missing()).toEqual([{ imageId: old.imageId, productId: 'old', sha256: 'cc' }]);
    upgraded.thumbnails.put(old.imageId, Buffer.from('thumb'));
    upgraded.close();
    const reopened = new Database(file, { readonly: true });
    expect(reopened.pragma('user_version', { simple: true })).toBe(CATALOG_SCHEMA_VERSION);
    reopened.close();
    const again = Catalog.open(file, ENCODER);
    expect(again.thumbnails.get(old.imageId)?.data.toString()).toBe('thumb');
    again.close();
  });

  it('opens an existing catalog under the encoder it was built with (maintenance without models)', () => {
    expect(() => Catalog.openExisting(file)).toThrow(/Expected a catalog at .*, but there is none/);
    const built = Catalog.open(file, encoderWith({ gemP: 4 }));
    built.addImage({ productId: 'p', width: 1, height: 1, objects: objects(1, 1) });
    built.close();
    const opened = Catalog.openExisting(file);
    expect(opened.encoder).toMatchObject({ model: ENCODER.model, gemP: 4 });
    expect(opened.counts().products).toBe(1);
    expect(() => Catalog.openExisting(file)).toThrow(/DATA_DIR is in use/); // it takes the lock like any writer
    opened.close();
  });

  it('refuses a catalog of an unknown schema version', () => {
    Catalog.open(file, ENCODER).close();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => Catalog.open(file, ENCODER)).toThrow(new RegExp(`Expected schema version ${CATALOG_SCHEMA_VERSION} for catalog .*, but got 99`));
  });

  it('lists products a page at a time in id order, with image counts and first image', () => {
    const catalog = Catalog.open(file, ENCODER);
    const first = catalog.addImage({ productId: 'b', metadata: { name: 'Bee' }, width: 1, height: 1, objects: objects(1, 1) });
    catalog.addImage({ productId: 'b', width: 1, height: 1, objects: objects(2, 1) });
    catalog.addImage({ productId: 'a', width: 1, height: 1, objects: objects(3, 1) });
    catalog.addImage({ productId: 'c', width: 1, height: 1, objects: objects(4, 1) });
    expect(catalog.listProducts(0, 2).map((p) => p.id)).toEqual(['a', 'b']);
    const [b] = catalog.listProducts(1, 1);
    expect(b).toMatchObject({ id: 'b', metadata: { name: 'Bee' }, images: 2, imageId: first.imageId });
    expect(catalog.listProducts(2, 10).map((p) => p.id)).toEqual(['c']);
    expect(catalog.listProducts(3, 10)).toEqual([]);
    catalog.close();
  });

  it('refuses a catalog locked by another live process; a holder killed -9 leaves no lock to remove', async () => {
    // The holder takes the lock the way the catalog does, in its own process, and stays alive.
    const script = `import { acquireLock } from ${JSON.stringify(LOCK_MODULE)}; acquireLock(process.argv[1]); console.log('locked'); setInterval(() => {}, 1000);`;
    const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, `${file}.lock`], { cwd: PROJECT_ROOT });
    try {
      await new Promise((resolve, reject) => {
        holder.stdout.once('data', resolve);
        holder.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
      });
      expect(() => Catalog.open(file, ENCODER)).toThrow(
        expect.objectContaining({ code: 'DATA_DIR_LOCKED', message: expect.stringMatching(/DATA_DIR is in use: .* locked by another running process/) }),
      );
      // Two live processes are refused, however often asked.
      expect(() => Catalog.open(file, ENCODER)).toThrow(/DATA_DIR is in use/);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    expect(existsSync(`${file}.lock`)).toBe(true); // the file stays; the kernel dropped the lock with the process
    const catalog = Catalog.open(file, ENCODER);
    expect(catalog.counts().products).toBe(0);
    // ...and within this process a second open is refused too, until the first closes.
    expect(() => Catalog.open(file, ENCODER)).toThrow(/DATA_DIR is in use/);
    catalog.close();
    Catalog.open(file, ENCODER).close();
  });

  it('replaces a pid lock file left by an older version', () => {
    writeFileSync(`${file}.lock`, String(process.pid));
    Catalog.open(file, ENCODER).close();
  });
});

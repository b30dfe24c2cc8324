import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groceryPhotos, groceryProducts } from '../benchmarks/lib/grocery.js';
import { whitenApply, whitenLearn, type LabelledVector, type Whitening } from '../src/embedding/whitening.js';
import { whiteningFromBuffer, whiteningToBuffer } from '../src/embedding/whitening-record.js';
import { whitenLearnOffThread } from '../src/embedding/whitening-thread.js';
import { createExtractor, DEFAULT_EXTRACTOR_OPTIONS, type Extractor } from '../src/pipeline/extractor.js';

/** Share of queries whose nearest catalog vector belongs to their own product. */
function recallAt1(catalog: readonly LabelledVector[], queries: readonly LabelledVector[]): number {
  let right = 0;
  for (const query of queries) {
    let best = -Infinity;
    let bestGroup = '';
    for (const item of catalog) {
      let dot = 0;
      for (let i = 0; i < query.vector.length; i++) dot += query.vector[i]! * item.vector[i]!;
      if (dot > best) [best, bestGroup] = [dot, item.group];
    }
    if (bestGroup === query.group) right++;
  }
  return right / queries.length;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

describe('learned whitening on real grocery photos', () => {
  // 16 products, each: its iconic image plus 5 train photos form the catalog; its val photos are the queries.
  const products = groceryProducts().filter((_, i) => i % 5 === 0).slice(0, 16);
  const names = new Set(products.map((p) => p.name));
  let extractor: Extractor;
  let catalog: LabelledVector[];
  let queries: LabelledVector[];
  let whitening: Whitening;

  const wholeImageVector = async (path: string): Promise<Float32Array> =>
    (await extractor.extract(readFileSync(path))).objects[0]!.vector;

  beforeAll(async () => {
    extractor = await createExtractor({ ...DEFAULT_EXTRACTOR_OPTIONS, crop: { ...DEFAULT_EXTRACTOR_OPTIONS.crop, maxObjects: 1 } });
    catalog = [];
    for (const product of products) catalog.push({ group: product.name, vector: await wholeImageVector(product.iconic) });
    const perProduct = new Map<string, number>();
    for (const photo of groceryPhotos('train')) {
      const taken = perProduct.get(photo.product.name) ?? 0;
      if (!names.has(photo.product.name) || taken >= 5) continue;
      perProduct.set(photo.product.name, taken + 1);
      catalog.push({ group: photo.product.name, vector: await wholeImageVector(photo.path) });
    }
    queries = [];
    for (const photo of groceryPhotos('val')) {
      if (names.has(photo.product.name)) queries.push({ group: photo.product.name, vector: await wholeImageVector(photo.path) });
    }
    whitening = whitenLearn(catalog);
  }, 180_000);

  afterAll(async () => {
    await extractor?.close();
  });

  it('raises recall@1 of held-out store photos of the same products', () => {
    const before = recallAt1(catalog, queries);
    const whiten = (items: LabelledVector[]) => items.map(({ group, vector }) => ({ group, vector: whitenApply(whitening, vector) }));
    const after = recallAt1(whiten(catalog), whiten(queries));
    expect(queries.length).toBeGreaterThan(40);
    expect(after).toBeGreaterThan(before + 0.05);
  });

  it('keeps at most (products − 1) dimensions and gives unit-length vectors', () => {
    expect(whitening.inputDim).toBe(1280);
    expect(whitening.outputDim).toBe(products.length - 1);
    const vector = whitenApply(whitening, queries[0]!.vector);
    expect(vector).toHaveLength(products.length - 1);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
  });

  it('is learned the same on a worker thread, and survives a round trip through its stored bytes', async () => {
    const offThread = await whitenLearnOffThread(catalog, { dimensions: 128, shrinkage: 0.1 });
    const stored = whiteningFromBuffer(whiteningToBuffer(offThread));
    for (const query of queries.slice(0, 5)) {
      expect(cosine(whitenApply(stored, query.vector), whitenApply(whitening, query.vector))).toBeGreaterThan(0.9999);
    }
  });

  it('refuses a catalog with no product photographed twice or with one product, and stored bytes that were cut short', () => {
    const single = products.map((product, i) => ({ group: product.name, vector: catalog[i]!.vector }));
    // Callers check whyNotLearnable first: reaching these refusals is a bug (INTERNAL), not a bad request.
    expect(() => whitenLearn(single)).toThrow(expect.objectContaining({ code: 'INTERNAL', message: expect.stringMatching(/no product has two or more images/) }));
    expect(() => whitenLearn([])).toThrow(expect.objectContaining({ code: 'INTERNAL', message: 'Cannot learn whitening from an empty catalog' }));
    const oneProduct = catalog.filter((sample) => sample.group === products[0]!.name);
    expect(oneProduct.length).toBeGreaterThan(1);
    expect(() => whitenLearn(oneProduct)).toThrow(/at least 2 products to tell apart, but got 1/);
    const bytes = whiteningToBuffer(whitening);
    expect(() => whiteningFromBuffer(bytes.subarray(0, bytes.length - 4))).toThrow(/expected \d+ bytes, but got \d+/);
  });
});

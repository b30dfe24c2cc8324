/**
 * Issue 9 end to end, on real models and real photos: every product of a photo of several, "no match"
 * for what the catalog lacks, and single-product photos still answered with their product first.
 * The catalog: the 81 grocery products, each its iconic photo and three store photos, optimized
 * (whitening and the acceptance model learned from the catalog itself).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { CatalogSearch, type OptimizeResult, type SearchQuery } from '../src/pipeline/catalog-search.js';
import { createExtractor, type Extractor } from '../src/pipeline/extractor.js';
import { GROCERY_DIR, groceryPhotos, groceryProducts } from '../benchmarks/lib/grocery.js';
import { renderScene, type ScenePlacement } from '../benchmarks/lib/scenes-compose.js';
import type { BBox } from '../src/core/types.js';

const EVERYDAY = ['000000000139.jpg', '000000000285.jpg', '000000000776.jpg'].map((name) => join(GROCERY_DIR, '..', 'coco-sample', name));
const LIVING_ROOM = EVERYDAY[0]!;
const query: SearchQuery = { k: 5, index: 'exact', minScore: -1, compare: false, similar: false };

const config = loadConfig({ env: {} });
const dataDir = mkdtempSync(join(tmpdir(), 'findthis-multi-'));
let extractor: Extractor;
let search: CatalogSearch;
let optimized: OptimizeResult;

function valPhoto(product: string, nth = 0): string {
  return groceryPhotos('val').filter((photo) => photo.product.name === product)[nth]!.path;
}

function centreInside([x1, y1, x2, y2]: BBox, [a1, b1, a2, b2]: BBox): boolean {
  const cx = (x1 + x2) / 2;
  const cy = (y1 + y2) / 2;
  return cx >= a1 && cx <= a2 && cy >= b1 && cy <= b2;
}

beforeAll(async () => {
  extractor = await createExtractor(config.extractor);
  search = await CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
  const train = groceryPhotos('train');
  for (const { name, iconic } of groceryProducts()) {
    await search.ingest(name, readFileSync(iconic));
    for (const photo of train.filter((p) => p.product.name === name).slice(0, 3)) await search.ingest(name, readFileSync(photo.path));
  }
  optimized = await search.optimize({ whitening: config.whitening });
}, 600_000);

afterAll(async () => {
  await search?.close();
  await extractor?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('photos of several products, and "no match"', () => {
  it('learns an acceptance model from the catalog when it optimizes, with a looser threshold for the regions of an answered photo', () => {
    expect(optimized.acceptance).toMatchObject({ wholeThreshold: expect.any(Number), regionThreshold: expect.any(Number), answeredRegionThreshold: expect.any(Number) });
    if (!('regionThreshold' in optimized.acceptance)) throw new Error('no acceptance model');
    expect(optimized.acceptance.answeredRegionThreshold).toBeLessThan(optimized.acceptance.regionThreshold);
  });

  it('finds every product of a composed photo with a region on it, and accepts no product it lacks', async () => {
    // Cabbage and asparagus have no COCO class; the class-agnostic proposals find them anyway.
    const products: ScenePlacement[] = [
      { productId: 'Cabbage', photo: valPhoto('Cabbage'), bbox: [40, 60, 340, 360] },
      { productId: 'Asparagus', photo: valPhoto('Asparagus'), bbox: [620, 40, 940, 360] },
      { productId: 'Banana', photo: valPhoto('Banana'), bbox: [330, 420, 650, 740] },
    ];
    const jpeg = await renderScene({ seed: 0, index: 0, width: 1024, height: 768, background: '#d9d9d9', products });
    const found = await search.search(jpeg, { ...query, similar: true });
    expect(found.judged).toBe(true);
    expect(found.objects[0]).toMatchObject({ kind: 'whole', label: 'image' });
    for (const { productId, bbox } of products) {
      const onIt = found.objects.filter((object) => object.kind === 'region' && centreInside(object.bbox, bbox));
      expect(onIt.map((object) => object.matches[0]?.productId), productId).toContain(productId);
    }
    const names = products.map((product) => product.productId);
    expect(found.answer.length).toBeGreaterThan(0);
    for (const entry of found.answer) {
      expect(names).toContain(entry.productId);
      expect(entry.accepted).toBe(true);
      expect(entry.confidence).toBeGreaterThan(0);
      const placed = products.find((product) => product.productId === entry.productId)!;
      expect(centreInside(entry.bbox, placed.bbox), `${entry.productId} found at ${entry.bbox.map(Math.round)}`).toBe(true);
    }
  });

  it('answers photos of everyday scenes with nothing, and still shows similar products on request', async () => {
    for (const scene of EVERYDAY) expect((await search.search(readFileSync(scene), query)).answer, scene).toEqual([]);
    const found = await search.search(readFileSync(LIVING_ROOM), query);
    expect(found.answer).toEqual([]);
    for (const object of found.objects) expect(object.matches).toEqual([]);
    const withSimilar = await search.search(readFileSync(LIVING_ROOM), { ...query, similar: true });
    expect(withSimilar.answer).toEqual([]);
    expect(withSimilar.similar!.length).toBeGreaterThan(0);
    expect(withSimilar.similar!.every((product) => !product.accepted && product.confidence! < 1)).toBe(true);
  });

  it('names the one product of a single-product store photo first', async () => {
    for (const product of ['Brown-Cap-Mushroom', 'Banana', 'Pineapple']) {
      const found = await search.search(readFileSync(valPhoto(product)), query);
      expect(found.answer[0]?.productId, product).toBe(product);
    }
  });
});

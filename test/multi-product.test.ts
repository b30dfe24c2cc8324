/**
 * Issue 9 end to end, on real models and real photos: every product of a photo of several, "no match"
 * for what the catalog lacks, and single-product photos still answered with their product first.
 * The catalog: 20 grocery products, each its iconic photo and four store photos, optimized (whitening
 * and the acceptance model learned from the catalog itself).
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

const PRODUCTS = [
  'Banana', 'Oatly-Oat-Milk', 'Red-Bell-Pepper', 'Kiwi', 'Pineapple', 'Cucumber', 'Brown-Cap-Mushroom', 'Yellow-Onion',
  'Garlic', 'Ginger', 'Arla-Standard-Milk', 'Tropicana-Apple-Juice', 'Lemon', 'Lime', 'Mango', 'Avocado', 'Carrots',
  'Zucchini', 'Watermelon', 'Granny-Smith',
];
const LIVING_ROOM = join(GROCERY_DIR, '..', 'coco-sample', '000000000139.jpg');
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
  const iconic = new Map(groceryProducts().map((product) => [product.name, product.iconic]));
  const train = groceryPhotos('train');
  for (const product of PRODUCTS) {
    await search.ingest(product, readFileSync(iconic.get(product)!));
    for (const photo of train.filter((p) => p.product.name === product).slice(0, 4)) await search.ingest(product, readFileSync(photo.path));
  }
  optimized = await search.optimize({ whitening: config.whitening });
}, 300_000);

afterAll(async () => {
  await search?.close();
  await extractor?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('photos of several products, and "no match"', () => {
  it('learns an acceptance model from the catalog when it optimizes', () => {
    expect(optimized.acceptance).toMatchObject({ wholeThreshold: expect.any(Number), regionThreshold: expect.any(Number) });
  });

  it('finds every product of a composed photo, each with the box it stands in', async () => {
    const products: ScenePlacement[] = [
      { productId: 'Cucumber', photo: valPhoto('Cucumber'), bbox: [40, 60, 340, 360] },
      { productId: 'Oatly-Oat-Milk', photo: valPhoto('Oatly-Oat-Milk'), bbox: [620, 40, 940, 360] },
      { productId: 'Banana', photo: valPhoto('Banana'), bbox: [330, 420, 650, 740] },
    ];
    const jpeg = await renderScene({ seed: 0, index: 0, width: 1024, height: 768, background: '#d9d9d9', products });
    const found = await search.search(jpeg, query);
    expect(found.judged).toBe(true);
    expect(found.objects[0]).toMatchObject({ kind: 'whole', label: 'image' });
    for (const { productId, bbox } of products) {
      const entry = found.answer.find((product) => product.productId === productId);
      expect(entry, `${productId} in ${JSON.stringify(found.answer.map((p) => p.productId))}`).toBeDefined();
      expect(entry!.accepted).toBe(true);
      expect(entry!.confidence).toBeGreaterThan(0);
      expect(centreInside(entry!.bbox, bbox), `${productId} found at ${entry!.bbox.map(Math.round)}`).toBe(true);
    }
  });

  it('answers a living room with nothing, and still shows similar products on request', async () => {
    const found = await search.search(readFileSync(LIVING_ROOM), query);
    expect(found.answer).toEqual([]);
    for (const object of found.objects) expect(object.matches).toEqual([]);
    const withSimilar = await search.search(readFileSync(LIVING_ROOM), { ...query, similar: true });
    expect(withSimilar.answer).toEqual([]);
    expect(withSimilar.similar!.length).toBeGreaterThan(0);
    expect(withSimilar.similar!.every((product) => !product.accepted && product.confidence! < 1)).toBe(true);
  });

  it('names the one product of a single-product store photo first', async () => {
    for (const product of ['Brown-Cap-Mushroom', 'Oatly-Oat-Milk', 'Pineapple']) {
      const found = await search.search(readFileSync(valPhoto(product)), query);
      expect(found.answer[0]?.productId, product).toBe(product);
    }
  });
});

/**
 * `encoder.midLevel`: vectors of the last layer and a mid-level one, end to end. An unwhitened catalog
 * indexes the last layer's part only, so it searches exactly as a catalog made without; once whitened,
 * both parts are used. Both backends. One small catalog: every fourth grocery product (21), each its
 * iconic photo and two store photos.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groceryPhotos, groceryProducts, iconicImages } from '../benchmarks/lib/grocery.js';
import { loadConfig } from '../src/config/load.js';
import { CatalogSearch, type SearchAnswer, type SearchQuery } from '../src/pipeline/catalog-search.js';
import { createExtractor, type Extractor } from '../src/pipeline/extractor.js';
import { startLocalEngine } from '../src/storage/pg/local-engine.js';
import { PgCatalogSearch } from '../src/storage/pg/pg-catalog-search.js';

const PRODUCTS = groceryProducts().filter((_, i) => i % 4 === 0).map((product) => product.name);
const query: SearchQuery = { k: 3, index: 'exact', minScore: -1, compare: false, similar: true };
const config = loadConfig({ env: {} });
const dirs: string[] = [];
const extractors: Extractor[] = [];
let withMidLevel: CatalogSearch;
let lastOnly: CatalogSearch;

const storePhoto = (product: string, split: 'train' | 'val', nth: number): string => groceryPhotos(split).filter((photo) => photo.product.name === product)[nth]!.path;
const catalogPhotos = (product: string): string[] => [iconicImages().get(product)!, storePhoto(product, 'train', 0), storePhoto(product, 'train', 1)];
/** The whole photo's matches: product and score. */
const wholeMatches = (answer: SearchAnswer) => answer.objects[0]!.matches.map((match) => [match.productId, match.score] as const);

async function open(midLevel: boolean, dataDir = mkdtempSync(join(tmpdir(), 'findthis-mid-level-'))): Promise<CatalogSearch> {
  dirs.push(dataDir);
  const extractor = await createExtractor({ ...config.extractor, encoder: { ...config.extractor.encoder, midLevel } });
  extractors.push(extractor);
  return CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
}

beforeAll(async () => {
  [withMidLevel, lastOnly] = await Promise.all([open(true), open(false)]);
  for (const product of PRODUCTS) {
    for (const path of catalogPhotos(product)) {
      const image = readFileSync(path);
      await withMidLevel.ingest(product, image);
      await lastOnly.ingest(product, image);
    }
  }
}, 300_000);

afterAll(async () => {
  await withMidLevel?.close();
  await lastOnly?.close();
  for (const extractor of extractors) await extractor.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('mid-level feature maps (encoder.midLevel)', () => {
  it('store 1856 values a vector, and an unwhitened catalog searches with the last layer\'s part: as a catalog made without', async () => {
    expect(withMidLevel.extractor.encoder).toMatchObject({ dim: 1856, midLevelDim: 576 });
    for (const product of ['Yellow-Onion', 'Red-Beet']) {
      const photo = readFileSync(storePhoto(product, 'val', 0));
      const [a, b] = [await withMidLevel.search(photo, query), await lastOnly.search(photo, query)];
      const [mid, last] = [wholeMatches(a), wholeMatches(b)];
      expect(mid.map(([id]) => id)).toEqual(last.map(([id]) => id));
      mid.forEach(([, score], i) => expect(score).toBeCloseTo(last[i]![1], 4));
    }
  });

  it('whiten from both parts at optimize, and a store photo names its product first', async () => {
    const result = await withMidLevel.optimize({ whitening: config.whitening });
    expect(result.transform).toMatch(/^whiten-/);
    expect(result.whitening).toMatchObject({ dimensions: PRODUCTS.length - 1 });
    for (const product of ['Yellow-Onion', 'Red-Beet']) {
      const answer = await withMidLevel.search(readFileSync(storePhoto(product, 'val', 0)), query);
      expect(answer.answer[0], product).toMatchObject({ productId: product });
    }
  });

  it('make a catalog that refuses to open under the encoder without them (its vectors are another length)', async () => {
    const dataDir = dirs[0]!;
    await withMidLevel.close();
    await expect(open(false, dataDir)).rejects.toMatchObject({ code: 'INDEX_MISMATCH' });
    withMidLevel = await open(true, dataDir);
    expect((await withMidLevel.search(readFileSync(storePhoto('Red-Beet', 'val', 0)), query)).answer[0]).toMatchObject({ productId: 'Red-Beet' });
  });

  it('on PostgreSQL too: the unwhitened search tables hold the last layer\'s part, and search as the embedded catalog does', async () => {
    const engine = await startLocalEngine({ port: 0 });
    const extractor = await createExtractor({ ...config.extractor, encoder: { ...config.extractor.encoder, midLevel: true } });
    extractors.push(extractor);
    const pg = await PgCatalogSearch.open(extractor, { url: engine.url, index: config.index, candidateFactor: config.search.candidateFactor });
    try {
      const products = PRODUCTS.slice(0, 4);
      const embedded = await open(true);
      for (const product of products) {
        const image = readFileSync(iconicImages().get(product)!);
        await pg.ingest(product, image);
        await embedded.ingest(product, image);
      }
      const photo = readFileSync(storePhoto(products[1]!, 'val', 0));
      const [fromPg, fromEmbedded] = [wholeMatches(await pg.search(photo, query)), wholeMatches(await embedded.search(photo, query))];
      expect(fromPg.map(([id]) => id)).toEqual(fromEmbedded.map(([id]) => id));
      fromPg.forEach(([, score], i) => expect(score).toBeCloseTo(fromEmbedded[i]![1], 4));
      await embedded.close();
    } finally {
      await pg.close();
      await engine.stop();
    }
  });
});

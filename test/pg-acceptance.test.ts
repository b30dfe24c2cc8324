/**
 * Issue 9 on the PostgreSQL backend: optimize learns the acceptance model once, in the database, and
 * every replica judges with it and groups regions by the catalog's product prototypes, as the
 * embedded backend does. One small catalog (every fourth grocery product, 21, each its iconic photo
 * and two store photos; whitened) is stored both in PGlite (through replica A) and in an embedded
 * CatalogSearch; each backend has its own extractor, so that a replica's regions can only follow its
 * own prototypes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROCERY_DIR, groceryPhotos, groceryProducts, iconicImages } from '../benchmarks/lib/grocery.js';
import { loadConfig } from '../src/config/load.js';
import { CatalogSearch, type OptimizeResult, type SearchAnswer, type SearchQuery } from '../src/pipeline/catalog-search.js';
import { createExtractor, type Extractor } from '../src/pipeline/extractor.js';
import { startLocalEngine, type LocalEngine } from '../src/storage/pg/local-engine.js';
import { PgCatalogSearch } from '../src/storage/pg/pg-catalog-search.js';

const PRODUCTS = groceryProducts().filter((_, i) => i % 4 === 0).map((product) => product.name);
const coco = (name: string): Buffer => readFileSync(join(GROCERY_DIR, '..', 'coco-sample', name));
/** A living room (a TV, chairs; this catalog accepts a garlic on it) and a bear (answered with nothing). */
const LIVING_ROOM = coco('000000000139.jpg');
const BEAR = coco('000000000285.jpg');
const query: SearchQuery = { k: 3, index: 'exact', minScore: -1, compare: false, similar: true };

const config = loadConfig({ env: {} });
const dataDir = mkdtempSync(join(tmpdir(), 'findthis-pg-acceptance-'));
const extractors: Extractor[] = [];
let engine: LocalEngine;
let pgA: PgCatalogSearch;
let embedded: CatalogSearch;
let optimized: { pg: OptimizeResult; embedded: OptimizeResult };

const storePhoto = (product: string, split: 'train' | 'val', nth: number): string => groceryPhotos(split).filter((photo) => photo.product.name === product)[nth]!.path;

async function openReplica(): Promise<PgCatalogSearch> {
  const extractor = await createExtractor(config.extractor);
  extractors.push(extractor);
  return PgCatalogSearch.open(extractor, { url: engine.url, index: config.index, candidateFactor: config.search.candidateFactor });
}

/** What a search decided, object by object: where, which products, and the verdicts. */
function verdicts(answer: SearchAnswer) {
  return {
    judged: answer.judged,
    objects: answer.objects.map((object) => ({
      bbox: object.bbox.map(Math.round),
      matches: object.matches.map((match) => [match.productId, match.accepted, match.confidence?.toFixed(4)]),
    })),
    answer: answer.answer.map((entry) => entry.productId),
  };
}

beforeAll(async () => {
  engine = await startLocalEngine({ port: 0 });
  pgA = await openReplica();
  const extractor = await createExtractor(config.extractor);
  extractors.push(extractor);
  embedded = await CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
  const iconic = iconicImages();
  for (const product of PRODUCTS) {
    for (const path of [iconic.get(product)!, storePhoto(product, 'train', 0), storePhoto(product, 'train', 1)]) {
      const image = readFileSync(path);
      await pgA.ingest(product, image);
      await embedded.ingest(product, image);
    }
  }
  optimized = { pg: await pgA.optimize({ whitening: config.whitening }), embedded: await embedded.optimize({ whitening: config.whitening }) };
}, 300_000);

afterAll(async () => {
  await pgA?.close();
  await embedded?.close();
  for (const extractor of extractors) await extractor.close();
  await engine?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('"no match" and pile grouping on PostgreSQL', () => {
  it('learns at optimize the same acceptance model as the embedded backend from the same catalog', () => {
    expect(optimized.pg.acceptance).toMatchObject({ wholeThreshold: expect.any(Number), regionThreshold: expect.any(Number) });
    expect(optimized.pg.acceptance).toEqual(optimized.embedded.acceptance);
    expect(optimized.pg.transform).toMatch(/^whiten-/);
    expect(optimized.pg.transform).toBe(optimized.embedded.transform);
  });

  it('judges photos of no product as the embedded backend does, answering only what it accepts', async () => {
    for (const photo of [LIVING_ROOM, BEAR]) {
      const fromPg = await pgA.search(photo, query);
      expect(fromPg.judged).toBe(true);
      expect(verdicts(fromPg)).toEqual(verdicts(await embedded.search(photo, query)));
      const accepted = new Set(fromPg.objects.flatMap((object) => object.matches.filter((match) => match.accepted).map((match) => match.productId)));
      expect(new Set(fromPg.answer.map((entry) => entry.productId))).toEqual(accepted);
      expect(fromPg.similar!.every((entry) => !entry.accepted && entry.confidence! < 1)).toBe(true);
    }
    const bear = await pgA.search(BEAR, query);
    expect(bear.answer).toEqual([]);
    expect(bear.similar!.length).toBeGreaterThan(0);
  });

  it('a replica opened later judges with the stored model, and names a product photo first and accepted', async () => {
    const pgB = await openReplica();
    try {
      for (const product of ['Yellow-Onion', 'Red-Beet']) {
        const photo = readFileSync(storePhoto(product, 'val', 0));
        const fromB = await pgB.search(photo, query);
        expect(fromB.judged).toBe(true);
        expect(fromB.answer[0], product).toMatchObject({ productId: product, accepted: true });
        expect(verdicts(fromB)).toEqual(verdicts(await embedded.search(photo, query)));
      }
    } finally {
      await pgB.close();
    }
  });

  it('follows another replica\'s deletes and adds: its regions and verdicts stay those of the embedded catalog', async () => {
    const pgB = await openReplica();
    try {
      // A searches first, so that its prototypes must be read again after B's deletes. Without
      // their product, these photos' regions are grouped otherwise (their piles match nothing now).
      const photos = [storePhoto('Lemon', 'val', 2), storePhoto('Valio-Vanilla-Yoghurt', 'val', 0)].map((path) => readFileSync(path));
      expect((await pgA.search(photos[0]!, query)).answer[0]?.productId).toBe('Lemon');
      for (const product of ['Lemon', 'Valio-Vanilla-Yoghurt']) {
        expect(await pgB.removeProduct(product)).toBe(true);
        expect(await embedded.removeProduct(product)).toBe(true);
      }
      for (const photo of photos) {
        const fromA = await pgA.search(photo, query);
        expect(fromA.objects.flatMap((object) => object.matches.map((match) => match.productId))).not.toContain('Lemon');
        expect(verdicts(fromA)).toEqual(verdicts(await embedded.search(photo, query)));
      }
      // And its adds: the yoghurt back through B, A's regions group it again.
      for (const path of [iconicImages().get('Valio-Vanilla-Yoghurt')!, storePhoto('Valio-Vanilla-Yoghurt', 'train', 0), storePhoto('Valio-Vanilla-Yoghurt', 'train', 1)]) {
        await pgB.ingest('Valio-Vanilla-Yoghurt', readFileSync(path));
        await embedded.ingest('Valio-Vanilla-Yoghurt', readFileSync(path));
      }
      const yoghurt = await pgA.search(photos[1]!, query);
      expect(yoghurt.answer[0]?.productId).toBe('Valio-Vanilla-Yoghurt');
      expect(verdicts(yoghurt)).toEqual(verdicts(await embedded.search(photos[1]!, query)));
    } finally {
      await pgB.close();
    }
  });
});

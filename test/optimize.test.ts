/**
 * POST /v1/index/optimize with learned whitening, on the real service (real models, SQLite, indexes)
 * over HTTP: what it learns from, that it is idempotent, and that a restart keeps its answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groceryPhotos, groceryProducts } from '../benchmarks/lib/grocery.js';
import { loadConfig } from '../src/config/load.js';
import { CatalogSearch, MIN_PRODUCTS_FOR_WHITENING } from '../src/pipeline/catalog-search.js';
import { createExtractor, type Extractor } from '../src/pipeline/extractor.js';
import { createApp } from '../src/service/app.js';
import { createLogger } from '../src/service/log.js';
import { ServiceMetrics } from '../src/service/metrics.js';
import { postImage, request } from './support/http.js';

/** One product in four of the 81: 21 products, fruit, vegetables and packages, more than MIN_PRODUCTS_FOR_WHITENING. */
const products = groceryProducts().filter((_, i) => i % 4 === 0);
const PRODUCTS = products.map((product) => product.name);
const TRAIN_PER_PRODUCT = 2;

const config = loadConfig({ env: {} });
const train = PRODUCTS.flatMap((name) => groceryPhotos('train').filter((photo) => photo.product.name === name).slice(0, TRAIN_PER_PRODUCT));
/** One val photo for each of the first 6 products that have one (each query is 3 HTTP searches). */
const queries = PRODUCTS.flatMap((name) => groceryPhotos('val').find((photo) => photo.product.name === name) ?? []).slice(0, 6);

let dataDir: string;
let extractor: Extractor;
let catalogSearch: CatalogSearch;
let server: Server;
let url: string;

async function serve(): Promise<void> {
  catalogSearch = await CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
  const service = createApp({
    server: config.server,
    search: config.search,
    whitening: config.whitening,
    metrics: new ServiceMetrics(new Registry()),
    log: createLogger('error'),
    catalogSearch,
  });
  server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(): Promise<void> {
  await new Promise((resolve) => server.close(resolve));
  await catalogSearch.close();
}

/** Every query's whole-image matches (product, score), on every index: all of them, accepted or not (similar=true). */
async function answers(): Promise<Array<Array<[string, number]>>> {
  const out: Array<Array<[string, number]>> = [];
  for (const index of ['exact', 'hnsw', 'lsh']) {
    for (const query of queries) {
      const { status, body } = await postImage(`${url}/v1/search?k=3&index=${index}&similar=true`, query.path);
      expect(status).toBe(200);
      out.push(body.objects[0].matches.map((match: { productId: string; score: number }) => [match.productId, match.score]));
    }
  }
  return out;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'findthis-optimize-'));
  extractor = await createExtractor(config.extractor);
  await serve();
  for (const product of products) {
    expect((await postImage(`${url}/v1/products`, product.iconic, { id: product.name })).status).toBe(201);
  }
});

afterAll(async () => {
  await stop();
  await extractor?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('POST /v1/index/optimize with learned whitening', () => {
  it('keeps raw vectors and says why when no product has two images', async () => {
    const { status, body } = await request(`${url}/v1/index/optimize`, { method: 'POST' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ products: PRODUCTS.length, images: PRODUCTS.length, transform: 'identity', whitening: null });
    expect(body.skipped).toMatch(/no product has two or more images/);
  });

  it('learns whitening from the catalog once products have several photos, and rebuilds every index in it', async () => {
    for (const photo of train) {
      expect((await postImage(`${url}/v1/products`, photo.path, { id: photo.product.name })).status).toBe(201);
    }
    const { status, body } = await request(`${url}/v1/index/optimize`, { method: 'POST' });
    expect(status).toBe(200);
    expect(PRODUCTS.length).toBeGreaterThanOrEqual(MIN_PRODUCTS_FOR_WHITENING);
    expect(body.transform).toMatch(new RegExp(`^whiten-${PRODUCTS.length - 1}-[0-9a-f]{12}$`));
    expect(body.whitening).toEqual({ dimensions: PRODUCTS.length - 1, vectors: products.length + train.length, products: PRODUCTS.length, shrinkage: 0.1 });
    // Every index holds the whole photos, one per image: what a search compares with; detections stay stored.
    expect(body.indexed).toEqual({ lsh: body.images, hnsw: body.images, exact: body.images });
    expect(body.vectors).toBeGreaterThan(body.images);
    for (const query of queries) {
      const { body: answer } = await postImage(`${url}/v1/search?k=5&index=exact&similar=true`, query.path);
      expect(answer.objects[0].matches.map((m: { productId: string }) => m.productId)).toContain(query.product.name);
      // The merged answer and the similar products hold distinct products, each with the object it came from.
      const products = [...answer.answer, ...answer.similar].map((m: { productId: string }) => m.productId);
      expect(new Set(products).size).toBe(products.length);
      expect(products).toContain(query.product.name);
      expect(answer.answer[0].via).toBeTypeOf('string');
    }
  });

  it('is idempotent: optimizing again learns the same whitening and gives the same answers', async () => {
    const before = await answers();
    const first = (await request(`${url}/v1/index/optimize`, { method: 'POST' })).body;
    const second = (await request(`${url}/v1/index/optimize`, { method: 'POST' })).body;
    expect(second.transform).toBe(first.transform);
    const after = await answers();
    expect(after.map((list) => list.map(([id]) => id))).toEqual(before.map((list) => list.map(([id]) => id)));
    after.flat().forEach(([, score], i) => expect(score).toBeCloseTo(before.flat()[i]![1], 5));
  });

  it('gives the same ranking after a restart on the same DATA_DIR', async () => {
    const before = await answers();
    const transform = catalogSearch.transformId;
    await stop();
    await serve();
    expect(catalogSearch.transformId).toBe(transform);
    expect(await answers()).toEqual(before);
  });

  it('runs optimizes one at a time in the order asked: a raw rebuild asked during a learning one wins', async () => {
    const learning = catalogSearch.optimize({ whitening: config.whitening });
    const raw = catalogSearch.optimize({ whitening: false });
    expect((await learning).transform).toMatch(/^whiten-/);
    expect((await raw).transform).toBe('identity');
    expect(catalogSearch.transformId).toBe('identity');
    expect(catalogSearch.catalog.storedTransform()).toBeUndefined();
  });

  it('runs one optimize at a time with at most one waiting: five like requests cost two runs, an unlike one waiting is 409', async () => {
    const asks = Array.from({ length: 5 }, () => catalogSearch.optimize({ whitening: config.whitening }));
    // The first runs; the second waits; the third to fifth share the waiting one's result.
    const conflict = await request(`${url}/v1/index/optimize?whitening=false`, { method: 'POST' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('OPTIMIZE_CONFLICT');
    const results = await Promise.all(asks);
    expect(results[0]).not.toBe(results[1]);
    for (const shared of results.slice(2)) expect(shared).toBe(results[1]);
    expect(results.every((result) => /^whiten-/.test(result.transform))).toBe(true);
    // Nothing runs now: the next request runs at once.
    expect((await request(`${url}/v1/index/optimize?whitening=false`, { method: 'POST' })).body.transform).toBe('identity');
  }, 180_000);

  it('keeps answering searches and /healthz from the current indexes while a rebuild runs on its worker thread', async () => {
    const transform = (await catalogSearch.optimize({ whitening: config.whitening })).transform;
    expect(transform).toMatch(/^whiten-/);
    // Back to raw vectors: no learning, so all the time goes to the rebuild.
    const rebuilding = request(`${url}/v1/index/optimize?whitening=false`, { method: 'POST' });
    // Both answer while the rebuild has not finished: the build is not on this thread.
    const [health, search] = await Promise.all([request(`${url}/healthz`), postImage(`${url}/v1/search?k=3&index=hnsw`, queries[0]!.path)]);
    expect(catalogSearch.transformId).toBe(transform); // still the indexes from before the rebuild
    expect(health.status).toBe(200);
    expect(search.status).toBe(200);
    expect(search.body.objects[0].matches.length).toBeGreaterThan(0);
    expect((await rebuilding).body.transform).toBe('identity');
    expect(catalogSearch.transformId).toBe('identity');
  });

  it('rebuilds from raw vectors with ?whitening=false, and refuses a malformed flag', async () => {
    const raw = await request(`${url}/v1/index/optimize?whitening=false`, { method: 'POST' });
    expect(raw.status).toBe(200);
    expect(raw.body).toMatchObject({ transform: 'identity', whitening: null });
    const bad = await request(`${url}/v1/index/optimize?whitening=maybe`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_FIELD');
  });
});

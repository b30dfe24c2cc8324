/**
 * The real service (createApp + listen on a random port, real models, real SQLite, real indexes),
 * driven over HTTP with fetch on grocery catalog photos and store photos. Cases do not depend on
 * each other's order: the shared catalog is filled once and no case changes its products; a case
 * that adds or deletes products gets a service of its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../src/core/errors.js';
import { loadConfig } from '../src/config/load.js';
import { CatalogSearch, MIN_PRODUCTS_FOR_WHITENING } from '../src/pipeline/catalog-search.js';
import { createExtractor, type Extractor } from '../src/pipeline/extractor.js';
import { createApp } from '../src/service/app.js';
import { createLogger } from '../src/service/log.js';
import { ServiceMetrics } from '../src/service/metrics.js';
import { GROCERY_DIR, iconicImages } from '../benchmarks/lib/grocery.js';
import { form, postImage, request } from './support/http.js';
import { debianTool } from './support/debian-tools.js';

/** A spread of fruit, vegetables and packages; the store photo below shows the first one. */
const PRODUCTS = [
  'Brown-Cap-Mushroom',
  'Banana',
  'Pineapple',
  'Cabbage',
  'Satsumas',
  'Kiwi',
  'Granny-Smith',
  'Golden-Delicious',
  'Asparagus',
  'Red-Bell-Pepper',
  'Bravo-Apple-Juice',
  'Oatly-Oat-Milk',
];
const QUERY = join(GROCERY_DIR, 'val/Vegetables/Brown-Cap-Mushroom/Brown-Cap-Mushroom_002.jpg');
const QUERY_PRODUCT = 'Brown-Cap-Mushroom';

const config = loadConfig({ env: {} });
const log = createLogger('error');
const promtool = debianTool('promtool', 'prometheus');
let extractor: Extractor;
const cleanups: Array<() => Promise<void> | void> = [];

interface TestService {
  url: string;
  catalogSearch: CatalogSearch;
}

/** Opens a catalog in a fresh DATA_DIR and stores `products` (their iconic photos) in it directly, not over HTTP. */
async function openCatalog(products: readonly string[] = []): Promise<CatalogSearch> {
  const dataDir = mkdtempSync(join(tmpdir(), 'findthis-service-'));
  const catalogSearch = await CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
  cleanups.push(async () => {
    await catalogSearch.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const iconic = iconicImages();
  for (const [rank, name] of products.entries()) {
    await catalogSearch.ingest(name, readFileSync(iconic.get(name) as string), { name, rank });
  }
  return catalogSearch;
}

/** A server over `catalogSearch` (none: still loading) on a random port, with its own metrics. */
async function serve(
  catalogSearch: CatalogSearch | undefined,
  options: { queueConcurrency?: number; maxQueueLength?: number } = {},
): Promise<{ url: string; metrics: ServiceMetrics }> {
  const metrics = new ServiceMetrics(new Registry());
  const service = createApp({
    server: {
      uploadLimitBytes: config.server.uploadLimitBytes,
      queueConcurrency: options.queueConcurrency ?? config.server.queueConcurrency,
      maxQueueLength: options.maxQueueLength ?? config.server.maxQueueLength,
    },
    search: config.search,
    metrics,
    log,
    ...(catalogSearch ? { catalogSearch } : {}),
  });
  const server: Server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  cleanups.push(() => void server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, metrics };
}

/** A service of its own over a fresh catalog holding `products`, for a case that changes the catalog. */
async function serviceWith(products: readonly string[] = []): Promise<TestService> {
  const catalogSearch = await openCatalog(products);
  return { ...(await serve(catalogSearch)), catalogSearch };
}

/**
 * The shared service: PRODUCTS, one iconic photo each, and a store photo of the banana as its second
 * image (so that optimize has a product photographed twice). No case adds or deletes products here.
 */
const SECOND_BANANA = join(GROCERY_DIR, 'train/Fruit/Banana/Banana_001.jpg');
let url: string;
let catalogSearch: CatalogSearch;

beforeAll(async () => {
  extractor = await createExtractor(config.extractor);
  ({ url, catalogSearch } = await serviceWith(PRODUCTS));
  await catalogSearch.ingest('Banana', readFileSync(SECOND_BANANA));
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await extractor?.close();
});

async function healthy(): Promise<void> {
  const health = await request(`${url}/healthz`);
  expect(health.status).toBe(200);
  expect(health.body).toEqual({ status: 'ok' });
}

function matchIds(object: { matches: Array<{ productId: string }> }): string[] {
  return object.matches.map((match) => match.productId);
}

describe('the search service over HTTP', () => {
  it('answers /healthz with 200 ok once loaded', async () => {
    await healthy();
  });

  it('adds catalog photos as products: 201 with the whole image as the first object', async () => {
    const own = await serviceWith();
    const iconic = iconicImages();
    const added = PRODUCTS.slice(0, 4);
    for (const [n, name] of added.entries()) {
      const path = iconic.get(name) as string;
      const metadata = JSON.stringify({ name, rank: n });
      const answer = await postImage(`${own.url}/v1/products`, path, { id: name, metadata });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body.id).toBe(name);
      expect(Number.isInteger(answer.body.imageId)).toBe(true);
      const [whole, ...detections] = answer.body.objects;
      expect(whole.label).toBe('image');
      expect(whole.bbox[0]).toBe(0);
      expect(whole.bbox[1]).toBe(0);
      for (const object of detections) {
        expect(object.bbox).toHaveLength(4);
        expect(object.score).toBeGreaterThan(0);
      }
    }
    expect(own.catalogSearch.size().products).toBe(added.length);
    const stored = await request(`${own.url}/v1/products/${added[1]}`);
    expect(stored.body.metadata).toEqual({ name: added[1], rank: 1 });
  });

  it('returns a product with its metadata, images and objects', async () => {
    const answer = await request(`${url}/v1/products/Banana`);
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe('Banana');
    expect(answer.body.metadata).toEqual({ name: 'Banana', rank: 1 });
    expect(answer.body.images).toHaveLength(2);
    expect(answer.body.objects[0].label).toBe('image');
    expect(answer.body.objects[0].imageId).toBe(answer.body.images[0].id);
  });

  it('adds a second image to an existing product without creating another', async () => {
    const own = await serviceWith(['Kiwi', 'Banana']);
    const answer = await postImage(`${own.url}/v1/products`, SECOND_BANANA, { id: 'Banana' });
    expect(answer.status).toBe(201);
    const product = await request(`${own.url}/v1/products/Banana`);
    expect(product.body.images).toHaveLength(2);
    expect(product.body.metadata).toEqual({ name: 'Banana', rank: 1 });
    expect(own.catalogSearch.size().products).toBe(2);
  });

  it.each(['lsh', 'hnsw', 'exact'])('finds the product of a store photo in the top 5 with index=%s', async (index) => {
    const answer = await postImage(`${url}/v1/search?k=5&index=${index}`, QUERY);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [whole] = answer.body.objects;
    expect(whole.label).toBe('image');
    expect(whole.index).toBe(index);
    expect(typeof whole.fallback).toBe('boolean');
    const ids = matchIds(whole);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5); // distinct products
    expect(ids.slice(0, 5)).toContain(QUERY_PRODUCT);
    const scores = whole.matches.map((match: { score: number }) => match.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const hit = whole.matches.find((match: { productId: string }) => match.productId === QUERY_PRODUCT);
    expect(hit.metadata).toEqual({ name: QUERY_PRODUCT, rank: 0 });
    expect(hit.bbox).toHaveLength(4);
    for (const key of ['decodeMs', 'detectMs', 'embedMs', 'searchMs', 'totalMs']) {
      expect(answer.body.timings[key]).toBeGreaterThanOrEqual(0);
    }
    expect(answer.body.timings.totalMs).toBeGreaterThanOrEqual(answer.body.timings.searchMs);
  });

  it('drops matches below minScore', async () => {
    const all = await postImage(`${url}/v1/search?k=12&index=exact`, QUERY);
    const scores: number[] = all.body.objects[0].matches.map((m: { score: number }) => m.score);
    const cut = ((scores[1] as number) + (scores[2] as number)) / 2;
    const some = await postImage(`${url}/v1/search?k=12&index=exact&minScore=${cut}`, QUERY);
    expect(some.body.objects[0].matches).toHaveLength(2);
  });

  it('reports how far LSH top-k overlaps HNSW and exact with compare=true', async () => {
    const answer = await postImage(`${url}/v1/search?k=5&compare=true`, QUERY);
    expect(answer.status).toBe(200);
    for (const object of answer.body.objects) {
      expect(object.overlap.hnsw).toBeGreaterThanOrEqual(0);
      expect(object.overlap.hnsw).toBeLessThanOrEqual(1);
      expect(object.overlap.exact).toBeGreaterThanOrEqual(0);
      expect(object.overlap.exact).toBeLessThanOrEqual(1);
    }
    // The overlap is LSH's top-k products against the exact top-k, as separate searches give them.
    const lsh = matchIds((await postImage(`${url}/v1/search?k=5&index=lsh`, QUERY)).body.objects[0]);
    const exact = matchIds((await postImage(`${url}/v1/search?k=5&index=exact`, QUERY)).body.objects[0]);
    expect(answer.body.objects[0].overlap.exact).toBeCloseTo(lsh.filter((id) => exact.includes(id)).length / exact.length, 10);
    const plain = await postImage(`${url}/v1/search?k=5`, QUERY);
    expect(plain.body.objects[0].overlap).toBeUndefined();
  });

  it('rebuilds the indexes from raw vectors with POST /v1/index/optimize?whitening=false and answers the same', async () => {
    const before = await postImage(`${url}/v1/search?k=5&index=hnsw`, QUERY);
    const answer = await request(`${url}/v1/index/optimize?whitening=false`, { method: 'POST' });
    expect(answer.status).toBe(200);
    const counts = catalogSearch.catalog.counts();
    expect(answer.body).toMatchObject({
      products: counts.products,
      images: counts.images,
      vectors: counts.objects,
      indexed: { lsh: counts.images, hnsw: counts.images, exact: counts.images },
      transform: 'identity',
      whitening: null,
    });
    const after = await postImage(`${url}/v1/search?k=5&index=hnsw`, QUERY);
    expect(matchIds(after.body.objects[0])).toEqual(matchIds(before.body.objects[0]));
  });

  it('keeps a catalog of too few products raw on POST /v1/index/optimize (whitening: see optimize.test.ts), keeps serving, and can go back', async () => {
    const answer = await request(`${url}/v1/index/optimize`, { method: 'POST' });
    expect(answer.status).toBe(200);
    expect(answer.body.transform).toBe('identity');
    expect(answer.body.whitening).toBeNull();
    expect(answer.body.skipped).toMatch(new RegExp(`at least ${MIN_PRODUCTS_FOR_WHITENING} products to tell apart, but got ${PRODUCTS.length}`));
    const search = await postImage(`${url}/v1/search?k=5&index=exact`, QUERY);
    expect(search.status).toBe(200);
    expect(matchIds(search.body.objects[0])).toHaveLength(5);
    expect((await request(`${url}/v1/index/optimize?whitening=maybe`, { method: 'POST' })).status).toBe(400);
    const raw = await request(`${url}/v1/index/optimize?whitening=false`, { method: 'POST' });
    expect(raw.body.transform).toBe('identity');
  });

  describe('bad input gets its status and the service keeps answering', () => {
    const jpeg = readFileSync(QUERY);
    const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, string]> = [
      ['no file', () => request(`${url}/v1/search`, { method: 'POST', body: form({}) }), 400, 'MISSING_FILE'],
      ['no body at all', () => request(`${url}/v1/search`, { method: 'POST' }), 400, 'MISSING_FILE'],
      [
        'a text file',
        () => request(`${url}/v1/search`, { method: 'POST', body: form({}, { bytes: Buffer.from('just some words\n'), name: 'notes.txt', type: 'text/plain' }) }),
        415,
        'INVALID_IMAGE',
      ],
      ['a truncated JPEG', () => postImage(`${url}/v1/search`, jpeg.subarray(0, Math.floor(jpeg.length / 2))), 415, 'INVALID_IMAGE'],
      ['an empty file', () => postImage(`${url}/v1/search`, new Uint8Array(0)), 400, 'EMPTY_IMAGE'],
      ['a 25 MB file', () => postImage(`${url}/v1/search`, Buffer.concat([jpeg, Buffer.alloc(25 * 1024 * 1024)])), 413, 'FILE_TOO_LARGE'],
      ['a bad id ../x', () => postImage(`${url}/v1/products`, QUERY, { id: '../x' }), 400, 'INVALID_FIELD'],
      ['a missing id', () => postImage(`${url}/v1/products`, QUERY), 400, 'INVALID_FIELD'],
      ['an id of 129 characters', () => postImage(`${url}/v1/products`, QUERY, { id: 'a'.repeat(129) }), 400, 'INVALID_FIELD'],
      ['bad metadata JSON', () => postImage(`${url}/v1/products`, QUERY, { id: 'x1', metadata: '{"name": ' }), 400, 'INVALID_FIELD'],
      ['metadata that is not an object', () => postImage(`${url}/v1/products`, QUERY, { id: 'x1', metadata: '[1,2]' }), 400, 'INVALID_FIELD'],
      ['k=0', () => postImage(`${url}/v1/search?k=0`, QUERY), 400, 'INVALID_FIELD'],
      ['k=10000', () => postImage(`${url}/v1/search?k=10000`, QUERY), 400, 'INVALID_FIELD'],
      ['k=2.5', () => postImage(`${url}/v1/search?k=2.5`, QUERY), 400, 'INVALID_FIELD'],
      ['index=foo', () => postImage(`${url}/v1/search?index=foo`, QUERY), 400, 'INVALID_FIELD'],
      ['minScore=2', () => postImage(`${url}/v1/search?minScore=2`, QUERY), 400, 'INVALID_FIELD'],
      ['an unknown query parameter', () => postImage(`${url}/v1/search?kk=3`, QUERY), 400, 'INVALID_FIELD'],
      ['the file in another field', () => request(`${url}/v1/search`, { method: 'POST', body: (() => { const f = form({}); f.append('photo', new Blob([jpeg]), 'a.jpg'); return f; })() }), 400, 'INVALID_FIELD'],
      ['an unknown product', () => request(`${url}/v1/products/Nope`), 404, 'NOT_FOUND'],
      ['deleting an unknown product', () => request(`${url}/v1/products/Nope`, { method: 'DELETE' }), 404, 'NOT_FOUND'],
      ['an unknown route', () => request(`${url}/v2/whatever`), 404, 'NOT_FOUND'],
      ['a malformed escape in the path', () => request(`${url}/v1/products/%ZZ`), 400, 'INVALID_FIELD'],
    ];
    it.each(cases)('%s', async (_name, send, status, code) => {
      const answer = await send();
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expect(ERRORS[code as keyof typeof ERRORS].status).toBe(status);
      expect(answer.body.error.message.length).toBeGreaterThan(10);
      await healthy();
    });

    it('names the field, what was expected and what came', async () => {
      const answer = await postImage(`${url}/v1/search?k=0`, QUERY);
      expect(answer.body.error.message).toBe('Expected an integer in 1..100 for k, but got "0"');
      const id = await postImage(`${url}/v1/products`, QUERY, { id: '../x' });
      expect(id.body.error.message).toBe('Expected 1–128 characters of A–Z a–z 0–9 . _ : - for id, but got "../x"');
    });
  });

  it('leaves nothing behind when an ingest fails halfway (a bad image for a new product)', async () => {
    const before = catalogSearch.catalog.counts();
    const jpeg = readFileSync(QUERY);
    const answer = await postImage(`${url}/v1/products`, jpeg.subarray(0, 2000), { id: 'Never-Stored', metadata: '{"a":1}' });
    expect(answer.status).toBe(415);
    expect((await request(`${url}/v1/products/Never-Stored`)).status).toBe(404);
    expect(catalogSearch.catalog.counts()).toEqual(before);
  });

  it('deletes a product: 204, then gone from the catalog and from every index', async () => {
    const own = await serviceWith(PRODUCTS);
    const answer = await request(`${own.url}/v1/products/${QUERY_PRODUCT}`, { method: 'DELETE' });
    expect(answer.status).toBe(204);
    expect((await request(`${own.url}/v1/products/${QUERY_PRODUCT}`)).status).toBe(404);
    for (const index of ['lsh', 'hnsw', 'exact']) {
      const search = await postImage(`${own.url}/v1/search?k=20&index=${index}`, QUERY);
      expect(search.status).toBe(200);
      for (const object of search.body.objects) expect(matchIds(object)).not.toContain(QUERY_PRODUCT);
      // every remaining product is still found, once each
      expect(matchIds(search.body.objects[0]).sort()).toEqual(PRODUCTS.filter((p) => p !== QUERY_PRODUCT).sort());
    }
  });

  it('answers 503 OVERLOADED when the work queue is full, and keeps serving', async () => {
    const { url: small, metrics: smallMetrics } = await serve(catalogSearch, { queueConcurrency: 1, maxQueueLength: 0 });
    const jpeg = readFileSync(QUERY);
    const answers = await Promise.all(Array.from({ length: 6 }, () => postImage(`${small}/v1/search?k=3`, jpeg)));
    const statuses = answers.map((a) => a.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    for (const a of answers.filter((x) => x.status === 503)) expect(a.body.error.code).toBe('OVERLOADED');
    expect((await smallMetrics.queueRejections.get()).values[0]?.value).toBe(statuses.filter((s) => s === 503).length);
    expect((await postImage(`${small}/v1/search?k=3`, jpeg)).status).toBe(200);
    expect((await request(`${small}/healthz`)).status).toBe(200);
  });

  it('answers 503 NOT_READY on /healthz and the API until loaded, while /metrics works', async () => {
    const { url: loading } = await serve(undefined);
    const health = await request(`${loading}/healthz`);
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: 'loading' });
    const search = await postImage(`${loading}/v1/search`, QUERY);
    expect(search.status).toBe(503);
    expect(search.body.error.code).toBe('NOT_READY');
    expect((await request(`${loading}/metrics`)).status).toBe(200);
  });

  it('exports the Prometheus metrics the dashboard and rules use', async () => {
    // The requests whose series are checked below, so that the case does not rely on earlier ones.
    for (const index of ['lsh', 'hnsw', 'exact']) expect((await postImage(`${url}/v1/search?k=3&index=${index}`, QUERY)).status).toBe(200);
    expect((await postImage(`${url}/v1/search`, Buffer.from('not an image at all'))).status).toBe(415);
    const answer = await request(`${url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    const text = answer.body as string;
    for (const line of [
      'findthis_http_requests_total{method="POST",route="/v1/search",status="200"}',
      'findthis_http_requests_total{method="POST",route="/v1/search",status="415"}',
      'findthis_http_request_duration_seconds_bucket{le="0.04",method="POST",route="/v1/search",status="200"}',
      'findthis_stage_duration_seconds_count{stage="decode"}',
      'findthis_stage_duration_seconds_count{stage="detect"}',
      'findthis_stage_duration_seconds_count{stage="embed"}',
      'findthis_search_duration_seconds_count{index="lsh"}',
      'findthis_search_duration_seconds_count{index="hnsw"}',
      'findthis_search_duration_seconds_count{index="exact"}',
      'findthis_objects_per_image_count',
      'findthis_lsh_candidates_scored_count',
      'findthis_lsh_candidates_found_count',
      'findthis_lsh_fallbacks_total',
      `findthis_catalog_products ${catalogSearch.size().products}`,
      `findthis_catalog_vectors ${catalogSearch.size().vectors}`,
      'findthis_queue_depth{state="running"} 0',
      'findthis_queue_rejections_total 0',
      'findthis_budget_exceeded_total 0',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(line);
    }
  });

  promtool.it('exports metrics that promtool accepts', async () => {
    const text = (await request(`${url}/metrics`)).body as string;
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (check.error) throw new Error(`promtool is required under CI (Debian package "prometheus"): ${check.error.message}`);
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });
});

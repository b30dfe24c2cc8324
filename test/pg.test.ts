/**
 * Stateless replicas: two service instances (each its own express app and PgCatalogSearch, real
 * models) on one PostgreSQL, started with `npm run db:start` (PGlite + pgvector over the wire
 * protocol) on a free port. What one replica writes, the other serves at once; an optimize through
 * one changes the vector space of both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iconicImages } from '../benchmarks/lib/grocery.js';
import { loadConfig } from '../src/config/load.js';
import type { LabelledVector } from '../src/embedding/whitening.js';
import { SeededRandom } from '../src/core/prng.js';
import { createExtractor, type Extractor } from '../src/pipeline/extractor.js';
import { createApp } from '../src/service/app.js';
import { createLogger } from '../src/service/log.js';
import { ServiceMetrics } from '../src/service/metrics.js';
import { PgCatalogSearch } from '../src/storage/pg/pg-catalog-search.js';
import { form, postImage, request } from './support/http.js';

const PRODUCTS = ['Banana', 'Pineapple', 'Kiwi', 'Oatly-Oat-Milk'];
const config = loadConfig({ env: {} });
const iconic = iconicImages();
const photo = (name: string): string => iconic.get(name) as string;

let engine: ChildProcess;
let databaseUrl: string;
let extractor: Extractor;
const replicas: { url: string; catalog: PgCatalogSearch; server: Server }[] = [];
const servers: { server: Server }[] = [];

/** `npm run db:start -- --port 0` (without npm, so that SIGTERM reaches it): resolves with the URL it prints. */
function startEngine(): Promise<string> {
  engine = spawn(process.execPath, ['--import', 'tsx', 'src/cli/db-start.ts', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    engine.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    engine.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    engine.once('exit', (code) => reject(new Error(`db:start exited with ${code}: ${err}`)));
  });
}

async function replica(): Promise<(typeof replicas)[number]> {
  const catalog = await PgCatalogSearch.open(extractor, { url: databaseUrl, index: config.index, candidateFactor: config.search.candidateFactor });
  const service = createApp({ server: config.server, search: config.search, metrics: new ServiceMetrics(new Registry(), { defaultMetrics: false }), log: createLogger('error'), catalogSearch: catalog });
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, catalog, server };
}

async function search(url: string, name: string, query = ''): Promise<{ productId: string; score: number }[]> {
  const answer = await postImage(`${url}/v1/search?k=3${query}`, photo(name));
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.objects[0].matches;
}

beforeAll(async () => {
  [databaseUrl, extractor] = await Promise.all([startEngine(), createExtractor(config.extractor)]);
  replicas.push(await replica(), await replica());
  servers.push(...replicas);
});

afterAll(async () => {
  for (const { server } of servers) server.close();
  for (const { catalog } of replicas) await catalog.close();
  await extractor?.close();
  if (engine && engine.exitCode === null) engine.kill('SIGKILL');
});

describe('two replicas on one PostgreSQL', () => {
  it('serve at once what the other added, and forget at once what the other deleted', async () => {
    const [a, b] = replicas as [(typeof replicas)[number], (typeof replicas)[number]];
    for (const name of PRODUCTS.slice(0, 3)) {
      const added = await postImage(`${a.url}/v1/products`, photo(name), { id: name, metadata: JSON.stringify({ name }) });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
    }
    expect((await search(b.url, 'Pineapple'))[0]?.productId).toBe('Pineapple');
    expect((await request(`${b.url}/v1/products/Kiwi`)).body.metadata).toEqual({ name: 'Kiwi' });

    expect((await request(`${b.url}/v1/products/Pineapple`, { method: 'DELETE' })).status).toBe(204);
    expect((await request(`${a.url}/v1/products/Pineapple`)).status).toBe(404);
    for (const index of ['lsh', 'hnsw', 'exact']) {
      expect((await search(a.url, 'Pineapple', `&index=${index}`)).map((m) => m.productId)).not.toContain('Pineapple');
    }
  });

  it('optimize through one replica changes the vector space of both, and LSH, HNSW and exact still agree', async () => {
    const [a, b] = replicas as [(typeof replicas)[number], (typeof replicas)[number]];
    // The catalog is too small to learn from: extra labelled samples (17 groups of two) make a valid,
    // if meaningless, whitening to 8 dimensions.
    const random = new SeededRandom(11);
    const samples: LabelledVector[] = [];
    for (let group = 0; group < 17; group++) {
      for (let i = 0; i < 2; i++) samples.push({ group: `g${group}`, vector: unitVector(extractor.encoder.dim, random) });
    }
    const result = await a.catalog.optimize({ whitening: { dimensions: 8, shrinkage: 0.1 }, samples });
    expect(result.transform).toMatch(/^whiten-8-/);
    expect(result.indexed.hnsw).toBe(result.images); // whole photos only, as embedded
    // One photo per product shows no right answer to learn "no match" from: answers stay unjudged.
    expect(result.acceptance).toEqual({ skipped: expect.stringMatching(/more than one photo.*every match is accepted/) });
    expect((await b.catalog.store.refresh()).transform.id).toBe(result.transform);

    // B's queries are whitened as the stored vectors now are: a catalog photo finds itself (cosine ≈ 1).
    const answer = await postImage(`${b.url}/v1/search?k=2&compare=true`, photo('Kiwi'));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [whole] = answer.body.objects;
    expect(answer.body.judged).toBe(false);
    expect(whole.matches[0]).toMatchObject({ productId: 'Kiwi', accepted: true, confidence: null });
    expect(whole.matches[0].score).toBeGreaterThan(0.999);
    expect(whole.overlap).toEqual({ hnsw: 1, exact: 1 });

    // Written through B in the new space, found through A.
    expect((await postImage(`${b.url}/v1/products`, photo('Oatly-Oat-Milk'), { id: 'Oatly-Oat-Milk' })).status).toBe(201);
    expect((await search(a.url, 'Oatly-Oat-Milk', '&index=exact'))[0]?.productId).toBe('Oatly-Oat-Milk');
  });

  it('answers an ingest retried through the other replica with its Idempotency-Key, storing it once', async () => {
    const [a, b] = replicas as [(typeof replicas)[number], (typeof replicas)[number]];
    const ingest = (url: string, name: string) =>
      request(`${url}/v1/products`, { method: 'POST', body: form({ id: 'Kiwi' }, { bytes: readFileSync(photo(name)), name: `${name}.jpg` }), headers: { 'Idempotency-Key': 'kiwi-second-photo' } });
    const imagesBefore = (await request(`${b.url}/v1/products/Kiwi`)).body.images.length;
    const first = await ingest(a.url, 'Kiwi');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const retry = await ingest(b.url, 'Kiwi');
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect((await request(`${a.url}/v1/products/Kiwi`)).body.images).toHaveLength(imagesBefore + 1);
    // The same key with another photo is refused, and stores nothing.
    const other = await ingest(b.url, 'Banana');
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    expect((await request(`${a.url}/v1/products/Kiwi`)).body.images).toHaveLength(imagesBefore + 1);
  });

  it('runs one optimize at a time with at most one waiting: five like requests cost two runs, an unlike one waiting is 409', async () => {
    const [a, b] = replicas as [(typeof replicas)[number], (typeof replicas)[number]];
    const before = (await a.catalog.store.refresh()).version;
    const asks = Array.from({ length: 5 }, () => a.catalog.optimize({ whitening: false }));
    // The first runs; the second waits; the third to fifth share the waiting one's result; another ask is refused.
    await expect(a.catalog.optimize({ whitening: config.whitening })).rejects.toMatchObject({ code: 'OPTIMIZE_CONFLICT' });
    const results = await Promise.all(asks);
    expect(results[0]).not.toBe(results[1]);
    for (const shared of results.slice(2)) expect(shared).toBe(results[1]);
    expect(results.every((result) => result.transform === 'identity')).toBe(true);
    // Each run bumps the version once: two runs, seen by the other replica too.
    expect((await b.catalog.store.refresh()).version).toBe(before + 2);
  });

  it('a search that read the search state just before the other replica\'s optimize swapped answers from the new tables', async () => {
    const [a, b] = replicas as [(typeof replicas)[number], (typeof replicas)[number]];
    const store = a.catalog.store;
    const before = (await store.refresh()).version;
    // The interleaving: A's search has read its snapshot and extracted; before its first neighbour
    // query, B's optimize swaps (and drops the tables A's snapshot names).
    const nearest = store.nearest.bind(store);
    let swapped = false;
    store.nearest = async (...args) => {
      if (!swapped) {
        swapped = true;
        await b.catalog.optimize({ whitening: false });
      }
      return nearest(...args);
    };
    try {
      const answer = await postImage(`${a.url}/v1/search?k=3`, photo('Kiwi'));
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.objects[0].matches[0].productId).toBe('Kiwi');
    } finally {
      store.nearest = nearest;
    }
    expect(swapped).toBe(true);
    expect((await store.refresh()).version).toBe(before + 1);
  });

  it('db:start closes the database cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => engine.once('exit', resolve));
    for (const { catalog } of replicas.splice(0)) await catalog.close();
    engine.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

function unitVector(dim: number, random: SeededRandom): Float32Array {
  const vector = Float32Array.from({ length: dim }, () => Math.abs(random.gaussian()));
  const norm = Math.hypot(...vector);
  return vector.map((x) => x / norm);
}

/**
 * kill -9 of a live service at three moments (ingests in flight, optimize learning whitening, optimize
 * building its indexes), each followed by a restart on the same DATA_DIR: the kernel-held lock never
 * blocks it, an interrupted optimize's indexes.next/ is cleaned and said so, index rebuilds are logged,
 * retried ingests with their Idempotency-Key store nothing twice, and at the end every acknowledged
 * image is found by every index and the deleted product by none.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { CatalogSearch, MIN_PRODUCTS_FOR_WHITENING } from '../src/pipeline/catalog-search.js';
import { createExtractor } from '../src/pipeline/extractor.js';
import { checkConsistency } from '../benchmarks/lib/consistency.js';
import { iconicImages, valPhotos } from '../benchmarks/lib/grocery.js';
import { form, request } from './support/http.js';
import { startService, waitReady, type RunningService } from './support/service-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'findthis-crash-'));
const children: ChildProcessWithoutNullStreams[] = [];
/** Enough products, one of them photographed twice, for optimize to learn whitening. */
const PRODUCTS = [...iconicImages()].slice(0, MIN_PRODUCTS_FOR_WHITENING + 1);
const [FIRST_NAME] = PRODUCTS[0]!;
const SECOND_PHOTO = valPhotos().find(([, product]) => product === FIRST_NAME)![0];
/** Every ingest: product, photo, its Idempotency-Key. */
const INGESTS = [...PRODUCTS.map(([name, path]) => ({ name, path, key: `crash-${name}` })), { name: FIRST_NAME, path: SECOND_PHOTO, key: `crash-${FIRST_NAME}-2` }];
/** product → image ids acknowledged with 201. */
const acknowledged = new Map<string, Set<number>>();

async function start(): Promise<RunningService> {
  const running = await startService(dataDir);
  children.push(running.child);
  await waitReady(running.url);
  return running;
}

/** The service's log, once it shows `pattern` (its stdout may arrive after /healthz answers); fails after 10 s. */
async function logShows(running: RunningService, pattern: RegExp | string): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (typeof pattern === 'string' ? running.log().includes(pattern) : pattern.test(running.log())) return;
    await sleep(50);
  }
  expect(running.log()).toMatch(pattern);
}

async function kill(running: RunningService): Promise<void> {
  running.child.kill('SIGKILL');
  await running.exited;
}

async function ingest(url: string, { name, path, key }: (typeof INGESTS)[number]) {
  const body = form({ id: name }, { bytes: readFileSync(path), name: 'photo.jpg' });
  const answer = await request(`${url}/v1/products`, { method: 'POST', body, headers: { 'Idempotency-Key': key } });
  if (answer.status === 201) {
    if (!acknowledged.has(name)) acknowledged.set(name, new Set());
    acknowledged.get(name)!.add(answer.body.imageId);
  }
  return answer;
}

/** Every acknowledged image is in its product; the deleted product is gone. */
async function expectAcknowledged(url: string, deleted?: string): Promise<void> {
  for (const [name, imageIds] of acknowledged) {
    if (name === deleted) continue;
    const product = await request(`${url}/v1/products/${name}`);
    expect(product.status, name).toBe(200);
    const stored = product.body.images.map((image: { id: number }) => image.id);
    for (const imageId of imageIds) expect(stored).toContain(imageId);
  }
  if (deleted) expect((await request(`${url}/v1/products/${deleted}`)).status).toBe(404);
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 at three moments', () => {
  it('keeps every acknowledged write, stores retried ones once, and restarts clean each time', async () => {
    // 1. Ingests in flight: the last seven go at once, and the service dies after three are answered.
    const first = await start();
    for (const item of INGESTS.slice(0, -7)) expect((await ingest(first.url, item)).status).toBe(201);
    let answered = 0;
    const inFlight = INGESTS.slice(-7).map((item) => ingest(first.url, item).then((answer) => (answered += 1, answer), () => undefined));
    while (answered < 3) await sleep(5);
    await kill(first);
    await Promise.all(inFlight);

    // The restart is not blocked by the dead holder's lock; the unsaved indexes are rebuilt, and logged.
    const second = await start();
    await logShows(second, /start-up: rebuilt the lsh and hnsw indexes from \d+ stored vectors in \d+ ms/);
    await expectAcknowledged(second.url);
    // Retries with the same keys: acknowledged ones are replayed, lost ones stored now; nothing twice.
    const before = new Map([...acknowledged].map(([name, ids]) => [name, new Set(ids)]));
    for (const item of INGESTS.slice(-7)) {
      const retry = await ingest(second.url, item);
      expect(retry.status).toBe(201);
      if (before.get(item.name)?.has(retry.body.imageId)) expect(retry.headers.get('idempotent-replayed')).toBe('true');
    }
    for (const [name] of PRODUCTS) {
      const { body } = await request(`${second.url}/v1/products/${name}`);
      expect(body.images.length, name).toBe(name === FIRST_NAME ? 2 : 1);
    }
    const reused = await ingest(second.url, { ...INGESTS[1]!, key: INGESTS[0]!.key });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_CONFLICT');

    // 2. Optimize learning whitening (seconds of work on its thread): killed before it builds anything.
    const [deleted] = PRODUCTS.at(-1)!;
    expect((await request(`${second.url}/v1/products/${deleted}`, { method: 'DELETE' })).status).toBe(204);
    void request(`${second.url}/v1/index/optimize`, { method: 'POST' }).catch(() => undefined);
    await sleep(300);
    expect(existsSync(join(dataDir, 'indexes.next'))).toBe(false);
    await kill(second);

    // 3. Optimize building its indexes: killed once indexes.next/ exists (a few tries: the build is short).
    const third = await start();
    await expectAcknowledged(third.url, deleted);
    let caught = false;
    for (let attempt = 0; attempt < 8 && !caught; attempt += 1) {
      let done = false;
      void request(`${third.url}/v1/index/optimize?whitening=false`, { method: 'POST' }).then(() => (done = true), () => (done = true));
      while (!done && !caught) {
        caught = existsSync(join(dataDir, 'indexes.next'));
        if (!caught) await sleep(1);
      }
    }
    await kill(third);

    const fourth = await start();
    expect(existsSync(join(dataDir, 'indexes.next'))).toBe(false);
    if (caught) await logShows(fourth, 'left by an interrupted optimize');
    await expectAcknowledged(fourth.url, deleted);
    fourth.child.kill('SIGTERM');
    expect(await fourth.exited).toBe(0);

    // Every acknowledged image is found by every index through its own stored vector; the deleted product by none.
    const config = loadConfig({ env: {} });
    const extractor = await createExtractor(config.extractor);
    const catalogSearch = await CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
    try {
      const live = new Map([...acknowledged].filter(([name]) => name !== deleted));
      const report = await checkConsistency(catalogSearch, live, new Set([deleted]));
      expect(report.problems).toEqual([]);
      expect(report.images).toBe(INGESTS.length - 1);
    } finally {
      await catalogSearch.close();
      await extractor.close();
    }
  }, 240_000);
});

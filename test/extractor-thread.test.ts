import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROCERY_DIR } from '../benchmarks/lib/grocery.js';
import { FindthisError } from '../src/core/errors.js';
import { createExtractor, DEFAULT_EXTRACTOR_OPTIONS, type Extractor } from '../src/pipeline/extractor.js';
import { createExtractorPool } from '../src/pipeline/extractor-pool.js';
import { createExtractorThread } from '../src/pipeline/extractor-thread.js';

const PHOTO = join(GROCERY_DIR, 'val/Fruit/Banana/Banana_005.jpg');

describe('the extractor on a worker thread', () => {
  let local: Extractor;
  let threaded: Extractor;

  beforeAll(async () => {
    [local, threaded] = await Promise.all([createExtractor(DEFAULT_EXTRACTOR_OPTIONS), createExtractorThread(DEFAULT_EXTRACTOR_OPTIONS)]);
  });

  afterAll(async () => {
    await local?.close();
    await threaded?.close();
  });

  it('describes the same encoder and gives the same objects and vectors as the extractor in-process', async () => {
    expect(threaded.encoder).toEqual(local.encoder);
    expect(threaded.classNames).toEqual(local.classNames);
    const image = readFileSync(PHOTO);
    const [here, there] = await Promise.all([local.extract(image), threaded.extract(image)]);
    expect(there.objects.map(({ label, bbox }) => ({ label, bbox }))).toEqual(here.objects.map(({ label, bbox }) => ({ label, bbox })));
    there.objects.forEach((object, i) => {
      expect(object.vector).toBeInstanceOf(Float32Array);
      expect(Array.from(object.vector)).toEqual(Array.from(here.objects[i]!.vector));
    });
  });

  it('leaves the caller its image buffer, and answers overlapping requests each with its own result', async () => {
    const image = readFileSync(PHOTO);
    const text = Buffer.from('not an image at all');
    const results = await Promise.allSettled([threaded.extract(image), threaded.extract(text), threaded.extract(image)]);
    expect(image.byteLength).toBeGreaterThan(0);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const error = (results[1] as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(FindthisError);
    expect(error.code).toBe('INVALID_IMAGE');
  });

  it('once closed (twice is fine), says it is unhealthy and answers NOT_READY', async () => {
    expect(threaded.isHealthy?.()).toBe(true);
    await Promise.all([threaded.close(), threaded.close()]);
    expect(threaded.isHealthy?.()).toBe(false);
    await expect(threaded.extract(readFileSync(PHOTO))).rejects.toMatchObject({ code: 'NOT_READY' });
  });

  it('refuses to start with the load error of a model that cannot be found', async () => {
    const broken = { ...DEFAULT_EXTRACTOR_OPTIONS, encoder: { ...DEFAULT_EXTRACTOR_OPTIONS.encoder, model: 'no_such_model' } };
    await expect(createExtractorThread(broken)).rejects.toThrow(/no_such_model/);
  });
});

describe('several extractor threads behind one extractor (server.extractorThreads)', () => {
  let pool: Extractor;

  beforeAll(async () => {
    pool = await createExtractorPool(2, DEFAULT_EXTRACTOR_OPTIONS);
  });

  afterAll(async () => {
    await pool?.close();
  });

  it('answers overlapping requests, spread over its threads, each with the objects one extractor gives', async () => {
    const local = await createExtractor(DEFAULT_EXTRACTOR_OPTIONS);
    try {
      const image = readFileSync(PHOTO);
      const expected = await local.extract(image);
      const results = await Promise.all([pool.extract(image), pool.extract(image, 'catalog'), pool.extract(Buffer.from('no image')).catch((e: unknown) => e), pool.extract(image)]);
      expect(results[2]).toMatchObject({ code: 'INVALID_IMAGE' });
      for (const result of [results[0], results[1], results[3]] as Awaited<ReturnType<Extractor['extract']>>[]) {
        expect(result.objects.map((o) => Array.from(o.vector))).toEqual(expected.objects.map((o) => Array.from(o.vector)));
      }
      expect(pool.encoder).toEqual(local.encoder);
    } finally {
      await local.close();
    }
  });

  it('is unhealthy once closed', async () => {
    expect(pool.isHealthy?.()).toBe(true);
    await pool.close();
    expect(pool.isHealthy?.()).toBe(false);
    await expect(pool.extract(readFileSync(PHOTO))).rejects.toMatchObject({ code: 'NOT_READY' });
  });

  it('refuses to start with the load error, closing the threads that did start', async () => {
    const broken = { ...DEFAULT_EXTRACTOR_OPTIONS, encoder: { ...DEFAULT_EXTRACTOR_OPTIONS.encoder, model: 'no_such_model' } };
    await expect(createExtractorPool(2, broken)).rejects.toThrow(/no_such_model/);
  });
});

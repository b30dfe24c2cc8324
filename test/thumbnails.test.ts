/**
 * Catalog thumbnails and the product list over HTTP, on the real service with real grocery photos:
 * ingest keeps a WebP thumbnail per image, GET /v1/images/:imageId serves it with ETag and
 * Cache-Control (304 when unchanged); a catalog written before thumbnails answers 404
 * THUMBNAIL_MISSING until `npm run thumbnails -- <dir>` fills them from the original files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { CatalogSearch } from '../src/pipeline/catalog-search.js';
import { createExtractor, type Extractor } from '../src/pipeline/extractor.js';
import { createApp } from '../src/service/app.js';
import { createLogger } from '../src/service/log.js';
import { ServiceMetrics } from '../src/service/metrics.js';
import { iconicImages } from '../benchmarks/lib/grocery.js';
import { postImage, request } from './support/http.js';

const PRODUCTS = ['Banana', 'Kiwi', 'Oatly-Oat-Milk'];
const config = loadConfig({ env: {} });
const work = mkdtempSync(join(tmpdir(), 'findthis-thumbnails-'));
const dataDir = join(work, 'data');
const originals = join(work, 'originals');
let extractor: Extractor;

interface Running {
  url: string;
  stop(): Promise<void>;
}

/** The service on dataDir, as createApp + listen on a free port. */
async function serve(): Promise<Running> {
  const catalogSearch = await CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
  const service = createApp({ server: config.server, search: config.search, metrics: new ServiceMetrics(new Registry()), log: createLogger('error'), catalogSearch });
  const server: Server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      await catalogSearch.close();
    },
  };
}

beforeAll(async () => {
  extractor = await createExtractor(config.extractor);
});

afterAll(async () => {
  await extractor?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('catalog thumbnails', () => {
  const imageIds = new Map<string, number>();
  const served = new Map<number, Buffer>();

  it('keeps a 256 px WebP per ingested image, served with ETag and Cache-Control, 304 when unchanged', async () => {
    const service = await serve();
    try {
      for (const name of PRODUCTS) {
        const added = await postImage(`${service.url}/v1/products`, iconicImages().get(name) as string, { id: name, metadata: JSON.stringify({ name: `${name} (test)` }) });
        expect(added.status, JSON.stringify(added.body)).toBe(201);
        imageIds.set(name, added.body.imageId);
      }
      for (const imageId of imageIds.values()) {
        const response = await fetch(`${service.url}/v1/images/${imageId}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('image/webp');
        expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
        const etag = response.headers.get('etag');
        expect(etag).toMatch(/^"[\w-]{27}"$/);
        const bytes = Buffer.from(await response.arrayBuffer());
        const { format, width = 0, height = 0 } = await sharp(bytes).metadata();
        expect(format).toBe('webp');
        expect(Math.max(width, height)).toBeLessThanOrEqual(256);
        expect(Math.min(width, height)).toBeGreaterThan(100); // the iconic photos are about 200-400 px: not tiny
        served.set(imageId, bytes);
        // A browser revalidating (fetch() alone would add `Cache-Control: no-cache`, which asks for the full answer).
        const again = await fetch(`${service.url}/v1/images/${imageId}`, { headers: { 'If-None-Match': etag as string, 'Cache-Control': 'max-age=0' } });
        expect(again.status).toBe(304);
        expect((await again.arrayBuffer()).byteLength).toBe(0);
      }
      const etags = await Promise.all([...imageIds.values()].map(async (id) => (await fetch(`${service.url}/v1/images/${id}`)).headers.get('etag')));
      expect(new Set(etags).size).toBe(PRODUCTS.length);
    } finally {
      await service.stop();
    }
  });

  it('answers 404 NOT_FOUND for an unknown image and 400 for a malformed id', async () => {
    const service = await serve();
    try {
      const unknown = await request(`${service.url}/v1/images/999999`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('NOT_FOUND');
      for (const bad of ['abc', '0', '1.5', '-3']) {
        const answer = await request(`${service.url}/v1/images/${bad}`);
        expect(answer.status, bad).toBe(400);
        expect(answer.body.error.code).toBe('INVALID_FIELD');
        expect(answer.body.error.message).toContain('imageId');
      }
    } finally {
      await service.stop();
    }
  });

  it('lists products a page at a time with their first image and metadata', async () => {
    const service = await serve();
    try {
      const first = await request(`${service.url}/v1/products?limit=2`);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ total: 3, offset: 0, limit: 2 });
      expect(first.body.products.map((p: { id: string }) => p.id)).toEqual(['Banana', 'Kiwi']);
      expect(first.body.products[0]).toMatchObject({ id: 'Banana', metadata: { name: 'Banana (test)' }, images: 1, imageId: imageIds.get('Banana') });
      const rest = await request(`${service.url}/v1/products?offset=2&limit=2`);
      expect(rest.body.products.map((p: { id: string }) => p.id)).toEqual(['Oatly-Oat-Milk']);
      const defaults = await request(`${service.url}/v1/products`);
      expect(defaults.body).toMatchObject({ total: 3, offset: 0, limit: 20 });
      for (const query of ['limit=0', 'limit=101', 'offset=-1', 'offset=x', 'page=2']) {
        const bad = await request(`${service.url}/v1/products?${query}`);
        expect(bad.status, query).toBe(400);
        expect(bad.body.error.code).toBe('INVALID_FIELD');
      }
    } finally {
      await service.stop();
    }
  });

  it('answers 404 THUMBNAIL_MISSING for a catalog written before thumbnails, until `npm run thumbnails` fills them', async () => {
    // What a catalog ingested before this change looks like: schema version 1, no thumbnails table.
    const db = new Database(join(dataDir, 'catalog.sqlite'));
    db.exec('DROP TABLE thumbnails');
    db.pragma('user_version = 1');
    db.close();

    const old = await serve();
    const bananaId = imageIds.get('Banana') as number;
    try {
      const missing = await request(`${old.url}/v1/images/${bananaId}`);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('THUMBNAIL_MISSING');
      expect(missing.body.error.message).toContain('npm run thumbnails -- <folder with the original images>');
      // the catalog itself still works
      expect((await request(`${old.url}/v1/products/Banana`)).status).toBe(200);
    } finally {
      await old.stop();
    }

    // The originals of two products, in some other folder layout (matched by content, not by name).
    mkdirSync(originals);
    copyFileSync(iconicImages().get('Banana') as string, join(originals, 'a.jpg'));
    copyFileSync(iconicImages().get('Kiwi') as string, join(originals, 'b.jpg'));
    copyFileSync(iconicImages().get('Cabbage') as string, join(originals, 'not-in-the-catalog.jpg'));
    const thumbnails = (dir: string) =>
      spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['src/cli/thumbnails.ts', dir], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, DATA_DIR: dataDir },
        encoding: 'utf8',
      });
    const partial = thumbnails(originals);
    expect(partial.status, partial.stderr).toBe(1);
    expect(partial.stdout).toContain('filled 2 of 3 missing thumbnails');
    expect(partial.stdout).toContain(`image ${imageIds.get('Oatly-Oat-Milk')} (product Oatly-Oat-Milk)`);

    copyFileSync(iconicImages().get('Oatly-Oat-Milk') as string, join(originals, 'c.jpg'));
    const complete = thumbnails(originals);
    expect(complete.status, complete.stderr).toBe(0);
    expect(complete.stdout).toContain('filled 1 of 1 missing thumbnails');

    const filled = await serve();
    try {
      for (const [name, imageId] of imageIds) {
        const response = await fetch(`${filled.url}/v1/images/${imageId}`);
        expect(response.status, name).toBe(200);
        // the same thumbnail ingest made: the same file, the same recipe
        expect(Buffer.from(await response.arrayBuffer()).equals(served.get(imageId) as Buffer), name).toBe(true);
      }
    } finally {
      await filled.stop();
    }
  }, 120_000); // two CLI processes: tsx start-up alone takes seconds on a loaded machine

  // (Without --url, ingest refuses the DATA_DIR the service holds and names --url: service-process.test.ts.)
  it('npm run ingest -- <dir> --url <service> adds the photos through the running service', async () => {
    const service = await serve();
    const ingest = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        // spawned asynchronously: the service in this process must keep answering meanwhile
        const child = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['src/cli/ingest.ts', ...args], {
          cwd: PROJECT_ROOT,
          env: { ...process.env, DATA_DIR: dataDir },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('exit', (status) => resolve({ status, stdout, stderr }));
      });
    try {
      const folder = join(work, 'more');
      mkdirSync(join(folder, 'Cabbage'), { recursive: true });
      copyFileSync(iconicImages().get('Cabbage') as string, join(folder, 'Cabbage', 'cabbage.jpg'));
      const through = await ingest([folder, '--url', service.url]);
      expect(through.status, through.stderr).toBe(0);
      expect(through.stdout).toMatch(/^ingested 1\/1 images \(\d+ objects\) into 1 products \(1 new\) .*; catalog now 4 products\n/);
      const cabbage = await request(`${service.url}/v1/products/Cabbage`);
      expect(cabbage.status).toBe(200);
      const thumbnail = await fetch(`${service.url}/v1/images/${cabbage.body.images[0].id}`);
      expect(thumbnail.status).toBe(200);

      const nobody = await ingest([folder, '--url', 'http://127.0.0.1:9']);
      expect(nobody.status).toBe(2);
      expect(nobody.stderr).toContain('Expected a running findthis service for --url, but http://127.0.0.1:9/healthz did not answer');
    } finally {
      await service.stop();
    }
  });

  it('serves the page at GET /: plain modules and CSS, no inline script or style, under 100 KB', async () => {
    const service = await serve();
    try {
      const page = await fetch(`${service.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      const html = await page.text();
      expect(html).toContain('<script type="module" src="main.js"></script>');
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
      expect(html).not.toMatch(/<style|\sstyle=/);
      const files = ['main.js', 'style.css', 'favicon.svg'];
      const referenced = new Set<string>(files);
      // every module the page imports, transitively
      for (let grew = true; grew; ) {
        grew = false;
        for (const file of [...referenced].filter((name) => name.endsWith('.js'))) {
          const source = readFileSync(join(PROJECT_ROOT, 'src/service/web', file), 'utf8');
          for (const [, name] of source.matchAll(/from '\.\/([\w-]+\.js)'/g)) {
            if (!referenced.has(name as string)) {
              referenced.add(name as string);
              grew = true;
            }
          }
        }
      }
      let bytes = html.length;
      for (const file of referenced) {
        const response = await fetch(`${service.url}/${file}`);
        expect(response.status, file).toBe(200);
        if (file.endsWith('.js')) expect(response.headers.get('content-type')).toContain('javascript');
        bytes += (await response.arrayBuffer()).byteLength;
      }
      expect(bytes).toBeLessThanOrEqual(100 * 1024);
      const missing = await request(`${service.url}/no-such-file.js`);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('NOT_FOUND');
    } finally {
      await service.stop();
    }
  });
});

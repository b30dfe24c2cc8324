/**
 * The hostile-input corpus against the real service (real models, SQLite, indexes, Node's HTTP server
 * with the configured limits): formats that must work, formats refused by signature, broken and
 * oversized files, bad metadata and numbers (test/support/hostile-corpus.ts), then the HTTP layer over
 * raw sockets (oversized headers, lying Content-Length, bad chunks, slow clients, connection caps), a
 * full queue, the request budget and a stuck extraction. Every answer is JSON, and the service keeps serving.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type DeepPartial } from '../src/config/load.js';
import type { FindthisConfig } from '../src/config/schema.js';
import { CatalogSearch } from '../src/pipeline/catalog-search.js';
import { createExtractor, type Extractor } from '../src/pipeline/extractor.js';
import { createApp, type FindthisApp } from '../src/service/app.js';
import { createHttpServer, listen } from '../src/service/http-server.js';
import { createLogger } from '../src/service/log.js';
import { ServiceMetrics } from '../src/service/metrics.js';
import { GROCERY_DIR } from '../benchmarks/lib/grocery.js';
import { uploadCases, type UploadCase } from './support/hostile-corpus.js';
import { form, postImage, request } from './support/http.js';

const PHOTO = join(GROCERY_DIR, 'val/Vegetables/Brown-Cap-Mushroom/Brown-Cap-Mushroom_002.jpg');
const LIMITS = { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 500 };

let extractor: Extractor;
let catalogSearch: CatalogSearch;
let dataDir: string;
const servers: Server[] = [];

async function serve(server: DeepPartial<FindthisConfig['server']> = {}): Promise<{ url: string; port: number; service: FindthisApp }> {
  const config = loadConfig({ env: {}, overrides: { server: { ...LIMITS, ...server } } });
  const service = createApp({ server: config.server, search: config.search, metrics: new ServiceMetrics(new Registry()), log: createLogger('error'), catalogSearch });
  const http = await listen(createHttpServer(service.app, config.server), 0, '127.0.0.1');
  servers.push(http);
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, service };
}

interface RawAnswer {
  status: number;
  headers: string;
  body: any;
  /** The server closed the connection (within the wait). */
  closed: boolean;
}

/** Writes `chunks` on a raw TCP connection and collects what comes back until the server closes it or `waitMs` passes. */
function rawExchange(port: number, chunks: Array<string | Buffer>, waitMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const contentType = /content-type: application\/json/i.test(head);
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), headers: head, body: contentType ? JSON.parse(body) : body, closed });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

const post = (path: string, headers: string[], body = ''): string =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${headers.map((header) => `${header}\r\n`).join('')}\r\n${body}`;

let main: { url: string; port: number; service: FindthisApp };
let cases: UploadCase[];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'findthis-hostile-'));
  const config = loadConfig({ env: {} });
  extractor = await createExtractor(config.extractor);
  catalogSearch = await CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
  main = await serve();
  expect((await postImage(`${main.url}/v1/products`, PHOTO, { id: 'Brown-Cap-Mushroom' })).status).toBe(201);
  cases = await uploadCases(PHOTO);
}, 120_000);

afterAll(async () => {
  for (const server of servers) server.close();
  await catalogSearch?.close();
  await extractor?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('hostile uploads', () => {
  it('has at least 40 generated cases covering every kind', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const code of ['UNSUPPORTED_FORMAT', 'INVALID_IMAGE', 'EMPTY_IMAGE', 'IMAGE_TOO_LARGE', 'INVALID_FIELD']) {
      expect(cases.some((c) => c.code === code), code).toBe(true);
    }
  });

  it('answers each case as it must, always in JSON, and never with a 5xx', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const path = c.route === 'search' ? `/v1/search${c.query ? `?${c.query}` : ''}` : '/v1/products';
      const started = performance.now();
      const answer = await request(`${main.url}${path}`, { method: 'POST', body: form(c.fields ?? {}, { bytes: c.bytes, name: 'upload' }) });
      const ms = performance.now() - started;
      const got = `${answer.status} ${answer.body?.error?.code ?? ''} ${answer.body?.error?.message ?? ''}`;
      const wrong =
        answer.status !== c.status ||
        typeof answer.body !== 'object' ||
        (c.code !== undefined && answer.body.error?.code !== c.code) ||
        (c.mentions !== undefined && !String(answer.body.error?.message).includes(c.mentions));
      if (wrong) failures.push(`${c.name}: expected ${c.status} ${c.code ?? ''} mentioning ${c.mentions ?? '-'}, got ${got}`);
      // Refused by signature means refused before any renderer runs (the SVG bomb took 26-33 s to render).
      if (c.code === 'UNSUPPORTED_FORMAT' && ms > 3000) failures.push(`${c.name}: took ${Math.round(ms)} ms, as if decoded`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('still searches normally afterwards', async () => {
    const answer = await postImage(`${main.url}/v1/search?k=1`, PHOTO);
    expect(answer.status).toBe(200);
    expect(answer.body.objects[0].matches[0].productId).toBe('Brown-Cap-Mushroom');
    expect((await request(`${main.url}/healthz`)).status).toBe(200);
  });
});

describe("Node's HTTP layer answers JSON too", () => {
  const expectJsonError = (answer: RawAnswer, status: number, code: string) => {
    expect(answer.status, answer.headers).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(typeof answer.body.error.message).toBe('string');
    expect(answer.closed).toBe(true);
  };

  it.each([
    ['a 20 KB URL', `GET /v1/products/${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    ['a 64 KB header', `GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(64 * 1024)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    ['a negative Content-Length', post('/v1/search', ['Content-Length: -1']), 400, 'MALFORMED_REQUEST'],
    ['a Content-Length that is no number', post('/v1/search', ['Content-Length: 12abc']), 400, 'MALFORMED_REQUEST'],
    ['a malformed chunk size', post('/v1/search', ['Transfer-Encoding: chunked'], 'ZZZ\r\nhello\r\n0\r\n\r\n'), 400, 'MALFORMED_REQUEST'],
    ['Content-Length and chunked together', post('/v1/search', ['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), 400, 'MALFORMED_REQUEST'],
    ['a garbage request line', 'HELLO THERE\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['a 10 GB Content-Length (refused before reading)', post('/v1/search', ['Content-Length: 10737418240', 'Content-Type: multipart/form-data; boundary=x']), 413, 'FILE_TOO_LARGE'],
  ])('%s', async (_name, text, status, code) => {
    expectJsonError(await rawExchange(main.port, [text]), status, code);
  });

  it('cuts off headers that never finish with 408 CLIENT_TIMEOUT', async () => {
    const answer = await rawExchange(main.port, ['POST /v1/search HTTP/1.1\r\nHost: x\r\nX-Slow: '], 6000);
    expectJsonError(answer, 408, 'CLIENT_TIMEOUT');
  });

  it('cuts off a body that never arrives with 408 CLIENT_TIMEOUT', async () => {
    const head = post('/v1/search', ['Content-Length: 100000', 'Content-Type: multipart/form-data; boundary=x'], '--x\r\n');
    expectJsonError(await rawExchange(main.port, [head], 6000), 408, 'CLIENT_TIMEOUT');
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    const answer = await rawExchange(main.port, ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'], 4000);
    expect(answer.status).toBe(200);
    expect(answer.closed).toBe(true);
  });

  it('refuses connections beyond maxConnections', async () => {
    const capped = await serve({ maxConnections: 2 });
    const held = [connect(capped.port, '127.0.0.1'), connect(capped.port, '127.0.0.1')];
    await Promise.all(held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    await sleep(100);
    const third = await rawExchange(capped.port, ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'], 2000);
    expect(third).toMatchObject({ status: 0, closed: true });
    for (const socket of held) socket.destroy();
  });
});

describe('queue, budget and stuck extractions', () => {
  it('refuses an upload with 503 OVERLOADED before reading its body when uploads fill the queue', async () => {
    const small = await serve({ queueConcurrency: 1, maxQueueLength: 0 });
    const boundary = ['Content-Length: 20000000', 'Content-Type: multipart/form-data; boundary=x'];
    // The first upload is admitted and stays "being received" (its body never completes).
    const first = rawExchange(small.port, [post('/v1/search', boundary, '--x\r\n')], 3000);
    await sleep(200);
    const second = await rawExchange(small.port, [post('/v1/search', boundary)], 2000);
    expect(second.status).toBe(503);
    expect(second.body.error.code).toBe('OVERLOADED');
    expect(second.closed).toBe(true);
    await first;
  });

  it('answers 503 BUDGET_EXCEEDED when a search waits longer than requestBudgetMs', async () => {
    const budgeted = await serve({ queueConcurrency: 1, requestBudgetMs: 300 });
    const busy = budgeted.service.queue.run(() => sleep(2000));
    const answer = await postImage(`${budgeted.url}/v1/search`, PHOTO);
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('BUDGET_EXCEEDED');
    // Counted for operators (FindthisOverBudget), apart from OVERLOADED.
    const metrics = (await request(`${budgeted.url}/metrics`)).body as string;
    expect(metrics).toContain('findthis_budget_exceeded_total 1');
    expect(metrics).toContain('findthis_queue_rejections_total 0');
    await busy;
  });

  it('turns /healthz 503 "stuck" while an extraction runs longer than stuckExtractionMs, and back', async () => {
    const watched = await serve({ stuckExtractionMs: 100 });
    const busy = watched.service.queue.run(() => sleep(600));
    await sleep(250);
    const stuck = await request(`${watched.url}/healthz`);
    expect(stuck).toMatchObject({ status: 503, body: { status: 'stuck' } });
    await busy;
    expect((await request(`${watched.url}/healthz`)).status).toBe(200);
  });
});

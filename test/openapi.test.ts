/**
 * GET /openapi.json: a valid OpenAPI 3.1 document, generated from the schemas the service validates
 * with, covering every express route (and nothing else). That answers match it is checked by every
 * service test, in test/support/http.ts.
 */
import { compileErrors, validate } from '@readme/openapi-parser';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ERRORS } from '../src/core/errors.js';
import { createApp } from '../src/service/app.js';
import { createLogger } from '../src/service/log.js';
import { ServiceMetrics } from '../src/service/metrics.js';
import { openApiDocument, openApiPath } from '../src/service/openapi.js';
import { checkAgainstDocument, postImage, request } from './support/http.js';

const config = loadConfig({ env: {}, overrides: { search: { maxK: 40, defaultK: 7 }, server: { uploadLimitBytes: 1000 } } });
const service = createApp({ server: config.server, search: config.search, whitening: config.whitening, metrics: new ServiceMetrics(new Registry(), { defaultMetrics: false }), log: createLogger('error'), apiKeys: ['0123456789abcdef-key'] });
let server: Server;
let url: string;
let document: any;

beforeAll(async () => {
  server = service.app.listen(0, '127.0.0.1');
  // The document's validation below takes seconds on a loaded machine: long enough for Node's 5 s
  // keep-alive to close the idle connection just as fetch reuses it (ECONNRESET). Not under test here.
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const answer = await request(`${url}/openapi.json`);
  expect(answer.status).toBe(200);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  document = answer.body;
});

afterAll(() => server?.close());

/** `METHOD /path` of every route express knows, in OpenAPI's path notation. */
function expressRoutes(): string[] {
  const stack = (service.app as unknown as { _router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } })._router.stack;
  return stack.flatMap((layer) =>
    layer.route ? Object.keys(layer.route.methods).filter((m) => m !== '_all').map((method) => `${method.toUpperCase()} ${openApiPath(layer.route!.path)}`) : [],
  );
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('documents every express route, and no route that does not exist', () => {
    const documented = Object.entries(document.paths as Record<string, object>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(expressRoutes().length).toBeGreaterThanOrEqual(8);
    expect(documented.sort()).toEqual(expressRoutes().sort());
  });

  it('gives the error schema every code of the error table, generated from it', () => {
    expect(document.components.schemas.ErrorResponse.properties.error.properties.code.enum).toEqual(Object.keys(ERRORS));
  });

  it('takes parameter ranges and defaults from the running config', () => {
    const parameters = document.paths['/v1/search'].post.parameters as Array<{ name: string; schema: any }>;
    const k = parameters.find((p) => p.name === 'k')?.schema;
    expect(k).toMatchObject({ type: 'integer', minimum: 1, maximum: 40, default: 7 });
    expect(parameters.find((p) => p.name === 'minScore')?.schema).toMatchObject({ minimum: -1, maximum: 1, default: config.search.minScore });
    expect(parameters.find((p) => p.name === 'index')?.schema.enum).toEqual(['lsh', 'hnsw', 'exact']);
    const upload = document.paths['/v1/products'].post.requestBody.content['multipart/form-data'].schema;
    expect(upload.required).toEqual(['id', 'image']);
    expect(upload.properties.id.pattern).toBe('^[A-Za-z0-9._:-]{1,128}$');
  });

  it('marks writes as needing a key (keys are set here), and leaves reads open', () => {
    expect(document.paths['/v1/products'].post.security).toEqual([{ apiKey: [] }]);
    expect(document.paths['/v1/products/{id}'].delete.responses['401']).toBeDefined();
    expect(document.paths['/v1/index/optimize'].post.security).toEqual([{ apiKey: [] }]);
    expect(document.paths['/v1/search'].post.security).toBeUndefined();
    expect(document.paths['/v1/search'].post.responses['401']).toBeUndefined();
    const open = openApiDocument({ search: config.search, whitening: config.whitening, uploadLimitBytes: 1, apiKeys: false, protectReads: false }) as any;
    expect(open.paths['/v1/products'].post.security).toBeUndefined();
  });

  it('is what the service validates requests with: the documented range is the enforced one', async () => {
    const answer = await request(`${url}/v1/search?k=41`, { method: 'POST' });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toBe('Expected an integer in 1..40 for k, but got "41"');
    // Checked before the upload is looked at: an upload over the limit still gets the query's 400.
    const big = await postImage(`${url}/v1/search?k=41`, new Uint8Array(200_000));
    expect(big.status).toBe(400);
    expect(big.body.error.code).toBe('INVALID_FIELD');
  });

  it('catches answers that drift from it: an extra field, a missing one, an undocumented status', () => {
    const error = { error: { code: 'NOT_FOUND', message: 'No product with id "x"', requestId: 'r1' } };
    expect(() => checkAgainstDocument(document, 'GET', '/v1/products/x', 404, 'application/json', error)).not.toThrow();
    expect(() => checkAgainstDocument(document, 'GET', '/v1/products/x', 404, 'application/json', { error: { ...error.error, extra: 1 } })).toThrow(/does not match ErrorResponse/);
    expect(() => checkAgainstDocument(document, 'GET', '/v1/products/x', 404, 'application/json', { error: { code: 'NOPE', message: 'm', requestId: 'r' } })).toThrow(/does not match/);
    expect(() => checkAgainstDocument(document, 'GET', '/v1/products/x', 418, 'application/json', error)).toThrow(/status 418 is not documented/);
    expect(() => checkAgainstDocument(document, 'PUT', '/v1/products/x', 200, 'application/json', {})).toThrow(/no operation/);
    const health = (body: unknown) => () => checkAgainstDocument(document, 'GET', '/healthz', 200, 'application/json; charset=utf-8', body);
    expect(health({ status: 'ok' })).not.toThrow();
    expect(health({ status: 'ok', uptime: 3 })).toThrow(/does not match HealthResponse/);
    expect(health({ status: 'fine' })).toThrow(/does not match/);
  });
});

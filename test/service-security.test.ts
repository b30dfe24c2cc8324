/**
 * The middleware every answer goes through: request ids, the one JSON log line per request, security
 * headers, CORS and API keys. These need no models: an app that is still loading answers 503
 * NOT_READY once a request got past the key check, which is what tells "let through" from "refused".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { loadApiKeys } from '../src/config/api-keys.js';
import { loadConfig } from '../src/config/load.js';
import { createApp, type AppDependencies } from '../src/service/app.js';
import { createLogger } from '../src/service/log.js';
import { ServiceMetrics } from '../src/service/metrics.js';
import { CONTENT_SECURITY_POLICY, openWritesWarning } from '../src/service/security.js';
import { form, request } from './support/http.js';

const KEY = 'k3y-for-tests-0123456789abcdef';
const OTHER_KEY = 'another-key-0123456789abcdef';
const config = loadConfig({ env: {} });
const servers: Server[] = [];

async function serve(extra: Omit<Partial<AppDependencies>, 'server'> & { server?: Partial<AppDependencies['server']> } = {}) {
  const lines: string[] = [];
  const log = createLogger('info', { destination: { write: (line: string) => void lines.push(line) } });
  const service = createApp({
    search: config.search,
    metrics: new ServiceMetrics(new Registry(), { defaultMetrics: false }),
    log,
    ...extra,
    server: { ...config.server, ...extra.server },
  });
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** The parsed log lines so far (the request line is written once the answer is sent). */
  const logged = async (): Promise<Array<Record<string, unknown>>> => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  return { url, logged };
}

afterAll(() => {
  for (const server of servers) server.close();
});

describe('request ids and request logs', () => {
  it('echoes a caller id, puts it in error bodies and in the one JSON line per request', async () => {
    const { url, logged } = await serve();
    const answer = await request(`${url}/v1/products/Banana`, { headers: { 'X-Request-Id': 'trace-42/abc' } });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('x-request-id')).toBe('trace-42/abc');
    expect(answer.body.error).toMatchObject({ code: 'NOT_READY', requestId: 'trace-42/abc' });
    const line = (await logged()).find((entry) => entry.requestId === 'trace-42/abc');
    expect(line).toMatchObject({ level: 'warn', method: 'GET', route: '/v1/products/:id', status: 503 });
    expect(Object.keys(line as object).sort()).toEqual(['bytes', 'level', 'method', 'ms', 'msg', 'requestId', 'route', 'status', 'time']);
    expect(new Date(String(line?.time)).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(line?.ms).toBeGreaterThan(0);
    expect(line?.bytes).toBe(Number(answer.headers.get('content-length')));
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with a space', 'two words'],
    ['with a control character', 'bad\tid'],
    ['empty', ''],
  ])('replaces a caller id that is %s with a new UUID', async (_name, id) => {
    const { url } = await serve();
    const answer = await request(`${url}/healthz`, { headers: { 'X-Request-Id': id } });
    expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('keeps an id of exactly 128 printable characters', async () => {
    const { url } = await serve();
    const id = `${'x'.repeat(120)}~!#$%&*+`;
    expect((await request(`${url}/healthz`, { headers: { 'X-Request-Id': id } })).headers.get('x-request-id')).toBe(id);
  });

  it('marks the line of a request whose caller went away before the answer as aborted', async () => {
    const { url, logged } = await serve();
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /v1/search HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-early\r\nContent-Type: multipart/form-data; boundary=b\r\n' +
        'Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nxxxx',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    let line: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 50 && !line; attempt++) line = (await logged()).find((entry) => entry.requestId === 'gone-early');
    expect(line).toMatchObject({ method: 'POST', route: '/v1/search', aborted: true });
  });

  it('logs unmatched routes by a fixed label, not the raw path', async () => {
    const { url, logged } = await serve();
    await request(`${url}/v2/some/where/secret-looking`);
    const line = (await logged()).at(-1);
    expect(line).toMatchObject({ route: 'unmatched', status: 404 });
  });
});

describe('security headers and CORS', () => {
  it('sends nosniff and the CSP, no X-Powered-By, and no-store on API answers', async () => {
    const { url } = await serve();
    for (const path of ['/healthz', '/metrics', '/v1/products/Banana', '/v1/nothing']) {
      const answer = await request(`${url}${path}`);
      expect(answer.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(answer.headers.get('x-powered-by'), path).toBeNull();
      expect(answer.headers.get('cache-control'), path).toBe('no-store');
      expect(answer.headers.get('content-security-policy'), path).toBe(CONTENT_SECURITY_POLICY);
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("img-src 'self' blob: data:");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  it('leaves caching to the page\'s files and to thumbnails, which set their own, and sends the page its CSP', async () => {
    const { url } = await serve();
    const page = await request(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('cache-control')).not.toContain('no-store');
    const thumbnail = await request(`${url}/v1/images/1`);
    expect(thumbnail.status).toBe(503); // still loading: the route answers, without no-store
    expect(thumbnail.headers.get('cache-control')).toBeNull();
  });

  it('sends no CORS headers unless origins are configured', async () => {
    const { url } = await serve();
    const answer = await request(`${url}/healthz`, { headers: { Origin: 'https://shop.example' } });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows exactly the configured origins, preflight included', async () => {
    const { url } = await serve({ server: { corsOrigins: ['https://shop.example'] } });
    const preflight = await request(`${url}/v1/search`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    const stranger = await request(`${url}/healthz`, { headers: { Origin: 'https://evil.example' } });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses origins that are not scheme://host[:port] at start-up', () => {
    expect(() => loadConfig({ env: {}, overrides: { server: { corsOrigins: ['shop.example/path'] } } })).toThrow(/server\.corsOrigins/);
  });
});

describe('API keys', () => {
  const writes: Array<[string, string, () => RequestInit]> = [
    ['POST', '/v1/products', () => ({ method: 'POST', body: form({ id: 'x' }) })],
    ['DELETE', '/v1/products/x', () => ({ method: 'DELETE' })],
    ['POST', '/v1/index/optimize', () => ({ method: 'POST' })],
  ];

  it.each(writes)('%s %s needs a key: 401 UNAUTHORIZED with WWW-Authenticate: Bearer, without one or with a wrong one', async (_m, path, init) => {
    const { url, logged } = await serve({ apiKeys: [KEY] });
    for (const authorization of [undefined, `Bearer ${OTHER_KEY}`, `Basic ${KEY}`, `Bearer ${KEY}x`]) {
      const headers = authorization ? { Authorization: authorization } : undefined;
      const answer = await request(`${url}${path}`, { ...init(), headers });
      expect(answer.status, authorization).toBe(401);
      expect(answer.body.error.code).toBe('UNAUTHORIZED');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(JSON.stringify(answer.body)).not.toContain(KEY);
      expect(JSON.stringify(answer.body)).not.toContain(OTHER_KEY);
    }
    const allowed = await request(`${url}${path}`, { ...init(), headers: { Authorization: `Bearer ${KEY}` } });
    expect(allowed.status).toBe(503); // through the key check, into a service still loading
    const log = JSON.stringify(await logged());
    expect(log).not.toContain(KEY);
    expect(log).not.toContain(OTHER_KEY);
  });

  it('leaves reads and searches open unless protectReads is set', async () => {
    const open = await serve({ apiKeys: [KEY] });
    expect((await request(`${open.url}/v1/products/x`)).status).toBe(503);
    expect((await request(`${open.url}/v1/search`, { method: 'POST', body: form({}) })).status).toBe(503);
    expect((await request(`${open.url}/healthz`)).status).toBe(503);
    const guarded = await serve({ apiKeys: [KEY], server: { protectReads: true } });
    expect((await request(`${guarded.url}/v1/products/x`)).status).toBe(401);
    expect((await request(`${guarded.url}/v1/search`, { method: 'POST', body: form({}) })).status).toBe(401);
    expect((await request(`${guarded.url}/v1/search`, { method: 'POST', body: form({}), headers: { Authorization: `Bearer ${KEY}` } })).status).toBe(503);
    expect((await request(`${guarded.url}/metrics`)).status).toBe(200);
  });

  it('keeps writes open without keys', async () => {
    const { url } = await serve();
    expect((await request(`${url}/v1/index/optimize`, { method: 'POST' })).status).toBe(503);
  });

  it('reads keys from FINDTHIS_API_KEYS or FINDTHIS_API_KEYS_FILE, and never repeats a bad one', () => {
    expect(loadApiKeys({})).toEqual([]);
    expect(loadApiKeys({ FINDTHIS_API_KEYS: ` ${KEY} ,${OTHER_KEY},` })).toEqual([KEY, OTHER_KEY]);
    const dir = mkdtempSync(join(tmpdir(), 'findthis-keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, `${KEY}\n${OTHER_KEY}\n`);
      expect(loadApiKeys({ FINDTHIS_API_KEYS_FILE: file })).toEqual([KEY, OTHER_KEY]);
      expect(() => loadApiKeys({ FINDTHIS_API_KEYS_FILE: file, FINDTHIS_API_KEYS: KEY })).toThrow(/got both/);
      expect(() => loadApiKeys({ FINDTHIS_API_KEYS_FILE: join(dir, 'absent') })).toThrow(/Cannot read FINDTHIS_API_KEYS_FILE .*ENOENT/);
      writeFileSync(file, '\n');
      expect(() => loadApiKeys({ FINDTHIS_API_KEYS_FILE: file })).toThrow(/empty file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => loadApiKeys({ FINDTHIS_API_KEYS: `${KEY},short-secret` })).toThrow(/API key 2 of env FINDTHIS_API_KEYS, but got a key of 12 characters$/);
    try {
      loadApiKeys({ FINDTHIS_API_KEYS: 'short-secret' });
    } catch (error) {
      expect((error as Error).message).not.toContain('short-secret');
    }
  });

  it('warns at start-up only when writes are open beyond loopback', () => {
    expect(openWritesWarning('0.0.0.0', [])).toMatch(/no API keys/);
    expect(openWritesWarning('10.1.2.3', [])).toMatch(/no API keys/);
    expect(openWritesWarning('0.0.0.0', [KEY])).toBeUndefined();
    for (const host of ['127.0.0.1', 'localhost', '::1']) expect(openWritesWarning(host, [])).toBeUndefined();
  });
});

/**
 * `npm run ingest -- <dir> --url <service>`: adding catalog photos through a running service's API
 * (POST /v1/products) instead of opening its DATA_DIR, which the service holds locked while it runs.
 * `FINDTHIS_API_KEY`, when set, is sent as `Authorization: Bearer` (for services with API keys).
 */
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FindthisError, isFindthisError } from '../core/errors.js';

/** What ingest needs from wherever the catalog is: one image at a time, then the catalog's size. */
export interface Ingester {
  ingest(productId: string, image: Buffer, file: string): Promise<{ createdProduct: boolean; objects: number }>;
  /** e.g. `81 products, 300 vectors` */
  size(): Promise<string>;
  close(): Promise<void>;
}

/** Busy answers worth waiting out: the queue is full or the request ran out of its budget. */
const RETRIED = new Set<string>(['OVERLOADED', 'BUDGET_EXCEEDED', 'NOT_READY']);
const ATTEMPTS = 10;

/** An ingester posting to the service at `url` (checked with /healthz first; waits while it loads). */
export async function serviceIngester(url: string, apiKey = process.env.FINDTHIS_API_KEY ?? ''): Promise<Ingester> {
  const base = url.replace(/\/+$/, '');
  const headers: Record<string, string> = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  await waitReady(base);
  const call = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> => {
    for (let attempt = 1; ; attempt += 1) {
      const response = await fetch(`${base}${path}`, { ...init, headers });
      const body: any = await response.json().catch(() => undefined);
      const code = body?.error?.code as string | undefined;
      if (response.status === 503 && code && RETRIED.has(code) && attempt < ATTEMPTS) {
        await sleep(500 * attempt);
        continue;
      }
      return { status: response.status, body };
    }
  };
  // The service's code and message, as describeError prints a local FindthisError.
  const fail = (answer: { status: number; body: any }): never => {
    throw new Error(`${answer.body?.error?.code ?? `HTTP ${answer.status}`}: ${answer.body?.error?.message ?? 'no error message'}`);
  };
  return {
    async ingest(productId, image, file) {
      const existing = await call(`/v1/products/${encodeURIComponent(productId)}`);
      const form = new FormData();
      form.append('id', productId);
      form.append('image', new Blob([image]), basename(file));
      const added = await call('/v1/products', { method: 'POST', body: form });
      if (added.status !== 201) fail(added);
      return { createdProduct: existing.status === 404, objects: (added.body.objects as unknown[]).length };
    },
    async size() {
      const page = await call('/v1/products?limit=1');
      if (page.status !== 200) fail(page);
      return `${page.body.total} products`;
    },
    async close() {},
  };
}

/** Resolves once `${url}/healthz` says ok; throws when nothing answers there. */
async function waitReady(url: string): Promise<void> {
  for (let waited = 0; ; waited += 1) {
    let status: string | undefined;
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
      status = ((await response.json()) as { status?: string }).status;
    } catch (error) {
      if (isFindthisError(error)) throw error;
      throw new FindthisError('INVALID_FIELD', `Expected a running findthis service for --url, but ${url}/healthz did not answer (${(error as Error).message})`);
    }
    if (status === 'ok') return;
    if (waited === 0) process.stderr.write(`waiting for the service at ${url} to finish loading...\n`);
    if (waited >= 300) throw new FindthisError('NOT_READY', `The service at ${url} was still loading after 5 minutes`);
    await sleep(1000);
  }
}

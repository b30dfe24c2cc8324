/**
 * What an ingest with an Idempotency-Key remembers and replays: a fingerprint of the request (so a
 * key reused for another request is refused, not answered with a stranger's result) and the answer
 * without its timings.
 */
import { createHash } from 'node:crypto';
import type { Catalog } from '../catalog/catalog.js';
import type { StoredAnswer } from '../catalog/idempotency.js';
import type { ProductMetadata } from '../catalog/records.js';
import { FindthisError } from '../core/errors.js';
import type { IngestResult } from './catalog-search.js';

/** The product id, metadata and image bytes of an ingest, hashed. */
export function ingestFingerprint(productId: string, image: Uint8Array, metadata: ProductMetadata | undefined): string {
  const imageHash = createHash('sha256').update(image).digest('hex');
  return createHash('sha256').update(`${productId}\0${JSON.stringify(metadata ?? null)}\0${imageHash}`).digest('hex');
}

/**
 * The first answer given under `key`, marked `replayed`, or undefined when the key is new. Throws
 * IDEMPOTENCY_CONFLICT when the key was first used for a different request.
 */
export function replayOf(catalog: Catalog, key: string, fingerprint: string): IngestResult | undefined {
  return replayStored(catalog.idempotency.get(key), key, fingerprint);
}

/** replayOf for what a backend found stored under `key` (undefined: nothing). */
export function replayStored(stored: StoredAnswer | undefined, key: string, fingerprint: string): IngestResult | undefined {
  if (!stored) return undefined;
  if (stored.fingerprint !== fingerprint) {
    throw new FindthisError('IDEMPOTENCY_CONFLICT', `Idempotency-Key ${JSON.stringify(key)} was first used for a different request (product, metadata or image)`);
  }
  const answer = JSON.parse(stored.answer) as Omit<IngestResult, 'timings' | 'replayed'>;
  return { ...answer, replayed: true, timings: { decodeMs: 0, detectMs: 0, embedMs: 0, totalMs: 0 } };
}

/** Stores `result` (without timings) as the answer under `key`; call inside the ingest's transaction. */
export function rememberAnswer(catalog: Catalog, key: string, fingerprint: string, result: Omit<IngestResult, 'timings' | 'replayed'>): void {
  catalog.idempotency.put(key, { fingerprint, answer: JSON.stringify(result) });
}

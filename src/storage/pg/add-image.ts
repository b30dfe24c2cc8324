/**
 * The statements of one add, run by PgStore.addImage inside its transaction once it holds the
 * search_state row (so adds are serialised, and a key checked here cannot be stored meanwhile by
 * another replica): the product, image, objects, search rows, product sum, region labels, thumbnail,
 * and with an Idempotency-Key, the answer stored under it in the same transaction, so that a key is
 * never stored without its image, nor an image without its key (as src/catalog/idempotency.ts).
 */
import type { ClientBase } from 'pg';
import { IDEMPOTENCY_KEY_TTL_MS, type StoredAnswer } from '../../catalog/idempotency.js';
import type { AddedImage, NewImage } from '../../catalog/records.js';
import { thumbnailEtag } from '../../catalog/thumbnails.js';
import { recordAdded } from './reference-tables.js';
import { insertSearchRows, vectorText, type SearchTables } from './search-tables.js';

/** Migration 4: ingest answers by Idempotency-Key. */
export const IDEMPOTENCY_KEYS_SQL = `
CREATE TABLE idempotency_keys (
  key text PRIMARY KEY,
  fingerprint text NOT NULL,
  answer text NOT NULL,
  created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created);
`;

/** An add that remembers its answer under `key` (see src/pipeline/idempotent-ingest.ts). */
export interface IdempotentAdd {
  key: string;
  fingerprint: string;
  /** The answer to remember, as JSON text, once the add has its ids. */
  answer: (added: AddedImage) => string;
}

/** Thrown inside an add's transaction (rolling it back) when its key was stored while it was extracting. */
export class KeyTaken extends Error {
  constructor(readonly stored: StoredAnswer) {
    super('Idempotency-Key already stored');
  }
}

/** What was stored under `key`, or undefined. */
export async function storedAnswer(client: Pick<ClientBase, 'query'>, key: string): Promise<StoredAnswer | undefined> {
  const { rows } = await client.query('SELECT fingerprint, answer FROM idempotency_keys WHERE key = $1', [key]);
  return rows[0] as StoredAnswer | undefined;
}

/**
 * Inserts the add's rows into the live `tables` (`vectors` transformed, `keys` the whole photos' LSH
 * keys, undefined for detections) under the add's catalog version; throws KeyTaken when
 * `idempotency`'s key is stored already.
 */
export async function insertImage(
  client: ClientBase,
  { tables, catalogVersion }: { tables: SearchTables; catalogVersion: number },
  input: NewImage,
  vectors: readonly Float32Array[],
  keys: readonly (number[] | undefined)[],
  idempotency?: IdempotentAdd,
): Promise<AddedImage> {
  if (idempotency) {
    const earlier = await storedAnswer(client, idempotency.key);
    if (earlier) throw new KeyTaken(earlier);
  }
  const inserted = await client.query('INSERT INTO products (id, metadata) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id', [input.productId, JSON.stringify(input.metadata ?? {})]);
  const createdProduct = inserted.rowCount === 1;
  if (!createdProduct && input.metadata !== undefined) {
    await client.query('UPDATE products SET metadata = $1 WHERE id = $2', [JSON.stringify(input.metadata), input.productId]);
  }
  const image = await client.query('INSERT INTO images (product_id, width, height, sha256) VALUES ($1, $2, $3, $4) RETURNING id', [input.productId, input.width, input.height, input.sha256 ?? null]);
  const imageId = Number(image.rows[0].id);
  const objectIds: number[] = [];
  for (const object of input.objects) {
    const [x1, y1, x2, y2] = object.bbox;
    const row = await client.query(
      'INSERT INTO objects (image_id, product_id, kind, label, score, x1, y1, x2, y2, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id',
      [imageId, input.productId, object.kind, object.label, object.score, x1, y1, x2, y2, vectorText(object.vector)],
    );
    objectIds.push(Number(row.rows[0].id));
  }
  await insertSearchRows(client, tables, objectIds.map((id, i) => ({ id, vector: vectors[i]!, keys: keys[i] })));
  await recordAdded(client, tables, catalogVersion, input.productId, vectors, input.objects.filter((o) => o.kind === 'region').map((o) => o.label));
  if (input.thumbnail) {
    await client.query("INSERT INTO thumbnails (image_id, type, data, etag) VALUES ($1, 'image/webp', $2, $3)", [imageId, input.thumbnail, thumbnailEtag(input.thumbnail)]);
  }
  const added = { imageId, objectIds, createdProduct };
  if (idempotency) {
    // Keys are kept for IDEMPOTENCY_KEY_TTL_MS, as in the embedded catalog; older ones go with each new one.
    await client.query("DELETE FROM idempotency_keys WHERE created < now() - $1 * interval '1 millisecond'", [IDEMPOTENCY_KEY_TTL_MS]);
    await client.query('INSERT INTO idempotency_keys (key, fingerprint, answer) VALUES ($1, $2, $3)', [idempotency.key, idempotency.fingerprint, idempotency.answer(added)]);
  }
  return added;
}

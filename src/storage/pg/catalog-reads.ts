/**
 * The pg backend's reads for showing the catalog (a product, a page of products, a thumbnail): plain
 * queries over the pool, independent of the search tables and their version.
 */
import type { Pool } from 'pg';
import type { ProductMetadata, ProductRecord, ProductSummary } from '../../catalog/records.js';
import type { Thumbnail } from '../../catalog/thumbnails.js';

/** The product with its images and objects (no vectors), or undefined. */
export async function readProduct(pool: Pool, id: string): Promise<ProductRecord | undefined> {
  const product = await pool.query('SELECT id, metadata, created FROM products WHERE id = $1', [id]);
  if (product.rowCount === 0) return undefined;
  const images = await pool.query('SELECT id, width, height, sha256, created FROM images WHERE product_id = $1 ORDER BY id', [id]);
  const objects = await pool.query('SELECT id, image_id, kind, label, score, x1, y1, x2, y2 FROM objects WHERE product_id = $1 ORDER BY id', [id]);
  const row = product.rows[0];
  return {
    id: row.id,
    metadata: row.metadata as ProductMetadata,
    created: (row.created as Date).toISOString(),
    images: images.rows.map((image) => ({ id: Number(image.id), width: image.width, height: image.height, sha256: image.sha256, created: (image.created as Date).toISOString() })),
    objects: objects.rows.map((object) => ({ id: Number(object.id), imageId: Number(object.image_id), kind: object.kind, label: object.label, score: object.score, bbox: [object.x1, object.y1, object.x2, object.y2] })),
  };
}

/** One page of products in id order, each with its image count and first image. */
export async function readProductPage(pool: Pool, offset: number, limit: number): Promise<ProductSummary[]> {
  const { rows } = await pool.query(
    `SELECT p.id, p.metadata, p.created, count(i.id) AS images, min(i.id) AS image_id
       FROM products p LEFT JOIN images i ON i.product_id = p.id GROUP BY p.id ORDER BY p.id LIMIT $1 OFFSET $2`,
    [limit, offset],
  );
  return rows.map((row) => ({ id: row.id, metadata: row.metadata, created: (row.created as Date).toISOString(), images: Number(row.images), imageId: row.image_id === null ? null : Number(row.image_id) }));
}

/** The image's thumbnail; `undefined` when the image has none, `null` when there is no such image. */
export async function readThumbnail(pool: Pool, imageId: number): Promise<Thumbnail | undefined | null> {
  const { rows } = await pool.query('SELECT i.id, t.type, t.data, t.etag FROM images i LEFT JOIN thumbnails t ON t.image_id = i.id WHERE i.id = $1', [imageId]);
  if (rows.length === 0) return null;
  const row = rows[0];
  return row.data === null ? undefined : { type: row.type, data: row.data as Buffer, etag: row.etag };
}

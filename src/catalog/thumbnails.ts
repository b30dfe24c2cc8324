/**
 * Catalog thumbnails: one small WebP per stored image, in the catalog's SQLite file beside the image's
 * rows (so an ingest stores its thumbnail in the same transaction as its vectors, and a delete
 * cascades to it). Catalogs ingested before thumbnails existed have images without one: `missing()`
 * lists them, and `npm run thumbnails -- <dir>` fills them from the original files.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

export const THUMBNAILS_SCHEMA = `
CREATE TABLE IF NOT EXISTS thumbnails (
  image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  data BLOB NOT NULL,
  etag TEXT NOT NULL
);
`;

export interface Thumbnail {
  /** MIME type, e.g. `image/webp`. */
  type: string;
  data: Buffer;
  /** A strong HTTP entity tag (quoted), from the bytes' sha256. */
  etag: string;
}

/** An image stored without a thumbnail, with what identifies its original file. */
export interface ImageWithoutThumbnail {
  imageId: number;
  productId: string;
  sha256: string | null;
}

export class ThumbnailStore {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      put: db.prepare('INSERT OR REPLACE INTO thumbnails (image_id, type, data, etag) VALUES (?, ?, ?, ?)'),
      get: db.prepare('SELECT type, data, etag FROM thumbnails WHERE image_id = ?'),
      imageExists: db.prepare('SELECT 1 FROM images WHERE id = ?').pluck(),
      missing: db.prepare(
        'SELECT i.id AS imageId, i.product_id AS productId, i.sha256 FROM images i LEFT JOIN thumbnails t ON t.image_id = i.id WHERE t.image_id IS NULL ORDER BY i.id',
      ),
    };
  }

  /** Stores (or replaces) the thumbnail of a stored image. Call inside the image's transaction when ingesting. */
  put(imageId: number, data: Buffer, type = 'image/webp'): void {
    this.statements.put.run(imageId, type, data, thumbnailEtag(data));
  }

  /** The image's thumbnail; `undefined` when the image has none, `null` when there is no such image. */
  get(imageId: number): Thumbnail | undefined | null {
    const row = this.statements.get.get(imageId) as Thumbnail | undefined;
    if (row) return row;
    return this.statements.imageExists.get(imageId) ? undefined : null;
  }

  /** Stored images that have no thumbnail (ingested before thumbnails were kept), in id order. */
  missing(): ImageWithoutThumbnail[] {
    return this.statements.missing.all() as ImageWithoutThumbnail[];
  }
}

/** A strong HTTP entity tag for a thumbnail's bytes (quoted, from their sha256). */
export function thumbnailEtag(data: Buffer): string {
  return `"${createHash('sha256').update(data).digest('base64url').slice(0, 27)}"`;
}

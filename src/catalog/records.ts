/**
 * The catalog's records: what is stored for a product, its images and their objects, as both backends
 * (the SQLite Catalog and PostgreSQL's PgStore) take and return them.
 */
import type { EmbeddedObject, ImageObject } from '../core/types.js';

/** Product ids: 1–128 characters of A–Z a–z 0–9 . _ : - (safe in URLs, file names and CSV). */
export const PRODUCT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const PRODUCT_ID_EXPECTED = '1–128 characters of A–Z a–z 0–9 . _ : -';

export type ProductMetadata = Record<string, unknown>;

export interface ImageRecord {
  id: number;
  width: number;
  height: number;
  sha256: string | null;
  created: string;
}

export interface ObjectRecord extends ImageObject {
  id: number;
  imageId: number;
}

export interface ProductRecord {
  id: string;
  metadata: ProductMetadata;
  created: string;
  images: ImageRecord[];
  objects: ObjectRecord[];
}

/** A stored object and the product it belongs to. */
export interface ObjectRef extends ObjectRecord {
  productId: string;
}

export interface NewImage {
  productId: string;
  /** Replaces the product's metadata when given; a new product without it gets `{}`. */
  metadata?: ProductMetadata;
  width: number;
  height: number;
  sha256?: string;
  objects: EmbeddedObject[];
  /** The image's thumbnail (WebP), stored in the same transaction. */
  thumbnail?: Buffer;
}

export interface AddedImage {
  imageId: number;
  /** Catalog object ids, in the order of `objects`; the index ids are their decimal strings. */
  objectIds: number[];
  createdProduct: boolean;
}

/** One row of the product listing. */
export interface ProductSummary {
  id: string;
  metadata: ProductMetadata;
  created: string;
  /** How many images the product has. */
  images: number;
  /** Its first image (the one shown for it). */
  imageId: number | null;
}

export interface CatalogCounts {
  products: number;
  images: number;
  objects: number;
}

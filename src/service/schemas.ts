/** Request and response shapes of the HTTP API. Types only: routes build these from pipeline results. */
import type { ErrorCode } from '../core/errors.js';
import type { BBox } from '../core/types.js';
import type { IndexKind } from '../indexing/types.js';
import type { OptimizeResult } from '../pipeline/catalog-search.js';

export type Metadata = Record<string, unknown>;

/** Every error answer. */
export interface ErrorResponse {
  error: { code: ErrorCode; message: string; requestId: string };
}

/** GET /healthz */
export interface HealthResponse {
  status: 'ok' | 'loading' | 'stuck';
}

/** POST /v1/products, multipart fields after validation. */
export interface AddProductRequest {
  /** 1–128 characters of A–Z a–z 0–9 . _ : - */
  id: string;
  image: Buffer;
  metadata?: Metadata;
}

export interface ObjectSummary {
  bbox: BBox;
  label: string;
  score: number;
}

/** POST /v1/products → 201 */
export interface AddProductResponse {
  id: string;
  imageId: number;
  objects: ObjectSummary[];
}

/** GET /v1/products/:id */
export interface ProductResponse {
  id: string;
  metadata: Metadata;
  images: Array<{ id: number; width: number; height: number; sha256: string | null; created: string }>;
  objects: Array<ObjectSummary & { id: number; imageId: number }>;
}

/** GET /v1/products?offset=&limit= → 200: one page of the catalog, in product id order. */
export interface ProductListResponse {
  /** Products in the catalog. */
  total: number;
  offset: number;
  limit: number;
  products: Array<{
    id: string;
    metadata: Metadata;
    created: string;
    /** How many images the product has. */
    images: number;
    /** Its first image: its thumbnail is at GET /v1/images/{imageId}. */
    imageId: number | null;
  }>;
}

/** POST /v1/search query string after validation. */
export interface SearchRequest {
  k: number;
  index: IndexKind;
  minScore: number;
  compare: boolean;
}

export interface MatchResponse {
  productId: string;
  /** Cosine similarity, -1..1. */
  score: number;
  bbox: BBox;
  imageId: number;
  metadata: Metadata;
}

export interface SearchObjectResponse extends ObjectSummary {
  index: IndexKind;
  fallback: boolean;
  matches: MatchResponse[];
  /** Only with compare=true: share of LSH's top-k products also in HNSW's / the exact top-k. */
  overlap?: { hnsw: number; exact: number };
}

/** One product of the photo's merged answer: its best match over all objects. */
export interface AnswerResponse extends MatchResponse {
  /** Label of the object whose match this is (`image` for the whole photo). */
  via: string;
}

/** POST /v1/search → 200 */
export interface SearchResponse {
  objects: SearchObjectResponse[];
  /** The photo's products, whole image and detections merged (detections discounted by 0.2), best first, at most k. */
  answer: AnswerResponse[];
  timings: { decodeMs: number; detectMs: number; embedMs: number; searchMs: number; totalMs: number };
}

/** POST /v1/index/optimize → 200: counts, the transform now in force, and what whitening learned from. */
export type OptimizeResponse = OptimizeResult;

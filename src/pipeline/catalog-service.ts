/**
 * What the HTTP service and the CLI ask of a catalog, whichever backend holds it: the embedded one
 * (CatalogSearch: SQLite and in-process indexes) or PostgreSQL with pgvector (PgCatalogSearch,
 * src/storage/pg/). Reads may answer at once or over the wire, so callers await them. Also the
 * request-level steps both backends share: matching every object of an extraction, and the
 * stage timings an answer reports.
 */
import type { ProductMetadata, ProductRecord, ProductSummary } from '../catalog/catalog.js';
import type { Thumbnail } from '../catalog/thumbnails.js';
import type { IndexKind } from '../indexing/types.js';
import type { Extraction, Extractor } from './extractor.js';
import type { OptimizeRequest, OptimizeResult } from './optimize-policy.js';
import { matchScopeOf, productOverlap, type DistinctMatches, type MatchScope } from './product-matcher.js';
import type { IngestResult, ObjectMatches, SearchAnswer, SearchQuery, SearchTimings } from './search-types.js';

type MaybePromise<T> = T | Promise<T>;

export interface CatalogSize {
  products: number;
  images: number;
  vectors: number;
}

/** One page of the product list and the catalog's product count. */
export interface ProductPage {
  total: number;
  products: ProductSummary[];
}

export interface CatalogService {
  readonly extractor: Extractor;
  /** With an `idempotencyKey`, a retry gets the first answer (`replayed`) instead of storing twice. */
  ingest(productId: string, image: Buffer, metadata?: ProductMetadata, idempotencyKey?: string): Promise<IngestResult>;
  search(image: Buffer, query: SearchQuery): Promise<SearchAnswer>;
  /** False when there was no such product. */
  removeProduct(id: string): Promise<boolean>;
  optimize(request?: OptimizeRequest): Promise<OptimizeResult>;
  product(id: string): MaybePromise<ProductRecord | undefined>;
  listProducts(offset: number, limit: number): MaybePromise<ProductPage>;
  /** `undefined` when the image has no thumbnail, `null` when there is no such image. */
  thumbnail(imageId: number): MaybePromise<Thumbnail | undefined | null>;
  size(): MaybePromise<CatalogSize>;
  close(): Promise<void>;
}

/** Finds one object's distinct products by `kind`, in the given scope (the backend's own matcher). */
export type MatchOne = (vector: Float32Array, kind: IndexKind, scope: MatchScope) => Promise<DistinctMatches>;

/**
 * Matches every object of an extraction, one after the other; with `compare`, also asks the other
 * indexes and reports LSH's overlap with them.
 */
export async function matchObjects(extraction: Extraction, query: SearchQuery, match: MatchOne): Promise<{ objects: ObjectMatches[]; searchMs: number }> {
  let searchMs = 0;
  const objects: ObjectMatches[] = [];
  for (const { kind, label, score, bbox, vector } of extraction.objects) {
    const scope = matchScopeOf(kind);
    const found = await match(vector, query.index, scope);
    searchMs += found.searchMs;
    const result: ObjectMatches = { kind, label, score, bbox, index: query.index, ...found };
    if (query.compare) {
      const lsh = query.index === 'lsh' ? found : await match(vector, 'lsh', scope);
      const hnsw = await match(vector, 'hnsw', scope);
      const exact = await match(vector, 'exact', scope);
      result.overlap = { hnsw: productOverlap(lsh.matches, hnsw.matches), exact: productOverlap(lsh.matches, exact.matches) };
    }
    objects.push(result);
  }
  return { objects, searchMs };
}

export function stageTimings(extraction: Extraction): Omit<SearchTimings, 'searchMs' | 'totalMs'> {
  const t = extraction.timings;
  return { decodeMs: t.decodeMs, detectMs: t.letterboxMs + t.detectMs + t.boxesMs, embedMs: t.cropMs + t.encodeMs + t.poolMs };
}


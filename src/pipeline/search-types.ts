/** What CatalogSearch's ingest and search answer (types only; re-exported by catalog-search.ts). */
import type { ImageObject } from '../core/types.js';
import type { IndexKind, SearchStats } from '../indexing/types.js';
import type { RankedProduct } from './answer.js';
import type { ProductMatch } from './product-matcher.js';

/** Per-request stage times in ms, as the API reports them. */
export interface SearchTimings {
  decodeMs: number;
  /** Letterbox + detector run + NMS. */
  detectMs: number;
  /** Crops + encoder run + pooling. */
  embedMs: number;
  searchMs: number;
  totalMs: number;
}

export interface IngestResult {
  productId: string;
  imageId: number;
  createdProduct: boolean;
  width: number;
  height: number;
  objects: ImageObject[];
  timings: Omit<SearchTimings, 'searchMs'>;
  /** The first answer given under this Idempotency-Key, replayed: nothing was stored now (timings are 0). */
  replayed?: boolean;
}

export interface SearchQuery {
  k: number;
  index: IndexKind;
  /** Matches below this cosine are dropped. */
  minScore: number;
  /** Also search the other indexes and report LSH's overlap with them. */
  compare: boolean;
  /**
   * Also return what was not accepted: every object's matches with their verdicts, and the products
   * judged similar but not the one photographed (`similar`). Default false: accepted matches only.
   */
  similar: boolean;
}

/** The acceptance model's verdict on a match (see src/acceptance). */
export interface Verdict {
  /** Judged to be the photographed product (always true while the catalog has no acceptance model). */
  accepted: boolean;
  /** Probability that it is the photographed product; null while the catalog has no acceptance model. */
  confidence: number | null;
}

export type JudgedMatch = ProductMatch & Verdict;

export interface ObjectMatches extends ImageObject {
  /** The index asked. */
  index: IndexKind;
  /** True when LSH came up short and HNSW answered. */
  fallback: boolean;
  /** The object's best products, judged: the accepted ones, or all of them with `similar`. */
  matches: JudgedMatch[];
  stats: SearchStats;
  searchMs: number;
  /** With `compare`: share of LSH's top-k products also in HNSW's and in the exact top-k (0..1). */
  overlap?: { hnsw: number; exact: number };
}

export interface SearchAnswer {
  width: number;
  height: number;
  objects: ObjectMatches[];
  /** The photo's products, each once: every object's accepted matches merged (see rankProducts), best `k`. */
  answer: RankedProduct<JudgedMatch>[];
  /** With `similar`: products that resemble an object but were not accepted, best `k`. */
  similar?: RankedProduct<JudgedMatch>[];
  /** Whether a learned acceptance model judged the matches (false: all accepted, confidence null). */
  judged: boolean;
  timings: SearchTimings;
}

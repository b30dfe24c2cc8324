/**
 * What the HTTP service and the CLI ask of a catalog, whichever backend holds it: the embedded one
 * (CatalogSearch: SQLite and in-process indexes) or PostgreSQL with pgvector (PgCatalogSearch,
 * src/storage/pg/). Reads may answer at once or over the wire, so callers await them. Also the
 * request-level steps both backends share: matching and judging every object of an extraction and
 * merging them into the answer, and the stage timings an answer reports.
 */
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import type { AddedImage, NewImage, ProductMetadata, ProductRecord, ProductSummary } from '../catalog/records.js';
import type { Thumbnail } from '../catalog/thumbnails.js';
import type { IndexKind } from '../indexing/types.js';
import type { Extraction, Extractor } from './extractor.js';
import type { OptimizeRequest, OptimizeResult } from './optimize-policy.js';
import { productOverlap, type DistinctMatches, type ProductMatch } from './product-matcher.js';
import type { IngestResult, JudgedMatch, ObjectMatches, SearchAnswer, SearchQuery, SearchTimings, Verdict } from './search-types.js';
import { rankProducts } from './answer.js';
import type { ObjectKind } from '../core/types.js';
import { judge, type AcceptanceModel } from '../acceptance/model.js';
import { UNSURE_LABEL } from '../detection/detector.js';

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

/** Finds one object's `k` best distinct products by `kind` among whole catalog photos (INDEXED_KIND; the backend's own matcher). */
export type MatchOne = (vector: Float32Array, kind: IndexKind, k: number) => Promise<DistinctMatches>;

/** Judges every object of one photo: each one's distinct products, best first, accepted or not and with what confidence (see src/acceptance). */
export type JudgePhoto = (objects: ReadonlyArray<{ kind: ObjectKind; label: string; matches: readonly ProductMatch[] }>) => Verdict[][];

/** Every match accepted, with no confidence: a catalog with no acceptance model. */
export const ACCEPT_ALL: JudgePhoto = (objects) => objects.map(({ matches }) => matches.map(() => ({ accepted: true, confidence: null })));

/** Stored detections of a class that make it a class products can have (one could be a stray box). */
const MIN_LABELLED_REGIONS = 2;

/**
 * The judge of a catalog with acceptance model `model` (ACCEPT_ALL without one), whose stored regions
 * carry each label `regionsLabelled(label)` times. A region the detector names confidently (a class,
 * not `object`) with a class no catalog photo has a detection of is never accepted: a chair in a
 * grocery catalog's search photo is no grocery however it resembles one; in a furniture catalog it
 * would be. Once anything in the photo is accepted, each region's first product is judged again
 * against the model's looser answeredRegionThreshold: the photo is answered either way, and a photo of
 * several products gets more of them.
 */
export function judgeWith(model: AcceptanceModel | undefined, regionsLabelled: (label: string) => number): JudgePhoto {
  if (!model) return ACCEPT_ALL;
  return (objects) => {
    const refused = objects.map(({ kind, label }) => kind === 'region' && label !== UNSURE_LABEL && regionsLabelled(label) < MIN_LABELLED_REGIONS);
    const strict = objects.map(({ kind, matches }, i) => judge(kind === 'whole' ? model.whole : model.region, matches, refused[i]));
    const looser = model.answeredRegionThreshold;
    if (looser === undefined || !strict.some((verdicts) => verdicts.some((verdict) => verdict.accepted))) return strict;
    // Only a region's first product: a region shows one product, and its runners-up are what it resembles.
    return objects.map(({ kind }, i) => {
      const [first, ...rest] = strict[i]!;
      if (kind !== 'region' || refused[i] || !first) return strict[i]!;
      return [{ ...first, accepted: first.accepted || first.confidence! >= looser }, ...rest];
    });
  };
}

/**
 * The answer to a search, from its extraction: every object matched (one after the other; with
 * `compare`, also against the other indexes, reporting LSH's overlap with them), the photo judged, and
 * its objects merged into one list of the photo's accepted products and, with `similar`, one of those
 * only resembling.
 */
export async function answerSearch(extraction: Extraction, query: SearchQuery, match: MatchOne, judge: JudgePhoto, started: number): Promise<SearchAnswer> {
  let searchMs = 0;
  // A verdict weighs a match against the best other product: always look at two at least.
  const wanted = Math.max(query.k, 2);
  const found: DistinctMatches[] = [];
  for (const { vector } of extraction.objects) {
    const matched = await match(vector, query.index, wanted);
    searchMs += matched.searchMs;
    found.push(matched);
  }
  const verdicts = judge(extraction.objects.map(({ kind, label }, i) => ({ kind, label, matches: found[i]!.matches })));
  const objects: ObjectMatches[] = [];
  const judged: JudgedMatch[][] = [];
  for (const [i, { kind, label, score, bbox, vector }] of extraction.objects.entries()) {
    const all = found[i]!.matches.map((m, j) => ({ ...m, ...verdicts[i]![j]! })).slice(0, query.k);
    judged.push(all);
    const matches = query.similar ? all : all.filter((m) => m.accepted);
    const result: ObjectMatches = { kind, label, score, bbox, index: query.index, ...found[i]!, matches };
    if (query.compare) {
      const lsh = query.index === 'lsh' ? found[i]! : await match(vector, 'lsh', query.k);
      const hnsw = await match(vector, 'hnsw', query.k);
      const exact = await match(vector, 'exact', query.k);
      const top = (d: DistinctMatches) => d.matches.slice(0, query.k);
      result.overlap = { hnsw: productOverlap(top(lsh), top(hnsw)), exact: productOverlap(top(lsh), top(exact)) };
    }
    objects.push(result);
  }
  // Ranked over every judged match, so that `similar` sees what the accepted answer leaves out.
  const ranked = rankProducts(objects.map((object, i) => ({ ...object, matches: judged[i]! })));
  return {
    width: extraction.width,
    height: extraction.height,
    objects,
    answer: ranked.filter((product) => product.accepted).slice(0, query.k),
    ...(query.similar ? { similar: ranked.filter((product) => !product.accepted).slice(0, query.k) } : {}),
    judged: judge !== ACCEPT_ALL,
    timings: { ...stageTimings(extraction), searchMs, totalMs: performance.now() - started },
  };
}

/** The catalog row an ingested image becomes, whichever backend stores it. */
export function newImage(productId: string, image: Buffer, extraction: Extraction, thumbnail: Buffer, metadata: ProductMetadata | undefined): NewImage {
  return {
    productId,
    metadata,
    width: extraction.width,
    height: extraction.height,
    sha256: createHash('sha256').update(image).digest('hex'),
    objects: extraction.objects,
    thumbnail,
  };
}

/** What ingest answers once the image is stored (its timings apart). */
export function ingestAnswer(productId: string, added: Pick<AddedImage, 'imageId' | 'createdProduct'>, extraction: Extraction): Omit<IngestResult, 'timings' | 'replayed'> {
  return {
    productId,
    imageId: added.imageId,
    createdProduct: added.createdProduct,
    width: extraction.width,
    height: extraction.height,
    objects: extraction.objects.map(({ kind, label, score, bbox }) => ({ kind, label, score, bbox })),
  };
}

export function stageTimings(extraction: Extraction): Omit<SearchTimings, 'searchMs' | 'totalMs'> {
  const t = extraction.timings;
  return { decodeMs: t.decodeMs, detectMs: t.letterboxMs + t.detectMs + t.boxesMs, embedMs: t.cropMs + t.encodeMs + t.poolMs };
}


/**
 * Distinct products from nearest neighbours: several crops of one product crowd the neighbour list,
 * so the matcher asks the index for k × candidateFactor vectors, keeps each product's best crop,
 * and doubles the request until it has k products, a neighbour falls below minScore, or the index
 * has no more. Pure over its inputs (an index and the stored objects), so it is tested without models.
 */
import { performance } from 'node:perf_hooks';
import type { ObjectRef, ProductMetadata } from '../catalog/records.js';
import type { BBox } from '../core/types.js';
import type { IndexKind, SearchResult, SearchStats } from '../indexing/types.js';

/** Most neighbours one index query may ask for (the indexes' own k limit). */
const MAX_NEIGHBORS = 10_000;

/** One distinct product found for a query object: its best-matching stored crop. */
export interface ProductMatch {
  productId: string;
  /** Cosine similarity of the query object and this crop (in the transformed space). */
  score: number;
  bbox: BBox;
  imageId: number;
  objectId: number;
  label: string;
  metadata: ProductMetadata;
}

/** What one distinct-product search found, and what it cost. */
export interface DistinctMatches {
  matches: ProductMatch[];
  /** True when LSH came up short and HNSW answered. */
  fallback: boolean;
  stats: SearchStats;
  searchMs: number;
}

/**
 * The neighbour search the matcher needs: an IndexSet, any one index behind the same call, or a
 * database answering over the wire (hence a search may return a promise).
 */
export interface NeighborSource {
  readonly size: number;
  search(kind: IndexKind, query: Float32Array, k: number): SearchResult | Promise<SearchResult>;
}

/** Where the matcher looks up what a neighbour id names: the in-process StoredObjects, or rows a database returned with the neighbours. */
export interface ObjectLookup {
  get(id: string): ObjectRef | undefined;
}

/** Index id → the stored object it names, with a count of each region label among them. */
export class StoredObjects implements ObjectLookup {
  private readonly byId = new Map<string, ObjectRef>();
  private readonly regionLabels = new Map<string, number>();

  constructor(refs: Iterable<ObjectRef> = []) {
    for (const ref of refs) this.add(ref);
  }

  add(ref: ObjectRef): void {
    this.remove(String(ref.id));
    this.byId.set(String(ref.id), ref);
    if (ref.kind !== 'whole') this.regionLabels.set(ref.label, (this.regionLabels.get(ref.label) ?? 0) + 1);
  }

  remove(id: string): void {
    const ref = this.byId.get(id);
    if (ref && ref.kind !== 'whole') this.regionLabels.set(ref.label, (this.regionLabels.get(ref.label) ?? 1) - 1);
    this.byId.delete(id);
  }

  /** How many stored regions (detections on catalog photos) carry `label`. */
  regionsLabelled(label: string): number {
    return this.regionLabels.get(label) ?? 0;
  }

  get(id: string): ObjectRef | undefined {
    return this.byId.get(id);
  }
}

export interface MatchRequest {
  k: number;
  /** Neighbours below this cosine end the search. */
  minScore: number;
  /** Neighbours fetched per wanted product on the first try. */
  candidateFactor: number;
}

/** The best `k` distinct products for `query` (a vector in the index's space), best first. */
export async function matchDistinctProducts(
  index: NeighborSource,
  kind: IndexKind,
  query: Float32Array,
  objects: ObjectLookup,
  request: MatchRequest,
  metadataOf: (productId: string) => ProductMetadata,
): Promise<DistinctMatches> {
  const started = performance.now();
  const { k, minScore } = request;
  const size = index.size;
  if (size === 0) {
    const stats = { bucketsProbed: 0, candidatesScored: 0, fellBack: false };
    return { matches: [], fallback: false, stats, searchMs: performance.now() - started };
  }
  const limit = Math.min(size, MAX_NEIGHBORS);
  let wanted = Math.min(limit, Math.ceil(k * request.candidateFactor));
  for (;;) {
    const { neighbors, stats } = await index.search(kind, query, wanted);
    const best = new Map<string, ProductMatch>();
    let belowMinScore = false;
    for (const neighbor of neighbors) {
      if (neighbor.score < minScore) {
        belowMinScore = true;
        break;
      }
      const stored = objects.get(neighbor.id);
      if (!stored || best.has(stored.productId)) continue;
      best.set(stored.productId, {
        productId: stored.productId,
        // A cosine, at most 1; float32 sums put a photo's match with itself at 1 + 2e-7 now and then (HNSW, pgvector).
        score: Math.min(1, neighbor.score),
        bbox: stored.bbox,
        imageId: stored.imageId,
        objectId: stored.id,
        label: stored.label,
        metadata: metadataOf(stored.productId),
      });
      if (best.size === k) break;
    }
    const exhausted = wanted >= limit || neighbors.length < wanted;
    if (best.size >= k || belowMinScore || exhausted) {
      return { matches: [...best.values()], fallback: stats.fellBack, stats, searchMs: performance.now() - started };
    }
    wanted = Math.min(limit, wanted * 2);
  }
}

/** Share of `other`'s products that are also among `lsh`'s (1 when both are empty). */
export function productOverlap(lsh: readonly ProductMatch[], other: readonly ProductMatch[]): number {
  if (other.length === 0) return lsh.length === 0 ? 1 : 0;
  const set = new Set(other.map((m) => m.productId));
  return lsh.filter((m) => set.has(m.productId)).length / other.length;
}

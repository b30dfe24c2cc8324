/**
 * The product-level verbs shared by the HTTP service and the CLI: ingest an image into a product,
 * search an image object by object for distinct products, delete a product, rebuild the indexes.
 * SQLite (the Catalog) holds the truth; the IndexSet under `<dataDir>/indexes` is a cache of the
 * transformed vectors, kept in step inside the same transaction as every write.
 */
import { createHash } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Catalog, describeEncoder, type CatalogCounts, type ObjectRef, type ProductMetadata, type ProductRecord } from '../catalog/catalog.js';
import { FindthisError } from '../core/errors.js';
import type { BBox, ImageObject } from '../core/types.js';
import { whyNotLearnable, type LabelledVector, type Whitening, type WhiteningOptions } from '../embedding/whitening.js';
import { whitenLearnOffThread } from '../embedding/whitening-thread.js';
import { IndexSet, type IndexMeta } from '../indexing/index-set.js';
import type { HnswParams, IndexKind, LshParams, SearchStats } from '../indexing/types.js';
import type { Extraction, Extractor } from './extractor.js';
import { rankProducts, type RankedProduct } from './answer.js';
import { buildIndexFilesOffThread, rowsOf } from './index-build-thread.js';
import { identityTransform, transformFromSpec, whiteningTransform, type VectorTransform } from './vector-transform.js';

/** Most neighbours one index query may ask for (the indexes' own k limit). */
const MAX_NEIGHBORS = 10_000;

export interface CatalogSearchOptions {
  /** catalog.sqlite and indexes/ live here. */
  dataDir: string;
  index: { lsh: LshParams; hnsw: HnswParams };
  /** Neighbours fetched per wanted product on the first try (see SearchConfig.candidateFactor). */
  candidateFactor: number;
}

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
}

export interface SearchQuery {
  k: number;
  index: IndexKind;
  /** Matches below this cosine are dropped. */
  minScore: number;
  /** Also search the other indexes and report LSH's overlap with them. */
  compare: boolean;
}

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

export interface ObjectMatches extends ImageObject {
  /** The index asked. */
  index: IndexKind;
  /** True when LSH came up short and HNSW answered. */
  fallback: boolean;
  matches: ProductMatch[];
  stats: SearchStats;
  searchMs: number;
  /** With `compare`: share of LSH's top-k products also in HNSW's and in the exact top-k (0..1). */
  overlap?: { hnsw: number; exact: number };
}

export interface SearchAnswer {
  width: number;
  height: number;
  objects: ObjectMatches[];
  /** One ranking for the whole photo: every object's matches merged (see rankProducts), best `k`. */
  answer: RankedProduct<ProductMatch>[];
  timings: SearchTimings;
}

export interface OptimizeResult {
  products: number;
  images: number;
  vectors: number;
  indexed: Record<IndexKind, number>;
  transform: string;
  /** What the learned whitening was made of; null when vectors are indexed raw or the transform was kept. */
  whitening: { dimensions: number; vectors: number; products: number; shrinkage: number } | null;
  /** Why whitening was asked for but not learned. */
  skipped?: string;
  ms: number;
}

/**
 * Fewest products whitening is learned for. It keeps at most (products − 1) dimensions: with fewer
 * than 16, products added later would be squeezed into a space too small to tell them apart (with
 * 2 products every vector became ±1), so a smaller catalog stays raw.
 */
export const MIN_PRODUCTS_FOR_WHITENING = 17;

/**
 * Which stored objects a query object may match. The whole photo is compared with whole stored
 * photos only: a shelf photo resembling one apple cropped from another product's photo is not a
 * match (grocery val, whitened: whole-image recall@1 81.4% against every stored object, 85% against
 * whole images). A detection may match any stored object, the catalog photo included.
 */
export type MatchScope = 'whole-images' | 'all';

export function matchScopeOf(objectLabel: string): MatchScope {
  return objectLabel === 'image' ? 'whole-images' : 'all';
}

export interface OptimizeRequest {
  /** Learn whitening with these options; `false` indexes raw vectors; absent keeps the current transform. */
  whitening?: WhiteningOptions | false;
  /**
   * More labelled vectors to learn from besides the catalog's own whole-image vectors: photos kept out
   * of the catalog (e.g. store photos of products the catalog shows once), grouped by product id.
   */
  samples?: LabelledVector[];
}

export class CatalogSearch {
  readonly extractor: Extractor;
  readonly catalog: Catalog;
  private readonly options: CatalogSearchOptions;
  private transform: VectorTransform;
  private indexes: IndexSet;
  /** Index id → the stored object it names: search results resolve here, not in SQLite. */
  private readonly objects = new Map<string, ObjectRef>();
  /** Stored whole-image objects (label 'image') among `objects`. */
  private wholeImages = 0;
  /** Parsed product metadata, filled on first use, dropped when it changes. */
  private readonly metadataCache = new Map<string, ProductMetadata>();
  /** Settles when the running optimize() has swapped in its new indexes; writes wait for it. */
  private rebuilding: Promise<unknown> = Promise.resolve();
  /** Settles when the last optimize() asked for has finished. */
  private optimizing: Promise<unknown> = Promise.resolve();

  private constructor(extractor: Extractor, catalog: Catalog, indexes: IndexSet, transform: VectorTransform, options: CatalogSearchOptions) {
    this.extractor = extractor;
    this.catalog = catalog;
    this.indexes = indexes;
    this.transform = transform;
    this.options = options;
    for (const ref of catalog.objectRefs()) this.remember(ref);
  }

  private remember(ref: ObjectRef): void {
    this.objects.set(String(ref.id), ref);
    if (ref.label === 'image') this.wholeImages++;
  }

  private forget(id: string): void {
    if (this.objects.get(id)?.label === 'image') this.wholeImages--;
    this.objects.delete(id);
  }

  /**
   * Opens `<dataDir>/catalog.sqlite` for the extractor's encoder (INDEX_MISMATCH if it was built with
   * another) and the indexes beside it, rebuilding them from the stored vectors when missing or stale.
   */
  static async open(extractor: Extractor, options: CatalogSearchOptions): Promise<CatalogSearch> {
    const catalog = Catalog.open(join(options.dataDir, 'catalog.sqlite'), extractor.encoder);
    try {
      const transform = storedTransform(catalog) ?? identityTransform(extractor.encoder.dim);
      const indexes = await openIndexes(catalog, options, transform);
      return new CatalogSearch(extractor, catalog, indexes, transform, options);
    } catch (error) {
      catalog.close();
      throw error;
    }
  }

  get indexDir(): string {
    return join(this.options.dataDir, 'indexes');
  }

  get transformId(): string {
    return this.transform.id;
  }

  size(): { products: number; images: number; vectors: number } {
    const counts = this.catalog.counts();
    return { products: counts.products, images: counts.images, vectors: counts.objects };
  }

  /** Extracts the image's objects and stores them under `productId` (created if new). All-or-nothing. */
  async ingest(productId: string, image: Buffer, metadata?: ProductMetadata): Promise<IngestResult> {
    const started = performance.now();
    const extraction = await this.extractor.extract(image);
    await this.rebuilding;
    const vectors = extraction.objects.map((object) => this.transform.apply(object.vector));
    const added = this.catalog.transaction(() => {
      const stored = this.catalog.addImage({
        productId,
        metadata,
        width: extraction.width,
        height: extraction.height,
        sha256: createHash('sha256').update(image).digest('hex'),
        objects: extraction.objects,
      });
      const ids = stored.objectIds.map(String);
      try {
        ids.forEach((id, i) => this.indexes.add(id, vectors[i] as Float32Array));
      } catch (error) {
        for (const id of ids) if (this.indexes.has(id)) this.indexes.remove(id);
        throw error;
      }
      return stored;
    });
    added.objectIds.forEach((objectId, i) => {
      const { label, score, bbox } = extraction.objects[i]!;
      this.remember({ id: objectId, imageId: added.imageId, productId, label, score, bbox });
    });
    if (metadata !== undefined) this.metadataCache.delete(productId);
    const stages = stageTimings(extraction);
    return {
      productId,
      imageId: added.imageId,
      createdProduct: added.createdProduct,
      width: extraction.width,
      height: extraction.height,
      objects: extraction.objects.map(({ label, score, bbox }) => ({ label, score, bbox })),
      timings: { ...stages, totalMs: performance.now() - started },
    };
  }

  /** Extracts the image's objects and finds, for each, the best `k` distinct products. */
  async search(image: Buffer, query: SearchQuery): Promise<SearchAnswer> {
    const started = performance.now();
    const extraction = await this.extractor.extract(image);
    let searchMs = 0;
    const objects = extraction.objects.map(({ label, score, bbox, vector }): ObjectMatches => {
      const scope = matchScopeOf(label);
      const transformed = this.transform.apply(vector);
      const found = this.matchTransformed(transformed, query.index, query.k, query.minScore, scope);
      searchMs += found.searchMs;
      const result: ObjectMatches = { label, score, bbox, index: query.index, ...found };
      if (query.compare) {
        const lsh = query.index === 'lsh' ? found : this.matchTransformed(transformed, 'lsh', query.k, query.minScore, scope);
        result.overlap = this.compareIndexes(transformed, lsh.matches, query.k, query.minScore, scope);
      }
      return result;
    });
    return {
      width: extraction.width,
      height: extraction.height,
      objects,
      answer: rankProducts(objects).slice(0, query.k),
      timings: { ...stageTimings(extraction), searchMs, totalMs: performance.now() - started },
    };
  }

  /**
   * The best `k` distinct products for one raw vector: asks the index for k × candidateFactor
   * neighbours and doubles until k products are found, a neighbour falls below `minScore`, or the
   * index has nothing more to give. With scope `whole-images`, only stored whole images count.
   */
  matchVector(
    raw: Float32Array,
    kind: IndexKind,
    k: number,
    minScore: number,
    scope: MatchScope = 'all',
  ): Pick<ObjectMatches, 'matches' | 'fallback' | 'stats' | 'searchMs'> {
    const started = performance.now();
    const found = this.matchTransformed(this.transform.apply(raw), kind, k, minScore, scope);
    return { ...found, searchMs: performance.now() - started };
  }

  /** matchVector for a vector already in the indexes' space. */
  private matchTransformed(
    query: Float32Array,
    kind: IndexKind,
    k: number,
    minScore: number,
    scope: MatchScope,
  ): Pick<ObjectMatches, 'matches' | 'fallback' | 'stats' | 'searchMs'> {
    const started = performance.now();
    const size = this.indexes.size;
    if (size === 0) {
      const stats = { bucketsProbed: 0, candidatesScored: 0, fellBack: false };
      return { matches: [], fallback: false, stats, searchMs: performance.now() - started };
    }
    const limit = Math.min(size, MAX_NEIGHBORS);
    // Only stored whole images count in that scope: ask for proportionally more neighbours at once
    // (vectors per whole image, about 3.7 on grocery) rather than re-querying with k doubled.
    const share = scope === 'whole-images' ? Math.max(1, size / Math.max(1, this.wholeImages)) : 1;
    let wanted = Math.min(limit, Math.ceil(k * this.options.candidateFactor * share));
    for (;;) {
      const { neighbors, stats } = this.indexes.search(kind, query, wanted);
      const best = new Map<string, ProductMatch>();
      let belowMinScore = false;
      for (const neighbor of neighbors) {
        if (neighbor.score < minScore) {
          belowMinScore = true;
          break;
        }
        const stored = this.objects.get(neighbor.id);
        if (!stored || best.has(stored.productId) || (scope === 'whole-images' && stored.label !== 'image')) continue;
        best.set(stored.productId, {
          productId: stored.productId,
          score: neighbor.score,
          bbox: stored.bbox,
          imageId: stored.imageId,
          objectId: stored.id,
          label: stored.label,
          metadata: this.metadataOf(stored.productId),
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

  product(id: string): ProductRecord | undefined {
    return this.catalog.product(id);
  }

  /** Deletes the product and removes its vectors from every index. False when there was no such product. */
  async removeProduct(id: string): Promise<boolean> {
    await this.rebuilding;
    const ids = this.catalog.objectIdsOf(id).map(String);
    const removed = this.catalog.transaction(() => {
      if (!this.catalog.removeProduct(id)) return false;
      for (const objectId of ids) if (this.indexes.has(objectId)) this.indexes.remove(objectId);
      return true;
    });
    for (const objectId of ids) this.forget(objectId);
    this.metadataCache.delete(id);
    return removed;
  }

  /**
   * Rebuilds every index from the stored raw vectors. With `whitening` options, first learns whitening
   * (off the main thread) from the catalog's whole-image vectors and any extra `samples`, grouped by
   * product, stores it in the catalog and rebuilds in the whitened space; with `whitening: false`,
   * drops any stored transform and indexes raw vectors; without either, keeps the current transform.
   * A catalog with no product photographed twice, or with fewer than MIN_PRODUCTS_FOR_WHITENING
   * products, stays raw and the result says why.
   */
  async optimize(request: OptimizeRequest = {}): Promise<OptimizeResult> {
    // Optimizes run one at a time, in the order asked: the last request decides the transform, and
    // concurrent requests never learn side by side.
    const run = this.optimizing.then(() => this.runOptimize(request));
    this.optimizing = run.catch(() => undefined);
    return run;
  }

  private async runOptimize(request: OptimizeRequest): Promise<OptimizeResult> {
    const started = performance.now();
    let transform = this.transform;
    let learned: Whitening | undefined;
    let skipped: string | undefined;
    if (request.whitening === false) {
      transform = identityTransform(this.catalog.encoder.dim);
    } else if (request.whitening) {
      const samples = [...this.wholeImageSamples(), ...(request.samples ?? [])];
      const unlearnable = whyNotLearnable(samples, MIN_PRODUCTS_FOR_WHITENING);
      if (unlearnable) {
        transform = identityTransform(this.catalog.encoder.dim);
        skipped = `whitening not learned: ${unlearnable}; vectors are indexed raw`;
      } else {
        // Learning takes seconds on its thread; ingests and deletes go on meanwhile, and the rebuild
        // below reads every stored vector, theirs included.
        learned = await whitenLearnOffThread(samples, request.whitening);
        transform = whiteningTransform(learned);
      }
    }
    const run = this.rebuilding.then(async () => {
      this.indexes = await rebuildIndexes(this.catalog, this.options, transform);
      this.transform = transform;
      const { spec } = transform;
      this.catalog.saveTransform(spec.kind === 'whitening' ? { kind: spec.kind, data: Buffer.from(spec.data) } : undefined);
      const counts: CatalogCounts = this.catalog.counts();
      const size = this.indexes.size;
      return {
        products: counts.products,
        images: counts.images,
        vectors: counts.objects,
        indexed: { lsh: size, hnsw: size, exact: size },
        transform: transform.id,
        whitening: learned
          ? { dimensions: learned.outputDim, vectors: learned.learnedFrom.vectors, products: learned.learnedFrom.groups, shrinkage: learned.shrinkage }
          : null,
        ...(skipped ? { skipped } : {}),
        ms: performance.now() - started,
      };
    });
    this.rebuilding = run.catch(() => undefined);
    return run;
  }

  /** The catalog's whole-image vectors, grouped by product: the default pairs to learn whitening from. */
  private wholeImageSamples(): LabelledVector[] {
    const samples: LabelledVector[] = [];
    for (const { productId, label, vector } of this.catalog.labelledVectors()) {
      if (label === 'image') samples.push({ group: productId, vector });
    }
    return samples;
  }

  /** Writes the index caches (atomic). */
  async save(): Promise<void> {
    await this.indexes.save();
  }

  /** Saves the indexes and closes the catalog (the extractor belongs to the caller). */
  async close(): Promise<void> {
    await this.optimizing;
    try {
      await this.save();
    } finally {
      this.catalog.close();
    }
  }

  private metadataOf(productId: string): ProductMetadata {
    let metadata = this.metadataCache.get(productId);
    if (metadata === undefined) {
      metadata = this.catalog.metadata(productId) ?? {};
      this.metadataCache.set(productId, metadata);
    }
    return metadata;
  }

  /** Share of LSH's top-k products (`lshMatches`) also in HNSW's and in the exact top-k. */
  private compareIndexes(query: Float32Array, lshMatches: readonly ProductMatch[], k: number, minScore: number, scope: MatchScope): { hnsw: number; exact: number } {
    const productsOf = (kind: IndexKind): string[] => this.matchTransformed(query, kind, k, minScore, scope).matches.map((m) => m.productId);
    const lsh = lshMatches.map((m) => m.productId);
    const overlap = (other: string[]): number => {
      if (other.length === 0) return lsh.length === 0 ? 1 : 0;
      const set = new Set(other);
      return lsh.filter((id) => set.has(id)).length / other.length;
    };
    return { hnsw: overlap(productsOf('hnsw')), exact: overlap(productsOf('exact')) };
  }
}

function stageTimings(extraction: Extraction): Omit<SearchTimings, 'searchMs' | 'totalMs'> {
  const t = extraction.timings;
  return { decodeMs: t.decodeMs, detectMs: t.letterboxMs + t.detectMs + t.boxesMs, embedMs: t.cropMs + t.encodeMs + t.poolMs };
}

/** Loads the indexes from `<dataDir>/indexes`, building (on this thread) any that are missing or stale. */
async function openIndexes(catalog: Catalog, options: CatalogSearchOptions, transform: VectorTransform): Promise<IndexSet> {
  function* transformed(): Iterable<[string, Float32Array]> {
    for (const [id, vector] of catalog.vectors()) yield [id, transform.apply(vector)];
  }
  const { set } = await IndexSet.open(join(options.dataDir, 'indexes'), { dim: transform.outputDim, ...options.index }, transformed(), indexMeta(catalog, transform));
  return set;
}

/**
 * Rebuilds every index from the stored vectors under `transform`: built and saved on a worker thread
 * into `indexes.next/`, which then replaces `indexes/`, and loaded from there. Writes wait meanwhile
 * (ingest and delete await the rebuild); a write that slips in anyway makes the load find other ids
 * and rebuild that index here, so the result always matches the catalog.
 */
async function rebuildIndexes(catalog: Catalog, options: CatalogSearchOptions, transform: VectorTransform): Promise<IndexSet> {
  const dir = join(options.dataDir, 'indexes');
  const staging = `${dir}.next`;
  rmSync(staging, { recursive: true, force: true });
  const params = { dim: transform.outputDim, ...options.index };
  const meta = indexMeta(catalog, transform);
  const built = await buildIndexFilesOffThread(staging, params, meta, transform.spec, catalog.vectors());
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  const { set } = await IndexSet.open(dir, params, rowsOf(built.ids, built.vectors, params.dim), meta);
  return set;
}

function indexMeta(catalog: Catalog, transform: VectorTransform): IndexMeta {
  return { encoder: describeEncoder(catalog.encoder), transform: transform.id };
}

/** The transform stored in the catalog by the last optimize, if any. */
function storedTransform(catalog: Catalog): VectorTransform | undefined {
  const stored = catalog.storedTransform();
  if (!stored) return undefined;
  if (stored.kind !== 'whitening') {
    throw new FindthisError('INDEX_MISMATCH', `Catalog ${catalog.file} stores a transform of kind ${stored.kind}; this version knows only whitening`);
  }
  return transformFromSpec({ kind: 'whitening', data: stored.data });
}

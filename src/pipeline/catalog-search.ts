/**
 * The product-level verbs shared by the HTTP service and the CLI: ingest an image into a product,
 * search an image object by object for distinct products, delete a product, rebuild the indexes.
 * SQLite (the Catalog) holds the truth; the IndexSet under `<dataDir>/indexes` is a cache of the
 * transformed vectors, kept in step inside the same transaction as every write.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Catalog } from '../catalog/catalog.js';
import type { ProductMetadata, ProductRecord } from '../catalog/records.js';
import type { Thumbnail } from '../catalog/thumbnails.js';
import { makeThumbnail } from '../imaging/thumbnail.js';
import type { IndexSet } from '../indexing/index-set.js';
import type { IndexKind } from '../indexing/types.js';
import type { Extraction, Extractor } from './extractor.js';
import { ingestFingerprint, rememberAnswer, replayOf } from './idempotent-ingest.js';
import { answerSearch, judgeWith, ingestAnswer, newImage, stageTimings, type CatalogService, type JudgePhoto, type ProductPage } from './catalog-service.js';
import { DEFAULT_ACCEPTANCE_OPTIONS, whyNotJudgeable, type AcceptanceOptions, type StoredSample } from '../acceptance/learn.js';
import { learnAcceptanceOffThread } from '../acceptance/learn-thread.js';
import type { AcceptanceModel } from '../acceptance/model.js';
import { ProductPrototypes } from './product-reference.js';
import type { IngestResult, SearchAnswer, SearchQuery } from './search-types.js';
import { indexDirOf, INDEXED_KIND, openCatalogIndexes, type CatalogIndexParams, type StartupLog, rebuildCatalogIndexes, saveTransform, storedTransform } from './catalog-indexes.js';
import { acceptanceSummary, chooseTransform, OneAtATime, OptimizeSingleFlight, optimizeKey, optimizeResult, wholeImageSamples, type OptimizeRequest, type OptimizeResult } from './optimize-policy.js';
import { matchDistinctProducts, StoredObjects, type DistinctMatches } from './product-matcher.js';
import { rawTransform, type VectorTransform } from '../embedding/vector-transform.js';

export { MIN_PRODUCTS_FOR_WHITENING, type OptimizeRequest, type OptimizeResult } from './optimize-policy.js';
export { type ProductMatch } from './product-matcher.js';
export type { CatalogService } from './catalog-service.js';
export type { IngestResult, ObjectMatches, SearchAnswer, SearchQuery, SearchTimings } from './search-types.js';

export interface CatalogSearchOptions {
  /** catalog.sqlite and indexes/ live here. */
  dataDir: string;
  index: CatalogIndexParams;
  /** Neighbours fetched per wanted product on the first try (see SearchConfig.candidateFactor). */
  candidateFactor: number;
  /** Told what opening cleaned up or rebuilt (crash leftovers, stale or missing indexes), with counts and times. */
  log?: StartupLog;
  /** How optimize learns the acceptance model. Default DEFAULT_ACCEPTANCE_OPTIONS. */
  acceptance?: AcceptanceOptions;
}

/** The catalog setting that keeps the learned acceptance model. */
const ACCEPTANCE_SETTING = 'acceptance';

/** The embedded backend: SQLite and in-process indexes (see the file comment). */
export class CatalogSearch implements CatalogService {
  /** Index id → the stored object it names: search results resolve here, not in SQLite. */
  private readonly objects: StoredObjects;
  /** Parsed product metadata, filled on first use, dropped when it changes. */
  private readonly metadataCache = new Map<string, ProductMetadata>();
  /** Index rebuilds: writes wait until the running one has swapped in its new indexes. */
  private readonly rebuilds = new OneAtATime();
  /** Optimizes run one at a time, at most one waiting; a request like the waiting one shares its result (OptimizeSingleFlight). */
  private readonly optimizations = new OptimizeSingleFlight<OptimizeResult>();
  /** The products as prototypes, for grouping the regions of search photos by product. */
  private readonly prototypes: ProductPrototypes;
  /** What judges matches: learned by the last optimize under the current transform (none: all accepted). */
  private acceptance: AcceptanceModel | undefined;

  private constructor(
    readonly extractor: Extractor,
    readonly catalog: Catalog,
    private indexes: IndexSet,
    private transform: VectorTransform,
    private readonly options: CatalogSearchOptions,
  ) {
    this.objects = new StoredObjects(catalog.objectRefs());
    this.prototypes = new ProductPrototypes(transform);
    this.prototypes.reset(transform, this.transformedVectors());
    const acceptance = catalog.setting<AcceptanceModel>(ACCEPTANCE_SETTING);
    this.acceptance = acceptance?.learnedFrom.transform === transform.id ? acceptance : undefined;
  }

  /** Every stored vector in the indexes' space, with its product, image and kind. */
  private *transformedVectors(): Iterable<StoredSample> {
    for (const { productId, imageId, kind, vector } of this.catalog.labelledVectors()) {
      yield { productId, imageId, kind, vector: this.transform.apply(vector) };
    }
  }

  /**
   * Opens `<dataDir>/catalog.sqlite` for the extractor's encoder (INDEX_MISMATCH if it was built with
   * another) and the indexes beside it, rebuilding them from the stored vectors when missing or stale.
   */
  static async open(extractor: Extractor, options: CatalogSearchOptions): Promise<CatalogSearch> {
    const catalog = Catalog.open(join(options.dataDir, 'catalog.sqlite'), extractor.encoder);
    try {
      const transform = storedTransform(catalog) ?? rawTransform(extractor.encoder);
      const indexes = await openCatalogIndexes(catalog, options.dataDir, options.index, transform, options.log);
      return new CatalogSearch(extractor, catalog, indexes, transform, options);
    } catch (error) {
      catalog.close();
      throw error;
    }
  }

  get indexDir(): string {
    return indexDirOf(this.options.dataDir);
  }

  get transformId(): string {
    return this.transform.id;
  }

  size(): { products: number; images: number; vectors: number } {
    const counts = this.catalog.counts();
    return { products: counts.products, images: counts.images, vectors: counts.objects };
  }

  /**
   * Extracts the image's objects and stores them, with the image's thumbnail, under `productId`
   * (created if new). All-or-nothing. With an `idempotencyKey`, the answer is stored under the key in
   * the same transaction, and a retry with that key gets the first answer (`replayed`) without
   * storing again (IDEMPOTENCY_CONFLICT if the key came with another request).
   */
  async ingest(productId: string, image: Buffer, metadata?: ProductMetadata, idempotencyKey?: string): Promise<IngestResult> {
    const started = performance.now();
    const fingerprint = idempotencyKey === undefined ? '' : ingestFingerprint(productId, image, metadata);
    const earlier = idempotencyKey === undefined ? undefined : replayOf(this.catalog, idempotencyKey, fingerprint);
    if (earlier) return earlier;
    const extraction = await this.extractor.extract(image);
    // Only once the extractor has accepted the image (format, pixel limit) is it decoded again here.
    const thumbnail = await makeThumbnail(image);
    await this.rebuilds.idle();
    const vectors = extraction.objects.map((object) => this.transform.apply(object.vector));
    let replay: IngestResult | undefined;
    const added = this.catalog.transaction(() => {
      // A concurrent request with the same key may have been stored while this one was extracting.
      if (idempotencyKey !== undefined && (replay = replayOf(this.catalog, idempotencyKey, fingerprint))) return undefined;
      const stored = this.catalog.addImage(newImage(productId, image, extraction, thumbnail, metadata));
      if (idempotencyKey !== undefined) rememberAnswer(this.catalog, idempotencyKey, fingerprint, ingestAnswer(productId, stored, extraction));
      const indexed = stored.objectIds.flatMap((objectId, i) => (extraction.objects[i]!.kind === INDEXED_KIND ? [{ id: String(objectId), vector: vectors[i]! }] : []));
      try {
        for (const { id, vector } of indexed) this.indexes.add(id, vector);
      } catch (error) {
        for (const { id } of indexed) if (this.indexes.has(id)) this.indexes.remove(id);
        throw error;
      }
      return stored;
    });
    if (!added) return replay as IngestResult;
    added.objectIds.forEach((objectId, i) => {
      const { kind, label, score, bbox } = extraction.objects[i]!;
      this.objects.add({ id: objectId, imageId: added.imageId, productId, kind, label, score, bbox });
      this.prototypes.add(productId, vectors[i]!);
    });
    if (metadata !== undefined) this.metadataCache.delete(productId);
    return { ...ingestAnswer(productId, added, extraction), timings: { ...stageTimings(extraction), totalMs: performance.now() - started } };
  }

  /** The search photo's objects: the whole photo and the regions where this catalog's products seem to be. */
  async extractQuery(image: Buffer): Promise<Extraction> {
    const reference = this.prototypes.takeChanged();
    if (reference) this.extractor.setReference(reference);
    return this.extractor.extract(image, 'search');
  }

  /**
   * Finds the photo's objects (the whole photo and the regions where products seem to be) and, for
   * each, the best `k` distinct products, judged by the acceptance model when the catalog has one.
   */
  async search(image: Buffer, query: SearchQuery): Promise<SearchAnswer> {
    const started = performance.now();
    const extraction = await this.extractQuery(image);
    const match = (vector: Float32Array, kind: IndexKind, k: number) => this.matchTransformed(this.transform.apply(vector), kind, k, query.minScore);
    return answerSearch(extraction, query, match, this.judgePhoto(), started);
  }

  /** The acceptance model's judge, or ACCEPT_ALL while there is none. */
  private judgePhoto(): JudgePhoto {
    return judgeWith(this.acceptance, (label) => this.objects.regionsLabelled(label));
  }

  /**
   * The best `k` distinct products for one raw vector: asks the index for k × candidateFactor
   * neighbours and doubles until k products are found, a neighbour falls below `minScore`, or the
   * index has nothing more to give. The indexes hold whole photos only (INDEXED_KIND), as in a search.
   */
  async matchVector(raw: Float32Array, kind: IndexKind, k: number, minScore: number): Promise<DistinctMatches> {
    const started = performance.now();
    const found = await this.matchTransformed(this.transform.apply(raw), kind, k, minScore);
    return { ...found, searchMs: performance.now() - started };
  }

  /** matchVector for a vector already in the indexes' space. */
  private matchTransformed(query: Float32Array, kind: IndexKind, k: number, minScore: number): Promise<DistinctMatches> {
    const request = { k, minScore, candidateFactor: this.options.candidateFactor };
    return matchDistinctProducts(this.indexes, kind, query, this.objects, request, (productId) => this.metadataOf(productId));
  }

  product(id: string): ProductRecord | undefined {
    return this.catalog.product(id);
  }

  listProducts(offset: number, limit: number): ProductPage {
    return { total: this.catalog.counts().products, products: this.catalog.listProducts(offset, limit) };
  }

  thumbnail(imageId: number): Thumbnail | undefined | null {
    return this.catalog.thumbnails.get(imageId);
  }

  /** Deletes the product and removes its vectors from every index. False when there was no such product. */
  async removeProduct(id: string): Promise<boolean> {
    await this.rebuilds.idle();
    const ids = this.catalog.objectIdsOf(id).map(String);
    const removed = this.catalog.transaction(() => {
      if (!this.catalog.removeProduct(id)) return false;
      for (const objectId of ids) if (this.indexes.has(objectId)) this.indexes.remove(objectId);
      return true;
    });
    for (const objectId of ids) this.objects.remove(objectId);
    this.metadataCache.delete(id);
    this.prototypes.remove(id);
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
    return this.optimizations.run(optimizeKey(request), () => this.runOptimize(request));
  }

  private async runOptimize(request: OptimizeRequest): Promise<OptimizeResult> {
    const started = performance.now();
    const choice = await chooseTransform({ encoder: this.catalog.encoder, wholeImageSamples: () => wholeImageSamples(this.catalog) }, this.transform, request);
    return this.rebuilds.run(async () => {
      this.indexes = await rebuildCatalogIndexes(this.catalog, this.options.dataDir, this.options.index, choice.transform);
      this.transform = choice.transform;
      saveTransform(this.catalog, choice.transform);
      // Writes wait for this too (the prototypes must see every stored vector); searches go on.
      const raw = [...this.catalog.labelledVectors()];
      const unjudgeable = whyNotJudgeable(raw);
      const options = this.options.acceptance ?? DEFAULT_ACCEPTANCE_OPTIONS;
      const learned = await learnAcceptanceOffThread(unjudgeable ? [] : raw, choice.transform.spec, choice.transform.id, options);
      const transformed = raw.map(({ productId }, i) => ({ productId, vector: learned.transformed.subarray(i * learned.dim, (i + 1) * learned.dim) }));
      this.prototypes.reset(choice.transform, unjudgeable ? this.transformedVectors() : transformed);
      this.acceptance = learned.model;
      this.catalog.saveSetting(ACCEPTANCE_SETTING, this.acceptance);
      return optimizeResult(this.catalog.counts(), this.indexes.size, choice, acceptanceSummary(this.acceptance, unjudgeable), started);
    });
  }

  /** Writes the index caches (atomic). */
  async save(): Promise<void> {
    await this.indexes.save();
  }

  /** Saves the indexes and closes the catalog (the extractor belongs to the caller). */
  async close(): Promise<void> {
    await this.optimizations.idle();
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
}

/**
 * The catalog service on PostgreSQL (FINDTHIS_DATABASE_URL): the same verbs, matcher and optimize
 * policy as the embedded CatalogSearch, over a PgStore. Each search reads the current search_state
 * (versions, counters) once; between requests a replica keeps only what those versions determine (the
 * transform and its acceptance model, the products' prototypes and region label counts), read again
 * when they move, and neighbours come back from the database with their objects and product metadata,
 * so replicas on one database never disagree.
 */
import { performance } from 'node:perf_hooks';
import type { AddedImage, ObjectRef, ProductMetadata, ProductRecord } from '../../catalog/records.js';
import type { Thumbnail } from '../../catalog/thumbnails.js';
import type { LabelledVector } from '../../embedding/whitening.js';
import { makeThumbnail } from '../../imaging/thumbnail.js';
import type { IndexKind } from '../../indexing/types.js';
import type { CatalogIndexParams } from '../../pipeline/catalog-indexes.js';
import { answerSearch, ingestAnswer, newImage, stageTimings, type CatalogService, type CatalogSize, type ProductPage } from '../../pipeline/catalog-service.js';
import type { IngestResult, SearchAnswer, SearchQuery } from '../../pipeline/search-types.js';
import type { Extractor } from '../../pipeline/extractor.js';
import { acceptanceSummary, chooseTransform, OptimizeSingleFlight, optimizeKey, optimizeResult, type OptimizeRequest, type OptimizeResult } from '../../pipeline/optimize-policy.js';
import { matchDistinctProducts, type DistinctMatches } from '../../pipeline/product-matcher.js';
import { DEFAULT_ACCEPTANCE_OPTIONS, whyNotJudgeable, type AcceptanceOptions } from '../../acceptance/learn.js';
import { learnAcceptanceOffThread, type RawSample } from '../../acceptance/learn-thread.js';
import type { VectorTransform } from '../../embedding/vector-transform.js';
import { ingestFingerprint, replayStored } from '../../pipeline/idempotent-ingest.js';
import { KeyTaken } from './add-image.js';
import { PgStore, type SearchSnapshot } from './pg-store.js';
import { ReplicaReference } from './replica-reference.js';

/** PostgreSQL's SQLSTATE for a table that does not exist (any more). */
const UNDEFINED_TABLE = '42P01';

export interface PgCatalogSearchOptions {
  /** postgres://… */
  url: string;
  index: CatalogIndexParams;
  /** Neighbours fetched per wanted product on the first try (see SearchConfig.candidateFactor). */
  candidateFactor: number;
  /** Connections this process keeps open. Default 4. */
  poolSize?: number;
  log?: (message: string) => void;
  /** How optimize learns the acceptance model. Default DEFAULT_ACCEPTANCE_OPTIONS. */
  acceptance?: AcceptanceOptions;
}

export class PgCatalogSearch implements CatalogService {
  /**
   * Optimizes asked of this process: one at a time, at most one waiting, a like request sharing the
   * waiting one's result (OptimizeSingleFlight, as embedded). Across replicas the database's rebuild
   * lock orders them: each replica's run waits for the other's, nothing is shared and nothing refused.
   */
  private readonly optimizations = new OptimizeSingleFlight<OptimizeResult>();
  /** The products' prototypes and region label counts, as of the last catalog version a search saw. */
  private readonly reference: ReplicaReference;

  private constructor(
    readonly extractor: Extractor,
    readonly store: PgStore,
    private readonly options: PgCatalogSearchOptions,
    transform: VectorTransform,
  ) {
    this.reference = new ReplicaReference(transform, (before) => store.storedReference(before), () => store.refresh());
  }

  /** Connects, migrates, and checks the database was filled by this extractor's encoder (INDEX_MISMATCH otherwise). */
  static async open(extractor: Extractor, options: PgCatalogSearchOptions): Promise<PgCatalogSearch> {
    const store = await PgStore.open({
      url: options.url,
      encoder: extractor.encoder,
      index: options.index,
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    return new PgCatalogSearch(extractor, store, options, (await store.refresh()).transform);
  }

  /**
   * As CatalogSearch.ingest: with an `idempotencyKey`, the answer is stored under the key in the add's
   * transaction, and a retry with that key, through any replica, gets the first answer (`replayed`)
   * without storing again (IDEMPOTENCY_CONFLICT if the key came with another request).
   */
  async ingest(productId: string, image: Buffer, metadata?: ProductMetadata, idempotencyKey?: string): Promise<IngestResult> {
    const started = performance.now();
    const fingerprint = idempotencyKey === undefined ? '' : ingestFingerprint(productId, image, metadata);
    const earlier = idempotencyKey === undefined ? undefined : replayStored(await this.store.storedAnswer(idempotencyKey), idempotencyKey, fingerprint);
    if (earlier) return earlier;
    const extraction = await this.extractor.extract(image);
    const thumbnail = await makeThumbnail(image);
    const idempotency = idempotencyKey === undefined ? undefined : { key: idempotencyKey, fingerprint, answer: (added: AddedImage) => JSON.stringify(ingestAnswer(productId, added, extraction)) };
    try {
      const added = await this.store.addImage(newImage(productId, image, extraction, thumbnail, metadata), idempotency);
      return { ...ingestAnswer(productId, added, extraction), timings: { ...stageTimings(extraction), totalMs: performance.now() - started } };
    } catch (error) {
      // A request with the same key was stored while this one was extracting.
      const replay = error instanceof KeyTaken && idempotencyKey !== undefined ? replayStored(error.stored, idempotencyKey, fingerprint) : undefined;
      if (replay) return replay;
      throw error;
    }
  }

  /**
   * As CatalogSearch.search: the photo's regions grouped by the catalog's current product prototypes,
   * every match judged by the acceptance model of the current transform (unjudged without one).
   */
  async search(image: Buffer, query: SearchQuery): Promise<SearchAnswer> {
    const started = performance.now();
    const snapshot = await this.store.refresh();
    await this.reference.follow(snapshot);
    const prototypes = this.reference.takeChanged();
    if (prototypes) this.extractor.setReference(prototypes);
    const extraction = await this.extractor.extract(image, 'search');
    return this.onLiveTables(snapshot, async (live) => {
      if (live !== snapshot) await this.reference.follow(live);
      const match = (vector: Float32Array, kind: IndexKind, k: number) =>
        this.matchTransformed(live, live.transform.apply(vector), kind, k, query.minScore);
      return answerSearch(extraction, query, match, this.reference.judge(live), started);
    });
  }

  /** The best `k` distinct products for one raw vector (as CatalogSearch.matchVector). */
  async matchVector(raw: Float32Array, kind: IndexKind, k: number, minScore: number): Promise<DistinctMatches> {
    const started = performance.now();
    const found = await this.onLiveTables(await this.store.refresh(), (live) => this.matchTransformed(live, live.transform.apply(raw), kind, k, minScore));
    return { ...found, searchMs: performance.now() - started };
  }

  /**
   * Runs `fn` on `snapshot`, and again on the current one when a rebuild swapped meanwhile: the swap
   * drops the search tables the snapshot names, so a search that read it just before would fail
   * (`undefined_table`) instead of answering from the new tables, under the new transform.
   */
  private async onLiveTables<T>(snapshot: SearchSnapshot, fn: (live: SearchSnapshot) => Promise<T>): Promise<T> {
    for (let live = snapshot; ; ) {
      try {
        return await fn(live);
      } catch (error) {
        const current = (error as { code?: unknown }).code === UNDEFINED_TABLE ? await this.store.refresh() : live;
        if (current.version === live.version) throw error;
        live = current;
      }
    }
  }

  /** The shared matcher over the database: each neighbour query brings its objects and metadata along. */
  private matchTransformed(snapshot: SearchSnapshot, query: Float32Array, kind: IndexKind, k: number, minScore: number): Promise<DistinctMatches> {
    const refs = new Map<string, ObjectRef>();
    const metadata = new Map<string, ProductMetadata>();
    const source = {
      size: snapshot.wholeImages,
      search: async (asked: IndexKind, vector: Float32Array, limit: number) => {
        const { rows, stats } = await this.store.nearest(snapshot, asked, vector, limit);
        for (const row of rows) {
          const { similarity: _similarity, metadata: productMetadata, ...ref } = row;
          refs.set(String(row.id), ref);
          metadata.set(row.productId, productMetadata);
        }
        return { neighbors: rows.map((row) => ({ id: String(row.id), score: row.similarity })), stats };
      },
    };
    const objects = { get: (id: string) => refs.get(id) };
    const request = { k, minScore, candidateFactor: this.options.candidateFactor };
    return matchDistinctProducts(source, kind, query, objects, request, (productId) => metadata.get(productId) ?? {});
  }

  removeProduct(id: string): Promise<boolean> {
    return this.store.removeProduct(id);
  }

  product(id: string): Promise<ProductRecord | undefined> {
    return this.store.product(id);
  }

  async listProducts(offset: number, limit: number): Promise<ProductPage> {
    const [counts, products] = await Promise.all([this.store.counts(), this.store.listProducts(offset, limit)]);
    return { total: counts.products, products };
  }

  thumbnail(imageId: number): Promise<Thumbnail | undefined | null> {
    return this.store.thumbnail(imageId);
  }

  async size(): Promise<CatalogSize> {
    const counts = await this.store.counts();
    return { products: counts.products, images: counts.images, vectors: counts.objects };
  }

  /**
   * As CatalogSearch.optimize (the same single flight within this process), but once across replicas:
   * learning (whitening, then the acceptance model) and the rebuild run under the database's rebuild
   * lock, and every replica picks the new transform and model up at its next request.
   */
  optimize(request: OptimizeRequest = {}): Promise<OptimizeResult> {
    return this.optimizations.run(optimizeKey(request), () =>
      this.store.underRebuildLock(async (rebuild) => {
        const started = performance.now();
        const current = (await this.store.refresh()).transform;
        const choice = await chooseTransform({ encoder: this.extractor.encoder, wholeImageSamples: () => this.wholeImageSamples() }, current, request);
        // Learned before the rebuild, so that the swap puts the transform and its model in place together.
        const raw: RawSample[] = [];
        for await (const sample of this.store.labelledVectors()) raw.push(sample);
        const unjudgeable = whyNotJudgeable(raw);
        const options = this.options.acceptance ?? DEFAULT_ACCEPTANCE_OPTIONS;
        const { model } = await learnAcceptanceOffThread(unjudgeable ? [] : raw, choice.transform.spec, choice.transform.id, options);
        const { indexed } = await rebuild(choice.transform, model ?? null);
        return optimizeResult(await this.store.counts(), indexed, choice, acceptanceSummary(model, unjudgeable), started);
      }),
    );
  }

  private async wholeImageSamples(): Promise<LabelledVector[]> {
    const samples: LabelledVector[] = [];
    for await (const { productId, vector } of this.store.labelledVectors({ kind: 'whole' })) samples.push({ group: productId, vector });
    return samples;
  }

  async close(): Promise<void> {
    await this.optimizations.idle();
    await this.store.close();
  }
}

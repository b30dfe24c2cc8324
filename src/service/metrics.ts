/**
 * Every Prometheus metric the service exports, in one place, registered on the Registry passed in
 * (no module-level state: tests build their own). Names carry their unit (_seconds, _total).
 */
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { IndexKind } from '../indexing/types.js';

/** Seconds, from 1 ms to 10 s: search is milliseconds, extraction tens, a loaded machine seconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5, 10];

export type Stage = 'decode' | 'detect' | 'embed';

export interface CatalogSize {
  products: number;
  vectors: number;
}

export class ServiceMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly stageDuration: Histogram<'stage'>;
  readonly searchDuration: Histogram<'index'>;
  readonly objectsPerImage: Histogram;
  readonly lshCandidates: Histogram;
  readonly lshCandidatesFound: Histogram;
  readonly lshFallbacks: Counter;
  readonly queueDepth: Gauge<'state'>;
  readonly queueRejections: Counter;
  readonly budgetExceeded: Counter;
  private catalogSize: () => CatalogSize | undefined | Promise<CatalogSize> = () => undefined;

  constructor(registry: Registry, options: { defaultMetrics?: boolean } = {}) {
    this.registry = registry;
    const registers = [registry];
    if (options.defaultMetrics ?? true) collectProcessMetrics(registry);
    this.httpRequests = new Counter({
      name: 'findthis_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'findthis_http_request_duration_seconds',
      help: 'HTTP request latency from arrival to the last byte of the answer, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.stageDuration = new Histogram({
      name: 'findthis_stage_duration_seconds',
      help: 'Time per image in each pipeline stage: decode, detect (letterbox + model + NMS), embed (crop + encoder + pooling).',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.searchDuration = new Histogram({
      name: 'findthis_search_duration_seconds',
      help: 'Index search time per query object (including growing k until enough distinct products), by index.',
      labelNames: ['index'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.objectsPerImage = new Histogram({
      name: 'findthis_objects_per_image',
      help: 'Objects embedded per image, the whole image included.',
      buckets: [1, 2, 3, 4, 6, 8, 11, 16, 24, 32, 64, 100],
      registers,
    });
    const candidateBuckets = [0, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000];
    this.lshCandidates = new Histogram({
      name: 'findthis_lsh_candidates_scored',
      help: 'Vectors whose exact cosine LSH computed per query object.',
      buckets: candidateBuckets,
      registers,
    });
    this.lshCandidatesFound = new Histogram({
      name: 'findthis_lsh_candidates_found',
      help: 'Distinct vectors LSH found in its buckets per query object (more than it scored when index.lsh.rerank cut them).',
      buckets: candidateBuckets,
      registers,
    });
    this.lshFallbacks = new Counter({
      name: 'findthis_lsh_fallbacks_total',
      help: 'LSH queries that found too few candidates and were answered by HNSW.',
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'findthis_queue_depth',
      help: 'Extraction work items, by state (running or waiting).',
      labelNames: ['state'],
      registers,
    });
    this.queueRejections = new Counter({
      name: 'findthis_queue_rejections_total',
      help: 'Requests refused with 503 OVERLOADED because the work queue was full.',
      registers,
    });
    this.budgetExceeded = new Counter({
      name: 'findthis_budget_exceeded_total',
      help: 'Requests answered 503 BUDGET_EXCEEDED: they waited for an extraction slot, or a search ran, longer than server.requestBudgetMs.',
      registers,
    });
    const catalogSize = (): CatalogSize | undefined | Promise<CatalogSize> => this.catalogSize();
    new Gauge({
      name: 'findthis_catalog_products',
      help: 'Products in the catalog.',
      registers,
      async collect() {
        const size = await catalogSize();
        if (size) this.set(size.products);
      },
    });
    new Gauge({
      name: 'findthis_catalog_vectors',
      help: 'Object vectors in the catalog (and in each index).',
      registers,
      async collect() {
        const size = await catalogSize();
        if (size) this.set(size.vectors);
      },
    });
    this.queueDepth.set({ state: 'running' }, 0);
    this.queueDepth.set({ state: 'waiting' }, 0);
  }

  /** Where the catalog gauges read their values at scrape time (set once the catalog is open). */
  watchCatalog(size: () => CatalogSize | Promise<CatalogSize>): void {
    this.catalogSize = size;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  observeExtraction(timings: { decodeMs: number; detectMs: number; embedMs: number }, objects: number): void {
    this.stageDuration.observe({ stage: 'decode' }, timings.decodeMs / 1000);
    this.stageDuration.observe({ stage: 'detect' }, timings.detectMs / 1000);
    this.stageDuration.observe({ stage: 'embed' }, timings.embedMs / 1000);
    this.objectsPerImage.observe(objects);
  }

  observeSearch(index: IndexKind, seconds: number, stats: { candidatesScored: number; candidatesFound?: number; fellBack: boolean }): void {
    this.searchDuration.observe({ index }, seconds);
    if (index === 'lsh') {
      this.lshCandidates.observe(stats.candidatesScored);
      this.lshCandidatesFound.observe(stats.candidatesFound ?? stats.candidatesScored);
      if (stats.fellBack) this.lshFallbacks.inc();
    }
  }

  setQueueDepth(depth: { running: number; waiting: number }): void {
    this.queueDepth.set({ state: 'running' }, depth.running);
    this.queueDepth.set({ state: 'waiting' }, depth.waiting);
  }
}

/** prom-client's gauges that end in `_total`, which promtool's lint refuses for non-counters. */
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * prom-client's default process and Node.js metrics without its three `*_total` gauges, so that
 * `promtool check metrics` passes cleanly; the same counts stay available, by type, in
 * `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources`.
 */
function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
}

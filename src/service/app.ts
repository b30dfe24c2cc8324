/**
 * The express app. It receives everything it needs (config values, metrics, and — once loaded — the
 * CatalogSearch), so tests and benchmarks build their own. Until `ready(search)` is called, /healthz
 * and every /v1 route answer 503 NOT_READY; /metrics always answers.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { performance } from 'node:perf_hooks';
import { FindthisError } from '../core/errors.js';
import { DEFAULT_CONFIG, type SearchConfig, type ServerConfig, type WhiteningConfig } from '../config/schema.js';
import type { CatalogService } from '../pipeline/catalog-service.js';
import { errorHandler, notFound } from './errors.js';
import type { Logger } from './log.js';
import type { ServiceMetrics } from './metrics.js';
import { requestLogging, routeOf } from './request-log.js';
import { registerRoutes } from './routes.js';
import { corsFor, requireApiKey, securityHeaders } from './security.js';
import { registerWebRoutes } from './web-routes.js';
import { WorkQueue } from './work-queue.js';

export interface AppDependencies {
  server: Pick<ServerConfig, 'uploadLimitBytes' | 'queueConcurrency' | 'maxQueueLength'> &
    Partial<Pick<ServerConfig, 'requestBudgetMs' | 'stuckExtractionMs' | 'protectReads' | 'corsOrigins'>>;
  /** Keys for `Authorization: Bearer` on writes (and reads with `protectReads`); none = open. */
  apiKeys?: readonly string[];
  search: SearchConfig;
  /** How POST /v1/index/optimize learns whitening. Default: the embedded defaults. */
  whitening?: WhiteningConfig;
  metrics: ServiceMetrics;
  log: Logger;
  /** Given when already loaded; otherwise call `ready()` later. */
  catalogSearch?: CatalogService;
}

export interface FindthisApp {
  app: Express;
  queue: WorkQueue;
  /** Marks the service ready: /healthz turns 200 and the routes start working. */
  ready(catalogSearch: CatalogService): void;
  /** The loaded catalog (embedded or PostgreSQL), or NOT_READY. */
  catalogSearch(): CatalogService;
  /** What /healthz reports: `ok` (200); `loading`, or `stuck` when an extraction runs past server.stuckExtractionMs (503). */
  health(): 'ok' | 'loading' | 'stuck';
}

export function createApp(deps: AppDependencies): FindthisApp {
  let loaded: CatalogService | undefined;
  const stuckExtractionMs = deps.server.stuckExtractionMs ?? DEFAULT_CONFIG.server.stuckExtractionMs;
  const queue = new WorkQueue(deps.server.queueConcurrency, deps.server.maxQueueLength, (depth) => deps.metrics.setQueueDepth(depth));
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLogging(deps.log));
  app.use(requestMetrics(deps.metrics));
  app.use(securityHeaders());
  const cors = corsFor(deps.server.corsOrigins ?? []);
  if (cors) app.use(cors);

  const service: FindthisApp = {
    app,
    queue,
    ready(catalogSearch) {
      loaded = catalogSearch;
      deps.metrics.watchCatalog(() => catalogSearch.size());
    },
    catalogSearch() {
      if (!loaded) throw new FindthisError('NOT_READY', 'The service is still loading its models and indexes; retry shortly');
      return loaded;
    },
    // Loaded, and still able to extract: a dead extractor thread turns /healthz 503, and so does one
    // that has been busy with one image for too long (a supervisor should restart it).
    health() {
      if (loaded === undefined || !(loaded.extractor.isHealthy?.() ?? true)) return 'loading';
      return queue.longestRunningMs() > stuckExtractionMs ? 'stuck' : 'ok';
    },
  };

  const server = { ...deps.server, requestBudgetMs: deps.server.requestBudgetMs ?? DEFAULT_CONFIG.server.requestBudgetMs };
  const keyCheck = requireApiKey(deps.apiKeys ?? []);
  const open = (_req: Request, _res: Response, next: NextFunction) => next();
  const access = { write: keyCheck, read: deps.server.protectReads ? keyCheck : open };
  registerRoutes(app, { ...deps, server, whitening: deps.whitening ?? DEFAULT_CONFIG.whitening, service, queue, access });
  registerWebRoutes(app, service, access);
  app.use(notFound());
  app.use(errorHandler());
  if (deps.catalogSearch) service.ready(deps.catalogSearch);
  return service;
}

/** Counts and times every answer by method, route pattern (not the raw path: bounded labels) and status. */
function requestMetrics(metrics: ServiceMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.on('finish', () => {
      metrics.observeRequest(req.method, routeOf(req), res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  };
}

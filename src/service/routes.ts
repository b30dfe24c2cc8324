/**
 * The HTTP routes. Each one parses its request into typed values (params.ts), dispatches to the
 * CatalogSearch through the bounded work queue, records metrics and shapes the answer (schemas.ts).
 */
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { performance } from 'node:perf_hooks';
import { FindthisError, isFindthisError } from '../core/errors.js';
import type { SearchConfig, ServerConfig, WhiteningConfig } from '../config/schema.js';
import type { JudgedMatch, ObjectMatches } from '../pipeline/search-types.js';
import type { RankedProduct } from '../pipeline/answer.js';
import type { FindthisApp } from './app.js';
import { fromUploadError } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { parseIdempotencyKey, requestParsers } from './params.js';
import type {
  AddProductResponse,
  AnswerResponse,
  HealthResponse,
  MatchResponse,
  OptimizeResponse,
  ProductResponse,
  SearchObjectResponse,
  SearchRequest,
  SearchResponse,
} from './schemas.js';
import type { WorkQueue } from './work-queue.js';

interface RouteDependencies {
  server: Pick<ServerConfig, 'uploadLimitBytes' | 'requestBudgetMs'> & Partial<Pick<ServerConfig, 'protectReads'>>;
  apiKeys?: readonly string[];
  search: SearchConfig;
  whitening: WhiteningConfig;
  metrics: ServiceMetrics;
  service: FindthisApp;
  queue: WorkQueue;
  /** API-key checks: `write` guards changes, `read` guards reads and searches (open unless protectReads). */
  access: { write: RequestHandler; read: RequestHandler };
}

type AsyncHandler = (req: Request, res: Response) => Promise<void> | void;

/** Express 4 does not catch rejected promises: hand them to the error handler. */
export function handle(fn: AsyncHandler): RequestHandler {
  return (req, res, next) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch(next);
  };
}

export function registerRoutes(app: Express, deps: RouteDependencies): void {
  const { service, metrics, access } = deps;
  const upload = imageUpload(deps.server.uploadLimitBytes, deps.queue, () => metrics.queueRejections.inc());
  const parse = requestParsers(deps.search, deps.whitening);

  /**
   * Extraction-heavy work goes through the queue within the request's time budget (counted from
   * the received upload); a full queue and a used-up budget are counted and answered 503.
   * `abandonRunning`: see RunOptions.
   */
  const queued = async <T>(req: Request, work: () => Promise<T>, abandonRunning: boolean): Promise<T> => {
    const deadline = performance.now() + deps.server.requestBudgetMs;
    admissions.get(req)?.();
    try {
      return await deps.queue.run(work, { deadline, abandonRunning });
    } catch (error) {
      if (isFindthisError(error) && error.code === 'OVERLOADED') metrics.queueRejections.inc();
      if (isFindthisError(error) && error.code === 'BUDGET_EXCEEDED') metrics.budgetExceeded.inc();
      throw error;
    }
  };

  app.get('/healthz', (_req, res) => {
    const body: HealthResponse = { status: service.health() };
    res.status(body.status === 'ok' ? 200 : 503).json(body);
  });

  app.get(
    '/metrics',
    handle(async (_req, res) => {
      const text = await metrics.registry.metrics();
      res.set('Content-Type', metrics.registry.contentType).send(text);
    }),
  );

  const openApi = openApiDocument({
    search: deps.search,
    whitening: deps.whitening,
    uploadLimitBytes: deps.server.uploadLimitBytes,
    apiKeys: (deps.apiKeys ?? []).length > 0,
    protectReads: deps.server.protectReads ?? false,
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  app.post(
    '/v1/products',
    access.write,
    upload,
    handle(async (req, res) => {
      const { id, metadata } = parse.productFields(req.body);
      const catalogSearch = service.catalogSearch();
      const image = requireFile(req);
      const idempotencyKey = parseIdempotencyKey(req.get('Idempotency-Key'));
      const result = await queued(req, () => catalogSearch.ingest(id, image, metadata, idempotencyKey), false);
      if (result.replayed) res.set('Idempotent-Replayed', 'true');
      else metrics.observeExtraction(result.timings, result.objects.length);
      const body: AddProductResponse = {
        id: result.productId,
        imageId: result.imageId,
        objects: result.objects.map(({ bbox, label, score }) => ({ bbox, label, score })),
      };
      res.status(201).json(body);
    }),
  );

  app.get(
    '/v1/products/:id',
    access.read,
    handle(async (req, res) => {
      const id = parse.productId(req.params);
      const product = await service.catalogSearch().product(id);
      if (!product) throw new FindthisError('NOT_FOUND', `No product with id ${JSON.stringify(id)}`);
      const body: ProductResponse = {
        id: product.id,
        metadata: product.metadata,
        images: product.images,
        objects: product.objects.map(({ id: objectId, imageId, bbox, label, score }) => ({ id: objectId, imageId, bbox, label, score })),
      };
      res.json(body);
    }),
  );

  app.delete(
    '/v1/products/:id',
    access.write,
    handle(async (req, res) => {
      const id = parse.productId(req.params);
      if (!(await service.catalogSearch().removeProduct(id))) {
        throw new FindthisError('NOT_FOUND', `No product with id ${JSON.stringify(id)}`);
      }
      res.status(204).end();
    }),
  );

  // The query is checked before the upload is admitted or read: a bad `k` costs no upload.
  const searchQuery: RequestHandler = (req, res, next) => {
    try {
      res.locals.searchQuery = parse.searchQuery(req.query);
      next();
    } catch (error) {
      next(error);
    }
  };

  app.post(
    '/v1/search',
    access.read,
    searchQuery,
    upload,
    handle(async (req, res) => {
      const query = res.locals.searchQuery as SearchRequest;
      const catalogSearch = service.catalogSearch();
      const image = requireFile(req);
      const answer = await queued(req, () => catalogSearch.search(image, query), true);
      metrics.observeExtraction(answer.timings, answer.objects.length);
      for (const object of answer.objects) metrics.observeSearch(object.index, object.searchMs / 1000, object.stats);
      const body: SearchResponse = {
        objects: answer.objects.map(toObjectResponse),
        answer: answer.answer.map(toAnswerResponse),
        ...(answer.similar ? { similar: answer.similar.map(toAnswerResponse) } : {}),
        judged: answer.judged,
        timings: answer.timings,
      };
      res.json(body);
    }),
  );

  app.post(
    '/v1/index/optimize',
    access.write,
    handle(async (req, res) => {
      const whitening = parse.optimizeQuery(req.query);
      const result = await service.catalogSearch().optimize({ whitening });
      const body: OptimizeResponse = result;
      res.json(body);
    }),
  );
}

function toObjectResponse(object: ObjectMatches): SearchObjectResponse {
  const response: SearchObjectResponse = {
    bbox: object.bbox,
    label: object.label,
    score: object.score,
    index: object.index,
    fallback: object.fallback,
    matches: object.matches.map(toMatchResponse),
  };
  if (object.overlap) response.overlap = object.overlap;
  return response;
}

function toMatchResponse({ productId, score, bbox, imageId, metadata, accepted, confidence }: JudgedMatch): MatchResponse {
  return { productId, score, bbox, imageId, metadata, accepted, confidence };
}

function toAnswerResponse({ via, bbox, match, accepted, confidence }: RankedProduct<JudgedMatch>): AnswerResponse {
  return { ...toMatchResponse(match), via, objectBox: bbox, accepted, confidence };
}

function requireFile(req: Request): Buffer {
  if (!req.file) throw new FindthisError('MISSING_FILE', 'Expected an image file in multipart field "image", but got none');
  return req.file.buffer;
}

/** Each upload's reservation in the work queue, released once its work is queued or it is answered. */
const admissions = new WeakMap<Request, () => void>();

/** Room for the multipart text fields and boundaries around the image. */
const MULTIPART_OVERHEAD_BYTES = 8 * 64 * 1024 + 16 * 1024;

/**
 * multer in memory, one file in field `image`, small text fields; its errors become FindthisErrors.
 * Before a byte of the body is read: a declared Content-Length beyond the limit is 413, and a full
 * work queue is 503 OVERLOADED (uploads being received hold a place in it), each with
 * `Connection: close` so the unread body is not drained.
 */
function imageUpload(uploadLimitBytes: number, queue: WorkQueue, onOverloaded: () => void): RequestHandler {
  const middleware = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: uploadLimitBytes, files: 1, fields: 8, fieldSize: 64 * 1024, parts: 10 },
  }).single('image');
  return (req: Request, res: Response, next: NextFunction) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    try {
      if (declared > uploadLimitBytes + MULTIPART_OVERHEAD_BYTES) {
        throw new FindthisError('FILE_TOO_LARGE', `Expected an upload of at most ${uploadLimitBytes} bytes, but Content-Length says ${declared}`);
      }
      const release = queue.admit();
      admissions.set(req, release);
      res.once('close', release);
    } catch (error) {
      if (isFindthisError(error) && error.code === 'OVERLOADED') onOverloaded();
      res.set('Connection', 'close');
      next(error);
      return;
    }
    middleware(req, res, (error?: unknown) => next(error === undefined ? undefined : fromUploadError(error, uploadLimitBytes)));
  };
}

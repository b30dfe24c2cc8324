/**
 * Request ids and the one log line per request. The id is the caller's `X-Request-Id` when it is
 * printable ASCII (no spaces) of at most 128 characters, else a new UUID; it is echoed on the answer,
 * bound to `req.log` (so every line logged for the request carries it) and put in error bodies.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from './log.js';

const CALLER_REQUEST_ID = /^[!-~]{1,128}$/;

/** The caller's id if acceptable, else a fresh one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && CALLER_REQUEST_ID.test(header) ? header : randomUUID();
}

/** The route pattern that answered (bounded label values for metrics and logs), or `unmatched`. */
export function routeOf(req: IncomingMessage): string {
  const { route, baseUrl } = req as Request;
  return route ? `${baseUrl}${String(route.path)}` : 'unmatched';
}

/** When each request arrived, for a sub-millisecond `ms` (pino-http's own time is whole milliseconds). */
const arrivals = new WeakMap<IncomingMessage, number>();

/** pino-http: sets `req.id` and `req.log`, then logs `{requestId, method, route, status, ms, bytes}` once the answer is sent. */
export function requestLogging(log: Logger): RequestHandler {
  const summary = (req: IncomingMessage, res: ServerResponse) => ({
    method: req.method,
    route: routeOf(req),
    status: res.statusCode,
    ms: Math.round((performance.now() - (arrivals.get(req) ?? performance.now())) * 100) / 100,
    bytes: Number(res.getHeader('content-length') ?? 0),
    // The caller went away before its request or the answer was complete: the status is what the
    // service answered (or would have), not what the caller saw.
    ...(req.readableAborted || !res.writableFinished ? { aborted: true } : {}),
  });
  const message = (req: IncomingMessage, res: ServerResponse) => `${req.method} ${routeOf(req)} ${res.statusCode}`;
  return pinoHttp({
    logger: log,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    genReqId: (req, res) => {
      arrivals.set(req, performance.now());
      const id = requestIdFrom(req.headers['x-request-id']);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // 503s are the service saying "not yet" (loading, queue full), not a fault to page anyone about.
    customLogLevel: (_req, res) => (res.statusCode >= 500 && res.statusCode !== 503 ? 'error' : res.statusCode >= 500 ? 'warn' : 'info'),
    customSuccessObject: summary,
    customErrorObject: summary,
    customSuccessMessage: message,
    customErrorMessage: message,
  }) as unknown as RequestHandler;
}

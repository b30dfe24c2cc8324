/**
 * What every answer carries (no sniffing, the page's Content-Security-Policy, no caching of API data),
 * CORS for the configured origins only, and the API-key check for protected routes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import cors from 'cors';
import type { RequestHandler } from 'express';
import { FindthisError } from '../core/errors.js';

/** The web page's policy: its own scripts and styles only (no inline code), images also from blob: and data: previews. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths whose answers are data that must not be cached; /v1/images/ sets its own caching. */
const UNCACHED = /^\/(v1\/(?!images\/)|healthz$|metrics$|openapi\.json$)/;

export function securityHeaders(): RequestHandler {
  return (req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    if (UNCACHED.test(req.path)) res.setHeader('Cache-Control', 'no-store');
    next();
  };
}

/** CORS for exactly these origins (none: no CORS headers at all, browsers keep the same-origin rule). */
export function corsFor(origins: readonly string[]): RequestHandler | undefined {
  if (origins.length === 0) return undefined;
  return cors({
    origin: [...origins],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'Idempotency-Key'],
    exposedHeaders: ['X-Request-Id'],
    maxAge: 600,
  });
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Lets a request through when it carries `Authorization: Bearer <one of keys>`, else 401 UNAUTHORIZED
 * with `WWW-Authenticate: Bearer`. No keys: every request passes. Keys are compared as SHA-256
 * digests with timingSafeEqual (equal lengths, so the time says nothing of the key), against every
 * key without stopping at the first match.
 */
export function requireApiKey(keys: readonly string[]): RequestHandler {
  if (keys.length === 0) return (_req, _res, next) => next();
  const digests = keys.map(sha256);
  return (req, res, next) => {
    const token = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    let accepted = false;
    if (token !== undefined) {
      const given = sha256(token);
      for (const digest of digests) accepted = timingSafeEqual(digest, given) || accepted;
    }
    if (accepted) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="findthis"');
    const got = req.headers.authorization === undefined ? 'none' : token === undefined ? 'another scheme' : 'a key that is not accepted';
    next(new FindthisError('UNAUTHORIZED', `Expected an API key as Authorization: Bearer <key> for ${req.method} ${req.path}, but got ${got}`));
  };
}

/** The start-up warning when writes are open to more than this machine, or undefined. */
export function openWritesWarning(host: string, apiKeys: readonly string[]): string | undefined {
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  if (apiKeys.length > 0 || loopback) return undefined;
  return `no API keys (FINDTHIS_API_KEYS or FINDTHIS_API_KEYS_FILE) while listening on ${host}: anyone who reaches the port can add and delete products`;
}

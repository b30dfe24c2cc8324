/** Turns raw request fields into typed, validated values (400 INVALID_FIELD naming the field otherwise). */
import { FindthisError, invalidParameter } from '../core/errors.js';
import { checkOneOf, checkString, parseBoolean, parseInteger, parseNumber } from '../config/checks.js';
import { INDEX_KINDS, type SearchConfig, type WhiteningConfig } from '../config/schema.js';
import type { WhiteningOptions } from '../embedding/whitening.js';
import { PRODUCT_ID_EXPECTED, PRODUCT_ID_PATTERN } from '../catalog/catalog.js';
import type { Metadata, SearchRequest } from './schemas.js';


export function parseProductId(raw: unknown, name = 'id'): string {
  return checkString(name, raw, PRODUCT_ID_PATTERN, PRODUCT_ID_EXPECTED);
}

/** Largest `metadata` text in bytes (UTF-8): it is stored with the product and sent with every match. */
export const METADATA_MAX_BYTES = 16 * 1024;
/** Deepest nesting of objects and arrays in `metadata`: product facts are flat; 5,000 levels broke JSON.stringify. */
export const METADATA_MAX_DEPTH = 16;

/** `metadata`: optional JSON object text, at most METADATA_MAX_BYTES and METADATA_MAX_DEPTH deep (400 naming the limit). */
export function parseMetadata(raw: unknown): Metadata | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw invalidParameter('metadata', 'a JSON object as text', raw);
  const bytes = Buffer.byteLength(raw);
  if (bytes > METADATA_MAX_BYTES) {
    throw new FindthisError('INVALID_FIELD', `Expected metadata of at most ${METADATA_MAX_BYTES} bytes, but got ${bytes}`);
  }
  // Judged on the text, before JSON.parse recurses into it.
  const depth = nestingDepth(raw);
  if (depth > METADATA_MAX_DEPTH) {
    throw new FindthisError('INVALID_FIELD', `Expected metadata nested at most ${METADATA_MAX_DEPTH} levels deep, but got ${depth}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new FindthisError('INVALID_FIELD', `Expected a JSON object as text for metadata, but got invalid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidParameter('metadata', 'a JSON object as text', value);
  }
  return value as Metadata;
}

/** The deepest nesting of `{`/`[` in JSON text, outside strings. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') deepest = Math.max(deepest, ++depth);
    else if (char === '}' || char === ']') depth--;
  }
  return deepest;
}

/** `:imageId`: a catalog image id, a positive decimal integer. */
export function parseImageId(raw: unknown): number {
  return parseInteger('imageId', raw, 1, Number.MAX_SAFE_INTEGER);
}

/** Most products one page of `GET /v1/products` may ask for. */
export const MAX_PRODUCT_PAGE = 100;

/** `GET /v1/products?offset=&limit=`: default the first 20 products. */
export function parseProductPage(query: Record<string, unknown>): { offset: number; limit: number } {
  for (const key of Object.keys(query)) {
    if (key !== 'offset' && key !== 'limit') throw invalidParameter('query parameter', 'one of offset, limit', key);
  }
  return {
    offset: query.offset === undefined ? 0 : parseInteger('offset', query.offset, 0, Number.MAX_SAFE_INTEGER),
    limit: query.limit === undefined ? 20 : parseInteger('limit', query.limit, 1, MAX_PRODUCT_PAGE),
  };
}

/** `?k=&index=&minScore=&compare=`; absent values take the configured defaults. */
export function parseSearchQuery(query: Record<string, unknown>, defaults: SearchConfig): SearchRequest {
  const known = new Set(['k', 'index', 'minScore', 'compare']);
  for (const key of Object.keys(query)) {
    if (!known.has(key)) throw invalidParameter('query parameter', `one of ${[...known].join(', ')}`, key);
  }
  return {
    k: query.k === undefined ? defaults.defaultK : parseInteger('k', query.k, 1, defaults.maxK),
    index: query.index === undefined ? defaults.defaultIndex : checkOneOf('index', query.index, INDEX_KINDS),
    minScore: query.minScore === undefined ? defaults.minScore : parseNumber('minScore', query.minScore, -1, 1),
    compare: query.compare === undefined ? false : parseBoolean('compare', query.compare),
  };
}

/**
 * `POST /v1/index/optimize?whitening=true|false`: learn whitening (the configured default) or rebuild
 * from raw vectors. Returns the whitening options to learn with, or false.
 */
export function parseOptimizeQuery(query: Record<string, unknown>, defaults: WhiteningConfig): WhiteningOptions | false {
  for (const key of Object.keys(query)) {
    if (key !== 'whitening') throw invalidParameter('query parameter', 'whitening', key);
  }
  const enabled = query.whitening === undefined ? defaults.enabled : parseBoolean('whitening', query.whitening);
  return enabled ? { dimensions: defaults.dimensions, shrinkage: defaults.shrinkage } : false;
}

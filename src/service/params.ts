/**
 * Turns raw request parts into typed, validated values (400 INVALID_FIELD naming the field otherwise),
 * with validators compiled once from the API's schemas and the running config's ranges and defaults.
 */
import { FindthisError, invalidParameter } from '../core/errors.js';
import type { SearchConfig, WhiteningConfig } from '../config/schema.js';
import type { WhiteningOptions } from '../embedding/whitening.js';
import {
  ImagePathSchema,
  IngestHeadersSchema,
  optimizeQuerySchema,
  ProductFieldsSchema,
  ProductPageQuerySchema,
  ProductPathSchema,
  searchQuerySchema,
  type Metadata,
  type SearchRequest,
} from './schemas.js';
import { fieldsValidator } from './validate.js';

export interface RequestParsers {
  /** POST /v1/products fields: the product id and its optional metadata. */
  productFields(body: unknown): { id: string; metadata: Metadata | undefined };
  /** `:id` of /v1/products/:id. */
  productId(params: unknown): string;
  /** `?k=&index=&minScore=&compare=`; absent values take the configured defaults. */
  searchQuery(query: unknown): SearchRequest;
  /** `?whitening=true|false`: the whitening options to learn with (default: whitening.enabled), or false. */
  optimizeQuery(query: unknown): WhiteningOptions | false;
}

/** `:imageId` of /v1/images/:imageId: a positive decimal integer. */
export const parseImageId: (params: unknown) => { imageId: number } = fieldsValidator(ImagePathSchema, 'path parameter');

/** `GET /v1/products?offset=&limit=`: default the first 20 products. */
export const parseProductPage: (query: unknown) => { offset: number; limit: number } = fieldsValidator(ProductPageQuerySchema, 'query parameter');

export function requestParsers(search: SearchConfig, whitening: WhiteningConfig): RequestParsers {
  const fields = fieldsValidator(ProductFieldsSchema, 'field');
  const path = fieldsValidator(ProductPathSchema, 'path parameter');
  const searchQuery = fieldsValidator(searchQuerySchema(search), 'query parameter');
  const optimizeQuery = fieldsValidator(optimizeQuerySchema(whitening), 'query parameter');
  return {
    productFields(body) {
      const { id, metadata } = fields(body);
      return { id, metadata: parseMetadata(metadata) };
    },
    productId: (params) => path(params).id,
    searchQuery,
    optimizeQuery(query) {
      const enabled = optimizeQuery(query).whitening;
      return enabled ? { dimensions: whitening.dimensions, shrinkage: whitening.shrinkage } : false;
    },
  };
}

const ingestHeaders = fieldsValidator(IngestHeadersSchema, 'header');

/** The optional `Idempotency-Key` header of an ingest: 1–255 printable ASCII characters, or undefined. */
export function parseIdempotencyKey(raw: string | undefined): string | undefined {
  return ingestHeaders({ 'Idempotency-Key': raw })['Idempotency-Key'];
}

/** Largest `metadata` text in bytes (UTF-8): it is stored with the product and sent with every match. */
export const METADATA_MAX_BYTES = 16 * 1024;
/** Deepest nesting of objects and arrays in `metadata`: product facts are flat; 5,000 levels broke JSON.stringify. */
export const METADATA_MAX_DEPTH = 16;

/** `metadata`: optional JSON object text, at most METADATA_MAX_BYTES and METADATA_MAX_DEPTH deep (400 naming the limit). */
function parseMetadata(raw: string | undefined): Metadata | undefined {
  if (raw === undefined || raw === '') return undefined;
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

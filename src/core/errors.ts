/**
 * Every error findthis reports, in one table: a stable code, the HTTP status the service answers
 * with, and what it means. Stages throw `FindthisError`s; the service and the CLI only translate
 * them (HTTP status + `{error:{code,message}}`, or a message and exit code). A test checks that
 * every code here is documented in docs/reference.md (test/service-docs.test.ts checks it).
 */
export const ERRORS = {
  // Input images
  INVALID_IMAGE: { status: 415, summary: 'the upload is no known image format, or a photo that is truncated or corrupt' },
  UNSUPPORTED_FORMAT: { status: 415, summary: 'the upload is a recognised format findthis refuses (SVG, PDF, BMP, ...: named in the message); photos only' },
  DECODE_TIMEOUT: { status: 422, summary: 'decoding the image took longer than extractor.decodeTimeoutSeconds' },
  EMPTY_IMAGE: { status: 400, summary: 'the image has zero bytes or zero width/height' },
  IMAGE_TOO_LARGE: { status: 413, summary: 'the image has more pixels than the configured limit' },
  FILE_TOO_LARGE: { status: 413, summary: 'the upload is larger than the configured byte limit' },
  // Request fields
  INVALID_FIELD: { status: 400, summary: 'a request field, query parameter or CLI flag is malformed' },
  MISSING_FILE: { status: 400, summary: 'the multipart request has no image file' },
  IDEMPOTENCY_CONFLICT: { status: 409, summary: 'the Idempotency-Key was first used with a different request (product, metadata or image)' },
  OPTIMIZE_CONFLICT: { status: 409, summary: 'an optimize with other options already waits behind the running one; retry when it is done' },
  NOT_FOUND: { status: 404, summary: 'no such product, image or route' },
  THUMBNAIL_MISSING: { status: 404, summary: 'the image was ingested before thumbnails were kept; `npm run thumbnails -- <dir>` fills them' },
  UNAUTHORIZED: { status: 401, summary: 'API keys are configured and the request has no valid Authorization: Bearer key' },
  // Service state
  NOT_READY: { status: 503, summary: 'models or indexes are still loading' },
  OVERLOADED: { status: 503, summary: 'the work queue is full; retry later' },
  BUDGET_EXCEEDED: { status: 503, summary: 'the request waited for or ran its extraction longer than server.requestBudgetMs; retry later' },
  // HTTP layer (Node's parser and timeouts, before any route runs)
  MALFORMED_REQUEST: { status: 400, summary: 'the HTTP request itself is malformed (bad Content-Length, bad chunk, bad request line)' },
  CLIENT_TIMEOUT: { status: 408, summary: 'the client sent its headers or body too slowly (server.headersTimeoutMs, server.requestTimeoutMs)' },
  HEADERS_TOO_LARGE: { status: 431, summary: 'the request line or headers are larger than server.maxHeaderBytes' },
  // Models, indexes and configuration (start-up and maintenance)
  MODEL_NOT_FOUND: { status: 500, summary: 'a model file is in none of the search places and could not be downloaded' },
  MODEL_CHECKSUM: { status: 500, summary: 'a model file has the wrong size or sha256' },
  MODEL_INVALID: { status: 500, summary: 'a model graph lacks the expected inputs, outputs or feature tensor' },
  INDEX_MISMATCH: { status: 500, summary: 'a stored index or catalog was built with another encoder or dimension' },
  INDEX_CORRUPT: { status: 500, summary: 'an index file is missing, truncated or corrupt (it is rebuilt from the stored vectors)' },
  INVALID_CONFIG: { status: 500, summary: 'the configuration file or an environment override is invalid' },
  DATA_DIR_LOCKED: { status: 500, summary: 'another live process holds DATA_DIR (its catalog.sqlite.lock); the service and the CLI must not share it' },
  // Bugs: never the client's fault
  INVALID_VECTOR: { status: 500, summary: 'a vector handed to an index breaks its invariants (dimension, finite, unit length): a bug, not bad input' },
  INTERNAL: { status: 500, summary: 'an unexpected error' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class FindthisError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FindthisError';
    this.code = code;
    this.status = ERRORS[code].status;
  }
}

export function isFindthisError(error: unknown): error is FindthisError {
  return error instanceof FindthisError;
}

/** Describes a received value for "expected X, but got Y" messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** The one error factory for malformed parameters: names the parameter, what was expected, what came. */
export function invalidParameter(name: string, expected: string, actual: unknown, code: ErrorCode = 'INVALID_FIELD'): FindthisError {
  return new FindthisError(code, `Expected ${expected} for ${name}, but got ${describeValue(actual)}`);
}

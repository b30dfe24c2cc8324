/**
 * GET /openapi.json: the OpenAPI 3.1 document, generated from the schemas the service validates with
 * (schemas.ts) and the running config (ranges, defaults, upload limit, which routes need a key).
 * Every express route is in OPERATIONS; a test checks both ways.
 */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { SearchConfig, WhiteningConfig } from '../config/schema.js';
import { ERRORS, type ErrorCode } from '../core/errors.js';
import {
  COMPONENT_SCHEMAS,
  optimizeQuerySchema,
  ImagePathSchema,
  IngestHeadersSchema,
  ProductFieldsSchema,
  ProductPageQuerySchema,
  ProductPathSchema,
  searchQuerySchema,
  type ComponentName,
} from './schemas.js';

type Access = 'open' | 'read' | 'write';
type Answer = ComponentName | 'no body' | 'not modified' | 'prometheus text' | 'openapi' | 'thumbnail' | 'page' | 'page file';

interface Operation {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI path (`{id}`, not express's `:id`). */
  path: string;
  operationId: string;
  summary: string;
  access: Access;
  query?: TObject | ((options: OpenApiOptions) => TObject);
  pathParameters?: TObject;
  /** multipart/form-data: an image in field `image`, plus these text fields (if any). */
  upload?: TObject;
  /** Success status → what it answers. */
  success: Record<number, Answer>;
  /** Error codes this operation can answer with (their statuses follow from the error table). */
  errors: ErrorCode[];
  /** Request headers this operation reads. */
  headers?: TObject;
}

const NOT_READY: ErrorCode[] = ['NOT_READY', 'INTERNAL'];
const UPLOAD_ERRORS: ErrorCode[] = [
  'INVALID_FIELD', 'MISSING_FILE', 'EMPTY_IMAGE', 'INVALID_IMAGE', 'UNSUPPORTED_FORMAT', 'DECODE_TIMEOUT', 'IMAGE_TOO_LARGE', 'FILE_TOO_LARGE', 'OVERLOADED', 'BUDGET_EXCEEDED',
];

export const OPERATIONS: readonly Operation[] = [
  {
    method: 'get', path: '/healthz', operationId: 'health', access: 'open',
    summary: 'Readiness: 200 once models and indexes are loaded, 503 while loading',
    success: { 200: 'HealthResponse', 503: 'HealthResponse' }, errors: [],
  },
  {
    method: 'get', path: '/metrics', operationId: 'metrics', access: 'open',
    summary: 'Prometheus metrics (text exposition format)', success: { 200: 'prometheus text' }, errors: ['INTERNAL'],
  },
  {
    method: 'get', path: '/openapi.json', operationId: 'openapi', access: 'open',
    summary: 'This document', success: { 200: 'openapi' }, errors: [],
  },
  {
    method: 'post', path: '/v1/products', operationId: 'addProductImage', access: 'write',
    summary: 'Add a photo to product `id` (created if new): its objects go into every index',
    upload: ProductFieldsSchema, success: { 201: 'AddProductResponse' }, errors: [...UPLOAD_ERRORS, 'IDEMPOTENCY_CONFLICT', ...NOT_READY],
    headers: IngestHeadersSchema,
  },
  {
    method: 'get', path: '/v1/products', operationId: 'listProducts', access: 'read',
    summary: 'One page of the catalog, in product id order, each with its first image id',
    query: ProductPageQuerySchema, success: { 200: 'ProductListResponse' }, errors: ['INVALID_FIELD', ...NOT_READY],
  },
  {
    method: 'get', path: '/v1/products/{id}', operationId: 'getProduct', access: 'read',
    summary: 'A product with its metadata, images and objects',
    pathParameters: ProductPathSchema, success: { 200: 'ProductResponse' }, errors: ['INVALID_FIELD', 'NOT_FOUND', ...NOT_READY],
  },
  {
    method: 'delete', path: '/v1/products/{id}', operationId: 'deleteProduct', access: 'write',
    summary: 'Delete a product; its vectors leave every index',
    pathParameters: ProductPathSchema, success: { 204: 'no body' }, errors: ['INVALID_FIELD', 'NOT_FOUND', ...NOT_READY],
  },
  {
    method: 'post', path: '/v1/search', operationId: 'search', access: 'read',
    summary: 'The catalog products a photo shows: per object (whole photo first, then detections) and merged',
    query: (options) => searchQuerySchema(options.search), upload: Type.Object({}), success: { 200: 'SearchResponse' },
    errors: [...UPLOAD_ERRORS, ...NOT_READY],
  },
  {
    method: 'post', path: '/v1/index/optimize', operationId: 'optimize', access: 'write',
    summary: 'Rebuild every index from the stored vectors, learning whitening first unless whitening=false',
    query: (options) => optimizeQuerySchema(options.whitening), success: { 200: 'OptimizeResponse' }, errors: ['INVALID_FIELD', 'OPTIMIZE_CONFLICT', ...NOT_READY],
  },
  {
    method: 'get', path: '/v1/images/{imageId}', operationId: 'getImageThumbnail', access: 'read',
    summary: 'A catalog image\'s thumbnail (cached for a day, revalidated by ETag)',
    pathParameters: ImagePathSchema, success: { 200: 'thumbnail', 304: 'not modified' },
    errors: ['INVALID_FIELD', 'NOT_FOUND', 'THUMBNAIL_MISSING', ...NOT_READY],
  },
  {
    method: 'get', path: '/', operationId: 'page', access: 'open',
    summary: 'The web page: search by photo, browse the catalog', success: { 200: 'page' }, errors: [],
  },
  {
    method: 'get', path: '/{file}', operationId: 'pageFile', access: 'open',
    summary: 'The page\'s scripts, styles and icon (revalidated by ETag)',
    pathParameters: Type.Object({ file: Type.String({ description: 'main.js, style.css, favicon.svg...' }) }), success: { 200: 'page file', 304: 'not modified' }, errors: ['NOT_FOUND'],
  },
];

export interface OpenApiOptions {
  search: SearchConfig;
  whitening: WhiteningConfig;
  uploadLimitBytes: number;
  /** Whether API keys are configured, and whether they guard reads too. */
  apiKeys: boolean;
  protectReads: boolean;
}

/** express's `/v1/products/:id` → OpenAPI's `/v1/products/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    paths[operation.path] ??= {};
    (paths[operation.path] as Record<string, unknown>)[operation.method] = describeOperation(operation, options);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'findthis',
      version: '1',
      description: 'Visual product search: which catalog products a photo shows. Errors are `{"error":{"code","message","requestId"}}`; every answer carries X-Request-Id.',
    },
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(COMPONENT_SCHEMAS).map(([name, schema]) => [name, withRefs(schema, schema)])),
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'A key from FINDTHIS_API_KEYS / FINDTHIS_API_KEYS_FILE' } },
    },
  };
}

const COMPONENT_NAMES = new Map<unknown, string>(Object.entries(COMPONENT_SCHEMAS).map(([name, schema]) => [schema, name]));

/** A copy of `node` in which every named schema inside it (the very object, not a look-alike) is a `$ref`. */
function withRefs(node: unknown, root: unknown): unknown {
  const name = COMPONENT_NAMES.get(node);
  if (name !== undefined && node !== root) return { $ref: `#/components/schemas/${name}` };
  if (Array.isArray(node)) return node.map((item) => withRefs(item, root));
  if (typeof node === 'object' && node !== null) return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, withRefs(value, root)]));
  return node;
}

function describeOperation(operation: Operation, options: OpenApiOptions): Record<string, unknown> {
  const guarded = options.apiKeys && (operation.access === 'write' || (operation.access === 'read' && options.protectReads));
  const errors = guarded ? [...operation.errors, 'UNAUTHORIZED' as const] : operation.errors;
  const parameters = [
    ...parametersOf(operation.pathParameters, 'path'),
    ...parametersOf(typeof operation.query === 'function' ? operation.query(options) : operation.query, 'query'),
    ...parametersOf(operation.headers, 'header'),
    { name: 'X-Request-Id', in: 'header', required: false, description: 'Echoed on the answer and in logs when printable ASCII without spaces, at most 128 characters; else a UUID is made', schema: { type: 'string', maxLength: 128 } },
  ];
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(guarded ? { security: [{ apiKey: [] }] } : {}),
    parameters,
    ...(operation.upload ? { requestBody: uploadBody(operation.upload, options.uploadLimitBytes) } : {}),
    responses: { ...successResponses(operation.success), ...errorResponses(errors) },
  };
}

function parametersOf(schema: TObject | undefined, where: 'path' | 'query' | 'header'): Array<Record<string, unknown>> {
  if (!schema) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties as Record<string, TSchema>).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(property.description ? { description: property.description } : {}),
    schema: property,
  }));
}

function uploadBody(fields: TObject, uploadLimitBytes: number): Record<string, unknown> {
  const image = { type: 'string', format: 'binary', contentMediaType: 'image/*', description: `JPEG, PNG, WebP...; at most ${uploadLimitBytes} bytes` };
  return {
    required: true,
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: [...(fields.required ?? []), 'image'],
          properties: { ...fields.properties, image },
        },
      },
    },
  };
}

/** Every answer carries the request's id. */
const REQUEST_ID_HEADER = { 'X-Request-Id': { description: 'The caller\'s X-Request-Id, or a generated UUID', schema: { type: 'string' } } };

/** Answers that are not one of the JSON components. */
const OTHER_ANSWERS: Record<Exclude<Answer, ComponentName>, { description: string; content?: Record<string, { schema: object }> }> = {
  'no body': { description: 'Done; no body' },
  'not modified': { description: 'Not modified since the ETag given in If-None-Match' },
  thumbnail: { description: 'The thumbnail', content: { 'image/webp': { schema: { type: 'string', contentMediaType: 'image/webp' } } } },
  page: { description: 'index.html', content: { 'text/html': { schema: { type: 'string' } } } },
  'page file': { description: 'A JavaScript module, style sheet or icon', content: { '*/*': { schema: {} } } },
  openapi: { description: 'This OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } },
  'prometheus text': { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
};

function successResponses(success: Record<number, Answer>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(success)) {
    const described =
      answer in OTHER_ANSWERS
        ? OTHER_ANSWERS[answer as keyof typeof OTHER_ANSWERS]
        : { description: answer, content: { 'application/json': { schema: { $ref: `#/components/schemas/${answer}` } } } };
    out[status] = { ...described, headers: REQUEST_ID_HEADER };
  }
  return out;
}

function errorResponses(codes: readonly ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const out: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: list.map((code) => `${code}: ${ERRORS[code].summary}`).join('; '),
      headers: status === 401 ? { ...REQUEST_ID_HEADER, 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer' } } : REQUEST_ID_HEADER,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } },
    };
  }
  return out;
}

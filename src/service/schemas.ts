/**
 * The HTTP API's shapes, defined once as JSON Schemas (TypeBox): the TypeScript types below are
 * derived from them, the service validates its query parameters and fields against them (ajv,
 * validate.ts), and GET /openapi.json is generated from them (openapi.ts). Answers are closed
 * (`additionalProperties: false`): a field added in code but not here fails the suite, which checks
 * every JSON answer against the document.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { PRODUCT_ID_EXPECTED, PRODUCT_ID_PATTERN } from '../catalog/records.js';
import { COSINE_RANGE, INDEX_KINDS, type SearchConfig, type WhiteningConfig } from '../config/schema.js';
import { ERRORS, type ErrorCode } from '../core/errors.js';
import type { IndexKind } from '../indexing/types.js';

/** A closed object: what is not listed is not allowed. */
const Closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });

/** A string enum as JSON Schema `enum` (what generators turn into unions), typed as its members. */
const StringEnum = <T extends string>(values: readonly T[], options: { description?: string; default?: T } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

export const ProductIdSchema = Type.String({ pattern: PRODUCT_ID_PATTERN.source, description: PRODUCT_ID_EXPECTED });

export const MetadataSchema = Type.Record(Type.String(), Type.Unknown(), { description: 'Any JSON object, as stored with the product' });
export type Metadata = Static<typeof MetadataSchema>;

export const BBoxSchema = Type.Array(Type.Number(), { minItems: 4, maxItems: 4, description: '[x1, y1, x2, y2] in the photo\'s own pixels' });
const IndexKindSchema = StringEnum<IndexKind>(INDEX_KINDS);

// ---- errors ------------------------------------------------------------------------------------

export const ErrorCodeSchema = StringEnum(Object.keys(ERRORS) as ErrorCode[], { description: 'One meaning per code: see the error table in docs/reference.md' });

export const ErrorResponseSchema = Closed({
  error: Closed({
    code: ErrorCodeSchema,
    message: Type.String({ description: 'What was expected and what came' }),
    requestId: Type.String({ description: 'The X-Request-Id of the request (the caller\'s, or generated)' }),
  }),
});
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

// ---- requests ----------------------------------------------------------------------------------

/** `POST /v1/search` query; ranges and defaults come from the running config. */
export function searchQuerySchema(search: SearchConfig) {
  return Type.Object(
    {
      k: Type.Integer({ minimum: 1, maximum: search.maxK, default: search.defaultK, description: 'Matches per object: distinct products, best first' }),
      index: StringEnum(INDEX_KINDS, { default: search.defaultIndex, description: 'lsh (HNSW answers when LSH comes up short), hnsw or exact' }),
      minScore: Type.Number({ ...COSINE_RANGE, default: search.minScore, description: 'Drop matches below this cosine' }),
      compare: Type.Boolean({ default: false, description: 'Also search HNSW and exact, and report the overlap of their top-k with LSH\'s' }),
      similar: Type.Boolean({ default: false, description: 'Also return what was not accepted: every match with its verdict, and `similar` products' }),
    },
    { additionalProperties: false },
  );
}
export type SearchRequest = Static<ReturnType<typeof searchQuerySchema>>;

/** `POST /v1/index/optimize` query. */
export function optimizeQuerySchema(whitening: WhiteningConfig) {
  return Type.Object(
    { whitening: Type.Boolean({ default: whitening.enabled, description: 'Learn whitening from the catalog (false: rebuild from raw vectors)' }) },
    { additionalProperties: false },
  );
}

/** `POST /v1/products` text fields (the file comes in field `image`). */
export const ProductFieldsSchema = Type.Object({
  id: ProductIdSchema,
  metadata: Type.Optional(Type.String({ description: 'a JSON object as text; replaces the product\'s metadata when given' })),
});

/** `POST /v1/products` headers. `title` is what an error message expects; `description` documents it. */
export const IngestHeadersSchema = Type.Object({
  'Idempotency-Key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[!-~]+$',
      title: '1–255 printable ASCII characters without spaces',
      description:
        'A retry with the same key (within 24 h) gets the first answer (header Idempotent-Replayed: true) instead of storing the image twice; 1–255 printable ASCII characters',
    }),
  ),
});

/** `GET|DELETE /v1/products/:id` path parameters. */
export const ProductPathSchema = Type.Object({ id: ProductIdSchema }, { additionalProperties: false });

/** `GET /v1/images/:imageId` path parameters. */
export const ImagePathSchema = Type.Object(
  { imageId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'A catalog image id' }) },
  { additionalProperties: false },
);

/** Most products one page of `GET /v1/products` may ask for. */
export const MAX_PRODUCT_PAGE = 100;

/** `GET /v1/products?offset=&limit=` query. */
export const ProductPageQuerySchema = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'Products to skip, in product id order' }),
    limit: Type.Integer({ minimum: 1, maximum: MAX_PRODUCT_PAGE, default: 20, description: 'Products on this page' }),
  },
  { additionalProperties: false },
);

// ---- answers -----------------------------------------------------------------------------------

export const HealthResponseSchema = Closed({
  status: StringEnum(['ok', 'loading', 'stuck'] as const, { description: 'ok (200); loading, or stuck when an extraction runs past server.stuckExtractionMs (503)' }),
});
export type HealthResponse = Static<typeof HealthResponseSchema>;

const objectSummary = {
  bbox: BBoxSchema,
  label: Type.String({ description: '`image` for the whole photo, else the detector\'s class' }),
  score: Type.Number({ description: 'Detector confidence, 0..1 (1 for the whole photo)' }),
};

export const DetectedObjectSchema = Closed(objectSummary);

export const AddProductResponseSchema = Closed({
  id: ProductIdSchema,
  imageId: Type.Integer(),
  objects: Type.Array(DetectedObjectSchema, { description: 'The whole photo first, then the detections' }),
});
export type AddProductResponse = Static<typeof AddProductResponseSchema>;

export const ProductResponseSchema = Closed({
  id: ProductIdSchema,
  metadata: MetadataSchema,
  images: Type.Array(
    Closed({
      id: Type.Integer(),
      width: Type.Integer(),
      height: Type.Integer(),
      sha256: Type.Union([Type.String(), Type.Null()]),
      created: Type.String({ description: 'ISO 8601 time the image was added' }),
    }),
  ),
  objects: Type.Array(Closed({ id: Type.Integer(), imageId: Type.Integer(), ...objectSummary })),
});
export type ProductResponse = Static<typeof ProductResponseSchema>;

export const ProductListResponseSchema = Closed({
  total: Type.Integer({ minimum: 0, description: 'Products in the catalog' }),
  offset: Type.Integer({ minimum: 0 }),
  limit: Type.Integer({ minimum: 1 }),
  products: Type.Array(
    Closed({
      id: ProductIdSchema,
      metadata: MetadataSchema,
      created: Type.String({ description: 'ISO 8601 time the product was created' }),
      images: Type.Integer({ minimum: 0, description: 'How many images the product has' }),
      imageId: Type.Union([Type.Integer(), Type.Null()], { description: 'Its first image: the thumbnail is at GET /v1/images/{imageId}' }),
    }),
  ),
});
export type ProductListResponse = Static<typeof ProductListResponseSchema>;

const match = {
  productId: ProductIdSchema,
  score: Type.Number({ ...COSINE_RANGE, description: 'Cosine similarity' }),
  bbox: BBoxSchema,
  imageId: Type.Integer(),
  metadata: MetadataSchema,
  accepted: Type.Boolean({ description: 'Judged to be the photographed product (always true while the catalog has no acceptance model)' }),
  confidence: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description: 'Probability that it is the photographed product; null while the catalog has no acceptance model',
  }),
};
export const MatchSchema = Closed(match);
export type MatchResponse = Static<typeof MatchSchema>;

export const SearchObjectSchema = Closed({
  ...objectSummary,
  index: IndexKindSchema,
  fallback: Type.Boolean({ description: 'LSH came up short and HNSW answered' }),
  matches: Type.Array(MatchSchema),
  overlap: Type.Optional(
    Closed(
      { hnsw: Type.Number({ minimum: 0, maximum: 1 }), exact: Type.Number({ minimum: 0, maximum: 1 }) },
      'Only with compare=true: share of LSH\'s top-k products also in HNSW\'s / the exact top-k',
    ),
  ),
});
export type SearchObjectResponse = Static<typeof SearchObjectSchema>;

export const AnswerSchema = Closed({
  ...match,
  via: Type.String({ description: 'Label of the object whose match this is (`image` for the whole photo)' }),
  objectBox: BBoxSchema,
});
export type AnswerResponse = Static<typeof AnswerSchema>;

const ms = Type.Number({ minimum: 0 });
export const SearchResponseSchema = Closed({
  objects: Type.Array(SearchObjectSchema),
  answer: Type.Array(AnswerSchema, { description: 'The photo\'s products, each once, accepted matches only (see `judged`), best first, at most k' }),
  similar: Type.Optional(Type.Array(AnswerSchema, { description: 'Only with similar=true: products that resemble an object of the photo but were not accepted' })),
  judged: Type.Boolean({ description: 'Whether a learned acceptance model judged the matches (false until the catalog is optimized)' }),
  timings: Closed({ decodeMs: ms, detectMs: ms, embedMs: ms, searchMs: ms, totalMs: ms }),
});
export type SearchResponse = Static<typeof SearchResponseSchema>;

const count = Type.Integer({ minimum: 0 });
export const OptimizeResponseSchema = Closed({
  products: count,
  images: count,
  vectors: count,
  indexed: Closed(Object.fromEntries(INDEX_KINDS.map((kind) => [kind, count])) as Record<IndexKind, typeof count>),
  transform: Type.String({ description: '`identity` or `whiten-<dims>-<digest>`' }),
  whitening: Type.Union([
    Closed({ dimensions: count, vectors: count, products: count, shrinkage: Type.Number({ minimum: 0, maximum: 1 }) }),
    Type.Null(),
  ]),
  skipped: Type.Optional(Type.String({ description: 'Why whitening was asked for but not learned' })),
  acceptance: Type.Union(
    [
      Closed({
        wholeThreshold: Type.Number({ minimum: 0, maximum: 1 }),
        regionThreshold: Type.Number({ minimum: 0, maximum: 1 }),
        answeredRegionThreshold: Type.Number({ minimum: 0, maximum: 1, description: 'Regions of a photo with an accepted object are accepted from this confidence' }),
        queries: count,
        simulated: Closed({
          whole: Closed({ rightAccepted: Type.Number({ minimum: 0, maximum: 1 }), missingAccepted: Type.Number({ minimum: 0, maximum: 1 }) }),
          region: Closed({ rightAccepted: Type.Number({ minimum: 0, maximum: 1 }), missingAccepted: Type.Number({ minimum: 0, maximum: 1 }) }),
        }),
      }),
      Closed({ skipped: Type.String({ description: 'Why no acceptance model was learned: every match is accepted' }) }),
    ],
    { description: 'The acceptance model ("no match") optimize learned from the catalog, or why none' },
  ),
  ms,
});
export type OptimizeResponse = Static<typeof OptimizeResponseSchema>;

/**
 * Every named schema, as the document's `components.schemas`: the answers, then the parts they share
 * (referred to by `$ref` wherever they appear, so generated clients name them too).
 */
export const COMPONENT_SCHEMAS = {
  ErrorResponse: ErrorResponseSchema,
  HealthResponse: HealthResponseSchema,
  AddProductResponse: AddProductResponseSchema,
  ProductResponse: ProductResponseSchema,
  ProductListResponse: ProductListResponseSchema,
  SearchResponse: SearchResponseSchema,
  OptimizeResponse: OptimizeResponseSchema,
  SearchObject: SearchObjectSchema,
  Match: MatchSchema,
  Answer: AnswerSchema,
  DetectedObject: DetectedObjectSchema,
  BBox: BBoxSchema,
  Metadata: MetadataSchema,
} satisfies Record<string, TSchema>;
export type ComponentName = keyof typeof COMPONENT_SCHEMAS;

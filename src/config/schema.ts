/**
 * The typed configuration: its shape, the embedded defaults, and one rule per key. Everything else in
 * findthis receives plain values cut from the frozen result (see load.ts), never the raw file.
 */
import { DETECTOR_FORMATS } from '../detection/options.js';
import { POOLINGS } from '../embedding/options.js';
import { DEFAULT_ACCEPTANCE_OPTIONS, type AcceptanceOptions } from '../acceptance/learn.js';
import { DEFAULT_WHITENING_OPTIONS } from '../embedding/whitening.js';
import { DEFAULT_INDEX_PARAMS, HNSW_PARAM_RANGES, LSH_PARAM_RANGES, LSH_PLANES, type IntegerRange } from '../indexing/params.js';
import type { HnswParams, IndexKind, LshParams } from '../indexing/types.js';
import { DEFAULT_EXTRACTOR_OPTIONS, type ExtractorOptions } from '../pipeline/extractor.js';
import {
  checkBoolean,
  checkInteger,
  checkNumber,
  checkOneOf,
  checkString,
  checkStringArray,
  invalidConfig,
} from './checks.js';

export const INDEX_KINDS: readonly IndexKind[] = ['lsh', 'hnsw', 'exact'];
/** Cosine similarities, and so score floors (`search.minScore`, the `minScore` query parameter). */
export const COSINE_RANGE = { minimum: -1, maximum: 1 } as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** HTTP server, upload and queue settings. */
export interface ServerConfig {
  /** Interface to listen on. Default `'0.0.0.0'`. Env `HOST`. */
  host: string;
  /** TCP port, 0..65535 (0 = any free port). Default 8080. Env `PORT`. */
  port: number;
  /** Largest accepted upload in bytes; larger → 413 FILE_TOO_LARGE. Default 20 MB. Env `UPLOAD_LIMIT_BYTES`. */
  uploadLimitBytes: number;
  /** Extractions (ingest or search) run at once, 1..64. Default 2 (the machine has 2 cores). Env `QUEUE_CONCURRENCY`. */
  queueConcurrency: number;
  /**
   * Extractor worker threads, each with its own model sessions, 1..64. Default 2. Env `EXTRACTOR_THREADS`.
   * One thread runs one encoder run at a time (onnxruntime runs a session on its caller's thread; only
   * the detector runs beside it, on a thread of its own), and leaves a core idle during its JavaScript
   * stages; two let one request's stages overlap another's model runs: 1.14–1.16× the searches/s with
   * 8 clients, the same one-client latency, about 70 MB more, 120 MB with its detector thread (see
   * docs/benchmarks.md, "Throughput with 8 clients").
   */
  extractorThreads: number;
  /** Requests allowed to wait for a slot, 0..10000; beyond that → 503 OVERLOADED. Default 32. Env `MAX_QUEUE_LENGTH`. */
  maxQueueLength: number;
  /** On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway, in ms. Default 10000. */
  shutdownTimeoutMs: number;
  /** `debug`, `info`, `warn` or `error`. Default `info`. Env `LOG_LEVEL`. */
  logLevel: LogLevel;
  /**
   * Time budget of an ingest or search from the moment its upload is received, in ms, 100..600000.
   * Default 20000. Waiting for a slot past it → 503 BUDGET_EXCEEDED without running; a search still
   * running past it → 503 BUDGET_EXCEEDED at once (an ingest is always waited for: it may be stored).
   */
  requestBudgetMs: number;
  /** An extraction running longer than this turns /healthz 503 `stuck`, in ms, 1..600000. Default 30000. */
  stuckExtractionMs: number;
  /** The request line and headers must arrive within this, in ms, 1000..600000 (≤ requestTimeoutMs). Default 10000 → 408 CLIENT_TIMEOUT. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this, in ms, 1000..3600000. Default 30000 → 408 CLIENT_TIMEOUT. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, in ms, 0..600000. Default 5000. */
  keepAliveTimeoutMs: number;
  /** Requests served on one keep-alive connection before it is closed, 0..1000000 (0 = no limit). Default 1000. */
  maxRequestsPerSocket: number;
  /** Open connections at once, 1..100000; further connections are dropped by the kernel-facing accept. Default 256. */
  maxConnections: number;
  /** Largest request line plus headers in bytes, 1024..1048576; larger → 431 HEADERS_TOO_LARGE. Default 16384. */
  maxHeaderBytes: number;
  /** With API keys set (FINDTHIS_API_KEYS), also require a key for reads and searches, not only writes. Default false. */
  protectReads: boolean;
  /** Browser origins allowed to call the API cross-origin (`https://shop.example`); empty = no CORS. Default `[]`. */
  corsOrigins: string[];
}

/** Where data and models live. Relative paths are resolved against the working directory. */
export interface PathsConfig {
  /** catalog.sqlite and indexes/ go here. Default `'./data'`. Env `DATA_DIR`. */
  dataDir: string;
  /** Searched first for model files; `''` = the default places (models/, ../shared/models). Env `MODELS_DIR`. */
  modelsDir: string;
  /**
   * `''` (default): the embedded catalog (SQLite + in-process indexes in dataDir). `postgres://…`: the
   * catalog and its vectors live in that PostgreSQL (pgvector), and replicas given the same URL serve
   * one catalog (docs/scale-out.md). Env `FINDTHIS_DATABASE_URL`.
   */
  databaseUrl: string;
}

/** Search defaults and limits for `POST /v1/search` and `npm run query`. */
export interface SearchConfig {
  /** Matches per object when `k` is not given. Default 5. */
  defaultK: number;
  /** Largest accepted `k`, 1..1000. Default 100. */
  maxK: number;
  /** Index used when `index` is not given. Default `'lsh'` (HNSW answers when LSH comes up short). */
  defaultIndex: IndexKind;
  /** Matches below this cosine are dropped when `minScore` is not given, -1..1. Default -1 (keep all). */
  minScore: number;
  /**
   * Neighbours fetched per wanted product on the first try, 1..100. Default 4: several crops of one
   * product crowd the top, so the search asks for k × 4 vectors and doubles until k products are found.
   */
  candidateFactor: number;
}

export interface FindthisConfig {
  server: ServerConfig;
  paths: PathsConfig;
  search: SearchConfig;
  /** Detector, encoder, crop policy and pixel limit: handed to createExtractor as they are. */
  extractor: ExtractorOptions;
  /** LSH and HNSW knobs: handed to IndexSet.open with the encoder's dimension. */
  index: { lsh: LshParams; hnsw: HnswParams };
  /** Learned whitening, applied by `POST /v1/index/optimize` and `npm run optimize`. */
  whitening: WhiteningConfig;
  /** How `optimize` learns when a match is "the product" rather than "something like it" (src/acceptance). */
  acceptance: AcceptanceOptions;
}

/** Whether and how `optimize` learns whitening from the catalog (see src/embedding/whitening.ts). */
export interface WhiteningConfig {
  /** Learn whitening on optimize; false rebuilds the indexes from raw vectors. Default true. */
  enabled: boolean;
  /** Output dimension, 1..4096, capped at (products − 1). Default 128. */
  dimensions: number;
  /** Shrinkage of the within-product covariance towards the identity, 0..1. Default 0.1. */
  shrinkage: number;
}

export const DEFAULT_CONFIG: FindthisConfig = {
  server: {
    host: '0.0.0.0',
    port: 8080,
    uploadLimitBytes: 20 * 1024 * 1024,
    queueConcurrency: 2,
    extractorThreads: 2,
    maxQueueLength: 32,
    shutdownTimeoutMs: 10_000,
    logLevel: 'info',
    requestBudgetMs: 20_000,
    stuckExtractionMs: 30_000,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    maxRequestsPerSocket: 1000,
    maxConnections: 256,
    maxHeaderBytes: 16_384,
    protectReads: false,
    corsOrigins: [],
  },
  paths: { dataDir: './data', modelsDir: '', databaseUrl: '' },
  search: { defaultK: 5, maxK: 100, defaultIndex: 'lsh', minScore: -1, candidateFactor: 4 },
  extractor: DEFAULT_EXTRACTOR_OPTIONS,
  index: DEFAULT_INDEX_PARAMS,
  whitening: { enabled: true, ...DEFAULT_WHITENING_OPTIONS },
  acceptance: DEFAULT_ACCEPTANCE_OPTIONS,
};

/** A rule checks one value and returns it typed; `name` is the key's dotted path (and its origin). */
export type Rule = (name: string, value: unknown) => unknown;
export interface Schema {
  [key: string]: Rule | Schema;
}

const int = (min: number, max: number): Rule => (name, value) => checkInteger(name, value, min, max, invalidConfig);
/** One integer rule per key, from ranges kept where the parameters are defined. */
const integerRules = (ranges: Readonly<Record<string, IntegerRange>>): Schema =>
  Object.fromEntries(Object.entries(ranges).map(([key, [min, max]]) => [key, int(min, max)]));
const num = (min: number, max: number): Rule => (name, value) => checkNumber(name, value, min, max, invalidConfig);
const oneOf = (allowed: readonly string[]): Rule => (name, value) => checkOneOf(name, value, allowed, invalidConfig);
const text = (pattern: RegExp, expected: string): Rule => (name, value) => checkString(name, value, pattern, expected, invalidConfig);
const strings: Rule = (name, value) => checkStringArray(name, value, invalidConfig);
const nonEmpty = text(/\S/, 'a non-empty string');
const anyText = text(/^/, 'a string');

/**
 * The schema for `defaults`: the rules below for the keys they know, and for any key a stage adds to
 * its options before this file learns of it, a rule by the type of its default (finite number,
 * string, boolean, string array). Rules for keys the defaults no longer have are dropped.
 */
export function schemaFor(defaults: object, rules: Schema = CONFIG_SCHEMA): Schema {
  const schema: Schema = {};
  for (const [key, value] of Object.entries(defaults)) {
    const rule = rules[key];
    if (isPlainObject(value)) schema[key] = schemaFor(value, typeof rule === 'object' ? rule : {});
    else schema[key] = typeof rule === 'function' ? rule : ruleByType(value);
  }
  return schema;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ruleByType(defaultValue: unknown): Rule {
  if (Array.isArray(defaultValue)) return strings;
  if (typeof defaultValue === 'boolean') return (name, value) => checkBoolean(name, value, invalidConfig);
  if (typeof defaultValue === 'number') return num(-Number.MAX_VALUE, Number.MAX_VALUE);
  return anyText;
}

/** One rule per key; ranges are the ones documented on each option type. */
export const CONFIG_SCHEMA: Schema = {
  server: {
    host: nonEmpty,
    port: int(0, 65535),
    uploadLimitBytes: int(1, 1024 ** 3),
    queueConcurrency: int(1, 64),
    extractorThreads: int(1, 64),
    maxQueueLength: int(0, 10_000),
    shutdownTimeoutMs: int(0, 600_000),
    logLevel: oneOf(LOG_LEVELS),
    requestBudgetMs: int(100, 600_000),
    stuckExtractionMs: int(1, 600_000),
    headersTimeoutMs: int(1000, 600_000),
    requestTimeoutMs: int(1000, 3_600_000),
    keepAliveTimeoutMs: int(0, 600_000),
    maxRequestsPerSocket: int(0, 1_000_000),
    maxConnections: int(1, 100_000),
    maxHeaderBytes: int(1024, 1024 * 1024),
    protectReads: (name, value) => checkBoolean(name, value, invalidConfig),
    corsOrigins: (name, value) => {
      const origins = checkStringArray(name, value, invalidConfig);
      for (const origin of origins) checkString(name, origin, /^https?:\/\/[^/\s]+$/, 'origins like https://shop.example (scheme, host, optional port; no path)', invalidConfig);
      return origins;
    },
  },
  paths: { dataDir: nonEmpty, modelsDir: anyText, databaseUrl: text(/^$|^postgres(ql)?:\/\/\S+$/, "'' or a postgres:// URL") },
  search: {
    defaultK: int(1, 1000),
    maxK: int(1, 1000),
    defaultIndex: oneOf(INDEX_KINDS),
    minScore: num(COSINE_RANGE.minimum, COSINE_RANGE.maximum),
    candidateFactor: int(1, 100),
  },
  extractor: {
    detector: {
      model: nonEmpty,
      format: oneOf(DETECTOR_FORMATS),
      scoreThreshold: num(0, 1),
      iouThreshold: num(0, 1),
      maxDetections: int(0, 300),
      minBoxSize: num(0, 100_000),
      classAllow: strings,
      classDeny: strings,
      upscale: (name, value) => checkBoolean(name, value, invalidConfig),
      proposalObjectness: num(0, 1),
      threads: int(1, 64),
      ownThread: (name, value) => checkBoolean(name, value, invalidConfig),
    },
    encoder: {
      model: nonEmpty,
      inputSize: int(32, 1024),
      imageInputSize: (name, value) => (value === 0 ? 0 : checkInteger(name, value, 32, 1024, invalidConfig)),
      pooling: oneOf(POOLINGS),
      cropPooling: oneOf(POOLINGS),
      regionLevels: int(1, 5),
      gemP: num(1, 10),
      featureTensor: anyText,
      midLevel: (name, value) => checkBoolean(name, value, invalidConfig),
      threads: int(1, 64),
    },
    crop: { padding: num(0, 1), maxObjects: int(1, 100) },
    localization: {
      pixelsPerRegion: int(1_000, 100_000_000),
      maxRegions: int(0, 64),
      iouThreshold: num(0, 1),
      containment: num(0, 1),
      pileSimilarity: num(0, 1),
      minRegionSide: int(0, 4_096),
      largeRegionSide: int(0, 4_096),
      largeRegionMaxShare: num(0, 1),
      largeRegionInputSize: int(32, 1024),
    },
    maxPixels: int(1, 268_402_689),
    maxDecodeSide: (name, value) => (value === 0 ? 0 : checkInteger(name, value, 256, 16_384, invalidConfig)),
    decodeTimeoutSeconds: int(0, 3600),
  },
  index: { lsh: { ...integerRules(LSH_PARAM_RANGES), planes: oneOf(LSH_PLANES) }, hnsw: integerRules(HNSW_PARAM_RANGES) },
  whitening: {
    enabled: (name, value) => checkBoolean(name, value, invalidConfig),
    dimensions: int(1, 4096),
    shrinkage: num(0, 1),
  },
  acceptance: { queries: int(10, 100_000), wholeFalseAcceptance: num(0, 1), regionFalseAcceptance: num(0, 1), answeredRegionFalseAcceptance: num(0, 1), nearDuplicates: int(0, 100) },
};

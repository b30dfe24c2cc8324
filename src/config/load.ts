/**
 * Loads the configuration once at start-up: embedded defaults ← config file ← environment overrides,
 * every key checked against its rule (schemaFor) (errors name the key, where it came from, what was expected
 * and what came), then deep-frozen.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FindthisError } from '../core/errors.js';
import { PROJECT_ROOT } from '../models/manifest.js';
import { invalidConfig } from './checks.js';
import { DEFAULT_CONFIG, schemaFor, type FindthisConfig, type Schema } from './schema.js';

/** The config file used when FINDTHIS_CONFIG is not set (absent is fine: defaults apply). */
export const DEFAULT_CONFIG_PATH = resolve(PROJECT_ROOT, 'config', 'findthis.json');

/** Environment variables that override one key each. */
export const ENV_OVERRIDES = {
  PORT: 'server.port',
  HOST: 'server.host',
  UPLOAD_LIMIT_BYTES: 'server.uploadLimitBytes',
  QUEUE_CONCURRENCY: 'server.queueConcurrency',
  EXTRACTOR_THREADS: 'server.extractorThreads',
  MAX_QUEUE_LENGTH: 'server.maxQueueLength',
  LOG_LEVEL: 'server.logLevel',
  DATA_DIR: 'paths.dataDir',
  MODELS_DIR: 'paths.modelsDir',
  FINDTHIS_DATABASE_URL: 'paths.databaseUrl',
} as const satisfies Record<string, string>;

type Env = Record<string, string | undefined>;

export interface LoadConfigOptions {
  /** Defaults to process.env. FINDTHIS_CONFIG in it names the config file. */
  env?: Env;
  /** Config file; defaults to env FINDTHIS_CONFIG, then config/findthis.json. */
  file?: string;
  /** Applied last, for tests and benchmarks that build their own service. */
  overrides?: DeepPartial<FindthisConfig>;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** The validated, deep-frozen configuration. Throws FindthisError INVALID_CONFIG naming the bad key. */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<FindthisConfig> {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.FINDTHIS_CONFIG || DEFAULT_CONFIG_PATH);
  const origins = new Map<string, string>();
  const schema = schemaFor(DEFAULT_CONFIG);
  let merged: unknown = structuredClone(DEFAULT_CONFIG);

  const fromFile = readConfigFile(file, Boolean(options.file ?? env.FINDTHIS_CONFIG));
  if (fromFile !== undefined) merged = mergeInto(merged, fromFile, schema, '', origins, file);

  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const raw = env[name];
    if (raw === undefined || (raw === '' && name !== 'MODELS_DIR')) continue;
    setPath(merged, path, fromEnvText(raw, getPath(DEFAULT_CONFIG, path)));
    origins.set(path, `env ${name}`);
  }
  if (options.overrides) merged = mergeInto(merged, options.overrides, schema, '', origins, 'overrides');

  const config = validate(merged, schema, '', origins) as FindthisConfig;
  if (config.search.defaultK > config.search.maxK) {
    throw invalidConfig(label('search.defaultK', origins), `an integer ≤ search.maxK (${config.search.maxK})`, config.search.defaultK);
  }
  if (config.server.headersTimeoutMs > config.server.requestTimeoutMs) {
    const limit = `an integer ≤ server.requestTimeoutMs (${config.server.requestTimeoutMs})`;
    throw invalidConfig(label('server.headersTimeoutMs', origins), limit, config.server.headersTimeoutMs);
  }
  return deepFreeze(config);
}

function readConfigFile(file: string, required: boolean): unknown {
  if (!existsSync(file)) {
    if (required) throw new FindthisError('INVALID_CONFIG', `Config file ${file} does not exist (FINDTHIS_CONFIG)`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new FindthisError('INVALID_CONFIG', `Config file ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Env values are text: numbers where the default is a number, the text itself otherwise (the rule then judges it). */
function fromEnvText(raw: string, defaultValue: unknown): unknown {
  if (typeof defaultValue === 'number' && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(raw)) return Number(raw);
  return raw;
}

/** Copies `source` onto `target` key by key; keys the schema does not know are refused (typos). */
function mergeInto(target: unknown, source: unknown, schema: Schema, prefix: string, origins: Map<string, string>, origin: string): unknown {
  if (!isPlainObject(source)) throw invalidConfig(`${prefix || 'the config'} (${origin})`, 'an object', source);
  const out = target as Record<string, unknown>;
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const rule = schema[key];
    if (rule === undefined) {
      throw new FindthisError('INVALID_CONFIG', `Unknown config key ${path} (${origin}): expected one of ${Object.keys(schema).map((k) => (prefix ? `${prefix}.${k}` : k)).join(', ')}`);
    }
    if (value === undefined) continue;
    if (typeof rule === 'function') {
      out[key] = value;
      origins.set(path, origin);
    } else {
      mergeInto(out[key], value, rule, path, origins, origin);
    }
  }
  return out;
}

function validate(value: unknown, schema: Schema, prefix: string, origins: Map<string, string>): unknown {
  const out: Record<string, unknown> = {};
  const object = value as Record<string, unknown>;
  for (const [key, rule] of Object.entries(schema)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out[key] = typeof rule === 'function' ? rule(label(path, origins), object[key]) : validate(object[key], rule, path, origins);
  }
  return out;
}

function label(path: string, origins: Map<string, string>): string {
  const origin = origins.get(path);
  return origin ? `${path} (${origin})` : path;
}

function getPath(object: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], object);
}

function setPath(object: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], object);
  (parent as Record<string, unknown>)[last] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

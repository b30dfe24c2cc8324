import { invalidParameter } from '../core/errors.js';
import type { HnswParams, IndexParams, LshParams, LshPlanes } from './types.js';

/**
 * Defaults chosen from `npm run bench:index` (docs/benchmarks.md, section "Vector indexes"). On clustered,
 * embedding-like data at 100k × 128: LSH 16 bits × 32 tables with 1-bit multi-probe, recall@10 0.95
 * scoring ~1.2% of the catalog (≈13× the exact scan's queries/s); HNSW M 16 / efConstruction 200 /
 * efSearch 64, recall@10 1.00 (efSearch 16 already gives 0.98) at well over 20× the exact scan.
 * vectorsPerBucket 2 keeps 16 bits from about 65k vectors up (100k: ⌈log2 50,000⌉ = 16) and uses
 * fewer below (10k: 13 bits; the 81-product grocery catalog's 300 vectors: 8). Learned planes beat
 * random ones on the clustered, the hard synthetic and the real whitened vectors at 100k (more recall
 * from fewer candidates: docs/benchmarks.md, "Data-adapted hyperplanes").
 */
export const DEFAULT_INDEX_PARAMS: Omit<IndexParams, 'dim'> = {
  lsh: { hashSize: 16, numTables: 32, probeRadius: 1, probes: 0, rerank: 0, seed: 1, vectorsPerBucket: 2, planes: 'learned' },
  hnsw: { M: 16, efConstruction: 200, efSearch: 64 },
};

/** An inclusive integer range. */
export type IntegerRange = readonly [min: number, max: number];

/**
 * The allowed range of every index parameter, written only here: the validators below, the config
 * schema's rules and the knobs table in docs/reference.md (checked by a test) all follow it.
 */
export const LSH_PARAM_RANGES: Readonly<Record<Exclude<keyof LshParams, 'planes'>, IntegerRange>> = {
  hashSize: [0, 32],
  numTables: [1, 256],
  probeRadius: [0, 3],
  probes: [0, 1024],
  rerank: [0, 1_000_000],
  seed: [0, 0xffffffff],
  vectorsPerBucket: [0, 1_000_000],
};

/** The values of the one LSH knob that is not a number (LshParams.planes). */
export const LSH_PLANES: readonly LshPlanes[] = ['random', 'learned'];

export const HNSW_PARAM_RANGES: Readonly<Record<keyof HnswParams, IntegerRange>> = {
  M: [2, 100],
  efConstruction: [1, 4096],
  efSearch: [1, 4096],
};

function checkInteger(name: string, value: unknown, [min, max]: IntegerRange): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(name, `an integer in ${min}..${max}`, value);
  }
}

/** Checks every present parameter of `params` against its range in `ranges`. */
function checkRanges<P extends object, K extends keyof P>(params: P, ranges: Readonly<Record<K, IntegerRange>>, required: ReadonlyArray<K>): void {
  for (const [name, range] of Object.entries(ranges) as Array<[K & string, IntegerRange]>) {
    if (params[name] !== undefined || required.includes(name)) checkInteger(name, params[name], range);
  }
}

export function validateLshParams(params: LshParams): void {
  checkRanges(params, LSH_PARAM_RANGES, ['hashSize', 'numTables', 'probeRadius', 'seed']);
  if (params.planes !== undefined && !LSH_PLANES.includes(params.planes)) {
    throw invalidParameter('planes', `one of ${LSH_PLANES.join(', ')}`, params.planes);
  }
}

export function validateHnswParams(params: HnswParams): void {
  checkRanges(params, HNSW_PARAM_RANGES, ['M', 'efConstruction', 'efSearch']);
}

export function validateIndexParams(params: IndexParams): void {
  checkInteger('dim', params.dim, [1, 65536]);
  validateLshParams(params.lsh);
  validateHnswParams(params.hnsw);
}

/** k of a search: 1..10000. */
export function validateK(k: number): void {
  checkInteger('k', k, [1, 10_000]);
}

import { invalidParameter } from '../core/errors.js';
import type { HnswParams, IndexParams, LshParams } from './types.js';

/**
 * Defaults chosen from `npm run bench:index` (README, section "Vector indexes"): on clustered
 * embedding-like data at 100k × 128 the LSH setting reaches recall@10 ≥ 0.9 and HNSW ≥ 0.95.
 */
export const DEFAULT_INDEX_PARAMS: Omit<IndexParams, 'dim'> = {
  lsh: { hashSize: 12, numTables: 16, probeRadius: 1, seed: 1 },
  hnsw: { M: 16, efConstruction: 200, efSearch: 64 },
};

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(name, `an integer in ${min}..${max}`, value);
  }
}

export function validateLshParams(params: LshParams): void {
  checkInteger('hashSize', params.hashSize, 0, 32);
  checkInteger('numTables', params.numTables, 1, 256);
  checkInteger('probeRadius', params.probeRadius, 0, 3);
  checkInteger('seed', params.seed, 0, 0xffffffff);
}

export function validateHnswParams(params: HnswParams): void {
  checkInteger('M', params.M, 2, 100);
  checkInteger('efConstruction', params.efConstruction, 1, 4096);
  checkInteger('efSearch', params.efSearch, 1, 4096);
}

export function validateIndexParams(params: IndexParams): void {
  checkInteger('dim', params.dim, 1, 65536);
  validateLshParams(params.lsh);
  validateHnswParams(params.hnsw);
}

/** k of a search: 1..10000. */
export function validateK(k: number): void {
  checkInteger('k', k, 1, 10_000);
}

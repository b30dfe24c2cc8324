/** The settings `npm run bench:index` sweeps (benchmarks/indexes.ts): LSH builds with their probes, efSearch, nprobe. */
import { DEFAULT_INDEX_PARAMS } from '../../src/indexing/params.js';
import type { HnswParams, LshParams } from '../../src/indexing/types.js';

/** How an LSH query probes: every bucket within a Hamming radius, or `probes` per table ordered by margin. */
export type Probing = ({ probeRadius: number } | { probes: number }) & { rerank?: number };
export const radius = (...radii: number[]): Probing[] => radii.map((probeRadius) => ({ probeRadius }));
const byMargin = (...counts: number[]): Probing[] => counts.map((probes) => ({ probes }));
/** The same probings with their candidates cut to the `rerank` nearest by SimHash sketch. */
const reranked = (rerank: number, probings: Probing[]): Probing[] => probings.map((probing) => ({ ...probing, rerank }));
/**
 * Builds swept with every bit of every key in use (vectorsPerBucket 0), each with its probe settings, then
 * the defaults as the service runs them. Radius 2 (1 + b + b(b−1)/2 buckets per table) only pays off with long keys.
 */
const LSH_BUILDS: (Omit<LshParams, 'probeRadius' | 'probes' | 'seed' | 'planes'> & { probing: Probing[] })[] = [
  { hashSize: 12, numTables: 8, probing: radius(0, 1) },
  { hashSize: 12, numTables: 16, probing: [...radius(0, 1), ...byMargin(4, 8)] },
  { hashSize: 16, numTables: 16, probing: [...radius(0, 1), ...byMargin(8, 16, 32)] },
  { hashSize: 16, numTables: 32, probing: [...radius(0, 1), ...byMargin(8, 16, 24, 32, 64)] },
  { hashSize: 14, numTables: 24, probing: [...byMargin(8, 16, 24, 32), ...reranked(800, byMargin(24, 32))] },
  { hashSize: 12, numTables: 16, probing: [...byMargin(16, 24), ...reranked(400, byMargin(16, 24)), ...reranked(600, byMargin(16, 24, 32)), ...reranked(800, byMargin(24, 32))] },
  { hashSize: 18, numTables: 32, probing: byMargin(32, 64, 128) },
  { hashSize: 20, numTables: 32, probing: radius(0, 1, 2) },
  {
    hashSize: DEFAULT_INDEX_PARAMS.lsh.hashSize,
    numTables: DEFAULT_INDEX_PARAMS.lsh.numTables,
    vectorsPerBucket: DEFAULT_INDEX_PARAMS.lsh.vectorsPerBucket,
    probing: [DEFAULT_INDEX_PARAMS.lsh.probes ? { probes: DEFAULT_INDEX_PARAMS.lsh.probes } : { probeRadius: DEFAULT_INDEX_PARAMS.lsh.probeRadius }],
  },
];
export const HNSW_BUILD: Omit<HnswParams, 'efSearch'> = { M: 16, efConstruction: 200 };
const EF_SEARCH = [10, 16, 32, 64, 128, 256];
const IVF_NPROBE = [1, 2, 4, 8, 16, 32, 64];

type LshBuild = (typeof LSH_BUILDS)[number];

export interface Sweep {
  lshBuilds: LshBuild[];
  efSearch: number[];
  nprobe: number[];
}

export const FULL_SWEEP: Sweep = { lshBuilds: LSH_BUILDS, efSearch: EF_SEARCH, nprobe: IVF_NPROBE };

/** --quick: 16 × 32 with radius 1 and 16–64 margin probes, 14 × 24 and 12 × 16 with and without `rerank`, and the defaults. */
export const QUICK_SWEEP: Sweep = {
  lshBuilds: [
    { hashSize: 16, numTables: 32, probing: [...radius(1), ...byMargin(16, 24, 32, 64)] },
    { hashSize: 14, numTables: 24, probing: [...byMargin(16, 24, 32), ...reranked(800, byMargin(24, 32))] },
    { hashSize: 12, numTables: 16, probing: [...byMargin(24), ...reranked(400, byMargin(16, 24)), ...reranked(600, byMargin(16, 24)), ...reranked(800, byMargin(24, 32))] },
    LSH_BUILDS.at(-1)!,
  ],
  efSearch: [16, 64, 128],
  nprobe: [4, 16, 64],
};

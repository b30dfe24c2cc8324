/**
 * The vector-index contract the catalog and the service code against. Types only.
 *
 * Every index answers cosine-similarity k-NN over unit-length Float32Array vectors keyed by string ids.
 * Three kinds: `exact` (brute force, the recall reference), `lsh` (random-hyperplane buckets with exact
 * re-ranking) and `hnsw` (hnswlib-node graph, the fallback and accuracy comparison).
 */

export type IndexKind = 'lsh' | 'hnsw' | 'exact';

/** One hit. `score` is the cosine similarity (1 = same direction); results are sorted best first. */
export interface Neighbor {
  id: string;
  score: number;
}

/** Per-query work counters, for metrics. Only LSH probes buckets; exact scores every stored vector. */
export interface SearchStats {
  /** LSH bucket look-ups (tables × probes); 0 for exact and HNSW. */
  bucketsProbed: number;
  /** Distinct vectors whose exact cosine was computed (HNSW: 0, it does not report its work). */
  candidatesScored: number;
  /** LSH: distinct vectors its buckets held, of which `rerank` may have kept fewer to score. */
  candidatesFound?: number;
  /** True when LSH found fewer than min(k, size) results and HNSW answered instead. */
  fellBack: boolean;
}

export interface SearchResult {
  neighbors: Neighbor[];
  stats: SearchStats;
}

export interface VectorIndex {
  readonly kind: IndexKind;
  readonly dim: number;
  /** Number of live (not removed) vectors. */
  readonly size: number;
  /** Adds a unit-length vector; re-adding an id replaces its vector. */
  add(id: string, vector: Float32Array): void;
  /** Removes an id; false when it was not there. A removed id is never returned by `search`. */
  remove(id: string): boolean;
  /** The k most cosine-similar vectors to a unit-length query, best first. */
  search(query: Float32Array, k: number): SearchResult;
  /** Bytes of memory this index needs to answer queries (typed arrays and native buffers, estimated). */
  memoryBytes(): number;
}

/** What an index file is checked against at load besides its params: e.g. the encoder that made the vectors. */
export type IndexMeta = Record<string, string | number>;

/**
 * An index with a file (LSH, HNSW; the exact index is the store itself). The verbs, one signature each:
 * `index.save(dir, meta)` and `static load(dir, store, params, meta)`, which throws INDEX_CORRUPT or
 * INDEX_MISMATCH when the file is not a faithful copy for this store, params and meta.
 */
export interface PersistedIndex extends VectorIndex {
  /** Writes the index to `dir` atomically (temp file, fsync, rename) with a format version, checksum and `meta`. */
  save(dir: string, meta: IndexMeta): Promise<void>;
}

/** How an LSH index draws its hyperplanes (LshParams.planes). */
export type LshPlanes = 'random' | 'learned';

/** LSH knobs, named as in the Python seed (LSHash's hash_size, num_hashtables); ranges in LSH_PARAM_RANGES (params.ts). */
export interface LshParams {
  /** Bits per signature = random hyperplanes per table. 0 = one bucket holding everything = exact search. */
  hashSize: number;
  /** Independent hash tables; a query takes the union of its buckets over all tables. */
  numTables: number;
  /** Multi-probe: also look in buckets whose key differs from the query's in at most this many bits. */
  probeRadius: number;
  /**
   * Query-directed multi-probe (overrides probeRadius when > 0): probe numTables × probes buckets, the
   * query's own in every table plus those a neighbour most likely fell into, ordered by the query's
   * margins to the hyperplanes (Lv et al. 2007). 0 or absent: probe by radius.
   */
  probes?: number;
  /**
   * Most candidates re-ranked by exact cosine, at least k: past it, only the `rerank` nearest by the
   * Hamming distance of 256-bit SimHash sketches (random planes through the catalog's centre:
   * SimHashSketches) are scored, one cache line each instead of a whole vector. 0 or absent: every
   * candidate is re-ranked.
   */
  rerank?: number;
  /** Seed of the hyperplane generator: the same seed gives the same index. */
  seed: number;
  /**
   * 'random': Gaussian hyperplanes through the catalog's centre, re-drawn from the seed. 'learned':
   * hyperplanes fitted to the catalog (learned-planes.ts) whenever it is re-centred, stored in the
   * index file. Absent: 'random'.
   */
  planes?: LshPlanes;
  /**
   * Grows the bits a bucket key uses with the catalog: ⌈log2(vectors / vectorsPerBucket)⌉, at least 1,
   * at most hashSize (keys are always computed with hashSize bits; buckets use their low bits). So a
   * small catalog gets buckets that hold something instead of falling back to HNSW on every query.
   * 0 or absent: always hashSize bits.
   */
  vectorsPerBucket?: number;
}

/** HNSW knobs, named as in hnswlib; ranges in HNSW_PARAM_RANGES (params.ts). */
export interface HnswParams {
  /** Graph out-degree per node (level 0 gets 2·M). */
  M: number;
  /** Candidate list size while building. Larger = better graph, slower build. */
  efConstruction: number;
  /** Candidate list size while searching (raised to k when smaller). Query-time only. */
  efSearch: number;
}

export interface IndexParams {
  dim: number;
  lsh: LshParams;
  hnsw: HnswParams;
}

import { SeededRandom } from '../../src/core/prng.js';

export interface ClusteredDataOptions {
  /** Vectors to index. */
  n: number;
  /** Held-out query vectors drawn from the same clusters. */
  queries: number;
  dim: number;
  clusters: number;
  seed: number;
  /** Noise norm relative to the (unit) centre: 0.6 gives a typical in-cluster cosine near 0.85. */
  spread?: number;
  /** σ of the log-normal cluster weights; 0 (default): weights 0.2 + U(0, 1), sizes within about 6×. */
  sizeSkew?: number;
  /** Share of points (and queries) scattered between clusters: a random mix of two centres plus the noise. Default 0. */
  scatterShare?: number;
}

/**
 * The harder shape LSH is judged on: 3,000 clusters of uneven size (log-normal weights, σ 1.5: the
 * largest clusters hold hundreds of times the smallest's points), 15% of points scattered between them.
 */
export function hardDataOptions(n: number, queries: number, dim: number, seed: number): ClusteredDataOptions {
  return { n, queries, dim, clusters: 3000, seed, sizeSkew: 1.5, scatterShare: 0.15 };
}

export interface ClusteredData {
  dim: number;
  /** n × dim, row-major, every row L2-normalised. */
  vectors: Float32Array;
  /** queries × dim, the same. */
  queries: Float32Array;
}

/**
 * Synthetic data shaped like CNN (ReLU + GeM) embeddings: non-negative, sparse-ish cluster centres,
 * anisotropic clusters (each has its own per-dimension noise scale), uneven cluster sizes, values
 * clipped at 0, rows L2-normalised. Queries are fresh points from the same clusters, not copies of
 * indexed vectors. Seeded: the same options give the same bytes.
 */
export function clusteredData(options: ClusteredDataOptions): ClusteredData {
  const { n, queries, dim, clusters, seed } = options;
  const spread = options.spread ?? 0.6;
  const { sizeSkew = 0, scatterShare = 0 } = options;
  const random = new SeededRandom(seed);
  const centres = new Float32Array(clusters * dim);
  const scales = new Float32Array(clusters * dim);
  const weights = new Float64Array(clusters);
  for (let c = 0; c < clusters; c++) {
    let sumSquares = 0;
    for (let d = 0; d < dim; d++) {
      const value = Math.max(0, random.gaussian()) ** 1.5;
      centres[c * dim + d] = value;
      sumSquares += value * value;
      scales[c * dim + d] = Math.exp(0.5 * random.gaussian());
    }
    const inverse = 1 / Math.sqrt(sumSquares);
    for (let d = 0; d < dim; d++) centres[c * dim + d]! *= inverse;
    weights[c] = (c > 0 ? weights[c - 1]! : 0) + (sizeSkew > 0 ? Math.exp(sizeSkew * random.gaussian()) : 0.2 + random.next());
  }
  const noise = spread / Math.sqrt(dim);
  const pick = (): number => {
    const target = random.next() * weights[clusters - 1]!;
    let low = 0;
    let high = clusters - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (weights[mid]! < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  const draw = (count: number): Float32Array => {
    const out = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) {
      const c = pick();
      // A scattered point: a mix t·c + (1 − t)·other of two centres, with c's noise.
      const scattered = scatterShare > 0 && random.next() < scatterShare;
      const other = scattered ? Math.floor(random.next() * clusters) : c;
      const t = scattered ? random.next() : 1;
      let sumSquares = 0;
      for (let d = 0; d < dim; d++) {
        const centre = t * centres[c * dim + d]! + (1 - t) * centres[other * dim + d]!;
        const value = Math.max(0, centre + noise * scales[c * dim + d]! * random.gaussian());
        out[i * dim + d] = value;
        sumSquares += value * value;
      }
      const inverse = sumSquares > 0 ? 1 / Math.sqrt(sumSquares) : 0;
      for (let d = 0; d < dim; d++) out[i * dim + d]! *= inverse;
    }
    return out;
  };
  return { dim, vectors: draw(n), queries: draw(queries) };
}

/** Row i of a row-major matrix, as a view. */
export function row(matrix: Float32Array, dim: number, i: number): Float32Array {
  return matrix.subarray(i * dim, (i + 1) * dim);
}

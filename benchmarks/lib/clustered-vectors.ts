import { SeededRandom } from '../../src/indexing/prng.js';

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
    weights[c] = (c > 0 ? weights[c - 1]! : 0) + 0.2 + random.next();
  }
  const noise = spread / Math.sqrt(dim);
  const draw = (count: number): Float32Array => {
    const out = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) {
      const target = random.next() * weights[clusters - 1]!;
      let low = 0;
      let high = clusters - 1;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (weights[mid]! < target) low = mid + 1;
        else high = mid;
      }
      const c = low;
      let sumSquares = 0;
      for (let d = 0; d < dim; d++) {
        const value = Math.max(0, centres[c * dim + d]! + noise * scales[c * dim + d]! * random.gaussian());
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

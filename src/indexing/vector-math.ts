/** Numeric kernels shared by the indexes. Pure functions over typed arrays. */

/** Dot product of `query` with the `query.length` floats of `matrix` starting at `offset`. */
export function dotAt(matrix: Float32Array, offset: number, query: Float32Array): number {
  const dim = query.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    s0 += matrix[offset + i]! * query[i]!;
    s1 += matrix[offset + i + 1]! * query[i + 1]!;
    s2 += matrix[offset + i + 2]! * query[i + 2]!;
    s3 += matrix[offset + i + 3]! * query[i + 3]!;
  }
  for (; i < dim; i++) s0 += matrix[offset + i]! * query[i]!;
  return s0 + s1 + s2 + s3;
}

/** Euclidean norm. */
export function norm(vector: Float32Array): number {
  return Math.sqrt(dotAt(vector, 0, vector));
}

/** Number of set bits in a 32-bit integer. */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

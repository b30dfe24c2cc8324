import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/core/prng.js';
import { leadingEigenvectors, matrixMap } from '../src/embedding/leading-eigenvectors.js';

/** An orthonormal basis of `dim`-vectors, seeded (Gram–Schmidt on Gaussian vectors). */
function orthonormalBasis(dim: number, seed: number): Float64Array[] {
  const random = new SeededRandom(seed);
  const basis: Float64Array[] = [];
  while (basis.length < dim) {
    const v = Float64Array.from({ length: dim }, () => random.gaussian());
    for (const q of basis) {
      const c = dot(q, v);
      for (let i = 0; i < dim; i++) v[i]! -= c * q[i]!;
    }
    const norm = Math.sqrt(dot(v, v));
    basis.push(v.map((x) => x / norm));
  }
  return basis;
}

/** The symmetric matrix Σ λ_i q_i q_iᵀ, row-major. */
function withSpectrum(basis: readonly Float64Array[], values: readonly number[]): Float64Array {
  const dim = basis.length;
  const matrix = new Float64Array(dim * dim);
  values.forEach((value, k) => {
    const q = basis[k]!;
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) matrix[i * dim + j]! += value * q[i]! * q[j]!;
  });
  return matrix;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

describe('leading eigenvectors of a symmetric map', () => {
  // 300 dimensions: 40 leading eigenvalues from 10 down to 2.2, then a bulk in [0, 1), as whitening's
  // between-product directions stand above its noise.
  const dim = 300;
  const basis = orthonormalBasis(dim, 7);
  const random = new SeededRandom(11);
  const values = basis.map((_, k) => (k < 40 ? 10 - 0.2 * k : random.next()));
  const matrix = withSpectrum(basis, values);

  it('finds the leading eigenvectors by Lanczos iteration, largest first, as the full decomposition does', () => {
    const found = leadingEigenvectors(matrixMap(matrix, dim), dim, 40);
    expect(found).toHaveLength(40);
    found.forEach((v, k) => {
      expect(Math.abs(dot(v, basis[k]!))).toBeCloseTo(1, 9);
      expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 12);
    });
    // With 160 wanted (more than half of the dimensions) the full decomposition runs instead.
    const full = leadingEigenvectors(matrixMap(matrix, dim), dim, 160).slice(0, 40);
    found.forEach((v, k) => expect(dot(v, full[k]!)).toBeCloseTo(1, 9));
  });

  it('gives each vector its largest component positive, and the same vectors every time', () => {
    const first = leadingEigenvectors(matrixMap(matrix, dim), dim, 10);
    for (const v of first) {
      const lead = v.reduce((best, x, i) => (Math.abs(x) > Math.abs(v[best]!) ? i : best), 0);
      expect(v[lead]).toBeGreaterThan(0);
    }
    expect(leadingEigenvectors(matrixMap(matrix, dim), dim, 10)).toEqual(first);
  });

  it('fills the rest with orthonormal directions of eigenvalue 0 when the map has fewer non-zero ones than wanted', () => {
    const rank = 8;
    const lowRank = withSpectrum(basis, values.slice(0, rank));
    const found = leadingEigenvectors(matrixMap(lowRank, dim), dim, 20);
    expect(found).toHaveLength(20);
    found.slice(0, rank).forEach((v, k) => expect(Math.abs(dot(v, basis[k]!))).toBeCloseTo(1, 9));
    const apply = matrixMap(lowRank, dim);
    for (const v of found.slice(rank)) expect(Math.sqrt(dot(apply(v), apply(v)))).toBeLessThan(1e-8);
    for (let a = 0; a < found.length; a++) for (let b = a + 1; b < found.length; b++) expect(Math.abs(dot(found[a]!, found[b]!))).toBeLessThan(1e-9);
  });
});

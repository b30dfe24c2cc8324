import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/core/prng.js';
import { choleskyLower, solveLowerInPlace, solveUpperTransposed } from '../src/embedding/dense-matrix.js';

/** A seeded symmetric positive definite matrix B Bᵀ + I, row-major. */
function positiveDefinite(dim: number, seed: number): Float64Array {
  const random = new SeededRandom(seed);
  const b = Float64Array.from({ length: dim * dim }, () => random.gaussian());
  const matrix = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      let sum = i === j ? 1 : 0;
      for (let k = 0; k < dim; k++) sum += b[i * dim + k]! * b[j * dim + k]!;
      matrix[i * dim + j] = sum;
    }
  }
  return matrix;
}

describe('the Cholesky factor and its triangular solves', () => {
  const dim = 40;
  const matrix = positiveDefinite(dim, 3);
  const lower = choleskyLower(matrix, dim);

  it('is lower triangular with a positive diagonal, and L Lᵀ gives the matrix back', () => {
    for (let i = 0; i < dim; i++) {
      expect(lower[i * dim + i]).toBeGreaterThan(0);
      for (let j = i + 1; j < dim; j++) expect(lower[i * dim + j]).toBe(0);
      for (let j = 0; j < dim; j++) {
        let sum = 0;
        for (let k = 0; k < dim; k++) sum += lower[i * dim + k]! * lower[j * dim + k]!;
        expect(sum).toBeCloseTo(matrix[i * dim + j]!, 9);
      }
    }
  });

  it('solves L x = b and Lᵀ x = b', () => {
    const random = new SeededRandom(5);
    const x = Float64Array.from({ length: dim }, () => random.gaussian());
    const b = new Float64Array(dim);
    const bt = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      for (let k = 0; k < dim; k++) {
        b[i]! += lower[i * dim + k]! * x[k]!;
        bt[i]! += lower[k * dim + i]! * x[k]!;
      }
    }
    solveLowerInPlace(lower, b, dim);
    solveUpperTransposed(lower, bt, dim);
    x.forEach((value, i) => {
      expect(b[i]).toBeCloseTo(value, 9);
      expect(bt[i]).toBeCloseTo(value, 9);
    });
  });

  it('refuses a matrix that is not positive definite', () => {
    const indefinite = Float64Array.from([1, 2, 2, 1]);
    expect(() => choleskyLower(indefinite, 2)).toThrow(/not positive definite/);
  });
});

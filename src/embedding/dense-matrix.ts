/**
 * The dense matrix steps of learning whitening (whitening.ts), on row-major Float64Arrays: means,
 * shrinkage, the Cholesky factor, forward and back substitution with it (whitening-kernel.ts sums the
 * scatter matrix, leading-eigenvectors.ts finds the eigenvectors).
 */
import { FindthisError } from '../core/errors.js';

export function meanOf(vectors: readonly Float32Array[], dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (const vector of vectors) for (let i = 0; i < dim; i++) mean[i] = (mean[i] ?? 0) + (vector[i] ?? 0);
  for (let i = 0; i < dim; i++) mean[i] = (mean[i] ?? 0) / vectors.length;
  return mean;
}

/** Scales the upper triangle and copies it to the lower one. */
export function mirrorUpper(matrix: Float64Array, dim: number, scale: number): void {
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const value = (matrix[i * dim + j] ?? 0) * scale;
      matrix[i * dim + j] = value;
      matrix[j * dim + i] = value;
    }
  }
}

export function shrinkTowardsIdentity(matrix: Float64Array, dim: number, alpha: number): void {
  let trace = 0;
  for (let i = 0; i < dim; i++) trace += matrix[i * dim + i] ?? 0;
  const ridge = (alpha * trace) / dim;
  for (let i = 0; i < dim * dim; i++) matrix[i] = (matrix[i] ?? 0) * (1 - alpha);
  // A floor keeps the Cholesky factor defined even for a degenerate (all-identical) catalog.
  for (let i = 0; i < dim; i++) matrix[i * dim + i] = (matrix[i * dim + i] ?? 0) + ridge + 1e-9;
}

/**
 * The lower-triangular L with L Lᵀ = `matrix` (symmetric positive definite, row-major; Cholesky–Banachiewicz,
 * row by row, so each inner product runs along two stored rows). Throws where a pivot is not positive:
 * shrinkTowardsIdentity's floor keeps that from happening to a scatter matrix.
 */
export function choleskyLower(matrix: Float64Array, dim: number): Float64Array {
  const lower = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    const rowI = i * dim;
    for (let j = 0; j <= i; j++) {
      const rowJ = j * dim;
      let sum = matrix[rowI + j]!;
      for (let k = 0; k < j; k++) sum -= lower[rowI + k]! * lower[rowJ + k]!;
      if (i === j) {
        if (!(sum > 0)) throw new FindthisError('INTERNAL', `Cholesky factor: pivot ${i} is ${sum}, the matrix is not positive definite`);
        lower[rowI + i] = Math.sqrt(sum);
      } else {
        lower[rowI + j] = sum / lower[rowJ + j]!;
      }
    }
  }
  return lower;
}

/** Solves L x = b in place for lower-triangular L (forward substitution, reading L row by row). */
export function solveLowerInPlace(lower: Float64Array, b: Float64Array, dim: number): void {
  for (let i = 0; i < dim; i++) {
    const row = i * dim;
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= lower[row + k]! * b[k]!;
    b[i] = sum / lower[row + i]!;
  }
}

/**
 * Solves Lᵀ x = b in place (back substitution with the transpose of a lower-triangular L). Once x_i is
 * known it is taken out of every earlier equation, so L is read row by row, as it is stored.
 */
export function solveUpperTransposed(lower: Float64Array, b: Float64Array, dim: number): void {
  for (let i = dim - 1; i >= 0; i--) {
    const row = i * dim;
    const x = b[i]! / lower[row + i]!;
    b[i] = x;
    for (let k = 0; k < i; k++) b[k]! -= lower[row + k]! * x;
  }
}

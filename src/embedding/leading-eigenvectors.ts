/**
 * The leading eigenvectors of a symmetric linear map, for whitening's PCA step (whitening.ts), which keeps
 * at most (products − 1) axes of a dim × dim map. A full eigendecomposition (ml-matrix's tred2 + tql2)
 * computes all dim of them; at 1,280 dimensions that took 24 s of a 38 s whitening. Lanczos iteration
 * with full re-orthogonalisation finds the leading ones from a few hundred applications of the map to a
 * vector (160 for 80 axes of catalog B's), which need not be a matrix in memory, and the small
 * tridiagonal problem it leaves is solved exactly.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { SeededRandom } from '../core/prng.js';

/** A Ritz pair counts as converged when its residual ‖A y − θ y‖ is below this share of the largest eigenvalue. */
const RELATIVE_RESIDUAL = 1e-10;
/** Below this size, or when most axes are wanted, the full decomposition costs less than iterating. */
const FULL_DECOMPOSITION_BELOW = 96;
/** Lanczos steps between convergence checks (each check solves the tridiagonal problem so far). */
const CHECK_EVERY = 16;

/** A symmetric linear map of vectors of one dimension: returns A v (a new array), leaves v as it is. */
export type SymmetricMap = (v: Float64Array) => Float64Array;

/**
 * The `count` eigenvectors of the largest eigenvalues of the symmetric map `apply` on `dim`-vectors,
 * largest first, each of unit length with its largest component positive (so the result does not
 * depend on the solver's choice of sign). Deterministic for the same map.
 */
export function leadingEigenvectors(apply: SymmetricMap, dim: number, count: number): Float64Array[] {
  const wanted = Math.min(count, dim);
  const axes = dim < FULL_DECOMPOSITION_BELOW || 2 * wanted >= dim ? fullDecomposition(apply, dim, wanted) : lanczos(apply, dim, wanted);
  return axes.map(withPositiveLead);
}

/** The map of a symmetric row-major dim × dim matrix. */
export function matrixMap(matrix: Float64Array, dim: number): SymmetricMap {
  return (v) => {
    const out = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      const row = i * dim;
      let sum = 0;
      for (let k = 0; k < dim; k++) sum += matrix[row + k]! * v[k]!;
      out[i] = sum;
    }
    return out;
  };
}

function fullDecomposition(apply: SymmetricMap, dim: number, count: number): Float64Array[] {
  const matrix = new Matrix(dim, dim);
  const unit = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    unit[j] = 1;
    matrix.setColumn(j, Array.from(apply(unit)));
    unit[j] = 0;
  }
  const eigen = new EigenvalueDecomposition(matrix, { assumeSymmetric: true });
  return largestFirst(eigen.realEigenvalues, count).map((column) => Float64Array.from(eigen.eigenvectorMatrix.getColumn(column)));
}

/**
 * Lanczos with full re-orthogonalisation (Golub & Van Loan, §10.3): the basis q₀, q₁, … of the Krylov
 * space spanned by A and a seeded random start, with T = Qᵀ A Q tridiagonal (diagonal α, off-diagonal β).
 * T's leading eigenvectors s give Ritz vectors Q s, whose residual is |β_last · s_last|; it stops when the
 * `count` leading ones are all converged. Orthogonalising each new vector against the whole basis (twice)
 * keeps the basis orthogonal in floating point, so no eigenvalue is found twice. A basis that runs out
 * (an invariant subspace) continues from a fresh random vector orthogonal to it; at `dim` vectors T is
 * A in another basis, and its decomposition is exact.
 */
function lanczos(apply: SymmetricMap, dim: number, count: number): Float64Array[] {
  const random = new SeededRandom(0x5eed);
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let next = freshDirection(basis, dim, random);
  for (;;) {
    const q = next;
    basis.push(q);
    const w = apply(q);
    alpha.push(dot(q, w));
    orthogonalise(w, basis);
    orthogonalise(w, basis);
    const norm = Math.sqrt(dot(w, w));
    const steps = basis.length;
    const done = steps === dim;
    const exhausted = !done && norm <= 1e-12 * Math.max(1, Math.abs(alpha[0]!));
    beta.push(exhausted ? 0 : norm);
    if (done || (steps >= count + CHECK_EVERY && steps % CHECK_EVERY === 0)) {
      const ritz = ritzPairs(alpha, beta, count);
      const scale = Math.max(...ritz.values.map(Math.abs), Number.MIN_VALUE);
      const converged = ritz.lastComponents.every((s) => Math.abs(beta[steps - 1]! * s) <= RELATIVE_RESIDUAL * scale);
      if (done || converged) return ritz.vectors.map((s) => combine(basis, s, dim));
    }
    next = exhausted ? freshDirection(basis, dim, random) : scaled(w, 1 / norm);
  }
}

/** The leading `count` eigenpairs of the symmetric tridiagonal T (diagonal `alpha`, off-diagonal `beta`). */
function ritzPairs(alpha: readonly number[], beta: readonly number[], count: number): { values: number[]; vectors: number[][]; lastComponents: number[] } {
  const m = alpha.length;
  const tridiagonal = new Matrix(m, m);
  for (let i = 0; i < m; i++) {
    tridiagonal.set(i, i, alpha[i]!);
    if (i + 1 < m) {
      tridiagonal.set(i, i + 1, beta[i]!);
      tridiagonal.set(i + 1, i, beta[i]!);
    }
  }
  const eigen = new EigenvalueDecomposition(tridiagonal, { assumeSymmetric: true });
  const columns = largestFirst(eigen.realEigenvalues, Math.min(count, m));
  const vectors = columns.map((column) => eigen.eigenvectorMatrix.getColumn(column));
  return { values: columns.map((column) => eigen.realEigenvalues[column]!), vectors, lastComponents: vectors.map((s) => s[m - 1]!) };
}

/** A seeded Gaussian direction, orthogonal to `basis`, of unit length. */
function freshDirection(basis: readonly Float64Array[], dim: number, random: SeededRandom): Float64Array {
  for (;;) {
    const v = new Float64Array(dim);
    for (let i = 0; i < dim; i++) v[i] = random.gaussian();
    orthogonalise(v, basis);
    orthogonalise(v, basis);
    const norm = Math.sqrt(dot(v, v));
    if (norm > 1e-6) return scaled(v, 1 / norm);
  }
}

/** Removes from `v` its components along the orthonormal `basis` (one pass of classical Gram–Schmidt). */
function orthogonalise(v: Float64Array, basis: readonly Float64Array[]): void {
  const dim = v.length;
  const coefficients = basis.map((q) => dot(q, v));
  basis.forEach((q, b) => {
    const c = coefficients[b]!;
    for (let i = 0; i < dim; i++) v[i]! -= c * q[i]!;
  });
}

/** Σ_j s_j q_j, made unit length. */
function combine(basis: readonly Float64Array[], s: readonly number[], dim: number): Float64Array {
  const out = new Float64Array(dim);
  basis.forEach((q, j) => {
    const c = s[j]!;
    for (let i = 0; i < dim; i++) out[i]! += c * q[i]!;
  });
  return scaled(out, 1 / (Math.sqrt(dot(out, out)) || 1));
}

function withPositiveLead(v: Float64Array): Float64Array {
  let lead = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]!) > Math.abs(v[lead]!)) lead = i;
  return v[lead]! < 0 ? scaled(v, -1) : v;
}

function largestFirst(values: readonly number[], count: number): number[] {
  return values
    .map((_, i) => i)
    .sort((a, b) => values[b]! - values[a]!)
    .slice(0, count);
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function scaled(v: Float64Array, factor: number): Float64Array {
  return v.map((x) => x * factor);
}

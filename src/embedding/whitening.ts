/**
 * Learned whitening, as in cirtorch (Radenović et al., "Fine-tuning CNN image retrieval with no human
 * annotation", §3.3): whiten with the covariance of differences between matching images, then rotate
 * onto the principal axes of the whitened data and keep the first `dimensions`.
 *
 * cirtorch learns from explicit pairs (q_i, p_i): S = Σ (q_i − p_i)(q_i − p_i)ᵀ. Taking every pair within
 * a product gives Σ_{i<j∈c} (x_i − x_j)(x_i − x_j)ᵀ = n_c Σ_{i∈c} (x_i − μ_c)(x_i − μ_c)ᵀ, so we use the
 * within-product scatter weighted by product size: all pairs, at linear instead of quadratic cost.
 *
 * Pure functions: `whitenLearn` → parameters, `whitenApply(parameters, vector)`. Nothing is hidden in state.
 * The matrix steps are in dense-matrix.ts; the stored form in whitening-record.ts.
 */
import { FindthisError, invalidParameter } from '../core/errors.js';
import { choleskyLower, meanOf, mirrorUpper, shrinkTowardsIdentity, solveLowerInPlace, solveUpperTransposed } from './dense-matrix.js';
import { leadingEigenvectors, type SymmetricMap } from './leading-eigenvectors.js';
import { covarianceMap, scatterSum } from './whitening-kernel.js';

export interface WhiteningOptions {
  /**
   * Output dimension after the PCA rotation, ≥ 1, capped at the input dimension. Default 128. At most
   * (number of products − 1) are kept: after whitening, the within-product scatter is the identity,
   * so only the between-product directions (rank ≤ products − 1) carry more than noise.
   */
  dimensions: number;
  /**
   * Shrinkage α of the within-pair covariance towards a scaled identity, 0..1:
   * S ← (1 − α) S + α · trace(S)/D · I. It keeps S invertible when there are fewer pairs than
   * dimensions and damps directions seen in few pairs. Default 0.1.
   */
  shrinkage: number;
}

export const DEFAULT_WHITENING_OPTIONS: WhiteningOptions = { dimensions: 128, shrinkage: 0.1 };

/** Learned parameters: y = projection · (x − mean), then L2-normalised. */
export interface Whitening {
  inputDim: number;
  outputDim: number;
  /** Mean of the learning vectors, length inputDim. */
  mean: Float32Array;
  /** Row-major outputDim × inputDim. */
  projection: Float32Array;
  shrinkage: number;
  /** What it was learned from, for the record. */
  learnedFrom: { vectors: number; groups: number };
}

/** A labelled learning vector: vectors with the same `group` (product) are matching images. */
export interface LabelledVector {
  group: string;
  vector: Float32Array;
}

/**
 * Learns whitening from vectors grouped by product. Groups with a single vector contribute to the
 * mean and the PCA, but not to the within-pair covariance (they have no pair).
 * Takes seconds at 1280 dimensions (catalog B: 4–5 s, most of it the Cholesky factor and the eigensolver's
 * triangular solves): run it off the request path.
 */
export function whitenLearn(samples: readonly LabelledVector[], options: WhiteningOptions = DEFAULT_WHITENING_OPTIONS): Whitening {
  // Callers ask whyNotLearnable first (optimize reports it as `skipped`), so the two refusals here
  // are bugs (INTERNAL, 500), not bad requests.
  const first = samples[0];
  if (first === undefined) throw new FindthisError('INTERNAL', 'Cannot learn whitening from an empty catalog');
  const dim = first.vector.length;
  const { dimensions, shrinkage } = options;
  if (!Number.isInteger(dimensions) || dimensions < 1) throw invalidParameter('whitening.dimensions', 'a positive integer', dimensions);
  if (!(shrinkage >= 0 && shrinkage <= 1)) throw invalidParameter('whitening.shrinkage', 'a number in 0..1', shrinkage);
  for (const sample of samples) {
    if (sample.vector.length !== dim) {
      throw new FindthisError('INDEX_MISMATCH', `Expected vectors of dimension ${dim}, but got ${sample.vector.length}`);
    }
  }

  const unlearnable = whyNotLearnable(samples);
  if (unlearnable) throw new FindthisError('INTERNAL', `Cannot learn whitening: ${unlearnable}`);
  const groups = groupBy(samples);
  const paired = [...groups.values()].filter((members) => members.length > 1);

  const count = samples.length;
  const outputDim = Math.max(1, Math.min(dimensions, dim, groups.size - 1, count - 1));
  const mean = meanOf(samples.map((s) => s.vector), dim);
  const within = scatterSum(dim, paired.map((members) => ({ vectors: members, centre: meanOf(members, dim), weight: members.length })));
  const withinCount = paired.reduce((sum, members) => sum + members.length * members.length, 0);
  mirrorUpper(within, dim, 1 / withinCount);
  shrinkTowardsIdentity(within, dim, shrinkage);

  // S = L Lᵀ. The PCA step wants the leading eigenvectors of the whitened total covariance L⁻¹ C L⁻ᵀ.
  const lower = choleskyLower(within, dim);
  const axes = leadingEigenvectors(whitenedCovariance(samples, mean, lower), dim, outputDim);

  // projection = Vₖᵀ L⁻¹, i.e. each row r solves Lᵀ r = v.
  const projection = new Float32Array(outputDim * dim);
  axes.forEach((axis, k) => {
    solveUpperTransposed(lower, axis, dim);
    projection.set(axis, k * dim);
  });

  return {
    inputDim: dim,
    outputDim,
    mean: Float32Array.from(mean),
    projection,
    shrinkage,
    learnedFrom: { vectors: samples.length, groups: groups.size },
  };
}

/** v ↦ L⁻¹ C L⁻ᵀ v, with C the samples' covariance, which is never formed (covarianceMap). */
function whitenedCovariance(samples: readonly LabelledVector[], mean: Float64Array, lower: Float64Array): SymmetricMap {
  const dim = mean.length;
  const covariance = covarianceMap(samples.map((s) => s.vector), mean);
  return (v) => {
    const u = Float64Array.from(v);
    solveUpperTransposed(lower, u, dim);
    const out = covariance(u);
    solveLowerInPlace(lower, out, dim);
    return out;
  };
}

/**
 * Why these samples cannot teach whitening, or undefined when they can: it needs pairs (a product
 * with two or more images) and at least `minProducts` products (two give one between-product
 * direction to keep; a service wants many more, see MIN_PRODUCTS_FOR_WHITENING).
 */
export function whyNotLearnable(samples: readonly LabelledVector[], minProducts = 2): string | undefined {
  const counts = new Map<string, number>();
  for (const { group } of samples) counts.set(group, (counts.get(group) ?? 0) + 1);
  if (![...counts.values()].some((count) => count > 1)) return 'no product has two or more images to learn from';
  if (counts.size < minProducts) return `it needs at least ${minProducts} products to tell apart, but got ${counts.size}`;
  return undefined;
}

/** Projects a raw vector into the whitened space and L2-normalises it. */
export function whitenApply(whitening: Whitening, vector: Float32Array): Float32Array {
  const { inputDim, outputDim, mean, projection } = whitening;
  if (vector.length !== inputDim) {
    throw new FindthisError('INDEX_MISMATCH', `Expected a vector of dimension ${inputDim} to whiten, but got ${vector.length}`);
  }
  const centred = new Float32Array(inputDim);
  for (let i = 0; i < inputDim; i++) centred[i] = (vector[i] ?? 0) - (mean[i] ?? 0);
  const out = new Float32Array(outputDim);
  let norm = 0;
  for (let k = 0; k < outputDim; k++) {
    let sum = 0;
    const offset = k * inputDim;
    for (let i = 0; i < inputDim; i++) sum += (projection[offset + i] ?? 0) * (centred[i] ?? 0);
    out[k] = sum;
    norm += sum * sum;
  }
  const scale = 1 / (Math.sqrt(norm) + 1e-6);
  for (let k = 0; k < outputDim; k++) out[k] = (out[k] ?? 0) * scale;
  return out;
}

function groupBy(samples: readonly LabelledVector[]): Map<string, Float32Array[]> {
  const groups = new Map<string, Float32Array[]>();
  for (const { group, vector } of samples) {
    const members = groups.get(group);
    if (members) members.push(vector);
    else groups.set(group, [vector]);
  }
  return groups;
}

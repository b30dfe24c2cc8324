import { createHash } from 'node:crypto';
import { type Whitening, whitenApply, whiteningToBuffer } from '../embedding/whitening.js';

/**
 * A transform applied to every stored and every query vector before it reaches an index (e.g. a
 * learned whitening + PCA). The catalog keeps raw vectors, so a transform can be replaced and the
 * indexes rebuilt (`CatalogSearch.optimize`). Its `id` goes into the index meta: indexes built under
 * another transform are rebuilt, never mixed.
 */
export interface VectorTransform {
  /** Stable name of this transform and its parameters, e.g. `identity` or `whiten-128-<hash>`. */
  readonly id: string;
  readonly inputDim: number;
  readonly outputDim: number;
  /** Returns a new unit-length vector of `outputDim`; never changes its input. */
  apply(vector: Float32Array): Float32Array;
}

/** The transform that changes nothing: raw GeM vectors go to the indexes as they are. */
export function identityTransform(dim: number): VectorTransform {
  return { id: 'identity', inputDim: dim, outputDim: dim, apply: (vector) => vector };
}

/** Learned whitening as a transform; its id names the output dimension and a digest of its parameters. */
export function whiteningTransform(whitening: Whitening): VectorTransform {
  const digest = createHash('sha256').update(whiteningToBuffer(whitening)).digest('hex').slice(0, 12);
  return {
    id: `whiten-${whitening.outputDim}-${digest}`,
    inputDim: whitening.inputDim,
    outputDim: whitening.outputDim,
    apply: (vector) => whitenApply(whitening, vector),
  };
}

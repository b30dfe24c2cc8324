import { createHash } from 'node:crypto';
import { bytesOf } from '../core/bytes.js';
import { type Whitening, whitenApply } from './whitening.js';
import { whiteningFromBuffer, whiteningToBuffer } from './whitening-record.js';

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
  /** What rebuilds it elsewhere (the catalog's `transform` row, a worker thread): see transformFromSpec. */
  readonly spec: TransformSpec;
}

/** A transform as plain data: nothing (identity), or a learned whitening serialised by whiteningToBuffer. */
export type TransformSpec = { kind: 'identity'; dim: number } | { kind: 'whitening'; data: Uint8Array };

/** The transform that changes nothing: raw GeM vectors go to the indexes as they are. */
export function identityTransform(dim: number): VectorTransform {
  return { id: 'identity', inputDim: dim, outputDim: dim, apply: (vector) => vector, spec: { kind: 'identity', dim } };
}

/** Learned whitening as a transform; its id names the output dimension and a digest of its parameters. */
export function whiteningTransform(whitening: Whitening): VectorTransform {
  const data = whiteningToBuffer(whitening);
  const digest = createHash('sha256').update(data).digest('hex').slice(0, 12);
  return {
    id: `whiten-${whitening.outputDim}-${digest}`,
    inputDim: whitening.inputDim,
    outputDim: whitening.outputDim,
    apply: (vector) => whitenApply(whitening, vector),
    spec: { kind: 'whitening', data },
  };
}

export function transformFromSpec(spec: TransformSpec): VectorTransform {
  if (spec.kind === 'identity') return identityTransform(spec.dim);
  // Buffer.from on the same memory: a Buffer sent to a worker arrives as a plain Uint8Array.
  return whiteningTransform(whiteningFromBuffer(bytesOf(spec.data)));
}

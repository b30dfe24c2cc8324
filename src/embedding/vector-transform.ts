import { createHash } from 'node:crypto';
import { bytesOf } from '../core/bytes.js';
import { l2n } from './gem.js';
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

/**
 * A transform as plain data: raw vectors (identity, or their first `dim` of `inputDim` values), or a
 * learned whitening serialised by whiteningToBuffer.
 */
export type TransformSpec = { kind: 'identity'; dim: number; inputDim?: number } | { kind: 'whitening'; data: Uint8Array };

/** What decides the raw transform: the vector's length and, of it, the mid-level maps' part. */
export interface RawVectorShape {
  readonly dim: number;
  readonly midLevelDim?: number;
}

/**
 * The transform of a catalog that is not whitened: raw GeM vectors go to the indexes as they are, or
 * only their last layer's part when the encoder pools mid-level maps too. Unwhitened, the mid-level
 * part is mostly what every photo shares (cosine 0.93 between different products against 0.79 for the
 * last layer's) and made raw search worse (grocery A raw recall@1 25.0% → 15.9%); whitening removes
 * that share, and then it helps (docs/design.md).
 */
export function rawTransform(shape: RawVectorShape): VectorTransform {
  return identityTransform(shape.dim - (shape.midLevelDim ?? 0), shape.dim);
}

/** Raw vectors, or their first `dim` values made unit length again when `inputDim` is longer. */
export function identityTransform(dim: number, inputDim = dim): VectorTransform {
  if (inputDim === dim) return { id: 'identity', inputDim: dim, outputDim: dim, apply: (vector) => vector, spec: { kind: 'identity', dim } };
  return {
    id: 'identity',
    inputDim,
    outputDim: dim,
    apply: (vector) => l2n(vector.subarray(0, dim)),
    spec: { kind: 'identity', dim, inputDim },
  };
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
  if (spec.kind === 'identity') return identityTransform(spec.dim, spec.inputDim);
  // Buffer.from on the same memory: a Buffer sent to a worker arrives as a plain Uint8Array.
  return whiteningTransform(whiteningFromBuffer(bytesOf(spec.data)));
}

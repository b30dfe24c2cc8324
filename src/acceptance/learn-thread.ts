/**
 * Learns the acceptance model on a worker thread: transforming every stored vector into the indexes'
 * space and searching a thousand of them against all the others takes seconds for a catalog of ten
 * thousand vectors, which on the service's main thread would stall every request during optimize.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { replyFromWorker, runModuleWorker } from '../core/worker.js';
import type { ObjectKind } from '../core/types.js';
import { transformFromSpec, type TransformSpec } from '../embedding/vector-transform.js';
import { learnAcceptance, type AcceptanceOptions, type StoredSample } from './learn.js';
import type { AcceptanceModel } from './model.js';

/** A stored object, raw, as optimize reads it from the catalog. */
export interface RawSample {
  productId: string;
  imageId: number;
  kind: ObjectKind;
  vector: Float32Array;
}

interface LearnRequest {
  task: 'learnAcceptance';
  spec: TransformSpec;
  transformId: string;
  products: string[];
  images: Int32Array;
  kinds: ObjectKind[];
  vectors: Float32Array;
  options: AcceptanceOptions;
}

export interface LearnedAcceptance {
  model: AcceptanceModel | undefined;
  /** The samples in the indexes' space, in the order given (for the product prototypes). */
  transformed: Float32Array;
  dim: number;
}

/** `learnAcceptance` over the samples transformed by `spec`, off the calling thread. */
export function learnAcceptanceOffThread(samples: readonly RawSample[], spec: TransformSpec, transformId: string, options: AcceptanceOptions): Promise<LearnedAcceptance> {
  const dim = samples[0]?.vector.length ?? 0;
  const vectors = new Float32Array(samples.length * dim);
  samples.forEach((sample, i) => vectors.set(sample.vector, i * dim));
  const request: LearnRequest = {
    task: 'learnAcceptance',
    spec,
    transformId,
    products: samples.map((s) => s.productId),
    images: Int32Array.from(samples, (s) => s.imageId),
    kinds: samples.map((s) => s.kind),
    vectors,
    options,
  };
  return runModuleWorker<LearnedAcceptance>(import.meta.url, request, [vectors.buffer], 'acceptance');
}

function serve({ spec, transformId, products, images, kinds, vectors, options }: LearnRequest): LearnedAcceptance {
  const transform = transformFromSpec(spec);
  const inputDim = products.length > 0 ? vectors.length / products.length : 0;
  const transformed = new Float32Array(products.length * transform.outputDim);
  const samples: StoredSample[] = products.map((productId, i) => {
    const vector = transform.apply(vectors.subarray(i * inputDim, (i + 1) * inputDim));
    transformed.set(vector, i * transform.outputDim);
    return { productId, imageId: images[i]!, kind: kinds[i]!, vector };
  });
  return { model: learnAcceptance(samples, transformId, options), transformed, dim: transform.outputDim };
}

if (!isMainThread && (workerData as LearnRequest | undefined)?.task === 'learnAcceptance') {
  await replyFromWorker(
    () => serve(workerData as LearnRequest),
    (learned) => [learned.transformed.buffer as ArrayBuffer],
  );
}

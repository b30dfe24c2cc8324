/**
 * Runs `whitenLearn` on a worker thread. Learning at 1280 dimensions can take tens of seconds (the
 * eigendecomposition dominates); on the service's main thread that would stall every request.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { replyFromWorker, runModuleWorker } from '../core/worker.js';
import { type LabelledVector, type Whitening, type WhiteningOptions, whitenLearn } from './whitening.js';

interface LearnRequest {
  task: 'whitenLearn';
  dim: number;
  groups: string[];
  vectors: Float32Array;
  options: WhiteningOptions;
}

/** Same result as `whitenLearn(samples, options)`, computed off the calling thread. */
export function whitenLearnOffThread(samples: readonly LabelledVector[], options: WhiteningOptions): Promise<Whitening> {
  const dim = samples[0]?.vector.length ?? 0;
  const vectors = new Float32Array(samples.length * dim);
  samples.forEach((sample, i) => vectors.set(sample.vector, i * dim));
  const request: LearnRequest = { task: 'whitenLearn', dim, groups: samples.map((s) => s.group), vectors, options };
  return runModuleWorker<Whitening>(import.meta.url, request, [vectors.buffer], 'whitening');
}

function serveLearnRequest(request: LearnRequest): Whitening {
  const { dim, groups, vectors, options } = request;
  const samples = groups.map((group, i) => ({ group, vector: vectors.subarray(i * dim, (i + 1) * dim) }));
  return whitenLearn(samples, options);
}

if (!isMainThread && (workerData as LearnRequest | undefined)?.task === 'whitenLearn') {
  await replyFromWorker(() => serveLearnRequest(workerData as LearnRequest));
}

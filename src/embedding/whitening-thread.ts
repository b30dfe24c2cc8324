/**
 * Runs `whitenLearn` on a worker thread. Learning at 1280 dimensions can take tens of seconds (the
 * eigendecomposition dominates); on the service's main thread that would stall every request.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { reviveError, serializeError, startModuleWorker, type SerializedError } from '../core/worker.js';
import { type LabelledVector, type Whitening, type WhiteningOptions, whitenLearn } from './whitening.js';

interface LearnRequest {
  task: 'whitenLearn';
  dim: number;
  groups: string[];
  vectors: Float32Array;
  options: WhiteningOptions;
}

type LearnReply = { ok: true; whitening: Whitening } | { ok: false; error: SerializedError };

/** Same result as `whitenLearn(samples, options)`, computed off the calling thread. */
export function whitenLearnOffThread(samples: readonly LabelledVector[], options: WhiteningOptions): Promise<Whitening> {
  const dim = samples[0]?.vector.length ?? 0;
  const vectors = new Float32Array(samples.length * dim);
  samples.forEach((sample, i) => vectors.set(sample.vector, i * dim));
  const request: LearnRequest = { task: 'whitenLearn', dim, groups: samples.map((s) => s.group), vectors, options };
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(import.meta.url, request, [vectors.buffer]);
    worker.once('message', (reply: LearnReply) => {
      if (reply.ok) resolve(reply.whitening);
      else reject(reviveError(reply.error));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`whitening worker exited with code ${code}`));
    });
  });
}

function serveLearnRequest(request: LearnRequest): LearnReply {
  const { dim, groups, vectors, options } = request;
  const samples = groups.map((group, i) => ({ group, vector: vectors.subarray(i * dim, (i + 1) * dim) }));
  try {
    return { ok: true, whitening: whitenLearn(samples, options) };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}

if (!isMainThread && (workerData as LearnRequest | undefined)?.task === 'whitenLearn') {
  parentPort?.postMessage(serveLearnRequest(workerData as LearnRequest));
}

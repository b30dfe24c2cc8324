/**
 * Runs `whitenLearn` on a worker thread. Learning at 1280 dimensions takes tens of seconds (the
 * eigendecomposition dominates); on the service's main thread that would stall every request.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ERRORS, FindthisError } from '../core/errors.js';
import { type LabelledVector, type Whitening, type WhiteningOptions, whitenLearn } from './whitening.js';

interface LearnRequest {
  task: 'whitenLearn';
  dim: number;
  groups: string[];
  vectors: Float32Array;
  options: WhiteningOptions;
}

type LearnReply = { ok: true; whitening: Whitening } | { ok: false; error: { name: string; message: string; code?: string } };

/** Same result as `whitenLearn(samples, options)`, computed off the calling thread. */
export function whitenLearnOffThread(samples: readonly LabelledVector[], options: WhiteningOptions): Promise<Whitening> {
  const dim = samples[0]?.vector.length ?? 0;
  const vectors = new Float32Array(samples.length * dim);
  samples.forEach((sample, i) => vectors.set(sample.vector, i * dim));
  const request: LearnRequest = { task: 'whitenLearn', dim, groups: samples.map((s) => s.group), vectors, options };
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerBootstrap(), { eval: true, workerData: request, transferList: [vectors.buffer] });
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

/**
 * This module is TypeScript, run by tsx (npm start) or vitest. Node 20 does not apply `--import`
 * loaders to a worker's entry module, so the worker starts from a line of JavaScript that loads this
 * file through tsx's API.
 */
function workerBootstrap(): string {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const self = JSON.stringify(import.meta.url);
  return `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${self}, ${self}))`;
}

function reviveError({ message, code }: { message: string; code?: string }): Error {
  return code !== undefined && code in ERRORS ? new FindthisError(code as keyof typeof ERRORS, message) : new Error(message);
}

function serveLearnRequest(request: LearnRequest): LearnReply {
  const { dim, groups, vectors, options } = request;
  const samples = groups.map((group, i) => ({ group, vector: vectors.subarray(i * dim, (i + 1) * dim) }));
  try {
    return { ok: true, whitening: whitenLearn(samples, options) };
  } catch (error) {
    const { name, message, code } = error as Error & { code?: string };
    return { ok: false, error: { name, message, ...(code === undefined ? {} : { code }) } };
  }
}

if (!isMainThread && (workerData as LearnRequest | undefined)?.task === 'whitenLearn') {
  parentPort?.postMessage(serveLearnRequest(workerData as LearnRequest));
}

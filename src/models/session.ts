/** The one place onnxruntime sessions are created, with the same options for every model. */
import * as ort from 'onnxruntime-node';
import { FindthisError } from '../core/errors.js';

export { ort };

/**
 * Opens an onnxruntime-node CPU session on a model file or in-memory model bytes. `threads` is the
 * intra-op thread count (the machine's cores are shared by the detector and the encoder, which run
 * one after the other, so each may use all of them).
 */
export async function createSession(model: string | Uint8Array, threads: number, label: string): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    // Idle pool threads must not spin after a run: on a 2-core machine they would steal the CPU from
    // the JavaScript work between runs (resizing, pooling), which then takes several times longer.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  try {
    return typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (error) {
    throw new FindthisError('MODEL_INVALID', `onnxruntime could not load ${label}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/**
 * Builds a catalog's index files on a worker thread, for optimize's rebuild: transforming every
 * stored vector and building LSH and HNSW take seconds at 10k vectors (1.5 s for HNSW alone on
 * grocery) and minutes at 100k, and on the service's main thread searches, /healthz and /metrics
 * would stall that long. The worker writes the files into a directory and hands back the transformed
 * vectors, so that the caller only loads what it built.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { replyFromWorker, runModuleWorker } from '../core/worker.js';
import { IndexSet, type IndexMeta } from '../indexing/index-set.js';
import type { IndexParams } from '../indexing/types.js';
import { transformFromSpec, type TransformSpec } from '../embedding/vector-transform.js';

interface BuildRequest {
  task: 'buildIndexes';
  dir: string;
  params: IndexParams;
  meta: IndexMeta;
  transform: TransformSpec;
  ids: string[];
  /** Raw vectors, row after row. */
  vectors: Float32Array;
}

/** The built set's ids and their transformed vectors (row after row, `params.dim` each). */
export interface BuiltIndexes {
  ids: string[];
  vectors: Float32Array;
}

/**
 * Builds every index of `params` over `entries` (raw vectors, transformed by `transform` first) and
 * saves them into `dir`, off the calling thread. Open them with IndexSet.open on the returned vectors.
 */
export async function buildIndexFilesOffThread(
  dir: string,
  params: IndexParams,
  meta: IndexMeta,
  transform: TransformSpec,
  entries: Iterable<[string, Float32Array]>,
): Promise<BuiltIndexes> {
  const ids: string[] = [];
  const rows: Float32Array[] = [];
  for (const [id, vector] of entries) {
    ids.push(id);
    rows.push(vector);
  }
  const rawDim = rows[0]?.length ?? 0;
  const vectors = new Float32Array(rows.length * rawDim);
  rows.forEach((row, i) => vectors.set(row, i * rawDim));
  const request: BuildRequest = { task: 'buildIndexes', dir, params, meta, transform, ids, vectors };
  const transformed = await runModuleWorker<Float32Array>(import.meta.url, request, [vectors.buffer], 'index build');
  return { ids, vectors: transformed };
}

/** Rows of `vectors`, `dim` each, paired with their ids. */
export function* rowsOf(ids: readonly string[], vectors: Float32Array, dim: number): Iterable<[string, Float32Array]> {
  for (let i = 0; i < ids.length; i++) yield [ids[i]!, vectors.subarray(i * dim, (i + 1) * dim)];
}

async function serveBuildRequest(request: BuildRequest): Promise<Float32Array<ArrayBuffer>> {
  const { dir, params, meta, ids, vectors } = request;
  const transform = transformFromSpec(request.transform);
  const rawDim = ids.length > 0 ? vectors.length / ids.length : 0;
  const transformed = new Float32Array(ids.length * params.dim);
  for (let i = 0; i < ids.length; i++) transformed.set(transform.apply(vectors.subarray(i * rawDim, (i + 1) * rawDim)), i * params.dim);
  const { set } = await IndexSet.open(dir, params, rowsOf(ids, transformed, params.dim), meta);
  await set.save();
  return transformed;
}

if (!isMainThread && (workerData as BuildRequest | undefined)?.task === 'buildIndexes') {
  await replyFromWorker(() => serveBuildRequest(workerData as BuildRequest), (transformed) => [transformed.buffer]);
}

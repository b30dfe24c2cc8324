/**
 * FAISS as a peer in the index benchmarks: the same vectors and queries go through FAISS flat, HNSW
 * and IVF-Flat (benchmarks/faiss_peer.py, one thread, one query at a time) in Debian's python3-faiss,
 * which lives in /usr/bin/python3 (not in a pyenv python3 that may come first on PATH).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpyFloat32 } from './npy.js';
import { percentileOfSorted } from './percentiles.js';
import { recallAtK } from './recall.js';

export const FAISS_PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../faiss_peer.py', import.meta.url));

export type FaissIndexName = 'faiss-flat' | 'faiss-hnsw' | 'faiss-ivf-flat';

export interface FaissSpec {
  k: number;
  runs: number;
  warmup: number;
  hnsw?: { M: number; efConstruction: number; efSearch: number[] };
  /** k-means of IVF-Flat's lists runs on the first `trainRows` vectors. */
  ivf?: { nlist: number; trainRows: number; nprobe: number[] };
}

export interface FaissRow {
  index: FaissIndexName;
  params: Record<string, number>;
  recallAt1: number;
  recallAt10: number;
  /** Best of the runs (as findthis's rows). */
  qps: number;
  /** Every run's queries/s, in order. */
  runQps: number[];
  p50Ms: number;
  p99Ms: number;
  buildSeconds: number;
}

/** The FAISS version when /usr/bin/python3 can import faiss, else undefined. */
export function faissVersion(): string | undefined {
  const probe = spawnSync(FAISS_PYTHON, ['-c', 'import faiss; print(faiss.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  return !probe.error && probe.status === 0 ? probe.stdout.trim() : undefined;
}

/**
 * IVF-Flat's lists for n vectors: √n lists (the low end of FAISS's 4–16·√n rule, so that single-threaded
 * k-means on this shared machine takes seconds, not many minutes), trained on 50 vectors per list.
 */
export function ivfBuild(n: number): { nlist: number; trainRows: number } {
  const nlist = Math.max(1, Math.round(Math.sqrt(n)));
  return { nlist, trainRows: Math.min(n, 50 * nlist) };
}

/**
 * Runs the FAISS indexes in `spec` over `count` rows of `vectors` (row-major, `dim` wide, unit length)
 * and the query rows; `truth[q]` is the exact top-k ids of query q, and `idOf(r)` the id of row r of
 * `vectors`. FAISS's progress goes to stderr.
 */
export async function runFaissPeer(
  vectors: Float32Array,
  count: number,
  queries: Float32Array,
  dim: number,
  truth: readonly string[][],
  idOf: (row: number) => string,
  spec: FaissSpec,
): Promise<FaissRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'findthis-faiss-'));
  try {
    const rowsOf = (matrix: Float32Array, rows: number) => Array.from({ length: rows }, (_, r) => matrix.subarray(r * dim, (r + 1) * dim));
    await writeNpyFloat32(join(dir, 'base.npy'), rowsOf(vectors, count));
    await writeNpyFloat32(join(dir, 'queries.npy'), rowsOf(queries, queries.length / dim));
    await writeFile(join(dir, 'spec.json'), JSON.stringify(spec));
    const args = [SCRIPT, ...['base.npy', 'queries.npy', 'spec.json', 'out.json'].map((file) => join(dir, file))];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(FAISS_PYTHON, args, { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${FAISS_PYTHON} ${SCRIPT} failed (${signal ?? `exit ${code}`})`))));
    });
    const out = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as {
      rows: { index: FaissIndexName; params: Record<string, number>; buildSeconds: number; qps: number[]; latenciesMs: number[]; neighbours: number[][] }[];
    };
    return out.rows.map((row) => {
      const latencies = Float64Array.from(row.latenciesMs).sort();
      let recall1 = 0;
      let recall10 = 0;
      row.neighbours.forEach((found, q) => {
        const ids = found.filter((row) => row >= 0).map(idOf);
        recall1 += recallAtK(truth[q]!, ids, 1);
        recall10 += recallAtK(truth[q]!, ids, spec.k);
      });
      return {
        index: row.index,
        params: row.params,
        recallAt1: recall1 / truth.length,
        recallAt10: recall10 / truth.length,
        qps: Math.max(...row.qps),
        runQps: row.qps,
        p50Ms: percentileOfSorted(latencies, 50),
        p99Ms: percentileOfSorted(latencies, 99),
        buildSeconds: row.buildSeconds,
      };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

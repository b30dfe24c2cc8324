/**
 * npm run bench:index -- [--n N --dim D] [--data clustered|hard] [--vectors FILE.npy] [--queries Q] [--runs R]
 *                        [--no-faiss] [--flat-only] [--lsh-only] [--quick] [--planes random,learned] [--json FILE]
 *
 * Exact scan vs LSH (hashSize × numTables × probeRadius) vs HNSW (efSearch), on the same vectors and
 * queries: recall@1 and recall@10 against the exact scan, single-threaded queries/s (best of R runs
 * over the Q queries: the machine is shared, and preemption only ever slows a run down), p50/p99
 * latency over all timed queries, build time and bytes per vector.
 *
 * - Without --n: the matrix n = 10k, 100k, 1M at dim 128 and 1280, except 1M × 1280 (5 GB of vectors
 *   plus HNSW's own copy, and hours of single-threaded builds on this machine).
 * - Data: synthetic clusters shaped like CNN embeddings (benchmarks/lib/clustered-vectors.ts, n/100
 *   clusters), `--data hard` the harder shape (3,000 clusters of uneven size, 15% of points scattered
 *   between them: hardDataOptions), or --vectors: a 2-D float32 .npy (numpy.save(path, a.astype('<f4'))); rows are
 *   L2-normalised here, the last Q rows are the queries and the first N (default all others) are indexed.
 * - FAISS as a peer: when /usr/bin/python3 has faiss (Debian python3-faiss), the same vectors and queries
 *   also go through FAISS flat, HNSW (the same M and efConstruction) and IVF-Flat, one thread, one query
 *   at a time (benchmarks/faiss_peer.py); their rows join the table and the plot. Without it, or with
 *   --no-faiss, the benchmark says they were skipped. --flat-only runs just the two exact scans,
 *   findthis's and FAISS flat (the cheap way to repeat that ratio several times); --lsh-only those two and
 *   the LSH rows (no HNSW). --quick sweeps less: four LSH builds (16 × 32 with radius 1 and 16/24/32/64
 *   margin probes, 14 × 24 and 12 × 16 with and without `rerank`, and the defaults), efSearch 16/64/128,
 *   nprobe 4/16/64 (at 100k × 1280 each build takes minutes). Every LSH build runs with each of
 *   --planes (default both: random hyperplanes and hyperplanes learned from the data).
 * - Writes benchmarks/results/indexes.json (all rows) and --json FILE, a recall–QPS SVG per case
 *   (benchmarks/results/index-recall-qps-<n>-<dim>.svg), and prints a markdown table per case.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ExactIndex } from '../src/indexing/exact-index.js';
import { HnswIndex } from '../src/indexing/hnsw-index.js';
import { LshIndex } from '../src/indexing/lsh-index.js';
import { LSH_PLANES } from '../src/indexing/params.js';
import type { LshPlanes, SearchResult } from '../src/indexing/types.js';
import { VectorStore } from '../src/indexing/vector-store.js';
import { clusteredData, hardDataOptions, row } from './lib/clustered-vectors.js';
import { faissVersion, ivfBuild, runFaissPeer } from './lib/faiss-peer.js';
import { markdownTable, recallQpsPlot, type IndexRow as Row } from './lib/index-report.js';
import { readNpyFloat32 } from './lib/npy.js';
import { percentileOfSorted } from './lib/percentiles.js';
import { progress } from './lib/progress.js';
import { recallAtK } from './lib/recall.js';
import { FULL_SWEEP, HNSW_BUILD, QUICK_SWEEP, radius } from './lib/index-sweep.js';

const LSH_SEED = 1;
const K = 10;
const WARMUP_QUERIES = 50;
const RESULTS_DIR = 'benchmarks/results';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string' },
    dim: { type: 'string', default: '128' },
    vectors: { type: 'string' },
    queries: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    json: { type: 'string' },
    data: { type: 'string', default: 'clustered' },
    'no-faiss': { type: 'boolean', default: false },
    'flat-only': { type: 'boolean', default: false },
    'lsh-only': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    planes: { type: 'string', default: LSH_PLANES.join(',') },
    seed: { type: 'string', default: '20261127' },
  },
});

function positiveInteger(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name}: expected a positive integer, but got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return value;
}

const queryCount = positiveInteger('queries', args.queries);
const runs = positiveInteger('runs', args.runs);
const seed = positiveInteger('seed', args.seed);
if (args.data !== 'clustered' && args.data !== 'hard') {
  process.stderr.write(`--data: expected clustered or hard, but got ${JSON.stringify(args.data)}\n`);
  process.exit(2);
}
const planesSwept = args.planes.split(',') as LshPlanes[];
if (planesSwept.some((planes) => !LSH_PLANES.includes(planes))) {
  process.stderr.write(`--planes: expected a comma-separated list of ${LSH_PLANES.join(', ')}, but got ${JSON.stringify(args.planes)}\n`);
  process.exit(2);
}
const faiss = args['no-faiss'] ? undefined : faissVersion();
const { lshBuilds: lshSweep, efSearch: efSweep, nprobe: nprobeSweep } = args.quick ? QUICK_SWEEP : FULL_SWEEP;

interface Dataset {
  name: string;
  n: number;
  dim: number;
  vectors: Float32Array;
  queries: Float32Array;
}

async function loadDataset(n: number | undefined, dim: number): Promise<Dataset> {
  if (args.vectors !== undefined) {
    const file = await readNpyFloat32(args.vectors);
    if (file.rows <= queryCount) throw new Error(`${args.vectors} has ${file.rows} rows, fewer than --queries + 1`);
    for (let r = 0; r < file.rows; r++) {
      const v = row(file.data, file.dim, r);
      let sum = 0;
      for (let d = 0; d < file.dim; d++) sum += v[d]! * v[d]!;
      const inverse = sum > 0 ? 1 / Math.sqrt(sum) : 0;
      for (let d = 0; d < file.dim; d++) v[d]! *= inverse;
    }
    const indexed = Math.min(n ?? Number.MAX_SAFE_INTEGER, file.rows - queryCount);
    return {
      name: `file ${args.vectors}`,
      n: indexed,
      dim: file.dim,
      vectors: file.data.subarray(0, indexed * file.dim),
      queries: file.data.subarray((file.rows - queryCount) * file.dim),
    };
  }
  const options = args.data === 'hard' ? hardDataOptions(n!, queryCount, dim, seed) : { n: n!, queries: queryCount, dim, clusters: Math.max(50, Math.round(n! / 100)), seed };
  const step = progress(`generate ${n} × ${dim} ${args.data} vectors`);
  const data = clusteredData(options);
  step.finish();
  const shape = args.data === 'hard' ? `hard synthetic (${options.clusters} uneven clusters, 15% scattered` : `clustered synthetic (${options.clusters} clusters`;
  return { name: `${shape}, seed ${seed})`, n: n!, dim, vectors: data.vectors, queries: data.queries };
}

/** Times every query `runs` times (after a warm-up); recall is taken from the first run. */
function measure(
  label: string,
  dataset: Dataset,
  truth: string[][],
  search: (query: Float32Array) => SearchResult,
): Pick<Row, 'recallAt1' | 'recallAt10' | 'qps' | 'p50Ms' | 'p99Ms' | 'candidatesPerQuery' | 'shortAnswerShare'> {
  const queries = Array.from({ length: queryCount }, (_, q) => row(dataset.queries, dataset.dim, q));
  for (let q = 0; q < Math.min(WARMUP_QUERIES, queryCount); q++) search(queries[q]!);
  const latencies = new Float64Array(queryCount * runs);
  const runQps: number[] = [];
  let recall1 = 0;
  let recall10 = 0;
  let candidates = 0;
  let short = 0;
  const step = progress(`  ${label}`);
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    for (let q = 0; q < queryCount; q++) {
      const t0 = performance.now();
      const result = search(queries[q]!);
      latencies[r * queryCount + q] = performance.now() - t0;
      if (r === 0) {
        const ids = result.neighbors.map((x) => x.id);
        recall1 += recallAtK(truth[q]!, ids, 1);
        recall10 += recallAtK(truth[q]!, ids, K);
        candidates += result.stats.candidatesScored;
        if (ids.length < K) short++;
      }
      step.update(r * queryCount + q + 1, runs * queryCount);
    }
    runQps.push(queryCount / ((performance.now() - started) / 1000));
  }
  latencies.sort();
  const result = {
    recallAt1: recall1 / queryCount,
    recallAt10: recall10 / queryCount,
    qps: Math.max(...runQps),
    p50Ms: percentileOfSorted(latencies, 50),
    p99Ms: percentileOfSorted(latencies, 99),
    candidatesPerQuery: candidates / queryCount,
    shortAnswerShare: short / queryCount,
  };
  step.finish(`recall@10 ${result.recallAt10.toFixed(3)}, ${result.qps.toFixed(0)} q/s`);
  return result;
}

async function benchCase(n: number | undefined, dim: number): Promise<Row[]> {
  const dataset = await loadDataset(n, dim);
  process.stderr.write(`\n== n=${dataset.n} dim=${dataset.dim} (${dataset.name}), ${queryCount} queries × ${runs} runs\n`);
  const rows: Row[] = [];
  const base = { n: dataset.n, dim: dataset.dim, data: dataset.name };

  const fill = progress('store');
  const store = new VectorStore(dataset.dim, dataset.n);
  for (let i = 0; i < dataset.n; i++) {
    store.set(`v${i}`, row(dataset.vectors, dataset.dim, i));
    if ((i + 1) % 16384 === 0) fill.update(i + 1, dataset.n);
  }
  const storeSeconds = fill.finish();

  const exact = new ExactIndex(store);
  const truthStep = progress('exact ground truth');
  const truth = Array.from({ length: queryCount }, (_, q) => {
    truthStep.update(q + 1, queryCount);
    return exact.search(row(dataset.queries, dataset.dim, q), K).neighbors.map((x) => x.id);
  });
  truthStep.finish();
  rows.push({
    index: 'exact',
    params: {},
    ...base,
    ...measure('exact', dataset, truth, (q) => exact.search(q, K)),
    buildSeconds: storeSeconds,
    bytesPerVector: exact.memoryBytes() / dataset.n,
  });

  if (!args['flat-only']) rows.push(...approximateRows(dataset, store, truth, base));
  if (faiss === undefined) {
    process.stderr.write(`FAISS rows skipped: ${args['no-faiss'] ? '--no-faiss' : '/usr/bin/python3 cannot import faiss (Debian package python3-faiss)'}\n`);
    return rows;
  }
  process.stderr.write(`FAISS ${faiss} (/usr/bin/python3), one thread:\n`);
  const faissRows = await runFaissPeer(dataset.vectors, dataset.n, dataset.queries, dataset.dim, truth, (r) => `v${r}`, {
    k: K,
    runs,
    warmup: WARMUP_QUERIES,
    ...(args['flat-only'] || args['lsh-only'] ? {} : { hnsw: { ...HNSW_BUILD, efSearch: efSweep }, ivf: { ...ivfBuild(dataset.n), nprobe: nprobeSweep } }),
  });
  for (const { runQps: _, ...faissRow } of faissRows) {
    rows.push({ ...base, ...faissRow, bytesPerVector: Number.NaN, candidatesPerQuery: Number.NaN, shortAnswerShare: 0 });
  }
  return rows;
}

/** LSH (every build and probe setting) and HNSW (every efSearch) rows. */
function approximateRows(dataset: Dataset, store: VectorStore, truth: string[][], base: Pick<Row, 'n' | 'dim' | 'data'>): Row[] {
  const rows: Row[] = [];
  // hashSize 0 (one bucket, what the seed's demo ran) costs a second exact scan: shown up to 100k × 128.
  const withPlanes = lshSweep.flatMap((build) => planesSwept.map((planes) => ({ ...build, planes })));
  const lshBuilds = dataset.n * dataset.dim <= 100_000 * 128 ? [{ hashSize: 0, numTables: 1, probing: radius(0), planes: 'random' as const }, ...withPlanes] : withPlanes;
  for (const { probing, ...buildParams } of lshBuilds) {
    const { hashSize, numTables, vectorsPerBucket = 0, planes } = buildParams;
    const label = `hashSize=${hashSize} numTables=${numTables}${vectorsPerBucket ? ` vectorsPerBucket=${vectorsPerBucket}` : ''} planes=${planes}`;
    const build = progress(`lsh build ${label}`);
    const started = performance.now();
    const lsh = LshIndex.build(store, { ...buildParams, probeRadius: 0, seed: LSH_SEED }, build.update);
    lsh.search(row(dataset.queries, dataset.dim, 0), K); // freezes the tables (part of the build)
    const buildSeconds = (performance.now() - started) / 1000;
    build.finish(`(${lsh.bucketCount()} buckets, ${lsh.activeBits} bits in use)`);
    for (const probe of probing) {
      lsh.setProbes('probes' in probe ? probe.probes : 0);
      if ('probeRadius' in probe) lsh.setProbeRadius(probe.probeRadius);
      lsh.setRerank(probe.rerank ?? 0);
      rows.push({
        index: 'lsh',
        params: { hashSize, numTables, ...probe, ...(vectorsPerBucket ? { vectorsPerBucket, activeBits: lsh.activeBits } : {}), planes },
        ...base,
        ...measure(`lsh ${label} ${'probes' in probe ? `probes=${probe.probes}` : `r=${probe.probeRadius}`}${probe.rerank ? ` rerank=${probe.rerank}` : ''}`, dataset, truth, (q) => lsh.search(q, K)),
        buildSeconds,
        bytesPerVector: lsh.memoryBytes() / dataset.n,
      });
    }
  }

  if (args['lsh-only']) return rows;
  const build = progress(`hnsw build M=${HNSW_BUILD.M} efConstruction=${HNSW_BUILD.efConstruction}`);
  const hnsw = HnswIndex.build(store, { ...HNSW_BUILD, efSearch: efSweep[0]! }, build.update);
  const hnswSeconds = build.finish();
  for (const efSearch of efSweep) {
    hnsw.setEfSearch(efSearch);
    rows.push({
      index: 'hnsw',
      params: { ...HNSW_BUILD, efSearch },
      ...base,
      ...measure(`hnsw ef=${efSearch}`, dataset, truth, (q) => hnsw.search(q, K)),
      candidatesPerQuery: Number.NaN, // hnswlib does not report its work
      buildSeconds: hnswSeconds,
      bytesPerVector: hnsw.memoryBytes() / dataset.n,
    });
  }
  return rows;
}

async function main(): Promise<void> {
  const dim = positiveInteger('dim', args.dim);
  const cases: [number | undefined, number][] =
    args.n !== undefined
      ? [[positiveInteger('n', args.n), dim]]
      : args.vectors !== undefined
        ? [[undefined, dim]]
        : [
            [10_000, 128],
            [10_000, 1280],
            [100_000, 128],
            [100_000, 1280],
            [1_000_000, 128],
          ];
  const conditions = `Node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${loadavg()[0]!.toFixed(1)} at start`;
  process.stderr.write(`${conditions}\n`);
  if (args.n === undefined && args.vectors === undefined) {
    process.stderr.write('matrix: n = 10k, 100k, 1M at dim 128 and 1280; 1M × 1280 skipped (memory and build time)\n');
  }
  await mkdir(RESULTS_DIR, { recursive: true });
  const all: Row[] = [];
  for (const [n, caseDim] of cases) {
    const rows = await benchCase(n, caseDim);
    all.push(...rows);
    const { n: rowsN, dim: rowsDim } = rows[0]!;
    process.stdout.write(`\n### n = ${rowsN.toLocaleString('en-US')}, dim = ${rowsDim} — ${rows[0]!.data}\n\n${markdownTable(rows)}\n`);
    const svgPath = join(RESULTS_DIR, `index-recall-qps-${rowsN}-${rowsDim}${args.vectors === undefined && args.data === 'hard' ? '-hard' : ''}.svg`);
    const title = `recall@10 vs queries/s, n=${rowsN.toLocaleString('en-US')}, dim=${rowsDim}, ${args.data === 'hard' && args.vectors === undefined ? 'hard data' : 'clustered data'} (HNSW M=${HNSW_BUILD.M}, efC=${HNSW_BUILD.efConstruction}; ${cpus().length} shared cores)`;
    await writeFile(svgPath, recallQpsPlot(rows, args.vectors !== undefined ? title.replace('clustered data', 'vectors from file') : title));
    process.stderr.write(`plot: ${svgPath}\n`);
    await writeFile(join(RESULTS_DIR, 'indexes.json'), `${JSON.stringify(all, null, 2)}\n`);
    if (args.json !== undefined) await writeFile(args.json, `${JSON.stringify(all, null, 2)}\n`);
  }
  process.stdout.write(`\nConditions: ${conditions}; ${queryCount} queries × ${runs} runs per setting (QPS: best run), k = ${K}.\n`);
}

await main();

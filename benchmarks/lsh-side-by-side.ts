/**
 * npx tsx benchmarks/lsh-side-by-side.ts [--n N] [--dim D] [--data clustered|hard] [--rounds R]
 *
 * LSH settings against the exact scan, timed in alternating rounds (exact, then each setting, R times)
 * so that the "× exact" ratio holds on a machine whose load swings between rows of bench:index, which
 * measures each setting once, minutes apart. Prints recall@10, candidates per query and, per setting,
 * the median over rounds of (setting q/s ÷ exact q/s of the same round). Multiply by bench:index's
 * exact ÷ FAISS flat ratio (--flat-only) for the ratio to FAISS flat.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ExactIndex } from '../src/indexing/exact-index.js';
import { LshIndex } from '../src/indexing/lsh-index.js';
import type { LshParams } from '../src/indexing/types.js';
import { VectorStore } from '../src/indexing/vector-store.js';
import { clusteredData, hardDataOptions, row } from './lib/clustered-vectors.js';
import { progress } from './lib/progress.js';
import { recallAtK } from './lib/recall.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '128' },
    data: { type: 'string', default: 'hard' },
    rounds: { type: 'string', default: '3' },
    queries: { type: 'string', default: '200' },
  },
});
const n = Number(args.n);
const dim = Number(args.dim);
const rounds = Number(args.rounds);
const queryCount = Number(args.queries);
const SEED = 20261127;
const SETTINGS: Omit<LshParams, 'seed'>[] = [
  { hashSize: 16, numTables: 32, probeRadius: 1 },
  { hashSize: 16, numTables: 32, probeRadius: 0, probes: 32 },
  { hashSize: 16, numTables: 32, probeRadius: 0, probes: 64 },
  { hashSize: 18, numTables: 32, probeRadius: 0, probes: 64 },
  { hashSize: 20, numTables: 32, probeRadius: 2 },
];

const step = progress(`generate ${n} × ${dim} ${args.data} vectors, store, exact answers`);
const data = clusteredData(args.data === 'hard' ? hardDataOptions(n, queryCount, dim, SEED) : { n, queries: queryCount, dim, clusters: Math.round(n / 100), seed: SEED });
const store = new VectorStore(dim, n);
for (let i = 0; i < n; i++) store.set(`v${i}`, row(data.vectors, dim, i));
const exact = new ExactIndex(store);
const queries = Array.from({ length: queryCount }, (_, q) => row(data.queries, dim, q));
const truth = queries.map((q) => exact.search(q, 10).neighbors.map((x) => x.id));
step.finish();

/** Queries/s over `count` queries (the exact scan is slow: it gets fewer per round). */
function rate(search: (q: Float32Array) => unknown, count: number): number {
  const started = performance.now();
  for (let q = 0; q < count; q++) search(queries[q % queryCount]!);
  return count / ((performance.now() - started) / 1000);
}

const indexes = SETTINGS.map((params) => {
  const build = progress(`lsh build ${JSON.stringify(params)}`);
  const lsh = LshIndex.build(store, { ...params, seed: 1 });
  lsh.search(queries[0]!, 10);
  build.finish();
  let recall = 0;
  let candidates = 0;
  queries.forEach((q, i) => {
    const found = lsh.search(q, 10);
    recall += recallAtK(truth[i]!, found.neighbors.map((x) => x.id), 10) / queryCount;
    candidates += found.stats.candidatesScored / queryCount;
  });
  return { params, lsh, recall, candidates, ratios: [] as number[], qps: [] as number[] };
});
const exactQps: number[] = [];
for (let round = 0; round < rounds; round++) {
  const roundStep = progress(`round ${round + 1}/${rounds}`);
  const exactRate = rate((q) => exact.search(q, 10), 20);
  exactQps.push(exactRate);
  for (const index of indexes) {
    const qps = rate((q) => index.lsh.search(q, 10), queryCount);
    index.qps.push(qps);
    index.ratios.push(qps / exactRate);
  }
  roundStep.finish();
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
process.stdout.write(`\n${n.toLocaleString('en-US')} × ${dim}, ${args.data} data, ${queryCount} queries; exact q/s per round: ${exactQps.map((x) => x.toFixed(1)).join(', ')}\n\n`);
process.stdout.write('| LSH setting | recall@10 | candidates/query | q/s per round | × exact (median of rounds) |\n|---|---:|---:|---|---:|\n');
for (const { params, recall, candidates, qps, ratios } of indexes) {
  const probing = params.probes ? `${params.probes} probes` : `r ${params.probeRadius}`;
  process.stdout.write(`| ${params.hashSize} × ${params.numTables}, ${probing} | ${recall.toFixed(3)} | ${candidates.toFixed(0)} | ${qps.map((x) => x.toFixed(0)).join(', ')} | ${median(ratios).toFixed(1)} |\n`);
}

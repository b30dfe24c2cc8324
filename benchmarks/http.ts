/**
 * npm run bench:http -- [--runs R] [--requests N] [--concurrency C] [--warmup W] [--indexes lsh,hnsw]
 *                       [--variant NAME:ENV=VALUE,ENV=VALUE ...] [--json FILE]
 *
 * The real service as a child process (`node --import tsx src/service/main.ts`) on a temp DATA_DIR,
 * once per variant (default: one, the embedded defaults; a variant sets environment variables, e.g.
 * `--variant 2threads:EXTRACTOR_THREADS=2` or `FINDTHIS_CONFIG=config/fast.json`), driven over HTTP:
 * 1. each service ingests the 81 grocery iconic images one request at a time (images/s);
 * 2. POST /v1/search with grocery val photos (spread over val.txt), per index, with 1 client and with
 *    C concurrent clients (default 8): R runs of N requests after W warm-up requests. The variants
 *    take turns within each run, so a change in the machine's load falls on all of them alike;
 * 3. each service ingests N grocery train photos with C concurrent clients, R times (the batch path).
 * Per row: the median over runs of p50/p95/p99 and requests/s, errors summed over runs, and the CPU
 * the service and this client used per request (from /proc): 2 cores × 1000 / (their sum) is the
 * most requests/s the two cores could serve if they were all ours, at the moment's CPU cost per unit
 * of work (which a loaded host inflates: see the yardstick).
 * Beside the load, the CPU of one single-crop encoder run is measured as a yardstick (the host's speed
 * varies several-fold with its load): the CPU per request in crop runs is load-independent.
 * Prints a markdown table; writes benchmarks/results/http.json (and --json FILE).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { groceryPhotos, iconicImages, valPhotos } from './lib/grocery.js';
import {
  closedLoop,
  ingestOnce,
  loadFigures,
  medianFigures,
  percentile,
  readPhotos,
  referenceCropCpuMs,
  searchOnce,
  type LoadFigures,
  type LoadResult,
  type Photo,
} from './lib/http-load.js';
import { progress } from './lib/progress.js';
import { startService, stopServicesOnSignal, type RunningService } from './lib/service-process.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    requests: { type: 'string', default: '120' },
    concurrency: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '10' },
    indexes: { type: 'string', default: 'lsh,hnsw' },
    variant: { type: 'string', multiple: true, default: ['defaults:'] },
    json: { type: 'string' },
  },
});
stopServicesOnSignal();
const RUNS = Number(args.runs);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const WARMUP = Number(args.warmup);
const INDEXES = args.indexes.split(',');
const CORES = cpus().length;
/** Issue 13's throughput target, for C concurrent clients on the embedded defaults. */
const TARGET = { rps: 50, p99Ms: 400, ingestPerSecond: 35 };

interface Variant {
  name: string;
  env: Record<string, string>;
  service?: RunningService;
  dataDir?: string;
}

function parseVariant(text: string): Variant {
  const [name = '', settings = ''] = text.split(/:(.*)/s);
  const env = Object.fromEntries(settings.split(',').filter(Boolean).map((pair) => pair.split(/=(.*)/s).slice(0, 2) as [string, string]));
  return { name, env };
}

interface Row {
  variant: string;
  kind: 'search' | 'ingest';
  index: string;
  clients: number;
  figures: LoadFigures;
  serverTotalP50Ms: number;
  rightFirst: number;
  runs: LoadFigures[];
}

async function ready(url: string): Promise<void> {
  for (;;) {
    const health = await fetch(`${url}/healthz`).catch(() => undefined);
    if (health?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function row(variant: string, kind: Row['kind'], index: string, clients: number, results: LoadResult[]): Row {
  const runs = results.map(loadFigures);
  const answered = results.flatMap((r) => r.outcomes.filter((o) => o.server));
  return {
    variant,
    kind,
    index,
    clients,
    figures: medianFigures(runs),
    serverTotalP50Ms: answered.length ? percentile(answered.map((o) => o.server!.totalMs), 50) : Number.NaN,
    rightFirst: answered.length ? answered.filter((o) => o.matchedRight).length / answered.length : Number.NaN,
    runs,
  };
}

async function main(): Promise<void> {
  const variants = args.variant.map(parseVariant);
  const loadBefore = loadavg();
  const started = new Date();
  const iconic = readPhotos([...iconicImages()].map(([product, path]) => [path, product]));
  const val = valPhotos();
  const searchPhotos = readPhotos(Array.from({ length: Math.min(REQUESTS, val.length) }, (_, i) => val[Math.floor((i * val.length) / Math.min(REQUESTS, val.length))]!));
  const train = groceryPhotos('train');
  const ingestPhotos: Photo[][] = Array.from({ length: RUNS }, (_, run) =>
    readPhotos(Array.from({ length: REQUESTS }, (_, i) => train[Math.floor(((run * REQUESTS + i) * train.length) / (RUNS * REQUESTS))]!).map(({ path, product }) => [path, product.name])),
  );
  const rows: Row[] = [];
  let referenceMs = Number.NaN;
  try {
    for (const variant of variants) {
      variant.dataDir = mkdtempSync(join(tmpdir(), 'findthis-bench-http-'));
      variant.service = await startService(variant.dataDir, variant.env);
      await ready(variant.service.url);
      const bar = progress(`${variant.name}: ingest 81 iconic images, 1 client`);
      const result = await closedLoop(variant.service.child.pid!, iconic.length, 1, (i) => ingestOnce(variant.service!.url, iconic[i]!));
      bar.finish();
      const figures = loadFigures(result);
      if (figures.errors > 0) throw new Error(`${variant.name}: ingest failed: ${figures.errorCodes.join(', ')}`);
      rows.push(row(variant.name, 'ingest', '-', 1, [result]));
    }
    const search = new Map<string, LoadResult[]>();
    for (const index of INDEXES) {
      for (const variant of variants) await closedLoop(variant.service!.child.pid!, WARMUP, 1, (i) => searchOnce(variant.service!.url, index, searchPhotos[i % searchPhotos.length]!));
    }
    const reference: number[] = [];
    const bar = progress(`search: ${RUNS} runs × ${INDEXES.length} indexes × 2 client counts × ${variants.length} variants`);
    let done = 0;
    for (let run = 0; run < RUNS; run += 1) {
      reference.push(await referenceCropCpuMs(searchPhotos[0]!.bytes));
      for (const index of INDEXES) {
        for (const clients of [1, CONCURRENCY]) {
          for (const variant of variants) {
            const key = `${variant.name}|${index}|${clients}`;
            const result = await closedLoop(variant.service!.child.pid!, REQUESTS, clients, (i) => searchOnce(variant.service!.url, index, searchPhotos[i % searchPhotos.length]!));
            search.set(key, [...(search.get(key) ?? []), result]);
            bar.update((done += 1), RUNS * INDEXES.length * 2 * variants.length);
          }
        }
      }
    }
    bar.finish();
    reference.push(await referenceCropCpuMs(searchPhotos[0]!.bytes));
    referenceMs = percentile(reference, 50);
    for (const [key, results] of search) {
      const [variant, index, clients] = key.split('|') as [string, string, string];
      rows.push(row(variant, 'search', index, Number(clients), results));
    }
    const ingestBar = progress(`ingest ${REQUESTS} train photos × ${RUNS} runs, ${CONCURRENCY} clients`);
    const ingests = new Map<string, LoadResult[]>();
    for (let run = 0; run < RUNS; run += 1) {
      for (const variant of variants) {
        const photos = ingestPhotos[run]!;
        const result = await closedLoop(variant.service!.child.pid!, photos.length, CONCURRENCY, (i) => ingestOnce(variant.service!.url, photos[i]!));
        ingests.set(variant.name, [...(ingests.get(variant.name) ?? []), result]);
      }
      ingestBar.update(run + 1, RUNS);
    }
    ingestBar.finish();
    for (const [variant, results] of ingests) rows.push(row(variant, 'ingest', '-', CONCURRENCY, results));
  } finally {
    for (const variant of variants) {
      variant.service?.child.kill('SIGTERM');
      await variant.service?.exited;
      if (variant.dataDir) rmSync(variant.dataDir, { recursive: true, force: true });
    }
  }
  const loadAfter = loadavg();
  report(rows, variants, started, loadBefore, loadAfter, referenceMs);
  const result = {
    date: started.toISOString(),
    machine: { cpus: CORES, model: cpus()[0]?.model, node: process.version, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
    settings: { runs: RUNS, requests: REQUESTS, concurrency: CONCURRENCY, warmup: WARMUP, k: 5, indexes: INDEXES, variants: variants.map(({ name, env }) => ({ name, env })) },
    rows,
    referenceCropCpuMs: referenceMs,
    target: TARGET,
  };
  await mkdir(join(PROJECT_ROOT, 'benchmarks', 'results'), { recursive: true });
  await writeFile(join(PROJECT_ROOT, 'benchmarks', 'results', 'http.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (args.json) await writeFile(args.json, `${JSON.stringify(result, null, 2)}\n`);
}

function report(rows: Row[], variants: Variant[], started: Date, loadBefore: number[], loadAfter: number[], referenceMs: number): void {
  const first = variants[0]!.name;
  const ratio = (r: Row): string => {
    const base = rows.find((b) => b.variant === first && b.kind === r.kind && b.index === r.index && b.clients === r.clients);
    return base ? `${(r.figures.rps / base.figures.rps).toFixed(2)}×` : '';
  };
  const ceiling = (f: LoadFigures): number => (CORES * 1000) / (f.serverCpuMsPerRequest + f.clientCpuMsPerRequest);
  const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
  const lines = [
    `Variants: ${variants.map((v) => `${v.name} (${Object.entries(v.env).map(([k, val]) => `${k}=${val}`).join(', ') || 'embedded defaults'})`).join('; ')}.`,
    '',
    `| variant | work | index | clients | p50 ms | p95 ms | p99 ms | per s | × ${first} | errors | server total p50 ms | right first | service CPU ms/req | in crop runs | client CPU ms/req | ceiling per s on ${CORES} idle cores |`,
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...[...rows]
      .sort((a, b) => a.kind.localeCompare(b.kind) || a.index.localeCompare(b.index) || a.clients - b.clients || variants.findIndex((v) => v.name === a.variant) - variants.findIndex((v) => v.name === b.variant))
      .map(
        (r) =>
          `| ${r.variant} | ${r.kind} | ${r.index} | ${r.clients} | ${fmt(r.figures.p50)} | ${fmt(r.figures.p95)} | ${fmt(r.figures.p99)} | ${fmt(r.figures.rps)} | ${ratio(r)} | ${r.figures.errors}${r.figures.errors ? ` (${r.figures.errorCodes.join(', ')})` : ''} | ${fmt(r.serverTotalP50Ms)} | ${fmt(r.rightFirst, 3)} | ${fmt(r.figures.serverCpuMsPerRequest)} | ${fmt(r.figures.serverCpuMsPerRequest / referenceMs)} | ${fmt(r.figures.clientCpuMsPerRequest)} | ${fmt(ceiling(r.figures))} |`,
      ),
    '',
    `"in crop runs": the service's CPU per request over that of one single-crop encoder run (1 thread) measured beside the load: ${fmt(referenceMs, 2)} ms now (median of ${RUNS + 1}), a load-independent cost. "ceiling": ${CORES} × 1000 / (service + client CPU ms per request), at today's CPU cost per unit of work.`,
    `Target (issue 13), ${CONCURRENCY} clients: ≥ ${TARGET.rps} searches/s with p99 ≤ ${TARGET.p99Ms} ms and 0 errors; ingest ≥ ${TARGET.ingestPerSecond} images/s through a batch path.`,
    `${RUNS} runs × ${REQUESTS} requests per row (k=5, ${Math.min(REQUESTS, valPhotos().length)} distinct val photos, 348×348 JPEG), after ${WARMUP} warm-up requests per index; ` +
      `${started.toISOString()}; ${CORES} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; load average (1/5/15 min) ${loadBefore.map((l) => l.toFixed(2)).join('/')} before, ${loadAfter.map((l) => l.toFixed(2)).join('/')} after.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();

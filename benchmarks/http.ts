/**
 * npm run bench:http -- [--runs R] [--requests N] [--concurrency C] [--warmup W] [--json FILE]
 *
 * The real service as a child process (`tsx src/service/main.ts`, embedded defaults) on a temp
 * DATA_DIR, driven over HTTP with fetch:
 * 1. ingest the 81 grocery iconic images one request at a time (images/s);
 * 2. POST /v1/search with grocery val photos (spread over val.txt), for index=lsh and index=hnsw,
 *    with 1 client and with C concurrent clients (default 8): client-side latency p50/p95 and
 *    requests/s, R runs of N requests each after W warm-up requests; the table shows the median of
 *    the runs' percentiles and the range of the runs' p50s; the server's own timings split it
 *    (server total = extraction + index search; the rest is HTTP, multipart and queue wait).
 * Prints a markdown table; writes benchmarks/results/http.json (and --json FILE).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { iconicImages, valPhotos } from './lib/grocery.js';
import { percentileOfSorted } from './lib/percentiles.js';
import { progress } from './lib/progress.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    requests: { type: 'string', default: '120' },
    concurrency: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const WARMUP = Number(args.warmup);
const TARGET_P50_MS = 40;
const INDEXES = ['lsh', 'hnsw'] as const;

interface Timed {
  ms: number;
  server: { decodeMs: number; detectMs: number; embedMs: number; searchMs: number; totalMs: number };
  matchedRight: boolean;
}

function percentile(values: number[], p: number): number {
  return percentileOfSorted(Float64Array.from(values).sort(), p);
}

interface Run {
  p50: number;
  p95: number;
  rps: number;
  serverTotalP50: number;
  /** Client time minus the server's own total: upload + multipart parse, queue wait, JSON, HTTP, scheduling. */
  overheadP50: number;
  searchP50: number;
  rightFirst: number;
}

interface Row {
  index: (typeof INDEXES)[number];
  clients: number;
  p50Ms: number;
  p95Ms: number;
  p50RangeMs: [number, number];
  requestsPerSecond: number;
  serverTotalP50Ms: number;
  overheadP50Ms: number;
  indexSearchP50Ms: number;
  rightFirst: number;
  runs: Run[];
}

async function startService(dataDir: string): Promise<{ url: string; stop: () => Promise<number | null> }> {
  // `node --import tsx` rather than the tsx wrapper, so that SIGTERM reaches the service itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/service/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    // The service logs JSON lines (one per request) on stdout: read the address, keep only the last
    // lines (for an early exit's message) and out of the report.
    let listening = false;
    const collect = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-8192);
      const found = listening ? null : /listening on (http:\/\/[^\s"]+)/.exec(log);
      if (found) {
        listening = true;
        resolve(found[1] as string);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    void exited.then((code) => reject(new Error(`service exited (${code}):\n${log}`)));
  });
  for (;;) {
    const health = await fetch(`${url}/healthz`);
    if (health.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function imageForm(bytes: Buffer, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append('image', new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg');
  return form;
}

async function search(url: string, index: string, photo: { bytes: Buffer; product: string }): Promise<Timed> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/search?k=5&index=${index}`, { method: 'POST', body: imageForm(photo.bytes) });
  const body = (await response.json()) as { timings: Timed['server']; objects: Array<{ matches: Array<{ productId: string }> }> };
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`search answered ${response.status}: ${JSON.stringify(body)}`);
  return { ms, server: body.timings, matchedRight: body.objects[0]?.matches[0]?.productId === photo.product };
}

/** N requests spread over `clients` concurrent loops; returns every timing and the wall time. */
async function load(url: string, index: string, photos: Array<{ bytes: Buffer; product: string }>, requests: number, clients: number) {
  let next = 0;
  const timings: Timed[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < requests; i = next++) timings.push(await search(url, index, photos[i % photos.length]!));
    }),
  );
  return { timings, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'findthis-bench-http-'));
  const loadBefore = loadavg()[0]!;
  const service = await startService(dataDir);
  try {
    // 1. Ingest the 81 iconic images, one request at a time.
    const iconic = [...iconicImages()].map(([product, path]) => ({ product, bytes: readFileSync(path) }));
    const ingestProgress = progress('ingest 81 iconic images');
    const ingestStarted = performance.now();
    for (const [i, { product, bytes }] of iconic.entries()) {
      const response = await fetch(`${service.url}/v1/products`, { method: 'POST', body: imageForm(bytes, { id: product }) });
      if (response.status !== 201) throw new Error(`ingest ${product}: ${response.status} ${await response.text()}`);
      ingestProgress.update(i + 1, iconic.length);
    }
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    ingestProgress.finish();
    const ingestPerSecond = iconic.length / ingestSeconds;

    // 2. Search with val photos spread over val.txt.
    const val = valPhotos();
    const photos = Array.from({ length: Math.min(REQUESTS, val.length) }, (_, i) => {
      const [path, product] = val[Math.floor((i * val.length) / Math.min(REQUESTS, val.length))]!;
      return { bytes: readFileSync(path), product };
    });
    const rows: Row[] = [];
    for (const index of INDEXES) {
      await load(service.url, index, photos, WARMUP, 1);
      for (const clients of [1, CONCURRENCY]) {
        const runs: Run[] = [];
        const bar = progress(`search index=${index} clients=${clients}`);
        for (let run = 0; run < RUNS; run += 1) {
          const { timings, seconds } = await load(service.url, index, photos, REQUESTS, clients);
          const ms = timings.map((t) => t.ms);
          runs.push({
            p50: percentile(ms, 50),
            p95: percentile(ms, 95),
            rps: timings.length / seconds,
            serverTotalP50: percentile(timings.map((t) => t.server.totalMs), 50),
            overheadP50: percentile(timings.map((t) => t.ms - t.server.totalMs), 50),
            searchP50: percentile(timings.map((t) => t.server.searchMs), 50),
            rightFirst: timings.filter((t) => t.matchedRight).length / timings.length,
          });
          bar.update(run + 1, RUNS);
        }
        bar.finish();
        const p50s = runs.map((r) => r.p50);
        rows.push({
          index,
          clients,
          p50Ms: percentile(p50s, 50),
          p95Ms: percentile(runs.map((r) => r.p95), 50),
          p50RangeMs: [Math.min(...p50s), Math.max(...p50s)] as [number, number],
          requestsPerSecond: percentile(runs.map((r) => r.rps), 50),
          serverTotalP50Ms: percentile(runs.map((r) => r.serverTotalP50), 50),
          overheadP50Ms: percentile(runs.map((r) => r.overheadP50), 50),
          indexSearchP50Ms: percentile(runs.map((r) => r.searchP50), 50),
          rightFirst: percentile(runs.map((r) => r.rightFirst), 50),
          runs,
        });
      }
    }

    const loadAfter = loadavg()[0]!;
    const lines = [
      `Ingest: 81 iconic images in ${ingestSeconds.toFixed(1)} s = **${ingestPerSecond.toFixed(1)} images/s** (1 client).`,
      '',
      '| index | clients | p50 ms | p95 ms | p50 range over runs | req/s | server total p50 ms | HTTP + queue wait p50 ms | index search p50 ms |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.index} | ${r.clients} | ${r.p50Ms.toFixed(1)} | ${r.p95Ms.toFixed(1)} | ${r.p50RangeMs[0]!.toFixed(1)}–${r.p50RangeMs[1]!.toFixed(1)} | ${r.requestsPerSecond.toFixed(1)} | ${r.serverTotalP50Ms.toFixed(1)} | ${r.overheadP50Ms.toFixed(1)} | ${r.indexSearchP50Ms.toFixed(2)} |`,
      ),
      '',
      `Target: search p50 ≤ ${TARGET_P50_MS} ms over HTTP for one client: ` +
        INDEXES.map((index) => {
          const row = rows.find((r) => r.index === index && r.clients === 1)!;
          return `${index} ${row.p50Ms.toFixed(1)} ms ${row.p50Ms <= TARGET_P50_MS ? 'PASS' : 'FAIL'}`;
        }).join(', '),
      `${RUNS} runs × ${REQUESTS} requests per row (k=5, ${photos.length} distinct val photos, 348×348 JPEG), after ${WARMUP} warm-up requests; ` +
        `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; 1-min load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      settings: { runs: RUNS, requests: REQUESTS, concurrency: CONCURRENCY, warmup: WARMUP, k: 5, photos: photos.length },
      ingest: { images: iconic.length, seconds: ingestSeconds, imagesPerSecond: ingestPerSecond },
      search: rows,
      targetP50Ms: TARGET_P50_MS,
    };
    await mkdir(join(PROJECT_ROOT, 'benchmarks', 'results'), { recursive: true });
    await writeFile(join(PROJECT_ROOT, 'benchmarks', 'results', 'http.json'), `${JSON.stringify(result, null, 2)}\n`);
    if (args.json) await writeFile(args.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    const code = await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (code !== 0) process.stderr.write(`warning: the service exited with ${code}\n`);
  }
}

await main();

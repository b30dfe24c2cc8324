/**
 * `npm run bench:soak -- --minutes 10 --clients 8`: the service as its own process under mixed load
 * for a long time. Each client loops: search (70%), ingest a new product (20%, with an Idempotency-Key)
 * or delete one it ingested (10%). Every 10 s it prints the window's requests, errors, search and
 * ingest p50/p99 and the service's RSS; at the end it stops the service and checks consistency: every
 * live acknowledged image found by every index, deleted ones by none (benchmarks/lib/consistency.ts).
 * Writes benchmarks/results/soak.json.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { CatalogSearch } from '../src/pipeline/catalog-search.js';
import { createExtractor } from '../src/pipeline/extractor.js';
import { checkConsistency } from './lib/consistency.js';
import { iconicImages, valPhotos } from './lib/grocery.js';
import { percentileOfSorted } from './lib/percentiles.js';
import { startService, stopServicesOnSignal } from './lib/service-process.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, clients: { type: 'string', default: '8' } } });
const minutes = Number(values.minutes);
const clients = Number(values.clients);
if (!(minutes > 0) || !Number.isInteger(clients) || clients < 1) {
  process.stderr.write('usage: npm run bench:soak -- [--minutes 10] [--clients 8]\n');
  process.exit(2);
}

const photos = valPhotos().map(([path, product]) => ({ bytes: readFileSync(path), product }));
const seed = [...iconicImages()].slice(0, 20);
const dataDir = mkdtempSync(join(tmpdir(), 'findthis-soak-'));
/** product → image ids answered 201 (and not deleted since); products answered 204. */
const acknowledged = new Map<string, Set<number>>();
const deleted = new Set<string>();

type Kind = 'search' | 'ingest' | 'delete';
interface Sample {
  kind: Kind;
  ms: number;
  ok: boolean;
}
let window: Sample[] = [];
const all: Sample[] = [];
const errors: Record<string, number> = {};

function form(bytes: Buffer, fields: Record<string, string> = {}): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.append(key, value);
  data.append('image', new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg');
  return data;
}

async function timed(kind: Kind, expected: number, send: () => Promise<Response>): Promise<any> {
  const started = performance.now();
  let status = 0;
  let body: any;
  try {
    const response = await send();
    status = response.status;
    body = status === 204 ? undefined : await response.json();
  } catch (error) {
    body = { error: { code: (error as Error).message } };
  }
  const sample = { kind, ms: performance.now() - started, ok: status === expected };
  window.push(sample);
  all.push(sample);
  if (!sample.ok) {
    const key = `${kind} ${status} ${body?.error?.code ?? ''}`;
    errors[key] = (errors[key] ?? 0) + 1;
  }
  return sample.ok ? (body ?? {}) : undefined;
}

async function client(url: string, index: number, until: number): Promise<void> {
  const mine: string[] = [];
  for (let n = 0; performance.now() < until; n += 1) {
    const roll = (n * 7 + index * 3) % 10;
    const photo = photos[(n * clients + index) % photos.length]!;
    if (roll < 7 || (roll === 9 && mine.length === 0)) {
      await timed('search', 200, () => fetch(`${url}/v1/search?k=5`, { method: 'POST', body: form(photo.bytes) }));
    } else if (roll < 9) {
      const id = `soak-${index}-${n}`;
      const body = await timed('ingest', 201, () =>
        fetch(`${url}/v1/products`, { method: 'POST', body: form(photo.bytes, { id }), headers: { 'Idempotency-Key': id } }),
      );
      if (body) {
        acknowledged.set(id, new Set([body.imageId as number]));
        mine.push(id);
      }
    } else {
      const id = mine.shift()!;
      if (await timed('delete', 204, () => fetch(`${url}/v1/products/${id}`, { method: 'DELETE' }))) {
        acknowledged.delete(id);
        deleted.add(id);
      }
    }
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function percentiles(samples: Sample[], kind: Kind): { p50: number; p99: number; n: number } {
  const sorted = samples.filter((s) => s.kind === kind && s.ok).map((s) => s.ms).sort((a, b) => a - b);
  return { p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99), n: sorted.length };
}

stopServicesOnSignal();
const service = await startService(dataDir); // at info: the address is read from the "listening" line
try {
  while ((await fetch(`${service.url}/healthz`)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  process.stderr.write(`service ready at ${service.url}; seeding ${seed.length} products\n`);
  for (const [name, path] of seed) {
    const response = await fetch(`${service.url}/v1/products`, { method: 'POST', body: form(readFileSync(path), { id: name }) });
    const body = (await response.json()) as { imageId: number };
    if (response.status !== 201) throw new Error(`seeding ${name}: ${response.status} ${JSON.stringify(body)}`);
    acknowledged.set(name, new Set([body.imageId]));
  }
  process.stderr.write(`seeded; ${clients} clients for ${minutes} min, a line every 10 s\n`);
  const started = performance.now();
  const until = started + minutes * 60_000;
  const intervals: Array<Record<string, number>> = [];
  const report = setInterval(() => {
    const search = percentiles(window, 'search');
    const ingest = percentiles(window, 'ingest');
    const row = {
      s: Math.round((performance.now() - started) / 1000),
      requests: window.length,
      errors: window.filter((s) => !s.ok).length,
      searchP50: Math.round(search.p50),
      searchP99: Math.round(search.p99),
      ingestP50: Math.round(ingest.p50),
      ingestP99: Math.round(ingest.p99),
      rssMb: Math.round(rssMb(service.child.pid!)),
      load1: Number(loadavg()[0]!.toFixed(1)),
    };
    intervals.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
    window = [];
  }, 10_000);
  await Promise.all(Array.from({ length: clients }, (_, index) => client(service.url, index, until)));
  clearInterval(report);
  service.child.kill('SIGTERM');
  const exitCode = await service.exited;

  process.stderr.write(`service stopped (exit ${exitCode}); checking consistency\n`);
  const config = loadConfig({ env: {} });
  const extractor = await createExtractor(config.extractor);
  const catalogSearch = await CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor, acceptance: config.acceptance });
  const consistency = await checkConsistency(catalogSearch, acknowledged, deleted);
  await catalogSearch.close();
  await extractor.close();

  const summary = {
    date: new Date().toISOString(),
    machine: `${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    minutes,
    clients,
    requests: all.length,
    errors,
    search: percentiles(all, 'search'),
    ingest: percentiles(all, 'ingest'),
    delete: percentiles(all, 'delete'),
    rssMb: { first: intervals[0]?.rssMb, max: Math.max(...intervals.map((row) => row.rssMb!)), last: intervals.at(-1)?.rssMb },
    exitCode,
    consistency: { liveProducts: acknowledged.size, deletedProducts: deleted.size, ...consistency, problems: consistency.problems.slice(0, 20) },
    intervals,
  };
  await mkdir(join(PROJECT_ROOT, 'benchmarks', 'results'), { recursive: true });
  await writeFile(join(PROJECT_ROOT, 'benchmarks', 'results', 'soak.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const { intervals: _rows, ...rest } = summary;
  process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
  if (consistency.problems.length > 0) process.exitCode = 1;
} finally {
  if (service.child.exitCode === null) service.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}

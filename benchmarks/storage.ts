/**
 * `npm run bench:storage -- [--n 10000] [--dim 128] [--queries 200] [--adds 100] [--url postgres://…]`:
 * the embedded backend (SQLite + in-process indexes) against the pg backend (PostgreSQL + pgvector,
 * by default a local PGlite started with db:start in its own process) on the same synthetic vectors.
 *
 * Per backend: the bulk load (the pg one as optimize builds it: rows first, then search tables and
 * HNSW), the latency of one add (an image of 3 objects: catalog rows + index entries, in one
 * transaction), and of one neighbour query per index (k = 20, what a search asks for k = 5), the pg
 * one including the per-request search_state read; for pg also what a replica reads to group
 * regions and judge (every product's sum and the region label counts), in full and after another
 * replica's add (only what changed). Vectors are clustered synthetic data, already
 * unit length and indexed untransformed (identity), so both sides index the same vectors: as the
 * backends do, the whole photos only (the first of each image's 3 objects, so n / 3 of the n stored).
 * Prints a markdown table; progress goes to stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Catalog } from '../src/catalog/catalog.js';
import type { EmbeddedObject } from '../src/core/types.js';
import { IndexSet } from '../src/indexing/index-set.js';
import { INDEXED_KIND } from '../src/pipeline/catalog-indexes.js';
import { DEFAULT_INDEX_PARAMS } from '../src/indexing/params.js';
import type { IndexKind } from '../src/indexing/types.js';
import { identityTransform } from '../src/embedding/vector-transform.js';
import { PgStore } from '../src/storage/pg/pg-store.js';
import { vectorText } from '../src/storage/pg/search-tables.js';
import { clusteredData, row } from './lib/clustered-vectors.js';
import { percentileOfSorted } from './lib/percentiles.js';

const { values } = parseArgs({
  options: { n: { type: 'string', default: '10000' }, dim: { type: 'string', default: '128' }, queries: { type: 'string', default: '200' }, adds: { type: 'string', default: '100' }, url: { type: 'string' } },
});
const n = Number(values.n);
const dim = Number(values.dim);
const queryCount = Number(values.queries);
const adds = Number(values.adds);
const PER_IMAGE = 3;
const K = 20;
const KINDS: IndexKind[] = ['lsh', 'hnsw', 'exact'];
const index = DEFAULT_INDEX_PARAMS;
const encoder = { model: 'bench-storage', dim };
const data = clusteredData({ n: n + adds * PER_IMAGE, queries: queryCount, dim, clusters: Math.max(10, Math.round(n / 100)), seed: 21 });

interface Row {
  backend: string;
  loadSeconds: number;
  addP50: number;
  addP99: number;
  search: Record<IndexKind, { p50: number; p99: number }>;
  /** pg: reading every product's sum and the region label counts (src/storage/pg/reference-tables.ts), p50 ms; and after one add, what changed. */
  reference?: { full: number; afterAdd: number };
}

function objectsOf(first: number, count: number): EmbeddedObject[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: i === 0 ? ('whole' as const) : ('region' as const),
    label: i === 0 ? 'image' : 'thing',
    score: 1,
    bbox: [0, 0, 10, 10] as [number, number, number, number],
    vector: row(data.vectors, dim, first + i),
  }));
}

const log = (message: string): boolean => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
const ms = (started: number): number => performance.now() - started;
const summary = (times: number[]): { p50: number; p99: number } => {
  times.sort((a, b) => a - b);
  return { p50: percentileOfSorted(times, 50), p99: percentileOfSorted(times, 99) };
};

/** Times `queryCount` searches of every index kind, one after the other. */
async function searchTimes(run: (kind: IndexKind, query: number) => unknown): Promise<Row['search']> {
  const search = {} as Row['search'];
  for (const kind of KINDS) {
    const times: number[] = [];
    for (let q = 0; q < queryCount; q++) {
      const started = performance.now();
      await run(kind, q);
      times.push(ms(started));
    }
    search[kind] = summary(times);
  }
  return search;
}

async function embedded(): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'findthis-bench-storage-'));
  try {
    const catalog = Catalog.open(join(dir, 'catalog.sqlite'), encoder);
    let started = performance.now();
    catalog.transaction(() => {
      for (let first = 0; first < n; first += PER_IMAGE) {
        catalog.addImage({ productId: `p${first / PER_IMAGE}`, width: 10, height: 10, objects: objectsOf(first, Math.min(PER_IMAGE, n - first)) });
      }
    });
    const { set } = await IndexSet.open(join(dir, 'indexes'), { dim, ...index }, catalog.vectors(INDEXED_KIND), {});
    const loadSeconds = ms(started) / 1000;
    log(`embedded: ${n} vectors loaded and indexed in ${loadSeconds.toFixed(1)} s`);
    const addTimes: number[] = [];
    for (let a = 0; a < adds; a++) {
      const first = n + a * PER_IMAGE;
      started = performance.now();
      catalog.transaction(() => {
        const added = catalog.addImage({ productId: `new${a}`, width: 10, height: 10, objects: objectsOf(first, PER_IMAGE) });
        set.add(String(added.objectIds[0]), row(data.vectors, dim, first)); // the whole photo
      });
      addTimes.push(ms(started));
    }
    const search = await searchTimes((kind, q) => set.search(kind, row(data.queries, dim, q), K));
    catalog.close();
    return { backend: 'embedded (SQLite + in-process)', loadSeconds, addP50: summary(addTimes).p50, addP99: summary(addTimes).p99, search };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(url: string, label: string): Promise<Row> {
  const store = await PgStore.open({ url, encoder, index });
  let started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Bulk rows in batches (what a migration from another catalog would do), then the search tables as optimize builds them.
  const BATCH = 300;
  for (let first = 0; first < n; first += BATCH * PER_IMAGE) {
    const images = Math.min(BATCH, Math.ceil((n - first) / PER_IMAGE));
    const ids = Array.from({ length: images }, (_, i) => `p${first / PER_IMAGE + i}`);
    await client.query('INSERT INTO products (id) SELECT unnest($1::text[])', [ids]);
    const imageIds = (await client.query('INSERT INTO images (product_id, width, height) SELECT unnest($1::text[]), 10, 10 RETURNING id, product_id', [ids])).rows;
    const objectImage: number[] = [];
    const objectProduct: string[] = [];
    const kinds: string[] = [];
    const vectors: string[] = [];
    imageIds.forEach((image, i) => {
      for (let o = 0; o < PER_IMAGE && first + i * PER_IMAGE + o < n; o++) {
        objectImage.push(Number(image.id));
        objectProduct.push(image.product_id);
        kinds.push(o === 0 ? 'whole' : 'region');
        vectors.push(vectorText(row(data.vectors, dim, first + i * PER_IMAGE + o)));
      }
    });
    await client.query(
      "INSERT INTO objects (image_id, product_id, kind, label, score, x1, y1, x2, y2, raw) SELECT i, p, k, 'x', 1, 0, 0, 10, 10, v FROM unnest($1::bigint[], $2::text[], $3::text[], $4::vector[]) AS t(i, p, k, v)",
      [objectImage, objectProduct, kinds, vectors],
    );
  }
  await client.query(`UPDATE search_state SET vectors = ${n}, whole_images = ${Math.ceil(n / PER_IMAGE)}`);
  await client.end();
  const rowsSeconds = ms(started) / 1000;
  await store.rebuild(identityTransform(dim));
  const loadSeconds = ms(started) / 1000;
  log(`${label}: ${n} vectors loaded in ${rowsSeconds.toFixed(1)} s, search tables and HNSW built by ${loadSeconds.toFixed(1)} s`);
  const addTimes: number[] = [];
  for (let a = 0; a < adds; a++) {
    started = performance.now();
    await store.addImage({ productId: `new${a}`, width: 10, height: 10, objects: objectsOf(n + a * PER_IMAGE, PER_IMAGE) });
    addTimes.push(ms(started));
  }
  const search = await searchTimes(async (kind, q) => store.nearest(await store.refresh(), kind, row(data.queries, dim, q), K));
  for (const kind of KINDS) log(`${label}: ${kind} p50 ${search[kind].p50.toFixed(2)} ms`);
  const full: number[] = [];
  const afterAdd: number[] = [];
  for (let r = 0; r < 20; r++) {
    started = performance.now();
    const read = await store.storedReference();
    full.push(ms(started));
    await store.addImage({ productId: `again${r}`, width: 10, height: 10, objects: objectsOf(r * PER_IMAGE, PER_IMAGE) });
    started = performance.now();
    await store.storedReference(read);
    afterAdd.push(ms(started));
  }
  return { backend: label, loadSeconds, addP50: summary(addTimes).p50, addP99: summary(addTimes).p99, search, reference: { full: summary(full).p50, afterAdd: summary(afterAdd).p50 } };
}

/** `db:start` in its own process (in memory): resolves with its URL. */
function startEngine(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/db-start.ts', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve({ url: out.trim(), child });
    });
    child.once('exit', (code) => reject(new Error(`db:start exited with ${code}`)));
  });
}

const rows: Row[] = [await embedded()];
if (values.url) {
  rows.push(await postgres(values.url, 'PostgreSQL at --url'));
} else {
  const { url, child } = await startEngine();
  try {
    rows.push(await postgres(url, 'pg backend on PGlite (db:start, own process)'));
  } finally {
    child.kill('SIGTERM');
  }
}
const f = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));
console.log(`\n${n} vectors × ${dim}, ${adds} adds of ${PER_IMAGE} objects, ${queryCount} queries per index, k = ${K} (ms)\n`);
console.log('| backend | load s | add p50 | add p99 | lsh p50 | lsh p99 | hnsw p50 | hnsw p99 | exact p50 | exact p99 |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.backend} | ${r.loadSeconds.toFixed(1)} | ${f(r.addP50)} | ${f(r.addP99)} | ${KINDS.map((kind) => `${f(r.search[kind].p50)} | ${f(r.search[kind].p99)}`).join(' | ')} |`);
}
for (const r of rows) {
  if (!r.reference) continue;
  console.log(`\n${r.backend}: a replica's read of every product's sum and the region labels (${Math.ceil(n / PER_IMAGE) + adds} products), p50 ${f(r.reference.full)} ms; after one add, of what changed, p50 ${f(r.reference.afterAdd)} ms`);
}

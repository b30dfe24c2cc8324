/**
 * npm run bench:quality -- [--config FILE] [--json FILE] [--png FILE] [--queries N] [--dump-vectors FILE.npy]
 *
 * Retrieval quality on the grocery dataset (../shared/datasets/grocery), through the same
 * CatalogSearch the service and the CLI use (SQLite catalog, real indexes, real models):
 *   A   catalog = the 81 iconic (web-shop) images; no whitening (it has no pairs to learn from);
 *   A+W the same catalog, whitened with what its images and the train photos teach together (the
 *       train photos stay out of the catalog, as with `npm run optimize -- --whitening-from <dir>`);
 *   B   catalog = iconic + the 2,640 train photos, before and after `optimize` learns whitening
 *       from the catalog itself.
 * Queries: the 296 val photos. Each query's answer is the ranked list of distinct products (see
 * `rankProducts` in src/pipeline/answer.ts: whole image and detections combined). Reported:
 * recall@1 and recall@5 of the right product, coarse-class recall@1, for exact, LSH and HNSW, and
 * the per-query index search time. Writes a markdown table, JSON, and a PNG of a few queries with
 * their detections and top-3 catalog matches. `--dump-vectors FILE.npy` also writes catalog B's
 * whitened vectors followed by the val photos' whitened whole-image vectors (the last 296 rows), for
 * `npm run bench:index -- --vectors FILE.npy --queries 296`: the indexes compared on real embeddings.
 * `--config FILE` measures another config file (default: config/findthis.json; env overrides are ignored).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { whitenApply, type LabelledVector } from '../src/embedding/whitening.js';
import { whiteningFromBuffer } from '../src/embedding/whitening-record.js';
import type { IndexKind } from '../src/indexing/types.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { rankProducts, type RankedProduct } from '../src/pipeline/answer.js';
import type { CatalogSearch } from '../src/pipeline/catalog-search.js';
import type { EmbeddedObject } from '../src/core/types.js';
import { createExtractor } from '../src/pipeline/extractor.js';
import { groceryPhotos, groceryProducts, type GroceryPhoto } from './lib/grocery.js';
import { catalogBPhotos, ingestPhotos, openCatalog } from './lib/grocery-catalog.js';
import { writeNpyFloat32 } from './lib/npy.js';
import { percentileOfSorted } from './lib/percentiles.js';
import { progress } from './lib/progress.js';
import { examplesPicture, spread, type PictureQuery } from './lib/quality-picture.js';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string' },
    json: { type: 'string' },
    png: { type: 'string' },
    queries: { type: 'string' },
    'dump-vectors': { type: 'string' },
  },
});

const INDEXES: IndexKind[] = ['exact', 'lsh', 'hnsw'];
const K = 5;
/** Detection discounts compared in the second table (the default is DETECTION_DISCOUNT). */
const DISCOUNTS = [0, 0.05, 0.1, 0.15, 0.2, 0.3];
const RESULTS_DIR = join(PROJECT_ROOT, 'benchmarks', 'results');

/** A val photo and its search extraction. */
type Query = PictureQuery;

interface Row {
  setting: string;
  whitening: boolean;
  index: IndexKind;
  catalogImages: number;
  queries: number;
  recallAt1: number;
  recallAt5: number;
  coarseRecallAt1: number;
  /** Right product first when only the whole-image object is asked (no detections). */
  imageOnlyRecallAt1: number;
  /** Right product first for other detection discounts of the merged answer (see DETECTION_DISCOUNT). */
  recallAt1ByDiscount: Record<string, number>;
  fallbackShare: number;
  searchP50Ms: number;
  searchP95Ms: number;
}

const config = loadConfig({ env: {}, ...(args.config ? { file: args.config } : {}) });
const extractor = await createExtractor(config.extractor);
const products = groceryProducts();
const byName = new Map(products.map((product) => [product.name, product]));
const trainPhotos = groceryPhotos('train');
const valPhotos = groceryPhotos('val');
const queryPhotos = args.queries ? spread(valPhotos, Number(args.queries)) : valPhotos;

/** Where each stored image came from, for the picture. */
const imagePaths = new Map<string, string>();
const rows: Row[] = [];

// B first: its catalog also yields the train vectors that A+W learns whitening from.
const dirB = mkdtempSync(join(tmpdir(), 'findthis-quality-b-'));
const dirA = mkdtempSync(join(tmpdir(), 'findthis-quality-a-'));
try {
  const b = await openCatalog(extractor, config, dirB);
  await ingest(b, 'B', catalogBPhotos());
  rows.push(...await evaluate(b, await extractAll(b, queryPhotos), 'B: iconic + train', false));
  const learned = await timed('B: learn whitening from the catalog and rebuild', () => b.optimize({ whitening: config.whitening }));
  const queries = await extractAll(b, queryPhotos);
  rows.push(...await evaluate(b, queries, 'B: iconic + train', true));
  if (args['dump-vectors']) await dumpWhitenedVectors(b, queries, args['dump-vectors']);
  const trainSamples = wholeImageSamples(b, new Set(trainPhotos.map((photo) => photo.path)));

  const a = await openCatalog(extractor, config, dirA);
  await ingest(a, 'A', products.map((product) => ({ path: product.iconic, product })));
  rows.push(...await evaluate(a, await extractAll(a, queryPhotos), 'A: iconic', false));
  await timed('A+W: learn whitening from the catalog plus the train photos (kept outside it) and rebuild', () =>
    a.optimize({ whitening: config.whitening, samples: trainSamples }),
  );
  rows.push(...await evaluate(a, await extractAll(a, queryPhotos), 'A: iconic', true));

  const table = markdownTable(rows);
  process.stdout.write(`\n${table}\n`);
  process.stdout.write(
    `\nval queries: ${queries.length}; catalog B: ${learned.images} images, ${learned.vectors} vectors; ` +
      `whitening ${config.extractor.encoder.model} ${learned.transform}\n`,
  );
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = JSON.stringify({ measuredAt: new Date().toISOString(), encoder: extractor.encoder, rows }, null, 2);
  await writeFile(join(RESULTS_DIR, 'quality.json'), json);
  if (args.json) await writeFile(args.json, json);
  const png = args.png ?? join(RESULTS_DIR, 'quality-examples.png');
  await writeFile(png, await examplesPicture(b, queries, (imageId) => imagePaths.get(`B:${imageId}`)));
  process.stderr.write(`wrote ${join(RESULTS_DIR, 'quality.json')} and ${png}\n`);
  await Promise.all([a.close(), b.close()]);
} finally {
  await extractor.close();
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
}

/** The photos as the service searches them: regions located against `search`'s catalog as it is now. */
async function extractAll(search: CatalogSearch, photos: readonly GroceryPhoto[]): Promise<Query[]> {
  const bar = progress(`extract ${photos.length} val photos`);
  const out: Query[] = [];
  for (const photo of photos) {
    out.push({ photo, extraction: await search.extractQuery(readFileSync(photo.path)) });
    bar.update(out.length, photos.length);
  }
  bar.finish();
  return out;
}

async function ingest(search: CatalogSearch, label: string, photos: readonly GroceryPhoto[]): Promise<void> {
  for (const [imageId, path] of await ingestPhotos(search, label, photos)) imagePaths.set(`${label}:${imageId}`, path);
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  process.stderr.write(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return result;
}

/** The whole-image vectors of the catalog images that came from `paths`, grouped by product. */
function wholeImageSamples(search: CatalogSearch, paths: Set<string>): LabelledVector[] {
  const samples: LabelledVector[] = [];
  for (const { productId, imageId, kind, vector } of search.catalog.labelledVectors()) {
    if (kind === 'whole' && paths.has(imagePaths.get(`B:${imageId}`) ?? '')) samples.push({ group: productId, vector });
  }
  return samples;
}

/** Catalog B's stored vectors and the val whole-image vectors, all under B's learned whitening. */
async function dumpWhitenedVectors(search: CatalogSearch, queries: readonly Query[], path: string): Promise<void> {
  const stored = search.catalog.storedTransform();
  if (!stored) throw new Error('catalog B has no learned whitening to dump vectors under');
  const whitening = whiteningFromBuffer(stored.data);
  const rows = [...search.catalog.vectors()].map(([, vector]) => whitenApply(whitening, vector));
  for (const { extraction } of queries) rows.push(whitenApply(whitening, extraction.objects[0]!.vector));
  await writeNpyFloat32(path, rows);
  process.stderr.write(`wrote ${rows.length} × ${whitening.outputDim} vectors to ${path} (last ${queries.length}: val queries)\n`);
}

async function evaluate(search: CatalogSearch, queries: readonly Query[], setting: string, whitening: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const index of INDEXES) {
    let right1 = 0;
    let right5 = 0;
    let coarse1 = 0;
    let imageOnly1 = 0;
    const byDiscount = new Map(DISCOUNTS.map((discount) => [discount, 0]));
    let fellBack = 0;
    let objects = 0;
    const times: number[] = [];
    for (const { photo, extraction } of queries) {
      const perObject = [];
      for (const object of extraction.objects as EmbeddedObject[]) {
        const found = await search.matchVector(object.vector, index, K, 0);
        times.push(found.searchMs);
        objects++;
        if (found.fallback) fellBack++;
        perObject.push({ kind: object.kind, label: object.label, bbox: object.bbox, matches: found.matches });
      }
      const ranked = rankProducts(perObject);
      const rank = ranked.findIndex((product: RankedProduct) => product.productId === photo.product.name);
      if (rank === 0) right1++;
      if (rank >= 0 && rank < K) right5++;
      const first = ranked[0] && byName.get(ranked[0].productId);
      if (first && first.coarseId === photo.product.coarseId) coarse1++;
      if (perObject[0]!.matches[0]?.productId === photo.product.name) imageOnly1++;
      for (const discount of DISCOUNTS) {
        if (rankProducts(perObject, discount)[0]?.productId === photo.product.name) byDiscount.set(discount, byDiscount.get(discount)! + 1);
      }
    }
    times.sort((x, y) => x - y);
    const n = queries.length;
    rows.push({
      setting,
      whitening,
      index,
      catalogImages: search.size().images,
      queries: n,
      recallAt1: right1 / n,
      recallAt5: right5 / n,
      coarseRecallAt1: coarse1 / n,
      imageOnlyRecallAt1: imageOnly1 / n,
      recallAt1ByDiscount: Object.fromEntries([...byDiscount].map(([discount, right]) => [String(discount), right / n])),
      fallbackShare: fellBack / objects,
      searchP50Ms: percentileOfSorted(times, 50),
      searchP95Ms: percentileOfSorted(times, 95),
    });
  }
  return rows;
}

function markdownTable(all: readonly Row[]): string {
  const pct = (value: number) => (value * 100).toFixed(1);
  const lines = [
    '| catalog | whitening | index | recall@1 | recall@5 | coarse recall@1 | whole image only, recall@1 | LSH fell back | search p50 / p95 ms per object |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of all) {
    lines.push(
      `| ${row.setting} (${row.catalogImages} images) | ${row.whitening ? 'learned' : 'none'} | ${row.index} | ${pct(row.recallAt1)} | ${pct(row.recallAt5)} | ${pct(row.coarseRecallAt1)} | ${pct(row.imageOnlyRecallAt1)} | ${row.index === 'lsh' ? `${pct(row.fallbackShare)}%` : '—'} | ${row.searchP50Ms.toFixed(2)} / ${row.searchP95Ms.toFixed(2)} |`,
    );
  }
  lines.push('', `Recall@1 of the merged answer by detection discount (whole image only: the column above):`, '');
  lines.push(`| catalog | whitening | index | ${DISCOUNTS.join(' | ')} |`, `|---|---|---|${DISCOUNTS.map(() => '---:').join('|')}|`);
  for (const row of all) {
    lines.push(`| ${row.setting} | ${row.whitening ? 'learned' : 'none'} | ${row.index} | ${DISCOUNTS.map((d) => pct(row.recallAt1ByDiscount[String(d)]!)).join(' | ')} |`);
  }
  return lines.join('\n');
}


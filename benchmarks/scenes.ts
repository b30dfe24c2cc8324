/**
 * npm run bench:scenes -- [--scenes N | --quick] [--part all|scenes|open-set|latency] [--seed N] [--index lsh|hnsw|exact] [--config FILE]
 *                         [--rebuild] [--stale-catalog] [--cache DIR] [--json FILE] [--png FILE] [--runs R]
 *
 * Photos of several products, and photos of products the catalog lacks (issue 9), searched through
 * the same CatalogSearch the service uses, k = 5:
 *   scenes    seeded compositions of 2–5 distinct grocery val photos on plain canvases
 *             (benchmarks/lib/scenes-compose.ts), searched in catalog B (iconic + train, optimized):
 *             coverage (products with a region centred on them), region recall@1/@5 (the region
 *             centred on the product that ranks it best), answer recall and precision;
 *   open set  the single val photos, searched in catalog B without a seeded 20 of its 81 products:
 *             AUROC of the top raw match score (in-catalog photos positive), share of photos of
 *             missing products answered empty, in-catalog recall@1 (empty = miss), and the same
 *             recall@1 in catalog B for reference;
 *   coco      the 12 photos of ../shared/datasets/coco-sample (no groceries): how many get an empty answer;
 *   latency   p50/p95 of the whole search() by photo size (348×348 singles, each canvas shape), as the
 *             run found them. `--part latency` instead times only, before and after issue 9 side by side
 *             (benchmarks/lib/scenes-latency.ts): every 6th val photo and the first 20 scenes of 1024×768,
 *             `--runs` (3) times each; writes benchmarks/results/scenes-latency.json.
 * Catalogs are built once and cached (benchmarks/lib/scenes-catalogs.ts) under
 * benchmarks/results/scenes-catalogs or --cache DIR (e.g. another worktree's, to skip its ingest);
 * --rebuild ignores the cache. --stale-catalog searches the last catalog ingested even when the
 * extractor has changed since (minutes saved when trying a query-side change; the report says STALE).
 * Writes benchmarks/results/scenes.json and a picture of six scenes (default docs/scenes-examples.png).
 * --part scenes skips the single photos and coco-sample, --part open-set the scenes (and the picture).
 * --config FILE measures another config file (default: config/findthis.json; env overrides are ignored).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkOneOf, invalidConfig, parseInteger } from '../src/config/checks.js';
import { loadConfig } from '../src/config/load.js';
import type { IndexKind } from '../src/indexing/types.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import type { CatalogSearch } from '../src/pipeline/catalog-search.js';
import { createExtractor } from '../src/pipeline/extractor.js';
import { groceryPhotos, groceryProducts } from './lib/grocery.js';
import { openCatalog } from './lib/grocery-catalog.js';
import { percentileOfSorted } from './lib/percentiles.js';
import { progress } from './lib/progress.js';
import { composeScene, planScene } from './lib/scenes-compose.js';
import { pairedLatency, printPairedLatency, type TimedPhoto } from './lib/scenes-latency.js';
import { scenesCatalogs, type ScenesCatalogs } from './lib/scenes-catalogs.js';
import { openSetMetrics, sceneMetrics, sceneOutcome, singleOutcome, type SceneOutcome, type SearchedPhoto, type SingleOutcome } from './lib/scenes-metrics.js';
import { scenesPicture, type PictureExample } from './lib/scenes-picture.js';
import { printReport, type LatencyRow } from './lib/scenes-report.js';

const { values: args } = parseArgs({
  options: {
    scenes: { type: 'string' },
    quick: { type: 'boolean', default: false },
    part: { type: 'string', default: 'all' },
    seed: { type: 'string', default: '1' },
    index: { type: 'string' },
    config: { type: 'string' },
    rebuild: { type: 'boolean', default: false },
    cache: { type: 'string' },
    'stale-catalog': { type: 'boolean', default: false },
    json: { type: 'string' },
    png: { type: 'string' },
    runs: { type: 'string', default: '3' },
  },
});

const K = 5;
const RESULTS_DIR = join(PROJECT_ROOT, 'benchmarks', 'results');
const COCO_DIR = join(PROJECT_ROOT, '..', 'shared', 'datasets', 'coco-sample');
/** Scenes drawn in the picture: the first few of the series. */
const PICTURED = 6;

const config = loadConfig({ env: {}, ...(args.config ? { file: args.config } : {}) });
const part = checkOneOf('--part', args.part, ['all', 'scenes', 'open-set', 'latency'], invalidConfig);
const runs = parseInteger('--runs', args.runs, 1, 100, invalidConfig);
const sceneCount = part === 'open-set' || part === 'latency' ? 0 : args.scenes ? parseInteger('--scenes', args.scenes, 1, 100_000, invalidConfig) : args.quick ? 30 : 100;
const seed = parseInteger('--seed', args.seed, 0, 2 ** 32 - 1, invalidConfig);
const index = checkOneOf('--index', args.index ?? config.search.defaultIndex, ['lsh', 'hnsw', 'exact'] as IndexKind[], invalidConfig);
// similar: every object's matches with their verdicts, for region recall; `answer` holds the accepted ones either way.
const query = { k: K, index, minScore: config.search.minScore, compare: false, similar: true };
const products = new Map(groceryProducts().map((product) => [product.name, product]));
const valPhotos = groceryPhotos('val');
const singles = part === 'scenes' || part === 'latency' ? [] : args.quick ? valPhotos.filter((_, i) => i % 3 === 0) : valPhotos;
const startedAt = new Date();

const extractor = await createExtractor(config.extractor);
try {
  const catalogs = await scenesCatalogs(extractor, config, { seed, rebuild: args.rebuild, staleCatalog: args['stale-catalog'], ...(args.cache ? { cacheDir: args.cache } : {}) });
  if (part === 'latency') {
    const b = await openCatalog(extractor, config, catalogs.b);
    await timeSideBySide(b);
    await b.close();
  } else await measureAll(catalogs);
} finally {
  await extractor.close();
}

/** Every part but latency: scenes, the open set, coco-sample; the report, the JSON and the picture. */
async function measureAll(catalogs: ScenesCatalogs): Promise<void> {
  const [b, open] = await Promise.all([openCatalog(extractor, config, catalogs.b), openCatalog(extractor, config, catalogs.open)]);
  const latencies = new Map<string, number[]>();
  /** One search, its wall time filed under the photo's size. */
  const search = async (catalog: CatalogSearch, jpeg: Buffer, timed = true): Promise<SearchedPhoto> => {
    const started = performance.now();
    const answer = await catalog.search(jpeg, query);
    if (timed) {
      const shape = `${answer.width}×${answer.height}`;
      const times = latencies.get(shape) ?? [];
      times.push(performance.now() - started);
      latencies.set(shape, times);
    }
    return answer;
  };
  const leftOut = new Set(catalogs.leftOut);
  for (const { path } of valPhotos.slice(0, 3)) await search(b, readFileSync(path), false); // warm-up

  const sceneOutcomes: SceneOutcome[] = [];
  const examples: PictureExample[] = [];
  const scenesBar = progress(`search ${sceneCount} scenes (seed ${seed}) in catalog B`);
  for (let i = 0; i < sceneCount; i++) {
    const { jpeg, ...plan } = await composeScene(seed, i);
    const searched = await search(b, jpeg);
    sceneOutcomes.push(sceneOutcome(plan, searched));
    if (i < PICTURED) examples.push({ plan, jpeg, searched });
    scenesBar.update(i + 1, sceneCount);
  }
  scenesBar.finish();

  const inOpen: SingleOutcome[] = [];
  const inB: SingleOutcome[] = [];
  const singlesBar = progress(`search ${singles.length} single val photos in the open-set catalog and in B`);
  for (const { path, product } of singles) {
    const jpeg = readFileSync(path);
    inOpen.push(singleOutcome(product.name, leftOut.has(product.name), await search(open, jpeg, false)));
    inB.push(singleOutcome(product.name, false, await search(b, jpeg)));
    singlesBar.update(inB.length, singles.length);
  }
  singlesBar.finish();

  const coco = [];
  for (const file of part === 'scenes' ? [] : readdirSync(COCO_DIR).filter((name) => name.endsWith('.jpg')).sort()) {
    const searched = await search(b, readFileSync(join(COCO_DIR, file)), false);
    coco.push({ file, answer: searched.answer.map(({ productId, score }) => ({ productId, score })) });
  }

  const scenes = sceneMetrics(sceneOutcomes);
  const openSet = openSetMetrics(inOpen);
  // In catalog B every product is present: only the in-catalog photos of the open set compare.
  const reference = openSetMetrics(inB.filter((outcome) => !leftOut.has(outcome.productId)));
  const allInB = openSetMetrics(inB);
  const latency: LatencyRow[] = [...latencies]
    .map(([shape, times]) => {
      const sorted = [...times].sort((x, y) => x - y);
      return { shape, searches: sorted.length, p50Ms: percentileOfSorted(sorted, 50), p95Ms: percentileOfSorted(sorted, 95) };
    })
    .sort((x, y) => x.shape.localeCompare(y.shape));
  const coverageByClass = byCoarseClass(sceneOutcomes);
  const result = {
    measuredAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    config: args.config ?? 'config/findthis.json',
    index,
    part,
    k: K,
    seed,
    encoder: extractor.encoder,
    catalogs: { b: b.size(), open: open.size(), leftOut: catalogs.leftOut, stale: catalogs.stale, cached: catalogs.cached },
    scenes,
    openSet: { ...openSet, inCatalogRecallAt1InB: reference.inCatalogRecallAt1, allValRecallAt1InB: allInB.inCatalogRecallAt1 },
    coco: { photos: coco.length, answeredEmpty: coco.filter((photo) => photo.answer.length === 0).length, answers: coco },
    latency,
    coverageByClass,
    sceneOutcomes,
    singles: { open: inOpen, b: inB },
  };
  printReport(result);
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = JSON.stringify(result, null, 2);
  await writeFile(join(RESULTS_DIR, 'scenes.json'), json);
  if (args.json) await writeFile(args.json, json);
  const png = args.png ?? join(PROJECT_ROOT, 'docs', 'scenes-examples.png');
  if (examples.length > 0) await writeFile(png, await scenesPicture(examples));
  process.stderr.write(`wrote ${join(RESULTS_DIR, 'scenes.json')}${examples.length > 0 ? ` and ${png}` : ''}\n`);
  await Promise.all([b.close(), open.close()]);
}

/** `--part latency`: the search before and after issue 9, paired on the same photos (see scenes-latency.ts). */
async function timeSideBySide(catalog: CatalogSearch): Promise<void> {
  const photos: TimedPhoto[] = valPhotos.filter((_, i) => i % 6 === 0).map(({ path }) => ({ shape: '348×348', jpeg: readFileSync(path) }));
  for (let i = 0, found = 0; found < 20 && i < 10_000; i++) {
    const plan = planScene(seed, i);
    if (plan.width !== 1024 || plan.height !== 768) continue;
    photos.push({ shape: '1024×768', jpeg: (await composeScene(seed, i)).jpeg });
    found++;
  }
  for (const { jpeg } of photos.slice(0, 3)) await catalog.search(jpeg, query); // warm-up
  const bar = progress(`time ${photos.length} photos × ${runs} runs, before and after`);
  const rows = await pairedLatency(catalog, photos, query, runs, (done, of) => bar.update(done, of));
  bar.finish();
  const load = loadavg().map((value) => value.toFixed(1)).join(' / ');
  printPairedLatency(rows, `${startedAt.toISOString()}, load average ${load}, ${cpus().length} cores`);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(join(RESULTS_DIR, 'scenes-latency.json'), JSON.stringify({ measuredAt: startedAt.toISOString(), loadAverage: loadavg(), runs, index, rows }, null, 2));
}

/** Coverage and answer recall per coarse class (Apple, Milk, …): where localisation fails. */
function byCoarseClass(outcomes: readonly SceneOutcome[]): Record<string, { products: number; coverage: number; answerRecall: number }> {
  const classes = new Map<string, { products: number; covered: number; answered: number }>();
  for (const outcome of outcomes.flatMap((scene) => scene.products)) {
    const name = products.get(outcome.productId)?.coarseName ?? 'unknown';
    const entry = classes.get(name) ?? { products: 0, covered: 0, answered: 0 };
    entry.products++;
    if (outcome.covered) entry.covered++;
    if (outcome.inAnswer) entry.answered++;
    classes.set(name, entry);
  }
  return Object.fromEntries(
    [...classes]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([name, { products: n, covered, answered }]) => [name, { products: n, coverage: covered / n, answerRecall: answered / n }]),
  );
}

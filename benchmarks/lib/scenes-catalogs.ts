/**
 * The two catalogs bench:scenes searches, cached under benchmarks/results/scenes-catalogs/:
 *   B         the 81 iconic images + the 2,640 train photos, optimized (whitening learned);
 *   open set  B with a seeded quarter of the products (OPEN_SET_LEFT_OUT of 81) removed through
 *             CatalogSearch.removeProduct, then optimized again.
 * Ingesting B takes minutes, so it is cached in two levels:
 *   ingested-<digest>   B as ingested, before optimize. Reused while the extractor behaves the same:
 *                       the digest covers the encoder, the extractor config and what the extractor
 *                       makes of a few catalog photos (labels, boxes, vectors), so a change to
 *                       detection or embedding re-ingests and a change elsewhere does not.
 *   optimized-<digest>  B and the open set, optimized. The digest adds every source file under src/
 *                       except the service and CLI adapters, and the index/whitening config, so a
 *                       change to optimize (e.g. a learned acceptance rule) is picked up for the price
 *                       of two optimizes, not an ingest.
 * A level is written into a temporary directory and renamed into place when complete; older entries
 * of that level are deleted then (a cache shared by worktrees keeps one entry per level). `rebuild`
 * ignores the cache; `staleCatalog` searches the newest ingested catalog even when the extractor now
 * gives other objects (quick looks at a query-side change; the figures then say so).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { FindthisConfig } from '../../src/config/schema.js';
import { SeededRandom } from '../../src/core/prng.js';
import { PROJECT_ROOT } from '../../src/models/manifest.js';
import type { Extractor } from '../../src/pipeline/extractor.js';
import { catalogBPhotos, ingestPhotos, openCatalog } from './grocery-catalog.js';
import { groceryProducts, type GroceryPhoto } from './grocery.js';
import { pickDistinct } from './scenes-compose.js';

/** Products left out of the open-set catalog: a quarter of the 81. */
export const OPEN_SET_LEFT_OUT = 20;

/** Where the catalogs are cached unless the caller names another directory. */
export const DEFAULT_CATALOG_CACHE = join(PROJECT_ROOT, 'benchmarks', 'results', 'scenes-catalogs');
const SRC = join(PROJECT_ROOT, 'src');
/** Source folders that cannot change what a search finds in a given catalog. */
const ADAPTERS = new Set(['service', 'cli']);
/** Catalog photos extracted to tell whether the extractor still gives what the cache holds. */
const PROBES = 6;
const READY = 'ready.json';

export interface ScenesCatalogs {
  /** Data directories, ready for openCatalog. */
  b: string;
  open: string;
  /** Product ids missing from the open-set catalog. */
  leftOut: string[];
  /** The catalogs were ingested by an extractor that now gives other objects (staleCatalog). */
  stale: boolean;
  /** Whether each level came from the cache. */
  cached: { ingested: boolean; optimized: boolean };
}

/** The `count` products left out of the open-set catalog for `seed`. */
export function leftOutProducts(seed: number, count = OPEN_SET_LEFT_OUT): string[] {
  return pickDistinct(
    groceryProducts().map((product) => product.name),
    count,
    new SeededRandom(seed),
  ).sort();
}

export async function scenesCatalogs(
  extractor: Extractor,
  config: Readonly<FindthisConfig>,
  options: { seed: number; rebuild: boolean; cacheDir?: string; staleCatalog?: boolean },
): Promise<ScenesCatalogs> {
  const cacheDir = options.cacheDir ?? DEFAULT_CATALOG_CACHE;
  const leftOut = leftOutProducts(options.seed);
  const photos = catalogBPhotos();
  // Localisation cuts search photos only: catalog photos keep their detections, so it is not part of the key.
  const { localization: _searchOnly, ...catalogExtraction } = config.extractor;
  const ingestKey = digest([extractor.encoder, catalogExtraction, photos.map((photo) => photo.path)]);
  let ingested = join(cacheDir, `ingested-${ingestKey}`);
  const probes = await probe(extractor, photos);
  let ingestedCached = !options.rebuild && sameExtractions(readReady(ingested)?.probes, probes);
  let stale = false;
  if (!ingestedCached && options.staleCatalog) {
    const newest = newestLevel(cacheDir, 'ingested-');
    if (newest) {
      [ingested, ingestedCached, stale] = [newest, true, true];
      process.stderr.write(`STALE CATALOG: ${newest} was ingested by an extractor that gives other objects than this one\n`);
    }
  }
  if (!ingestedCached) {
    await buildLevel(ingested, { probes }, async (dir) => {
      const search = await openCatalog(extractor, config, join(dir, 'b'));
      await ingestPhotos(search, 'catalog B', photos);
      await search.close();
    });
  }

  const optimizeKey = digest([basename(ingested), readReady(ingested)!.builtAt, config.index, config.whitening, config.acceptance, config.search.candidateFactor, leftOut, sourceDigest()]);
  const optimized = join(cacheDir, `optimized-${optimizeKey}`);
  const optimizedCached = !options.rebuild && readReady(optimized) !== undefined;
  if (!optimizedCached) {
    await buildLevel(optimized, {}, async (dir) => {
      cpSync(join(ingested, 'b'), join(dir, 'b'), { recursive: true });
      cpSync(join(ingested, 'b'), join(dir, 'open'), { recursive: true });
      const b = await openCatalog(extractor, config, join(dir, 'b'));
      const learned = await timed('catalog B: optimize', () => b.optimize({ whitening: config.whitening }));
      process.stderr.write(`  ${learned.images} images, ${learned.vectors} vectors, ${learned.transform}\n`);
      await b.close();
      const open = await openCatalog(extractor, config, join(dir, 'open'));
      for (const productId of leftOut) {
        if (!(await open.removeProduct(productId))) throw new Error(`open set: product ${productId} is not in catalog B`);
      }
      await timed(`open set (B without ${leftOut.length} products): optimize`, () => open.optimize({ whitening: config.whitening }));
      await open.close();
    });
  }
  return { b: join(optimized, 'b'), open: join(optimized, 'open'), leftOut, stale, cached: { ingested: ingestedCached, optimized: optimizedCached } };
}

/** Builds a cache level in a scratch directory, renames it into `dir`, and drops older entries of that level. */
async function buildLevel(dir: string, ready: Omit<Ready, 'builtAt'>, build: (scratch: string) => Promise<void>): Promise<void> {
  const scratch = `${dir}.partial`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  await build(scratch);
  writeFileSync(join(scratch, READY), JSON.stringify({ ...ready, builtAt: new Date().toISOString() } satisfies Ready));
  rmSync(dir, { recursive: true, force: true });
  renameSync(scratch, dir);
  const cacheDir = dirname(dir);
  const level = basename(dir).replace(/-[0-9a-f]+$/, '-');
  for (const entry of readdirSync(cacheDir)) {
    if (entry.startsWith(level) && !entry.endsWith('.partial') && join(cacheDir, entry) !== dir) rmSync(join(cacheDir, entry), { recursive: true, force: true });
  }
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  process.stderr.write(`${label}...\n`);
  const result = await run();
  process.stderr.write(`${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return result;
}

function digest(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** A finished cache level's ready.json. */
interface Ready {
  builtAt: string;
  /** Ingested level: what the extractor made of the probe photos when it was built. */
  probes?: ProbeObject[][];
}

interface ProbeObject {
  label: string;
  bbox: number[];
  vector: number[];
}

/** The most recently built complete entry of a level, if any. */
function newestLevel(cacheDir: string, level: string): string | undefined {
  if (!existsSync(cacheDir)) return undefined;
  return readdirSync(cacheDir)
    .filter((entry) => entry.startsWith(level) && readReady(join(cacheDir, entry)))
    .map((entry) => join(cacheDir, entry))
    .sort((x, y) => readReady(x)!.builtAt.localeCompare(readReady(y)!.builtAt))
    .at(-1);
}

function readReady(dir: string): Ready | undefined {
  const file = join(dir, READY);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Ready) : undefined;
}

/** What the extractor makes of PROBES catalog photos spread over B. */
async function probe(extractor: Extractor, photos: readonly GroceryPhoto[]): Promise<ProbeObject[][]> {
  const out: ProbeObject[][] = [];
  for (let i = 0; i < PROBES; i++) {
    const { objects } = await extractor.extract(readFileSync(photos[Math.floor((i * photos.length) / PROBES)]!.path));
    out.push(objects.map(({ label, bbox, vector }) => ({ label, bbox: [...bbox], vector: Array.from(vector) })));
  }
  return out;
}

/**
 * Whether two probe runs found the same objects: same labels, boxes within a pixel, vectors within
 * 1e-4 per component (a tolerance, not a hash: the same code may differ in the last float bits).
 */
function sameExtractions(cached: ProbeObject[][] | undefined, fresh: ProbeObject[][]): boolean {
  if (!cached || cached.length !== fresh.length) return false;
  return fresh.every((objects, i) => {
    const before = cached[i]!;
    return (
      before.length === objects.length &&
      objects.every(
        (object, j) =>
          object.label === before[j]!.label &&
          object.bbox.every((value, d) => Math.abs(value - before[j]!.bbox[d]!) <= 1) &&
          object.vector.length === before[j]!.vector.length &&
          object.vector.every((value, d) => Math.abs(value - before[j]!.vector[d]!) <= 1e-4),
      )
    );
  });
}

/** Hash of every source file under src/ but the adapters' (recursively, in name order). */
function sourceDigest(): string {
  const hash = createHash('sha256');
  const visit = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) if (!(path === SRC && ADAPTERS.has(entry))) visit(join(path, entry));
    } else {
      hash.update(relative(SRC, path)).update(readFileSync(path));
    }
  };
  visit(SRC);
  return hash.digest('hex');
}

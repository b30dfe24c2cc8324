/**
 * Grocery catalogs for the benchmarks that search them (bench:quality, bench:scenes): which photos
 * catalog B holds, and ingesting photos through the same CatalogSearch the service uses.
 */
import { readFileSync } from 'node:fs';
import type { FindthisConfig } from '../../src/config/schema.js';
import { CatalogSearch } from '../../src/pipeline/catalog-search.js';
import type { Extractor } from '../../src/pipeline/extractor.js';
import { groceryPhotos, groceryProducts, type GroceryPhoto } from './grocery.js';
import { progress } from './progress.js';

/** Catalog B: the 81 iconic (web-shop) images, then the 2,640 train store photos. */
export function catalogBPhotos(): GroceryPhoto[] {
  return [...groceryProducts().map((product) => ({ path: product.iconic, product })), ...groceryPhotos('train')];
}

/** Opens (or creates) the catalog in `dataDir` with the config's index, search and acceptance settings. */
export function openCatalog(extractor: Extractor, config: Readonly<FindthisConfig>, dataDir: string): Promise<CatalogSearch> {
  return CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor, acceptance: config.acceptance });
}

/** Ingests each photo under its product's name, showing progress; returns image id → photo path. */
export async function ingestPhotos(search: CatalogSearch, label: string, photos: readonly GroceryPhoto[]): Promise<Map<number, string>> {
  const bar = progress(`${label}: ingest ${photos.length} images`);
  const paths = new Map<number, string>();
  for (const { path, product } of photos) {
    const { imageId } = await search.ingest(product.name, readFileSync(path));
    paths.set(imageId, path);
    bar.update(paths.size, photos.length);
  }
  bar.finish();
  return paths;
}

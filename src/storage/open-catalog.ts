/**
 * The storage backend chosen by config: the embedded catalog (SQLite + in-process indexes in
 * `paths.dataDir`) by default, PostgreSQL with pgvector when `paths.databaseUrl` is set.
 */
import { resolve } from 'node:path';
import type { FindthisConfig } from '../config/schema.js';
import { CatalogSearch } from '../pipeline/catalog-search.js';
import type { CatalogService } from '../pipeline/catalog-service.js';
import type { Extractor } from '../pipeline/extractor.js';
import { PgCatalogSearch } from './pg/pg-catalog-search.js';

export async function openCatalogService(
  extractor: Extractor,
  config: Pick<FindthisConfig, 'paths' | 'index' | 'search' | 'acceptance'>,
  log: (message: string) => void = () => undefined,
): Promise<CatalogService> {
  const common = { index: config.index, candidateFactor: config.search.candidateFactor };
  if (config.paths.databaseUrl) return PgCatalogSearch.open(extractor, { url: config.paths.databaseUrl, ...common, log, acceptance: config.acceptance });
  return CatalogSearch.open(extractor, { dataDir: resolve(config.paths.dataDir), ...common, log, acceptance: config.acceptance });
}

/** Where the catalog lives, for logs: the data folder, or the database URL without its password. */
export function describeStorage(paths: FindthisConfig['paths']): string {
  if (!paths.databaseUrl) return resolve(paths.dataDir);
  const url = new URL(paths.databaseUrl);
  if (url.password) url.password = '***';
  return url.toString();
}

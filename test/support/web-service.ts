/**
 * The real service for driving the web page in Chromium: createApp + listen on a free port, on a
 * temp DATA_DIR with real grocery catalog photos ingested (in-process extractor, real models).
 * Used by test/web.test.ts and by `npm run docs:screenshot`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../src/config/load.js';
import { CatalogSearch } from '../../src/pipeline/catalog-search.js';
import { createExtractor } from '../../src/pipeline/extractor.js';
import { createApp } from '../../src/service/app.js';
import { createLogger } from '../../src/service/log.js';
import { ServiceMetrics } from '../../src/service/metrics.js';

/** Debian's Chromium (package `chromium`), which playwright-core drives instead of a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

export interface CatalogPhoto {
  id: string;
  path: string;
  metadata?: Record<string, unknown>;
}

export interface WebService {
  url: string;
  catalogSearch: CatalogSearch;
  close(): Promise<void>;
}

/** `apiKeys`: when given, writes need one of them as `Authorization: Bearer`. */
export async function startWebService(photos: CatalogPhoto[], apiKeys: readonly string[] = []): Promise<WebService> {
  const config = loadConfig({ env: {} });
  const dataDir = mkdtempSync(join(tmpdir(), 'findthis-web-'));
  const extractor = await createExtractor(config.extractor);
  const catalogSearch = await CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
  for (const photo of photos) await catalogSearch.ingest(photo.id, readFileSync(photo.path), photo.metadata);
  const service = createApp({ server: config.server, apiKeys, search: config.search, metrics: new ServiceMetrics(new Registry()), log: createLogger('error'), catalogSearch });
  const server: Server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    catalogSearch,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await catalogSearch.close();
      await extractor.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM });
}

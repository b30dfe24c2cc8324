/**
 * `npm start`: load the config, listen at once (so /healthz answers 503 while loading), load the
 * models, open the catalog and its indexes, then serve. SIGTERM/SIGINT: stop accepting, finish the
 * requests in flight, save the indexes, close the catalog and the models, exit 0.
 */
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { isFindthisError } from '../core/errors.js';
import { loadApiKeys } from '../config/api-keys.js';
import { loadConfig } from '../config/load.js';
import type { CatalogService } from '../pipeline/catalog-service.js';
import { describeStorage, openCatalogService } from '../storage/open-catalog.js';
import type { Extractor } from '../pipeline/extractor.js';
import { createExtractorPool } from '../pipeline/extractor-pool.js';
import { createApp } from './app.js';
import { createHttpServer, listen } from './http-server.js';
import { createLogger, type Logger } from './log.js';
import { ServiceMetrics } from './metrics.js';
import { openWritesWarning } from './security.js';

async function main(): Promise<void> {
  let config;
  let apiKeys;
  try {
    config = loadConfig();
    apiKeys = loadApiKeys();
  } catch (error) {
    process.stderr.write(`findthis: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.server.logLevel);
  const metrics = new ServiceMetrics(new Registry());
  const service = createApp({ server: config.server, apiKeys, search: config.search, whitening: config.whitening, metrics, log });
  const server = await listen(createHttpServer(service.app, config.server), config.server.port, config.server.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? 'localhost' : config.server.host;
  log.info(`findthis listening on http://${host}:${port} (loading models and indexes; /healthz is 503 until ready)`);
  const warning = openWritesWarning(config.server.host, apiKeys);
  if (warning) log.warn(warning);

  let extractor: Extractor | undefined;
  let catalogSearch: CatalogService | undefined;
  let stopping = false;

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: finishing in-flight requests, then saving and exiting`);
    setTimeout(() => {
      log.error(`shutdown took longer than ${config.server.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, config.server.shutdownTimeoutMs).unref();
    try {
      await closeServer(server);
      await service.queue.idle();
      await catalogSearch?.close();
      await extractor?.close();
      log.info('stopped cleanly');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  try {
    extractor = await createExtractorPool(config.server.extractorThreads, config.extractor, config.paths.modelsDir ? { modelsDir: config.paths.modelsDir } : {});
    catalogSearch = await openCatalogService(extractor, config, (message) => log.info(message));
  } catch (error) {
    fail(log, error);
    await extractor?.close();
    process.exit(1);
  }
  if (stopping) return;
  service.ready(catalogSearch);
  const size = await catalogSearch.size();
  log.info({ storage: describeStorage(config.paths), products: size.products, vectors: size.vectors, encoder: extractor.encoder.model }, 'ready');
}

/** Stops accepting; resolves once every in-flight request is answered (idle keep-alive sockets are closed). */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close((error) => {
      clearInterval(sweep);
      if (error) reject(error);
      else resolvePromise();
    });
    server.closeIdleConnections();
  });
}

function fail(log: Logger, error: unknown): void {
  if (isFindthisError(error)) log.error(`cannot start: ${error.code}: ${error.message}`);
  else log.error({ err: error }, 'cannot start');
}

await main();

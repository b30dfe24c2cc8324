/**
 * `npm run ingest -- <dir>`: adds every image under <dir> to the catalog in DATA_DIR. The product id is
 * the image's folder name (or its file name, for images directly in <dir>). Errors are listed, not
 * fatal; the exit code is 1 only when nothing could be ingested, 2 for bad usage.
 * While the service runs on the same DATA_DIR (whose lock refuses a second writer), `--url <service>`
 * adds the images through the service's API instead. `--concurrency N` ingests N images at once: on
 * N extractor threads here, or as N requests in flight to the service (the batch path).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { FindthisError, invalidParameter, isFindthisError } from '../core/errors.js';
import { EXIT_NOTHING_DONE, IMAGE_EXTENSIONS, describeError, exitWithError, listImages, openCatalog, productIdFor, startProgress, writeStdout } from './common.js';
import { serviceIngester, type Ingester } from './service-client.js';

const USAGE =
  'usage: npm run ingest -- <dir> [--url http://localhost:8080] [--concurrency N]   (env DATA_DIR, MODELS_DIR, FINDTHIS_CONFIG; with --url: FINDTHIS_API_KEY)';
/** Most images in flight at once (--concurrency): each is an extractor thread, or a request to the service. */
const MAX_CONCURRENCY = 64;

/** The catalog in DATA_DIR, opened here (models loaded in this process, or on `threads` worker threads). */
async function localIngester(threads: number): Promise<Ingester> {
  const opened = await openCatalog(undefined, threads);
  const { catalogSearch } = opened;
  return {
    async ingest(productId, image) {
      const result = await catalogSearch.ingest(productId, image);
      return { createdProduct: result.createdProduct, objects: result.objects.length };
    },
    async size() {
      const size = catalogSearch.size();
      return `${size.products} products, ${size.vectors} vectors`;
    },
    close: () => opened.close(),
  };
}

async function main(): Promise<void> {
  let root: string;
  let url: string | undefined;
  let concurrency: number;
  try {
    const { positionals, values } = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: { url: { type: 'string' }, concurrency: { type: 'string', default: '1' } },
    });
    url = values.url;
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw invalidParameter('--concurrency', `an integer from 1 to ${MAX_CONCURRENCY}`, values.concurrency);
    }
    if (positionals.length !== 1) throw invalidParameter('arguments', `one folder (${USAGE})`, positionals.join(' '));
    root = resolve(positionals[0] as string);
    if (!existsSync(root)) throw invalidParameter('<dir>', 'an existing folder', positionals[0]);
  } catch (error) {
    exitWithError(error);
  }
  const files = listImages(root);
  if (files.length === 0) {
    process.stderr.write(`error: no images (${[...IMAGE_EXTENSIONS].join(' ')}) under ${root}\n`);
    process.exit(EXIT_NOTHING_DONE);
  }

  let ingester: Ingester;
  try {
    ingester = url ? await serviceIngester(url) : await localIngester(concurrency);
  } catch (error) {
    if (isFindthisError(error) && error.code === 'DATA_DIR_LOCKED') {
      exitWithError(new FindthisError(error.code, `${error.message}. While the service runs, ingest through it: npm run ingest -- <dir> --url http://localhost:8080`));
    }
    exitWithError(error);
  }
  const progress = startProgress(files.length, 'ingest');
  const errors: string[] = [];
  const products = new Set<string>();
  let newProducts = 0;
  let objects = 0;
  const started = performance.now();
  const ingestFile = async (file: string): Promise<void> => {
    const name = relative(root, file);
    const productId = productIdFor(root, file);
    try {
      const result = await ingester.ingest(productId, await readFile(file), file);
      products.add(productId);
      if (result.createdProduct) newProducts += 1;
      objects += result.objects;
    } catch (error) {
      errors.push(`${name} (product ${productId}): ${describeError(error)}`);
    }
    progress.tick(name);
  };
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, async () => {
    for (let i = next++; i < files.length; i = next++) await ingestFile(files[i]!);
  }));
  errors.sort();
  progress.stop();
  const seconds = (performance.now() - started) / 1000;
  const ingested = files.length - errors.length;
  const size = await ingester.size();
  await ingester.close();

  await writeStdout(
    `ingested ${ingested}/${files.length} images (${objects} objects) into ${products.size} products (${newProducts} new) ` +
      `in ${seconds.toFixed(1)} s, ${(ingested / seconds).toFixed(1)} images/s; catalog now ${size}\n`,
  );
  if (errors.length > 0) {
    await writeStdout(`${errors.length} error(s):\n${errors.map((line) => `  ${line}`).join('\n')}\n`);
  }
  process.exit(ingested === 0 ? EXIT_NOTHING_DONE : 0);
}

await main();

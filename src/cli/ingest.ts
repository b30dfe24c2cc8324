/**
 * `npm run ingest -- <dir>`: adds every image under <dir> to the catalog in DATA_DIR. The product id is
 * the image's folder name (or its file name, for images directly in <dir>). Errors are listed, not
 * fatal; the exit code is 1 only when nothing could be ingested, 2 for bad usage.
 * Do not run it while the service uses the same DATA_DIR: the catalog's lock file refuses that.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { invalidParameter } from '../core/errors.js';
import { EXIT_NOTHING_DONE, IMAGE_EXTENSIONS, describeError, exitWithError, listImages, openCatalog, productIdFor, startProgress, writeStdout } from './common.js';

const USAGE = 'usage: npm run ingest -- <dir>   (env DATA_DIR, MODELS_DIR, FINDTHIS_CONFIG)';

async function main(): Promise<void> {
  let root: string;
  try {
    const { positionals } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: {} });
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

  let opened;
  try {
    opened = await openCatalog();
  } catch (error) {
    exitWithError(error);
  }
  const { catalogSearch } = opened;
  const progress = startProgress(files.length, 'ingest');
  const errors: string[] = [];
  const products = new Set<string>();
  let newProducts = 0;
  let objects = 0;
  const started = performance.now();
  for (const file of files) {
    const name = relative(root, file);
    const productId = productIdFor(root, file);
    try {
      const result = await catalogSearch.ingest(productId, await readFile(file));
      products.add(productId);
      if (result.createdProduct) newProducts += 1;
      objects += result.objects.length;
    } catch (error) {
      errors.push(`${name} (product ${productId}): ${describeError(error)}`);
    }
    progress.tick(name);
  }
  progress.stop();
  const seconds = (performance.now() - started) / 1000;
  const ingested = files.length - errors.length;
  const size = catalogSearch.size();
  await opened.close();

  await writeStdout(
    `ingested ${ingested}/${files.length} images (${objects} objects) into ${products.size} products (${newProducts} new) ` +
      `in ${seconds.toFixed(1)} s, ${(ingested / seconds).toFixed(1)} images/s; catalog now ${size.products} products, ${size.vectors} vectors\n`,
  );
  if (errors.length > 0) {
    await writeStdout(`${errors.length} error(s):\n${errors.map((line) => `  ${line}`).join('\n')}\n`);
  }
  process.exit(ingested === 0 ? EXIT_NOTHING_DONE : 0);
}

await main();

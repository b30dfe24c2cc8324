/**
 * `npm run optimize -- [--no-whitening] [--whitening-from <dir>]`: what POST /v1/index/optimize does,
 * on the catalog in DATA_DIR: learn whitening (config `whitening`) and rebuild every index.
 *   --no-whitening          rebuild from raw vectors and forget any learned whitening;
 *   --whitening-from <dir>  also learn from a folder of labelled photos (one sub-folder per product id):
 *                           the way to whiten a catalog that has one image per product. The photos
 *                           are embedded for learning only, not added to the catalog.
 * Do not run it while the service uses the same DATA_DIR (the catalog's lock refuses that).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FindthisError, invalidParameter } from '../core/errors.js';
import type { LabelledVector } from '../embedding/whitening.js';
import type { CatalogSearch } from '../pipeline/catalog-search.js';
import { describeError, exitWithError, listImages, openCatalog, productIdFor, startProgress, writeStdout } from './common.js';

const USAGE = 'usage: npm run optimize -- [--no-whitening] [--whitening-from <dir>]   (env DATA_DIR, MODELS_DIR, FINDTHIS_CONFIG)';

async function main(): Promise<void> {
  let noWhitening: boolean;
  let from: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: { 'no-whitening': { type: 'boolean', default: false }, 'whitening-from': { type: 'string' } },
    });
    if (positionals.length > 0) throw invalidParameter('arguments', `no positional arguments (${USAGE})`, positionals.join(' '));
    noWhitening = values['no-whitening'] === true;
    from = values['whitening-from'] === undefined ? undefined : resolve(values['whitening-from']);
    if (noWhitening && from) throw invalidParameter('flags', 'either --no-whitening or --whitening-from', 'both');
    if (from && !existsSync(from)) throw invalidParameter('--whitening-from', 'an existing folder', values['whitening-from']);
  } catch (error) {
    exitWithError(error);
  }

  let opened;
  try {
    opened = await openCatalog();
  } catch (error) {
    exitWithError(error);
  }
  try {
    const { config, catalogSearch } = opened;
    const whitening = noWhitening || !config.whitening.enabled ? false : config.whitening;
    const samples = from && whitening ? await embedLabelledPhotos(catalogSearch, from) : undefined;
    process.stderr.write(whitening ? 'learning whitening and rebuilding the indexes...\n' : 'rebuilding the indexes from raw vectors...\n');
    const result = await catalogSearch.optimize({ whitening, ...(samples ? { samples } : {}) });
    await writeStdout(
      `${result.products} products, ${result.images} images, ${result.vectors} vectors indexed as ${result.transform} in ${(result.ms / 1000).toFixed(1)} s` +
        (result.whitening
          ? `; whitening to ${result.whitening.dimensions} dims learned from ${result.whitening.vectors} photos of ${result.whitening.products} products`
          : '') +
        (result.skipped ? `; ${result.skipped}` : '') +
        '\n',
    );
  } catch (error) {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exitCode = 2;
  } finally {
    await opened.close();
  }
}

/** The whole-image vector of every photo under `root`, labelled with its sub-folder (product). */
async function embedLabelledPhotos(catalogSearch: CatalogSearch, root: string): Promise<LabelledVector[]> {
  const files = listImages(root);
  const progress = startProgress(files.length, 'embed');
  const samples: LabelledVector[] = [];
  for (const file of files) {
    try {
      const { objects } = await catalogSearch.extractor.extract(await readFile(file));
      samples.push({ group: productIdFor(root, file), vector: objects[0]!.vector });
    } catch (error) {
      process.stderr.write(`skipped ${relative(root, file)}: ${describeError(error)}\n`);
    }
    progress.tick(relative(root, file));
  }
  progress.stop();
  if (samples.length === 0) throw new FindthisError('INVALID_FIELD', `No usable image under ${root}`);
  return samples;
}

await main();

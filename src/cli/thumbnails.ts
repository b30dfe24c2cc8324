/**
 * `npm run thumbnails -- <dir>`: fills the thumbnails of catalog images ingested before thumbnails
 * were kept. findthis does not keep originals, so it finds them again: every image file under <dir>
 * is hashed, and one whose sha256 is that of a stored image without a thumbnail gives it one.
 * Exit 0 when no stored image is left without a thumbnail, 1 when some still are, 2 for bad usage.
 * Like ingest, it must not run while the service uses the same DATA_DIR.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CATALOG_FILE } from '../catalog/backup.js';
import { Catalog } from '../catalog/catalog.js';
import type { ImageWithoutThumbnail } from '../catalog/thumbnails.js';
import { loadConfig } from '../config/load.js';
import { invalidParameter } from '../core/errors.js';
import { makeThumbnail } from '../imaging/thumbnail.js';
import { EXIT_NOTHING_DONE, describeError, exitWithError, listImages, startProgress, writeStdout } from './common.js';

const USAGE = 'usage: npm run thumbnails -- <dir with the original catalog images>   (env DATA_DIR, FINDTHIS_CONFIG)';
/** Stored images still without a thumbnail listed at the end, at most. */
const LISTED = 20;

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
  // The catalog alone, under the encoder it was built with: no model is loaded, no vector written.
  let catalog: Catalog;
  try {
    catalog = Catalog.openExisting(join(resolve(loadConfig().paths.dataDir), CATALOG_FILE));
  } catch (error) {
    exitWithError(error);
  }
  const { thumbnails } = catalog;
  const missing = thumbnails.missing();
  // sha256 → the stored images with those bytes (one file can have been ingested under several products)
  const wanted = new Map<string, ImageWithoutThumbnail[]>();
  for (const image of missing) {
    if (image.sha256) wanted.set(image.sha256, [...(wanted.get(image.sha256) ?? []), image]);
  }
  const files = missing.length > 0 ? listImages(root) : [];
  const progress = startProgress(files.length, 'thumbnails');
  const errors: string[] = [];
  let filled = 0;
  for (const file of files) {
    if (wanted.size === 0) break;
    const bytes = await readFile(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const images = wanted.get(sha256);
    if (images) {
      try {
        const thumbnail = await makeThumbnail(bytes);
        for (const image of images) thumbnails.put(image.imageId, thumbnail);
        filled += images.length;
        wanted.delete(sha256);
      } catch (error) {
        errors.push(`${relative(root, file)}: ${describeError(error)}`);
      }
    }
    progress.tick(relative(root, file));
  }
  progress.stop();
  catalog.close();

  const left = missing.length - filled;
  const lines = [`filled ${filled} of ${missing.length} missing thumbnails from ${files.length} files under ${root}`];
  if (left > 0) {
    const unmatched = [...wanted.values()].flat().concat(missing.filter((image) => !image.sha256));
    lines.push(`${left} image(s) still without a thumbnail (their original file is not under ${root}):`);
    for (const image of unmatched.slice(0, LISTED)) lines.push(`  image ${image.imageId} (product ${image.productId})`);
    if (unmatched.length > LISTED) lines.push(`  ... and ${unmatched.length - LISTED} more`);
  }
  if (errors.length > 0) lines.push(`${errors.length} error(s):`, ...errors.map((line) => `  ${line}`));
  await writeStdout(`${lines.join('\n')}\n`);
  process.exit(left === 0 ? 0 : EXIT_NOTHING_DONE);
}

await main();

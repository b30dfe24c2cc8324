/** Paths into the shared grocery dataset (../shared/datasets/grocery), for benchmarks and tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/models/manifest.js';

export const GROCERY_DIR = join(PROJECT_ROOT, '..', 'shared', 'datasets', 'grocery');
export const ICONIC_DIR = join(GROCERY_DIR, 'iconic-images-and-descriptions');

/** Product name → its iconic (catalog) image path, from classes.csv. */
export function iconicImages(): Map<string, string> {
  const lines = readFileSync(join(GROCERY_DIR, 'classes.csv'), 'utf8').trim().split('\n').slice(1);
  return new Map(
    lines.map((line) => {
      const [name, , , , iconic] = line.split(',');
      return [name as string, join(GROCERY_DIR, (iconic as string).replace(/^\//, ''))];
    }),
  );
}

/** The val photos as [path, product name], in val.txt order. */
export function valPhotos(): Array<[path: string, product: string]> {
  const names = [...iconicImages().keys()];
  return readFileSync(join(GROCERY_DIR, 'val.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [path, productId] = line.split(',').map((part) => part.trim());
      return [join(GROCERY_DIR, path as string), names[Number(productId)] as string];
    });
}

/** Paths into the shared grocery dataset (../shared/datasets/grocery), for benchmarks and tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/models/manifest.js';

export const GROCERY_DIR = join(PROJECT_ROOT, '..', 'shared', 'datasets', 'grocery');
export const ICONIC_DIR = join(GROCERY_DIR, 'iconic-images-and-descriptions');

export interface GroceryProduct {
  /** Product name, e.g. `Granny-Smith`: the catalog's product id in benchmarks and tests. */
  name: string;
  id: number;
  /** Coarse class, e.g. `Apple`. */
  coarseName: string;
  coarseId: number;
  /** The web-shop catalog photo. */
  iconic: string;
}

export interface GroceryPhoto {
  /** A store photo. */
  path: string;
  product: GroceryProduct;
}

/** The 81 products of classes.csv, in product-id order. */
export function groceryProducts(): GroceryProduct[] {
  const lines = readFileSync(join(GROCERY_DIR, 'classes.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [name, id, coarseName, coarseId, iconic] = line.split(',');
    return {
      name: name as string,
      id: Number(id),
      coarseName: coarseName as string,
      coarseId: Number(coarseId),
      iconic: join(GROCERY_DIR, (iconic as string).replace(/^\//, '')),
    };
  });
}

/** The store photos of a split (train.txt or val.txt), in file order. */
export function groceryPhotos(split: 'train' | 'val'): GroceryPhoto[] {
  const products = groceryProducts();
  return readFileSync(join(GROCERY_DIR, `${split}.txt`), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [path, productId] = line.split(',').map((part) => part.trim());
      return { path: join(GROCERY_DIR, path as string), product: products[Number(productId)] as GroceryProduct };
    });
}

/** Product name → its iconic (catalog) image path. */
export function iconicImages(): Map<string, string> {
  return new Map(groceryProducts().map((product) => [product.name, product.iconic]));
}

/** The val photos as [path, product name], in val.txt order. */
export function valPhotos(): Array<[path: string, product: string]> {
  return groceryPhotos('val').map(({ path, product }) => [path, product.name]);
}

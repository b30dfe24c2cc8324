/**
 * Seeded multi-product scenes for bench:scenes and tests: 2–5 distinct grocery products, each a
 * val store photo, pasted at random sizes and places on a plain background (issue 9).
 *
 * `planScene(seed, index)` is a pure function of its arguments (and val.txt): the same seed and
 * index give the same canvas, background, products, photos and rectangles on every machine.
 * `composeScene` renders a plan with sharp into a JPEG.
 *
 * Sizes: each product is a square (the val photos are 348×348) whose side is a uniform 25–45% of
 * the canvas's SHORTER side, so every size fits on every canvas shape and a product's share of the
 * photo does not depend on whether the canvas is landscape or portrait.
 * Overlap: a placement is rejected when its intersection with an already placed product exceeds
 * MAX_OVERLAP of either one's area, so every product stays mostly visible (later products are
 * pasted over earlier ones).
 */
import { readFileSync } from 'node:fs';
import sharp, { type OverlayOptions } from 'sharp';
import { SeededRandom } from '../../src/core/prng.js';
import type { BBox } from '../../src/core/types.js';
import { groceryPhotos, type GroceryPhoto } from './grocery.js';

/** Canvas shapes (width × height), a smaller one included. */
export const SCENE_CANVASES: ReadonlyArray<readonly [width: number, height: number]> = [
  [1024, 768],
  [768, 1024],
  [1024, 1024],
  [1280, 720],
  [640, 480],
];

/** Plain backgrounds: white, light grey, dark grey, beige, pale blue. */
export const SCENE_BACKGROUNDS = ['#ffffff', '#d9d9d9', '#505050', '#efe4cc', '#d6e6f5'] as const;

export const MIN_PRODUCTS = 2;
export const MAX_PRODUCTS = 5;
/** Product side as a share of the canvas's shorter side. */
export const MIN_SIDE_SHARE = 0.25;
export const MAX_SIDE_SHARE = 0.45;
/** Largest intersection with another product, as a share of either product's area. */
export const MAX_OVERLAP = 0.1;
/** Random placements tried per product (a fresh size each time) before the scene goes without it. */
const PLACEMENT_TRIES = 400;
export const SCENE_JPEG_QUALITY = 90;

export interface ScenePlacement {
  /** The product's name (its catalog product id in benchmarks). */
  productId: string;
  /** The val photo pasted. */
  photo: string;
  /** Where it lies on the canvas, in pixels: left, top, right, bottom. */
  bbox: BBox;
}

export interface ScenePlan {
  seed: number;
  index: number;
  width: number;
  height: number;
  background: string;
  products: ScenePlacement[];
}

export interface Scene extends ScenePlan {
  jpeg: Buffer;
}

let valByProduct: Map<string, GroceryPhoto[]> | undefined;

/** The val photos grouped by product, in val.txt order (products in classes.csv order). */
function valPhotosByProduct(): Map<string, GroceryPhoto[]> {
  if (!valByProduct) {
    valByProduct = new Map();
    for (const photo of groceryPhotos('val')) {
      const list = valByProduct.get(photo.product.name) ?? [];
      list.push(photo);
      valByProduct.set(photo.product.name, list);
    }
  }
  return valByProduct;
}

/** One generator per (seed, index): scenes do not depend on which other scenes were drawn. */
function sceneRandom(seed: number, index: number): SeededRandom {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return new SeededRandom(h ^ (h >>> 15));
}

/** The scene's layout: canvas, background, products and their rectangles. Pure. */
export function planScene(seed: number, index: number): ScenePlan {
  const random = sceneRandom(seed, index);
  const [width, height] = SCENE_CANVASES[random.nextInt(SCENE_CANVASES.length)]!;
  const background = SCENE_BACKGROUNDS[random.nextInt(SCENE_BACKGROUNDS.length)]!;
  const byProduct = valPhotosByProduct();
  const names = [...byProduct.keys()];
  const count = MIN_PRODUCTS + random.nextInt(MAX_PRODUCTS - MIN_PRODUCTS + 1);
  const shorter = Math.min(width, height);
  const products: ScenePlacement[] = [];
  for (const productId of pickDistinct(names, count, random)) {
    const photos = byProduct.get(productId)!;
    const photo = photos[random.nextInt(photos.length)]!.path;
    for (let attempt = 0; attempt < PLACEMENT_TRIES; attempt++) {
      const side = Math.round(shorter * (MIN_SIDE_SHARE + random.next() * (MAX_SIDE_SHARE - MIN_SIDE_SHARE)));
      const x = random.nextInt(width - side + 1);
      const y = random.nextInt(height - side + 1);
      const bbox: BBox = [x, y, x + side, y + side];
      if (products.every((placed) => !overlapsTooMuch(bbox, placed.bbox))) {
        products.push({ productId, photo, bbox });
        break;
      }
    }
  }
  return { seed, index, width, height, background, products };
}

/** `count` distinct items, drawn without replacement (partial Fisher–Yates). */
export function pickDistinct<T>(items: readonly T[], count: number, random: SeededRandom): T[] {
  const pool = [...items];
  const picked: T[] = [];
  for (let i = 0; i < count && pool.length > 0; i++) {
    const j = random.nextInt(pool.length);
    picked.push(pool[j]!);
    pool[j] = pool[pool.length - 1]!;
    pool.pop();
  }
  return picked;
}

export function boxArea([x1, y1, x2, y2]: BBox): number {
  return Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
}

export function intersectionArea(a: BBox, b: BBox): number {
  return boxArea([Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])]);
}

/** Whether the two boxes share more than MAX_OVERLAP of either one's area. */
export function overlapsTooMuch(a: BBox, b: BBox): boolean {
  const shared = intersectionArea(a, b);
  return shared > MAX_OVERLAP * boxArea(a) || shared > MAX_OVERLAP * boxArea(b);
}

/** Renders a plan: each photo resized to its rectangle and pasted in order, JPEG quality 90. */
export async function renderScene(plan: ScenePlan): Promise<Buffer> {
  const layers: OverlayOptions[] = await Promise.all(
    plan.products.map(async ({ photo, bbox: [x1, y1, x2, y2] }) => ({
      input: await sharp(readFileSync(photo)).rotate().resize(x2 - x1, y2 - y1, { fit: 'fill' }).toBuffer(),
      left: x1,
      top: y1,
    })),
  );
  return sharp({ create: { width: plan.width, height: plan.height, channels: 3, background: plan.background } })
    .composite(layers)
    .jpeg({ quality: SCENE_JPEG_QUALITY })
    .toBuffer();
}

/** Scene `index` of the series `seed`: its plan and its JPEG. */
export async function composeScene(seed: number, index: number): Promise<Scene> {
  const plan = planScene(seed, index);
  return { ...plan, jpeg: await renderScene(plan) };
}

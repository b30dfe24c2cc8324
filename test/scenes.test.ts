import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  MAX_OVERLAP,
  MAX_PRODUCTS,
  MAX_SIDE_SHARE,
  MIN_PRODUCTS,
  MIN_SIDE_SHARE,
  SCENE_CANVASES,
  boxArea,
  composeScene,
  intersectionArea,
  planScene,
} from '../benchmarks/lib/scenes-compose.js';

describe('scene composer (bench:scenes)', () => {
  const plans = Array.from({ length: 200 }, (_, index) => planScene(7, index));

  it('gives the same scene for the same seed and index, and other scenes for others', async () => {
    expect(planScene(7, 3)).toEqual(plans[3]);
    expect(planScene(8, 3)).not.toEqual(plans[3]);
    expect(plans[4]).not.toEqual(plans[3]);
    const [a, b] = await Promise.all([composeScene(7, 3), composeScene(7, 3)]);
    expect(a.jpeg.equals(b.jpeg)).toBe(true);
    const meta = await sharp(a.jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', plans[3]!.width, plans[3]!.height]);
  });

  it('places 2–5 distinct products inside the canvas, sized and barely overlapping as documented', () => {
    const shapes = new Set<string>();
    const counts = new Set<number>();
    for (const plan of plans) {
      shapes.add(`${plan.width}x${plan.height}`);
      counts.add(plan.products.length);
      expect(plan.products.length).toBeGreaterThanOrEqual(MIN_PRODUCTS);
      expect(plan.products.length).toBeLessThanOrEqual(MAX_PRODUCTS);
      expect(new Set(plan.products.map((p) => p.productId)).size).toBe(plan.products.length);
      const shorter = Math.min(plan.width, plan.height);
      for (const [i, { bbox }] of plan.products.entries()) {
        const [x1, y1, x2, y2] = bbox;
        expect(x1).toBeGreaterThanOrEqual(0);
        expect(y1).toBeGreaterThanOrEqual(0);
        expect(x2).toBeLessThanOrEqual(plan.width);
        expect(y2).toBeLessThanOrEqual(plan.height);
        expect(x2 - x1).toBe(y2 - y1);
        expect(x2 - x1).toBeGreaterThanOrEqual(Math.floor(MIN_SIDE_SHARE * shorter));
        expect(x2 - x1).toBeLessThanOrEqual(Math.ceil(MAX_SIDE_SHARE * shorter));
        for (const other of plan.products.slice(0, i)) {
          const shared = intersectionArea(bbox, other.bbox);
          expect(shared).toBeLessThanOrEqual(MAX_OVERLAP * Math.min(boxArea(bbox), boxArea(other.bbox)));
        }
      }
    }
    expect(shapes.size).toBe(SCENE_CANVASES.length);
    expect(counts).toEqual(new Set([2, 3, 4, 5]));
  });

  it('shows each product where its rectangle says', async () => {
    const scene = await composeScene(7, 0);
    const { data, info } = await sharp(scene.jpeg).raw().toBuffer({ resolveWithObject: true });
    const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(scene.background.slice(i, i + 2), 16));
    const differsFromBackground = (x: number, y: number) => {
      const at = (y * info.width + x) * info.channels;
      return Math.abs(data[at]! - r!) + Math.abs(data[at + 1]! - g!) + Math.abs(data[at + 2]! - b!) > 30;
    };
    // The last product pasted is fully visible: most of its pixels differ from the plain background.
    const [x1, y1, x2, y2] = scene.products.at(-1)!.bbox;
    let differing = 0;
    let total = 0;
    for (let y = y1; y < y2; y += 4) {
      for (let x = x1; x < x2; x += 4, total++) if (differsFromBackground(x, y)) differing++;
    }
    expect(differing / total).toBeGreaterThan(0.5);
    // A corner strip outside every rectangle is background.
    const free = [...Array(info.width).keys()].find((x) => scene.products.every(({ bbox }) => x < bbox[0] || x >= bbox[2]));
    if (free !== undefined) expect(differsFromBackground(free, Math.floor(info.height / 2))).toBe(false);
  });
});

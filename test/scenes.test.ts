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
import { auroc, openSetMetrics, sceneMetrics, sceneOutcome, singleOutcome } from '../benchmarks/lib/scenes-metrics.js';

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

describe('scene measures (bench:scenes)', () => {
  const plan = planScene(7, 0);
  const [first, second] = plan.products;
  const centredOn = ([x1, y1, x2, y2]: readonly number[], size = 20): [number, number, number, number] => {
    const [cx, cy] = [(x1! + x2!) / 2, (y1! + y2!) / 2];
    return [cx - size, cy - size, cx + size, cy + size];
  };

  it('credits a product with a region only when the region is centred on it, at the rank it got there', () => {
    const whole = { kind: 'whole' as const, label: 'image', bbox: [0, 0, plan.width, plan.height] as [number, number, number, number], matches: [{ productId: first!.productId, score: 0.9 }] };
    const outcome = sceneOutcome(plan, {
      objects: [
        whole,
        { kind: 'region' as const, label: 'apple', bbox: centredOn(first!.bbox), matches: [{ productId: 'Other', score: 0.8 }, { productId: first!.productId, score: 0.7 }] },
        // A large region spilling over the second product but centred on the first.
        { kind: 'region' as const, label: 'orange', bbox: centredOn(first!.bbox, 2000), matches: [{ productId: second!.productId, score: 0.6 }] },
      ],
      answer: [{ productId: first!.productId, score: 0.9 }, { productId: 'Other', score: 0.8 }],
    });
    expect(outcome.products[0]).toEqual({ productId: first!.productId, covered: true, regionRank: 1, inAnswer: true });
    expect(outcome.products[1]).toMatchObject({ covered: false, regionRank: null, inAnswer: false });
    const metrics = sceneMetrics([outcome]);
    expect(metrics.coverage).toBeCloseTo(1 / plan.products.length);
    expect([metrics.regionRecallAt1, metrics.regionRecallAt5 * plan.products.length, metrics.answerPrecision]).toEqual([0, 1, 0.5]);
  });

  it('scores the open set from the raw top score and reads an empty answer as "no match"', () => {
    expect(auroc([0.9, 0.8], [0.7, 0.8])).toBeCloseTo(0.875);
    const photo = (score: number, answer: string[]) => ({
      objects: [{ kind: 'whole' as const, label: 'image', bbox: [0, 0, 348, 348] as [number, number, number, number], matches: [{ productId: 'A', score }] }],
      answer: answer.map((productId) => ({ productId, score })),
    });
    const metrics = openSetMetrics([
      singleOutcome('A', false, photo(0.9, ['A'])),
      singleOutcome('B', false, photo(0.6, [])),
      singleOutcome('C', true, photo(0.5, [])),
      singleOutcome('D', true, photo(0.7, ['A'])),
    ]);
    expect(metrics).toMatchObject({ auroc: 0.75, missingAnsweredEmpty: 0.5, inCatalogAnsweredEmpty: 0.5, inCatalogRecallAt1: 0.5, inCatalogRecallAt1Unjudged: 0.5 });
  });

  it('reads in-catalog recall@1 unjudged from every object\'s matches, merged as the answer is', () => {
    const whole = { kind: 'whole' as const, label: 'image', bbox: [0, 0, 348, 348] as [number, number, number, number] };
    const region = { kind: 'region' as const, label: 'object', bbox: [10, 10, 100, 100] as [number, number, number, number] };
    // Turned down: the whole photo's B would have answered, right.
    const turnedDown = singleOutcome('B', false, { objects: [{ ...whole, matches: [{ productId: 'B', score: 0.6 }] }], answer: [] });
    // A region's 0.9 for C, discounted by 0.2, loses to the whole photo's 0.75 for A.
    const discounted = singleOutcome('C', false, {
      objects: [{ ...whole, matches: [{ productId: 'A', score: 0.75 }] }, { ...region, matches: [{ productId: 'C', score: 0.9 }] }],
      answer: [{ productId: 'A', score: 0.75 }],
    });
    expect([turnedDown.unjudgedFirst, discounted.unjudgedFirst]).toEqual(['B', 'A']);
    const metrics = openSetMetrics([turnedDown, discounted]);
    expect([metrics.inCatalogRecallAt1, metrics.inCatalogRecallAt1Unjudged]).toEqual([0, 0.5]);
  });
});

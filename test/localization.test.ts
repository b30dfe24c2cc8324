import { describe, expect, it } from 'vitest';
import { gem, GemIntegral, l2n, regionalGem } from '../src/embedding/gem.js';
import { FeatureMaps } from '../src/embedding/feature-maps.js';
import { regionBudget, selectRegions } from '../src/localization/select.js';
import { cellBox } from '../src/localization/grid.js';
import { locateRegions } from '../src/localization/locate.js';
import { DEFAULT_LOCALIZATION_OPTIONS } from '../src/localization/options.js';

const grid = { rows: 13, columns: 13, width: 1024, height: 768 };

describe('boxes on the feature-map grid', () => {
  it('maps photo boxes to the cells they mostly cover, at least one cell, inside the grid', () => {
    expect(cellBox([0, 0, 1024, 768], grid)).toEqual({ x: 0, y: 0, width: 13, height: 13 });
    // 1024/13 ≈ 78.8 px per column, 768/13 ≈ 59.1 px per row.
    expect(cellBox([158, 119, 394, 355], grid)).toEqual({ x: 2, y: 2, width: 3, height: 4 });
    expect(cellBox([100, 100, 110, 110], grid)).toMatchObject({ width: 1, height: 1 });
    expect(cellBox([1020, 760, 1024, 768], grid)).toEqual({ x: 12, y: 12, width: 1, height: 1 });
  });
});

describe('box GeM from integral images', () => {
  it('equals plain GeM over the same cells, and regional GeM is the sum of its L2-normalised regions', () => {
    const channels = 3;
    const height = 4;
    const width = 5;
    const values = Float32Array.from({ length: channels * height * width }, (_, i) => ((i * 37) % 11) / 10);
    const box = { y: 1, x: 2, height: 2, width: 3 };
    const cropped = new Float32Array(channels * box.height * box.width);
    let n = 0;
    for (let c = 0; c < channels; c++) for (let y = box.y; y < box.y + box.height; y++) for (let x = box.x; x < box.x + box.width; x++) cropped[n++] = values[c * height * width + y * width + x]!;
    const integral = new GemIntegral({ values, channels, height, width });
    const pooled = integral.pool(box);
    const expected = gem(cropped, channels, box.height * box.width);
    for (let c = 0; c < channels; c++) expect(pooled[c]).toBeCloseTo(expected[c]!, 6);
    const regions = [{ y: 0, x: 0, size: 2 }, { y: 1, x: 1, size: 3 }];
    const summed = regionalGem(integral, regions);
    const parts = regions.map(({ y, x, size }) => integral.pool({ y, x, height: size, width: size }));
    const manual = new Float32Array(channels);
    for (let r = 0; r < 2; r++) {
      const unit = l2n(Float32Array.from(parts[r]!));
      for (let c = 0; c < channels; c++) manual[c]! += unit[c]!;
    }
    for (let c = 0; c < channels; c++) expect(summed[c]).toBeCloseTo(manual[c]!, 6);
  });
});

describe('choosing regions', () => {
  const candidate = (bbox: [number, number, number, number], score: number, product: number) => ({ bbox, score, product });
  const samePile = (a: { product: number }, b: { product: number }) => a.product === b.product;

  it('keeps the best, drops overlapping ones, and drops a piece of a pile inside a region of the same product', () => {
    const chosen = selectRegions(
      [
        candidate([0, 0, 100, 100], 0.9, 1), // the pile
        candidate([10, 10, 40, 40], 0.8, 1), // one apple of it
        candidate([5, 0, 105, 100], 0.85, 2), // the pile again, shifted
        candidate([60, 60, 90, 90], 0.7, 3), // another product lying on it
        candidate([200, 0, 300, 100], 0.5, 4),
      ],
      { budget: 10, iouThreshold: 0.3, containment: 0.5, samePile },
    );
    expect(chosen.map((c) => c.product)).toEqual([1, 3, 4]);
  });

  it('grows a kept region to hold the parts of its pile', () => {
    const chosen = selectRegions(
      [
        candidate([100, 100, 200, 200], 0.9, 1), // the best-scored fruit of a pile
        candidate([50, 50, 260, 240], 0.8, 1), // the pile around it
        candidate([600, 0, 700, 100], 0.7, 2), // another product
        candidate([660, 40, 720, 100], 0.6, 2), // a part of it, partly outside
        candidate([110, 110, 150, 150], 0.55, 3), // another product lying on the pile: a region of its own
        candidate([300, 300, 400, 400], 0.5, 4), // over budget
        candidate([580, 0, 640, 60], 0.45, 2), // a part of product 2 too, but it comes after the budget is spent
      ],
      { budget: 3, iouThreshold: 0.3, containment: 0.5, samePile },
    );
    expect(chosen.map((c) => [c.product, c.bbox])).toEqual([
      [1, [50, 50, 260, 240]],
      [2, [600, 0, 720, 100]],
      [3, [110, 110, 150, 150]],
    ]);
  });

  it('spends at most the budget, which grows with the photo', () => {
    const many = Array.from({ length: 10 }, (_, i) => candidate([i * 100, 0, i * 100 + 50, 50], 1 - i / 20, i));
    expect(selectRegions(many, { budget: 3, iouThreshold: 0.3, containment: 0.5, samePile })).toHaveLength(3);
    expect(regionBudget(348, 348, 60_000, 8)).toBe(2);
    expect(regionBudget(200, 200, 60_000, 8)).toBe(0); // smaller than one region: the whole photo alone
    expect(regionBudget(1024, 768, 60_000, 8)).toBe(8);
    expect(regionBudget(1024, 768, 60_000, 0)).toBe(0);
  });
});

describe('regions of a photo', () => {
  const map = new FeatureMaps([{ integral: new GemIntegral({ values: new Float32Array(2 * 13 * 13).fill(0.5), channels: 2, height: 13, width: 13 }), weight: 1 }]);
  const proposal = (bbox: [number, number, number, number], objectness: number) => ({ bbox, objectness, score: objectness, label: 'object', classIndex: -1 });

  it('are never specks: a box with a side under minRegionSide pixels is skipped, however sure the detector is', () => {
    const proposals = [proposal([10, 10, 40, 300], 0.9), proposal([100, 100, 300, 140], 0.6), proposal([400, 400, 700, 700], 0.3)];
    const located = locateRegions(map, { width: 1024, height: 768 }, proposals, undefined, DEFAULT_LOCALIZATION_OPTIONS);
    expect(DEFAULT_LOCALIZATION_OPTIONS.minRegionSide).toBe(32);
    expect(located.map((r) => r.bbox)).toEqual([[100, 100, 300, 140], [400, 400, 700, 700]]);
    const all = locateRegions(map, { width: 1024, height: 768 }, proposals, undefined, { ...DEFAULT_LOCALIZATION_OPTIONS, minRegionSide: 0 });
    expect(all).toHaveLength(3);
  });

  it('compares with the prototypes only proposals lying inside or around a better one, and that one', () => {
    const asked: number[][] = [];
    const scorer = {
      products: 2,
      vectorOf: (_: FeatureMaps, box: { x: number; y: number; width: number; height: number }) => {
        asked.push([box.x, box.y]);
        return Float32Array.of(1, 0);
      },
      closest: () => 0, // every box looks like product 0
    };
    const proposals = [proposal([0, 0, 400, 400], 0.9), proposal([60, 60, 200, 200], 0.8), proposal([600, 0, 900, 300], 0.7), proposal([500, 400, 1000, 760], 0.6)];
    const located = locateRegions(map, { width: 1024, height: 768 }, proposals, scorer, DEFAULT_LOCALIZATION_OPTIONS);
    // The small box inside the first one is the same pile; the two apart from both are never scored.
    expect(located.map((r) => r.score)).toEqual([0.9, 0.7, 0.6]);
    expect(asked).toHaveLength(2);
  });

  it('takes a part as the same pile when it looks like it, though a different prototype is nearest to it', () => {
    // The pile's box and a fruit of it: nearest two different prototypes, yet cosine 0.8 to each other.
    const scorer = {
      products: 2,
      vectorOf: (_: FeatureMaps, box: { width: number }) => (box.width > 3 ? Float32Array.of(1, 0) : Float32Array.of(0.8, 0.6)),
      closest: (vector: Float32Array) => (vector[1]! > 0.5 ? 1 : 0),
    };
    const proposals = [proposal([0, 0, 400, 400], 0.9), proposal([60, 60, 200, 200], 0.8)];
    const size = { width: 1024, height: 768 };
    expect(locateRegions(map, size, proposals, scorer, { ...DEFAULT_LOCALIZATION_OPTIONS, pileSimilarity: 0.7 })).toHaveLength(1);
    expect(locateRegions(map, size, proposals, scorer, { ...DEFAULT_LOCALIZATION_OPTIONS, pileSimilarity: 0.9 })).toHaveLength(2);
    expect(locateRegions(map, size, proposals, scorer, { ...DEFAULT_LOCALIZATION_OPTIONS, pileSimilarity: 1 })).toHaveLength(2);
  });
});


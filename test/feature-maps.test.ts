import { describe, expect, it } from 'vitest';
import { FeatureMaps } from '../src/embedding/feature-maps.js';
import { GemIntegral, l2n, regionalGem, rmacRegions } from '../src/embedding/gem.js';
import { rawTransform, transformFromSpec } from '../src/embedding/vector-transform.js';

/** A float map whose every value depends on its channel and cell, so that boxes differ. */
function map(channels: number, side: number): GemIntegral {
  const values = new Float32Array(channels * side * side);
  for (let c = 0; c < channels; c++) for (let i = 0; i < side * side; i++) values[c * side * side + i] = ((c + 1) * (i % 7) + (i % side)) / 50;
  return new GemIntegral({ values, channels, height: side, width: side });
}

describe('feature maps of several layers', () => {
  const last = map(3, 13);
  const mid = map(2, 26);
  const maps = new FeatureMaps([{ integral: last, weight: 1 }, { integral: mid, weight: 2 }]);

  it('pool a box on each layer\'s own grid: the mid-level part is the same part of the photo, at twice the cells', () => {
    const box = { y: 2, x: 3, height: 4, width: 5 };
    const vector = maps.pool(box);
    expect(vector).toHaveLength(5);
    expect(Array.from(vector.subarray(0, 3))).toEqual(Array.from(l2n(Float32Array.from(last.pool(box)))).map((v) => expect.closeTo(v, 6)));
    const doubled = Float32Array.from(mid.pool({ y: 4, x: 6, height: 8, width: 10 }));
    expect(Array.from(vector.subarray(3))).toEqual(Array.from(l2n(doubled)).map((v) => expect.closeTo(2 * v, 6)));
  });

  it('pool regional GeM over each layer\'s own R-MAC grid, and a single layer as plain regional GeM', () => {
    const grid = (height: number, width: number) => rmacRegions(height, width, 3);
    const vector = maps.regional(grid);
    expect(Array.from(vector.subarray(3))).toEqual(Array.from(l2n(regionalGem(mid, grid(26, 26)))).map((v) => expect.closeTo(2 * v, 6)));
    expect(new FeatureMaps([{ integral: last, weight: 1 }]).regional(grid)).toEqual(regionalGem(last, grid(13, 13)));
  });

  it('keep a box inside the coarser grid when it reaches the edge', () => {
    const edge = maps.pool({ y: 12, x: 12, height: 1, width: 1 });
    expect(Array.from(edge.subarray(3))).toEqual(Array.from(l2n(Float32Array.from(mid.pool({ y: 24, x: 24, height: 2, width: 2 })))).map((v) => expect.closeTo(2 * v, 6)));
  });
});

describe('the transform of an unwhitened catalog', () => {
  it('indexes the last layer\'s part only when the encoder pools mid-level maps too, made unit length again', () => {
    const raw = rawTransform({ dim: 5, midLevelDim: 2 });
    expect([raw.id, raw.inputDim, raw.outputDim]).toEqual(['identity', 5, 3]);
    const vector = Float32Array.of(0.3, 0.4, 0, 0.6, 0.632);
    expect(Array.from(raw.apply(vector))).toEqual([0.6, 0.8, 0].map((v) => expect.closeTo(v, 5)));
    // Rebuilt from its spec on another thread, it cuts the same.
    expect(Array.from(transformFromSpec(raw.spec).apply(vector))).toEqual(Array.from(raw.apply(vector)));
  });

  it('passes the vector through when there is no mid-level part', () => {
    const vector = Float32Array.of(0.6, 0.8);
    const raw = rawTransform({ dim: 2 });
    expect(raw.apply(vector)).toBe(vector);
    expect(raw.spec).toEqual({ kind: 'identity', dim: 2 });
  });
});

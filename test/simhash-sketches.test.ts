/**
 * SimHashSketches: a bit sketch of every slot's vector (its sides of random planes through the catalog's
 * centre), and the cut of a query's candidates to the nearest by Hamming distance (the kernel's
 * `hamming` and `keep_nearest`), checked against plain bit counting: the kept are the nearest, ties
 * keep the first, sketches survive the memory growing and follow a slot written again, and planes
 * through the centre split a non-negative catalog where planes through the origin would not.
 */
import { describe, expect, it } from 'vitest';
import { SimHashSketches, SKETCH_BITS } from '../src/indexing/simhash-sketches.js';
import { SeededRandom } from '../src/core/prng.js';

function unitVector(random: SeededRandom, dim: number, offset = 0): Float32Array {
  const v = Float32Array.from({ length: dim }, () => random.gaussian() + offset);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** The sketch's bits as plain booleans, from the same planes and thresholds. */
function signs(sketches: SimHashSketches, vector: Float32Array): boolean[] {
  const projections = sketches.planes.scan(vector, SKETCH_BITS);
  return Array.from({ length: SKETCH_BITS }, (_, b) => projections[b]! > sketches.thresholds[b]!);
}

const hamming = (a: boolean[], b: boolean[]): number => a.reduce((sum, bit, i) => sum + (bit !== b[i] ? 1 : 0), 0);

describe('SimHashSketches', () => {
  it.each([16, 80, 1283])('keeps the candidates nearest by Hamming distance, the first of equally near ones (dim %i)', (dim) => {
    const random = new SeededRandom(dim);
    const sketches = new SimHashSketches(dim, 3);
    sketches.recentre(unitVector(random, dim));
    const slots = 3000; // past the first 1024 sketches: the memory grows while they are written
    const vectors = Array.from({ length: slots }, () => unitVector(random, dim));
    // Written in a scattered order, so a write spilling into a neighbour would show.
    for (let i = 0; i < slots; i++) {
      const slot = (i * 7919) % slots;
      sketches.set(slot, vectors[slot]!);
    }
    const query = unitVector(random, dim);
    const querySigns = signs(sketches, query);
    const candidates = Int32Array.from({ length: 900 }, (_, j) => (j * 31 + 5) % slots);
    const keep = 100;
    const cut = Int32Array.from(candidates);
    expect(sketches.nearest(query, cut, candidates.length, keep)).toBe(keep);
    const expected = [...candidates]
      .map((slot, j) => ({ slot, j, d: hamming(signs(sketches, vectors[slot]!), querySigns) }))
      .sort((a, b) => a.d - b.d || a.j - b.j)
      .slice(0, keep)
      .sort((a, b) => a.j - b.j)
      .map(({ slot }) => slot);
    expect(Array.from(cut.subarray(0, keep))).toEqual(expected);
  });

  it('leaves the candidates as they are when there are no more than `keep`', () => {
    const random = new SeededRandom(1);
    const sketches = new SimHashSketches(8, 1);
    sketches.set(0, unitVector(random, 8));
    sketches.set(1, unitVector(random, 8));
    const slots = Int32Array.from([1, 0]);
    expect(sketches.nearest(unitVector(random, 8), slots, 2, 2)).toBe(2);
    expect(Array.from(slots)).toEqual([1, 0]);
  });

  it('sketches a slot written again from its new vector', () => {
    const random = new SeededRandom(2);
    const sketches = new SimHashSketches(32, 1);
    const query = unitVector(random, 32);
    const far = query.map((x) => -x);
    sketches.set(0, query);
    sketches.set(1, far);
    const slots = Int32Array.from([1, 0]);
    sketches.nearest(query, slots, 2, 1);
    expect(slots[0]).toBe(0);
    sketches.set(0, far);
    sketches.set(1, query);
    slots.set([0, 1]);
    sketches.nearest(query, slots, 2, 1);
    expect(slots[0]).toBe(1);
  });

  it('splits a non-negative catalog once its planes pass through the centre', () => {
    const random = new SeededRandom(4);
    const dim = 64;
    // Vectors sharing a large common component, as ReLU + GeM embeddings do.
    const catalog = Array.from({ length: 400 }, () => unitVector(random, dim, 3));
    const centre = new Float32Array(dim);
    for (const v of catalog) v.forEach((x, d) => (centre[d]! += x / catalog.length));
    const sketches = new SimHashSketches(dim, 9);
    const balance = (): number => {
      // Mean over bits of min(share of ones, share of zeros): 0.5 is a perfect split.
      const ones = new Array<number>(SKETCH_BITS).fill(0);
      for (const v of catalog) signs(sketches, v).forEach((bit, b) => (ones[b]! += bit ? 1 : 0));
      return ones.reduce((sum, n) => sum + Math.min(n, catalog.length - n) / catalog.length, 0) / SKETCH_BITS;
    };
    const throughOrigin = balance();
    sketches.recentre(centre);
    expect(balance()).toBeGreaterThan(0.4);
    expect(throughOrigin).toBeLessThan(0.2);
  });
});

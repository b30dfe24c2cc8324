/**
 * KeySketches: each slot's LSH keys packed into a bit sketch, and the cut of a query's candidates to the
 * nearest by Hamming distance (the kernel's `hamming`), checked against plain bit counting: keys of
 * every width pack at the right place, bits past SKETCH_BITS belong to no sketch (nor to the next
 * slot's), ties keep the first candidates, and sketches survive the memory growing.
 */
import { describe, expect, it } from 'vitest';
import { KeySketches, SKETCH_BITS } from '../src/indexing/key-sketches.js';
import { SeededRandom } from '../src/indexing/prng.js';

/** The query side of a sketch: projections ±1 against zero thresholds, one per key bit. */
function projectionsOf(keys: Uint32Array, hashSize: number): Float32Array {
  const out = new Float32Array(keys.length * hashSize);
  keys.forEach((key, t) => {
    for (let b = 0; b < hashSize; b++) out[t * hashSize + b] = (key >>> b) & 1 ? 1 : -1;
  });
  return out;
}

/** Hamming distance over the first `bits` key bits, counted one bit at a time. */
function plainDistance(a: Uint32Array, b: Uint32Array, hashSize: number, bits: number): number {
  let distance = 0;
  for (let i = 0; i < bits; i++) {
    const t = Math.floor(i / hashSize);
    const bit = i % hashSize;
    if (((a[t]! >>> bit) & 1) !== ((b[t]! >>> bit) & 1)) distance++;
  }
  return distance;
}

function randomKeys(random: SeededRandom, tables: number, hashSize: number): Uint32Array {
  const mask = hashSize === 32 ? 0xffffffff : 2 ** hashSize - 1;
  return Uint32Array.from({ length: tables }, () => Math.floor(random.next() * 2 ** 32) & mask);
}

describe('KeySketches', () => {
  it.each([
    [12, 16], // 192 bits: every key bit, three 64-bit words
    [14, 24], // 336 bits cut to 256, table 18 straddles the cut
    [20, 16], // 320 bits cut to 256, table 12 straddles the cut
    [32, 9], // 288 bits, whole 32-bit keys
    [3, 5], // 15 bits, one word
  ])('keeps the nearest by Hamming distance over min(256, tables · bits) bits (hashSize %i, %i tables)', (hashSize, tables) => {
    const random = new SeededRandom(hashSize * 100 + tables);
    const sketches = new KeySketches(tables, hashSize);
    const bits = Math.min(SKETCH_BITS, tables * hashSize);
    expect(sketches.bits).toBe(bits);
    const slots = 3000; // past the first 1024 sketches: the memory grows while they are written
    const keys = Array.from({ length: slots }, () => randomKeys(random, tables, hashSize));
    // Written in a scattered order, each slot once (so a write spilling into a neighbour would show).
    const order = Array.from({ length: slots }, (_, i) => (i * 7919) % slots);
    const flat = new Uint32Array(slots * tables);
    for (const slot of order) {
      flat.set(keys[slot]!, slot * tables);
      sketches.set(slot, flat, slot * tables);
    }
    const query = randomKeys(random, tables, hashSize);
    const candidates = Int32Array.from({ length: 900 }, (_, j) => (j * 31 + 5) % slots);
    const distance = (slot: number): number => plainDistance(keys[slot]!, query, hashSize, bits);
    const keep = 100;
    const cut = Int32Array.from(candidates);
    const kept = sketches.nearest(projectionsOf(query, hashSize), new Float32Array(tables * hashSize), cut, candidates.length, keep);
    expect(kept).toBe(keep);
    // The expected cut: stable sort by distance (the first of equally near ones win), in candidate order.
    const expected = [...candidates]
      .map((slot, j) => ({ slot, j, d: distance(slot) }))
      .sort((a, b) => a.d - b.d || a.j - b.j)
      .slice(0, keep)
      .sort((a, b) => a.j - b.j)
      .map(({ slot }) => slot);
    expect(Array.from(cut.subarray(0, kept))).toEqual(expected);
  });

  it('leaves the candidates as they are when there are no more than `keep`', () => {
    const sketches = new KeySketches(4, 8);
    const flat = Uint32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    sketches.set(0, flat, 0);
    sketches.set(1, flat, 4);
    const slots = Int32Array.from([1, 0]);
    expect(sketches.nearest(new Float32Array(32), new Float32Array(32), slots, 2, 2)).toBe(2);
    expect(Array.from(slots)).toEqual([1, 0]);
  });

  it('resketches a slot that is written again', () => {
    const sketches = new KeySketches(2, 16);
    const near = Uint32Array.from([0xffff, 0xffff]);
    const far = Uint32Array.from([0, 0]);
    sketches.set(0, near, 0);
    sketches.set(1, far, 0);
    const query = projectionsOf(near, 16);
    const thresholds = new Float32Array(32);
    const slots = Int32Array.from([1, 0]);
    sketches.nearest(query, thresholds, slots, 2, 1);
    expect(slots[0]).toBe(0);
    sketches.set(0, far, 0);
    sketches.set(1, near, 0);
    slots.set([0, 1]);
    sketches.nearest(query, thresholds, slots, 2, 1);
    expect(slots[0]).toBe(1);
  });
});

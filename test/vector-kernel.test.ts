/**
 * The WebAssembly dot-product kernel behind the vector store and LSH hashing: its committed bytes are
 * what its text compiles to, and its scans and gathers give what plain double-precision dot products
 * give, for dimensions that exercise every loop (16 at a time, 4 at a time, the scalar tail), also
 * after the matrix has grown (its memory moves the scratch behind the rows).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KernelMatrix } from '../src/indexing/kernel-matrix.js';
import { SeededRandom } from '../src/core/prng.js';
import { compileKernel, kernelPath } from './support/kernels.js';

function plainDot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function randomRows(random: SeededRandom, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) out[i] = random.gaussian();
  return out;
}

describe('WebAssembly vector kernel', () => {
  it('is committed as the bytes its text compiles to (npm run build:kernels)', async () => {
    expect(Buffer.from(await compileKernel('vectors')).equals(readFileSync(kernelPath('vectors', 'wasm')))).toBe(true);
  });

  it.each([3, 16, 19, 128, 1283])('scans and gathers like plain dot products at dimension %i, before and after growing', (dim) => {
    const random = new SeededRandom(dim);
    const matrix = new KernelMatrix(dim, 5);
    // Rows other than `filled` are zeros (a grown matrix's new rows), so they must score exactly 0.
    const check = (rowCount: number, filled: number[]): void => {
      const query = randomRows(random, 1, dim);
      const expected = (r: number): number => plainDot(matrix.rows.subarray(r * dim, (r + 1) * dim), query);
      const tolerance = 1e-5 * Math.sqrt(dim) * 4;
      const scanned = matrix.scan(query, rowCount);
      expect(scanned.length).toBe(rowCount);
      for (const r of filled) expect(Math.abs(scanned[r]! - expected(r))).toBeLessThan(tolerance);
      const filledSet = new Set(filled);
      expect(scanned.every((score, r) => filledSet.has(r) || score === 0)).toBe(true);
      const picked = Int32Array.from([filled.at(-1)!, 0, filled[2]!, filled.at(-2)!]);
      const gathered = Array.from(matrix.gather(query, picked, picked.length));
      gathered.forEach((score, j) => expect(Math.abs(score - expected(picked[j]!))).toBeLessThan(tolerance));
    };
    matrix.rows.set(randomRows(random, 5, dim));
    check(5, [0, 1, 2, 3, 4]);
    const before = Float32Array.from(matrix.rows);
    matrix.grow(70_000); // past the first 64 KiB page for every dimension here
    expect(Array.from(matrix.rows.subarray(0, 5 * dim))).toEqual(Array.from(before));
    matrix.rows.set(randomRows(random, 2, dim), 69_998 * dim);
    matrix.rows.set(randomRows(random, 1, dim), 35_000 * dim);
    check(70_000, [0, 1, 2, 3, 4, 35_000, 69_998, 69_999]);
  });
});

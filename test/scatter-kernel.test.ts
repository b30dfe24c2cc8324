/**
 * The WebAssembly scatter-sum kernel behind learning whitening: its committed bytes are what its text
 * compiles to, and its sums are, to the bit, those of the JavaScript loop it replaced, for groups of any
 * size and matrices of odd and even size one after the other (its memory grows and is reused).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/core/prng.js';
import { scatterSum, type ScatterGroup } from '../src/embedding/scatter-kernel.js';
import { compileKernel, kernelPath } from './support/kernels.js';

/** The loop the kernel replaced: four vectors per sweep, upper triangle, the same order of operations. */
function scatterInJavaScript(dim: number, groups: readonly ScatterGroup[]): Float64Array {
  const target = new Float64Array(dim * dim);
  const zero = new Float64Array(dim);
  for (const { vectors, centre, weight } of groups) {
    const deltas = vectors.map((vector) => Float64Array.from({ length: dim }, (_, i) => vector[i]! - centre[i]!));
    for (let v = 0; v < deltas.length; v += 4) {
      const [d0, d1, d2, d3] = [deltas[v]!, deltas[v + 1] ?? zero, deltas[v + 2] ?? zero, deltas[v + 3] ?? zero];
      for (let i = 0; i < dim; i++) {
        const [a0, a1, a2, a3] = [d0[i]! * weight, d1[i]! * weight, d2[i]! * weight, d3[i]! * weight];
        for (let j = i; j < dim; j++) target[i * dim + j]! += a0 * d0[j]! + a1 * d1[j]! + a2 * d2[j]! + a3 * d3[j]!;
      }
    }
  }
  return target;
}

function groupsOf(dim: number, sizes: readonly number[], seed: number): ScatterGroup[] {
  const random = new SeededRandom(seed);
  return sizes.map((size) => ({
    vectors: Array.from({ length: size }, () => Float32Array.from({ length: dim }, () => random.gaussian())),
    centre: Float64Array.from({ length: dim }, () => random.gaussian() / 10),
    weight: size,
  }));
}

function upperTriangle(matrix: Float64Array, dim: number): number[] {
  const values: number[] = [];
  for (let i = 0; i < dim; i++) for (let j = i; j < dim; j++) values.push(matrix[i * dim + j]!);
  return values;
}

describe('WebAssembly scatter-sum kernel', () => {
  it('is committed as the bytes its text compiles to (npm run build:kernels)', async () => {
    expect(Buffer.from(await compileKernel('scatter')).equals(readFileSync(kernelPath('scatter', 'wasm')))).toBe(true);
  });

  it.each([
    [6, [2, 5, 4]],
    [97, [3, 9, 1, 12]], // odd, and larger than the last: rows are padded and the memory grows
    [128, [40]],
    [5, [2, 2]], // smaller again: nothing left over from the larger matrix counts
  ])('sums a %i × %i scatter matrix to the bit as the JavaScript loop did', (dim, sizes) => {
    const groups = groupsOf(dim, sizes, dim);
    const kernel = scatterSum(dim, groups);
    expect(upperTriangle(kernel, dim)).toEqual(upperTriangle(scatterInJavaScript(dim, groups), dim));
  });
});

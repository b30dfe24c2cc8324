/**
 * The WebAssembly kernel behind learning whitening: its committed bytes are what its text compiles to;
 * its scatter sums are, to the bit, those of the JavaScript loop they replaced, for groups of any size and
 * matrices of odd and even size one after the other (its memory grows and is reused); its products with the
 * covariance are those of the covariance matrix itself.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/core/prng.js';
import { covarianceMap, scatterSum, type ScatterGroup } from '../src/embedding/whitening-kernel.js';
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

describe('WebAssembly whitening kernel', () => {
  it('is committed as the bytes its text compiles to (npm run build:kernels)', async () => {
    expect(Buffer.from(await compileKernel('whitening')).equals(readFileSync(kernelPath('whitening', 'wasm')))).toBe(true);
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

  it.each([7, 130])('multiplies a %i-value vector by the covariance of its vectors, as the matrix does', (dim) => {
    const random = new SeededRandom(dim);
    const vectors = Array.from({ length: 23 }, () => Float32Array.from({ length: dim }, () => random.gaussian()));
    const mean = Float64Array.from({ length: dim }, (_, i) => vectors.reduce((sum, v) => sum + v[i]!, 0) / vectors.length);
    const covariance = covarianceMap(vectors, mean);
    for (let round = 0; round < 2; round++) {
      const u = Float64Array.from({ length: dim }, () => random.gaussian());
      const expected = new Float64Array(dim);
      for (const v of vectors) {
        let w = 0;
        for (let i = 0; i < dim; i++) w += (v[i]! - mean[i]!) * u[i]!;
        for (let i = 0; i < dim; i++) expected[i]! += (w * (v[i]! - mean[i]!)) / vectors.length;
      }
      covariance(u).forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThan(1e-12 * (1 + Math.abs(expected[i]!))));
    }
  });
});

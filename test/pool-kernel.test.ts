/**
 * The WebAssembly pooling kernel behind GeM on quantized feature maps: its committed bytes are what
 * its text compiles to, and its integral images and channel sums are, to the bit, those of the JavaScript
 * loops they replaced, for every box of maps of several shapes one after the other (its memory grows and
 * is reused).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GEM_EPS, gemQuantized, GemIntegral } from '../src/embedding/gem.js';
import { SeededRandom } from '../src/core/prng.js';
import { compileKernel, kernelPath } from './support/kernels.js';

function quantizedMap(random: SeededRandom, length: number): Uint8Array {
  // Mostly zero points (ReLU), as the encoder's maps are.
  return Uint8Array.from({ length }, () => (random.next() < 0.5 ? 11 : random.nextInt(256)));
}

describe('WebAssembly pooling kernel', () => {
  it('is committed as the bytes its text compiles to (npm run build:kernels)', async () => {
    expect(Buffer.from(await compileKernel('pool')).equals(readFileSync(kernelPath('pool', 'wasm')))).toBe(true);
  });

  it.each([
    [3, 5, 7],
    [64, 13, 13], // larger than the last: the memory grows
    [5, 1, 9],
    [2, 4, 4], // smaller again: nothing left over from the larger map counts
  ])('pools every box of a %i × %i × %i quantized map to the bit as the JavaScript sums did', (channels, height, width) => {
    const random = new SeededRandom(channels * height * width);
    const scale = 0.03;
    const zeroPoint = 11;
    const quantized = quantizedMap(random, channels * height * width);
    const table = Array.from({ length: 256 }, (_, q) => Math.pow(Math.max((q - zeroPoint) * scale, GEM_EPS), 3));
    // The loops the kernel replaced: per channel, running row sums added to the row above.
    const stride = width + 1;
    const plane = (height + 1) * stride;
    const sums = new Float64Array(channels * plane);
    for (let c = 0, i = 0; c < channels; c++) {
      for (let y = 0; y < height; y++) {
        let rowSum = 0;
        for (let x = 0; x < width; x++, i++) {
          rowSum += table[quantized[i]!]!;
          sums[c * plane + (y + 1) * stride + x + 1] = sums[c * plane + y * stride + x + 1]! + rowSum;
        }
      }
    }
    const at = (c: number, y: number, x: number): number => sums[c * plane + y * stride + x]!;
    const integral = new GemIntegral({ values: { quantized, scale, zeroPoint }, channels, height, width }, 3);
    let boxes = 0;
    const differing: string[] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let h = 1; y + h <= height; h++) {
          for (let w = 1; x + w <= width; w++) {
            const pooled = integral.pool({ y, x, height: h, width: w });
            boxes++;
            for (let c = 0; c < channels; c++) {
              const boxSum = at(c, y + h, x + w) - at(c, y + h, x) - at(c, y, x + w) + at(c, y, x);
              if (pooled[c] !== Math.cbrt(boxSum * (1 / (h * w)))) differing.push(`channel ${c} of ${h} × ${w} at (${y}, ${x})`);
            }
          }
        }
      }
    }
    expect(boxes).toBe((height * (height + 1) * width * (width + 1)) / 4);
    expect(differing.slice(0, 5)).toEqual([]);
    const global = gemQuantized(quantized, scale, zeroPoint, channels, height * width, 3);
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let i = c * height * width; i < (c + 1) * height * width; i++) sum += table[quantized[i]!]!;
      expect(global[c]).toBe(Math.fround(Math.cbrt(sum / (height * width))));
    }
  });
});

/**
 * The WebAssembly resize kernel: its committed bytes are what its text compiles to, and on a real
 * photo it gives what a plain double-precision triangle filter gives, for regions anywhere in the
 * image (the corner ones make its vertical pass read up to the last byte).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, type RawImage } from '../src/imaging/decode.js';
import { resizeInto, type Region } from '../src/imaging/resize.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { compileKernel, kernelPath } from './support/kernels.js';

/** The antialiased triangle filter of one output coordinate, straight from its definition. */
function weightsOf(out: number, inSize: number, outSize: number): Map<number, number> {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const center = (out + 0.5) * scale;
  const weights = new Map<number, number>();
  let total = 0;
  for (let i = Math.max(0, Math.floor(center - support + 0.5)); i < Math.min(inSize, Math.floor(center + support + 0.5)); i++) {
    const w = Math.max(0, 1 - Math.abs((i - center + 0.5) / support));
    weights.set(i, w);
    total += w;
  }
  for (const [i, w] of weights) weights.set(i, w / total);
  return weights;
}

function reference(image: RawImage, region: Region, outWidth: number, outHeight: number): Float64Array {
  const out = new Float64Array(3 * outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const rows = weightsOf(y, region.height, outHeight);
    for (let x = 0; x < outWidth; x++) {
      const columns = weightsOf(x, region.width, outWidth);
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (const [j, wy] of rows) for (const [i, wx] of columns) sum += image.data[((region.y + j) * image.width + region.x + i) * 3 + c]! * wy * wx;
        out[c * outWidth * outHeight + y * outWidth + x] = sum;
      }
    }
  }
  return out;
}

describe('WebAssembly resize kernel', () => {
  it('is committed as the bytes its text compiles to (npm run build:kernels)', async () => {
    expect(Buffer.from(await compileKernel('resize')).equals(readFileSync(kernelPath('resize', 'wasm')))).toBe(true);
  });

  it('matches a plain triangle filter on a real photo, enlarging and shrinking, up to the last pixel', async () => {
    const photo = resolve(PROJECT_ROOT, '..', 'shared', 'datasets', 'coco-sample', '000000000139.jpg');
    const image = await decodeImage(readFileSync(photo), 50e6); // 640×426
    const identity = { channelOrder: 'RGB', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] } as const;
    const cases: [Region, number, number][] = [
      [{ x: 0, y: 0, width: 640, height: 426 }, 224, 224], // shrink about 2.9× × 1.9×
      [{ x: 600, y: 400, width: 40, height: 26 }, 64, 48], // bottom-right corner, enlarged
      [{ x: 531, y: 0, width: 109, height: 426 }, 37, 101], // right edge, shrunk
      [{ x: 5, y: 7, width: 333, height: 1 }, 100, 3], // one row
    ];
    for (const [region, outWidth, outHeight] of cases) {
      const tensor = new Float32Array(3 * outWidth * outHeight);
      resizeInto(image, region, outWidth, outHeight, identity, { tensor, offset: 0, planeWidth: outWidth, planeHeight: outHeight });
      const expected = reference(image, region, outWidth, outHeight);
      let worst = 0;
      for (let i = 0; i < tensor.length; i++) worst = Math.max(worst, Math.abs(tensor[i]! - expected[i]!));
      expect(worst, JSON.stringify(region)).toBeLessThan(1e-3);
    }
  });
});

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/imaging/decode.js';
import { DEFAULT_MAX_PIXELS } from '../src/imaging/limits.js';
import { letterboxGeometry, letterboxInto, resizeInto, wholeImage, type PixelNormalization } from '../src/imaging/resize.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { pngClaiming } from './support/images.js';

const COCO = resolve(PROJECT_ROOT, '..', 'shared', 'datasets', 'coco-sample');
const photo = readFileSync(resolve(COCO, '000000000139.jpg'));
const RAW: PixelNormalization = { channelOrder: 'RGB', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] };

describe('decoding', () => {
  it('decodes a JPEG to RGB bytes of its size', async () => {
    const image = await decodeImage(photo, DEFAULT_MAX_PIXELS);
    expect([image.width, image.height, image.data.length]).toEqual([640, 426, 640 * 426 * 3]);
  });

  it('applies the EXIF orientation (a sideways phone photo comes out upright)', async () => {
    const stored = await sharp(photo).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const image = await decodeImage(stored, DEFAULT_MAX_PIXELS);
    expect([image.width, image.height]).toEqual([426, 640]);
  });

  it('refuses zero bytes with EMPTY_IMAGE', async () => {
    await expect(decodeImage(Buffer.alloc(0), DEFAULT_MAX_PIXELS)).rejects.toMatchObject({ code: 'EMPTY_IMAGE' });
  });

  it('refuses bytes that are not an image with INVALID_IMAGE', async () => {
    await expect(decodeImage(Buffer.from('certainly not a picture'), DEFAULT_MAX_PIXELS)).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      message: expect.stringContaining('not an image'),
    });
  });

  it('refuses a PDF by its signature with UNSUPPORTED_FORMAT naming it, before any decoder runs', async () => {
    await expect(decodeImage(Buffer.from('%PDF-1.4 certainly not a picture'), DEFAULT_MAX_PIXELS)).rejects.toMatchObject({
      code: 'UNSUPPORTED_FORMAT',
      message: expect.stringContaining('PDF'),
    });
  });

  it('refuses a truncated JPEG with INVALID_IMAGE instead of decoding it grey', async () => {
    const truncated = photo.subarray(0, Math.floor(photo.length * 0.6));
    await expect(decodeImage(truncated, DEFAULT_MAX_PIXELS)).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
  });

  it('refuses an image over the pixel limit from its header alone, with IMAGE_TOO_LARGE', async () => {
    // The header says 10000×6000 but there are no such pixels: decoding would fail, so the refusal
    // must come from the header, before any decoding.
    const huge = await pngClaiming(10_000, 6_000);
    await expect(decodeImage(huge, DEFAULT_MAX_PIXELS)).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: expect.stringContaining('60000000 pixels'),
    });
  });

  it('honours a lower pixel limit', async () => {
    await expect(decodeImage(photo, 100_000)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });
});

describe('resizing into tensors', () => {
  const image = { width: 4, height: 2, data: new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200, 210, 220, 230, 240]) };

  it('copies pixels exactly at the same size, as channel planes', () => {
    const tensor = new Float32Array(3 * 8);
    resizeInto(image, wholeImage(image), 4, 2, RAW, { tensor, offset: 0, planeWidth: 4, planeHeight: 2 });
    expect(Array.from(tensor.subarray(0, 8))).toEqual([10, 40, 70, 100, 130, 160, 190, 220]); // R plane
    expect(Array.from(tensor.subarray(16, 24))).toEqual([30, 60, 90, 120, 150, 180, 210, 240]); // B plane
  });

  it('swaps to BGR and normalises as (x·scale − mean) / std', () => {
    const tensor = new Float32Array(3 * 8);
    const normalization: PixelNormalization = { channelOrder: 'BGR', scale: 1 / 255, mean: [0.5, 0, 0], std: [0.5, 1, 1] };
    resizeInto(image, wholeImage(image), 4, 2, normalization, { tensor, offset: 0, planeWidth: 4, planeHeight: 2 });
    expect(tensor[0]).toBeCloseTo((30 / 255 - 0.5) / 0.5, 5); // plane 0 is blue
    expect(tensor[16]).toBeCloseTo(10 / 255, 5); // plane 2 is red
  });

  it('keeps a flat colour flat when shrinking or enlarging a region', () => {
    const flat = { width: 50, height: 30, data: new Uint8Array(50 * 30 * 3).fill(77) };
    for (const size of [7, 224]) {
      const tensor = new Float32Array(3 * size * size);
      resizeInto(flat, { x: 5, y: 3, width: 40, height: 20 }, size, size, RAW, { tensor, offset: 0, planeWidth: size, planeHeight: size });
      expect(tensor.reduce((low, value) => Math.min(low, value), Infinity)).toBeCloseTo(77, 3);
      expect(tensor.reduce((high, value) => Math.max(high, value), -Infinity)).toBeCloseTo(77, 3);
    }
  });

  it('averages when shrinking (antialiased): a 1-pixel stripe pattern becomes its mean grey', () => {
    const stripes = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    for (let i = 0; i < 64 * 64; i++) stripes.data.fill((i % 64) % 2 ? 255 : 0, i * 3, i * 3 + 3);
    const tensor = new Float32Array(3 * 8 * 8);
    resizeInto(stripes, wholeImage(stripes), 8, 8, RAW, { tensor, offset: 0, planeWidth: 8, planeHeight: 8 });
    for (const value of tensor.subarray(8 + 1, 8 + 7)) expect(value).toBeCloseTo(127.5, 0);
  });

  it('keeps a linear ramp linear (taps at the right places) when shrinking or enlarging', () => {
    const ramp = { width: 128, height: 4, data: new Uint8Array(128 * 4 * 3) };
    for (let i = 0; i < 128 * 4; i++) ramp.data.fill((i % 128) * 2, i * 3, i * 3 + 3);
    for (const outWidth of [80, 200, 50]) {
      const tensor = new Float32Array(3 * outWidth * 4);
      resizeInto(ramp, wholeImage(ramp), outWidth, 4, RAW, { tensor, offset: 0, planeWidth: outWidth, planeHeight: 4 });
      const scale = 128 / outWidth;
      // Within an eighth of a pixel (2 per pixel here): a discrete triangle filter is not exactly
      // symmetric about its centre, but a tap one pixel off would be 2 away.
      for (let x = 4; x < outWidth - 4; x++) expect(Math.abs(tensor[outWidth + x]! - 2 * ((x + 0.5) * scale - 0.5))).toBeLessThan(0.25);
      // The last pixel sees only the ramp's end (no reads past the row): between the last two values.
      expect(tensor[outWidth - 1]).toBeGreaterThan(240);
      expect(tensor[outWidth - 1]).toBeLessThanOrEqual(254.001);
    }
  });

  it('letterboxes at the top-left keeping the aspect ratio, padding the rest', () => {
    const wide = { width: 100, height: 50, data: new Uint8Array(100 * 50 * 3).fill(200) };
    const tensor = new Float32Array(3 * 40 * 40);
    const box = letterboxGeometry(100, 50, { size: 40, upscale: true, stride: 0 });
    expect(box).toEqual({ ratio: 0.4, width: 40, height: 20, inputWidth: 40, inputHeight: 40 });
    letterboxInto(wide, wholeImage(wide), box, 114, RAW, { tensor, offset: 0, planeWidth: 40, planeHeight: 40 });
    expect(tensor[19 * 40 + 39]).toBeCloseTo(200, 3); // last image row
    expect(tensor[20 * 40]).toBe(114); // first padded row
    expect(tensor[2 * 1600 + 39 * 40 + 39]).toBe(114);
  });

  it('pads to the right of a tall image, over whatever the tensor held before', () => {
    const tall = { width: 20, height: 80, data: new Uint8Array(20 * 80 * 3).fill(9) };
    const tensor = new Float32Array(3 * 40 * 40).fill(-1);
    const box = letterboxGeometry(20, 80, { size: 40, upscale: true, stride: 0 });
    expect(box).toEqual({ ratio: 0.5, width: 10, height: 40, inputWidth: 40, inputHeight: 40 });
    letterboxInto(tall, wholeImage(tall), box, 114, RAW, { tensor, offset: 0, planeWidth: 40, planeHeight: 40 });
    for (const c of [0, 1, 2]) {
      for (const y of [0, 20, 39]) {
        expect(tensor[c * 1600 + y * 40 + 9]).toBeCloseTo(9, 3);
        expect(tensor[c * 1600 + y * 40 + 10]).toBe(114);
        expect(tensor[c * 1600 + y * 40 + 39]).toBe(114);
      }
    }
  });

  it('rectangular letterbox: each side rounded up to the stride, small images kept at their size unless upscaling', () => {
    // A 4:3 photo: 4000×3000 → 416×312, padded to 416×320.
    expect(letterboxGeometry(4000, 3000, { size: 416, upscale: false, stride: 32 })).toEqual({ ratio: 0.104, width: 416, height: 312, inputWidth: 416, inputHeight: 320 });
    // The grocery photos: 348×348 stays 348×348 in a 352×352 input, or is enlarged to 416 when asked.
    expect(letterboxGeometry(348, 348, { size: 416, upscale: false, stride: 32 })).toEqual({ ratio: 1, width: 348, height: 348, inputWidth: 352, inputHeight: 352 });
    expect(letterboxGeometry(348, 348, { size: 416, upscale: true, stride: 32 })).toMatchObject({ width: 416, height: 416, inputWidth: 416, inputHeight: 416 });
    // stride 0 (a model with a fixed input size): always size × size.
    expect(letterboxGeometry(348, 200, { size: 416, upscale: false, stride: 0 })).toMatchObject({ width: 348, height: 200, inputWidth: 416, inputHeight: 416 });
  });

  it('copies a region of the output size pixel for pixel, normalised', () => {
    const image = { width: 5, height: 4, data: Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 7) % 256) };
    const region = { x: 1, y: 1, width: 3, height: 2 };
    const tensor = new Float32Array(3 * 4 * 2).fill(-1);
    const normalization: PixelNormalization = { channelOrder: 'BGR', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
    resizeInto(image, region, 3, 2, normalization, { tensor, offset: 0, planeWidth: 4, planeHeight: 2 });
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        const source = ((y + 1) * 5 + x + 1) * 3;
        for (let c = 0; c < 3; c++) expect(tensor[c * 8 + y * 4 + x]).toBeCloseTo((image.data[source + 2 - c]! / 255 - 0.5) / 0.5, 5);
      }
      expect(tensor[y * 4 + 3]).toBe(-1); // outside the region's width: untouched
    }
  });
});

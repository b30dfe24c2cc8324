import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { DEFAULT_EXTRACTOR_OPTIONS, createExtractor, cropRegion, type Extractor } from '../src/pipeline/extractor.js';
import { createEncoder } from '../src/embedding/encoder.js';
import { decodeImage } from '../src/imaging/decode.js';
import { pngClaiming } from './support/images.js';

const DATASETS = resolve(PROJECT_ROOT, '..', 'shared', 'datasets');
const banana = readFileSync(resolve(DATASETS, 'grocery', 'val', 'Fruit', 'Banana', 'Banana_001.jpg'));
const milk = readFileSync(resolve(DATASETS, 'grocery', 'val', 'Packages', 'Milk', 'Arla-Ecological-Medium-Fat-Milk', 'Arla-Ecological-Medium-Fat-Milk_001.jpg'));
const livingRoom = readFileSync(resolve(DATASETS, 'coco-sample', '000000000139.jpg'));
/** A bedroom: a search cuts it into one region of 196 px and several under 100 px. */
const bedroom = readFileSync(resolve(DATASETS, 'coco-sample', '000000000632.jpg'));

function cosine(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

describe('cropping', () => {
  it('grows a box by the padding fraction, clips it and rounds outwards to whole pixels', () => {
    expect(cropRegion([10.4, 20.6, 50.2, 60.1], 0, 100, 100)).toEqual({ x: 10, y: 20, width: 41, height: 41 });
    expect(cropRegion([10, 20, 50, 60], 0.5, 100, 70)).toEqual({ x: 0, y: 0, width: 70, height: 70 });
    expect(cropRegion([99.5, 99.5, 100, 100], 0, 100, 100)).toEqual({ x: 99, y: 99, width: 1, height: 1 });
  });
});

describe('image → objects with vectors (YOLOX-Nano + MobileNetV2 defaults)', () => {
  let extractor: Extractor;
  beforeAll(async () => {
    extractor = await createExtractor(DEFAULT_EXTRACTOR_OPTIONS);
  });
  afterAll(() => extractor.close());

  it('returns the whole image first, then the detections, each with a unit 1280-d vector', async () => {
    const { width, height, objects, timings } = await extractor.extract(livingRoom);
    expect([width, height]).toEqual([640, 426]);
    expect(objects[0]).toMatchObject({ kind: 'whole', label: 'image', score: 1, bbox: [0, 0, 640, 426] });
    expect(objects.slice(1).map((object) => object.kind)).toEqual(objects.slice(1).map(() => 'region'));
    const labels = objects.slice(1).map((object) => object.label);
    expect(labels).toContain('tvmonitor');
    expect(labels).toContain('chair');
    expect(labels).not.toContain('person');
    for (const { vector } of objects) {
      expect(vector).toHaveLength(1280);
      expect(Math.sqrt(cosine(vector, vector))).toBeCloseTo(1, 4);
    }
    for (const value of Object.values(timings)) expect(value).toBeGreaterThanOrEqual(0);
    // The detector's stages run beside the encoder's (detector.ownThread): each chain fits in the total, not their sum.
    const detector = timings.letterboxMs + timings.detectMs + timings.boxesMs;
    const encoder = timings.cropMs + timings.encodeMs + timings.poolMs;
    expect(timings.totalMs).toBeGreaterThanOrEqual(timings.decodeMs + Math.max(detector, encoder) - 0.01);
    expect(extractor.encoder).toMatchObject({ model: 'mobilenetv2_int8', dim: 1280, gemP: 3, inputSize: 224, imageInputSize: 416, pooling: 'rgem', cropPooling: 'gem' });
    expect(extractor.classNames).toContain('banana');
  });

  it('decodes a phone-sized photo shrunk, and still reports its boxes in the pixels of the photo', async () => {
    // The living room at 5× (3200×2130, a 7 MP phone photo), stored sideways with EXIF orientation 6.
    const large = await sharp(livingRoom).resize(3200).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 92 }).toBuffer();
    const shrunk = await extractor.extract(large);
    expect([shrunk.width, shrunk.height]).toEqual([3200, 2130]);
    expect(shrunk.objects[0]!.bbox).toEqual([0, 0, 3200, 2130]);
    const tv = shrunk.objects.find((object) => object.label === 'tvmonitor')!;
    // The tv of the 640×426 photo (about 7, 167, 156, 263), five times larger.
    tv.bbox.forEach((value, index) => expect(Math.abs(value - 5 * [7, 167, 156, 263][index]!)).toBeLessThan(60));
    const full = await createExtractor({ ...DEFAULT_EXTRACTOR_OPTIONS, maxDecodeSide: 0 });
    try {
      const atFullSize = await full.extract(large);
      expect([atFullSize.width, atFullSize.height]).toEqual([3200, 2130]);
      const fullTv = atFullSize.objects.find((object) => object.label === 'tvmonitor')!;
      fullTv.bbox.forEach((value, index) => expect(Math.abs(value - tv.bbox[index]!)).toBeLessThan(40));
      expect(cosine(atFullSize.objects[0]!.vector, shrunk.objects[0]!.vector)).toBeGreaterThan(0.95);
    } finally {
      await full.close();
    }
  });

  it('finds bananas in a banana photo', async () => {
    const { objects } = await extractor.extract(banana);
    expect(objects[1]?.label).toBe('banana');
  });

  it('keeps a horizontally flipped photo close (cosine > 0.9) and two different products further apart', async () => {
    const flipped = await sharp(banana).flop().jpeg({ quality: 95 }).toBuffer();
    const [original, mirrored, other] = await Promise.all([banana, flipped, milk].map((buffer) => extractor.extract(buffer)));
    const flipSimilarity = cosine(original!.objects[0]!.vector, mirrored!.objects[0]!.vector);
    const productSimilarity = cosine(original!.objects[0]!.vector, other!.objects[0]!.vector);
    expect(flipSimilarity).toBeGreaterThan(0.9);
    expect(productSimilarity).toBeLessThan(0.9);
    // The three ran overlapped: each must match the same photo extracted on its own.
    const alone = await extractor.extract(milk);
    expect(alone.objects.map((object) => object.label)).toEqual(other!.objects.map((object) => object.label));
    alone.objects.forEach((object, index) => expect(cosine(object.vector, other!.objects[index]!.vector)).toBeGreaterThan(0.9999));
  });

  it("encodes a search photo's large regions at largeRegionInputSize and the rest at inputSize, each vector in its region's place", async () => {
    const encoder = await createEncoder(DEFAULT_EXTRACTOR_OPTIONS.encoder);
    try {
      const image = await decodeImage(bedroom, DEFAULT_EXTRACTOR_OPTIONS.maxPixels);
      const { largeRegionSide, largeRegionMaxShare, largeRegionInputSize } = DEFAULT_EXTRACTOR_OPTIONS.localization;
      const { objects } = await extractor.extract(bedroom, 'search');
      const regions = objects.filter((object) => object.kind === 'region');
      const boxes = regions.map(({ bbox }) => cropRegion(bbox, 0, image.width, image.height));
      const large = boxes.map(({ width, height }) => Math.min(width, height) >= largeRegionSide && width * height <= largeRegionMaxShare * image.width * image.height);
      // The photo has both kinds, so both sizes and their interleaving are exercised.
      expect(large).toContain(true);
      expect(large).toContain(false);
      for (const [i, box] of boxes.entries()) {
        const alone = async (size: number) => (await encoder.encode(image, [box], size, [encoder.meta.pooling])).vectors[0]!;
        const [own, other] = large[i] ? [largeRegionInputSize, encoder.meta.inputSize] : [encoder.meta.inputSize, largeRegionInputSize];
        expect(cosine(regions[i]!.vector, await alone(own))).toBeGreaterThan(0.999);
        expect(cosine(regions[i]!.vector, await alone(other))).toBeLessThan(0.99);
      }
    } finally {
      await encoder.close();
    }
  });

  it('gives each bad input its error code', async () => {
    const truncated = livingRoom.subarray(0, Math.floor(livingRoom.length / 2));
    await expect(extractor.extract(Buffer.alloc(0))).rejects.toMatchObject({ code: 'EMPTY_IMAGE', status: 400 });
    await expect(extractor.extract(Buffer.from('hello, not an image'))).rejects.toMatchObject({ code: 'INVALID_IMAGE', status: 415 });
    await expect(extractor.extract(truncated)).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
    await expect(extractor.extract(await pngClaiming(8000, 6300))).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE', status: 413 });
    // …and keeps working afterwards.
    expect((await extractor.extract(banana)).objects.length).toBeGreaterThan(1);
  });
});

describe('extraction options', () => {
  it('limits the objects per image and can keep people', async () => {
    const extractor = await createExtractor({
      ...DEFAULT_EXTRACTOR_OPTIONS,
      detector: { ...DEFAULT_EXTRACTOR_OPTIONS.detector, classDeny: [] },
      crop: { padding: 0.1, maxObjects: 3 },
    });
    try {
      const { objects } = await extractor.extract(livingRoom);
      expect(objects).toHaveLength(3);
      const all = await createExtractor({ ...DEFAULT_EXTRACTOR_OPTIONS, detector: { ...DEFAULT_EXTRACTOR_OPTIONS.detector, classDeny: [] } });
      try {
        expect((await all.extract(livingRoom)).objects.map((object) => object.label)).toContain('person');
      } finally {
        await all.close();
      }
    } finally {
      await extractor.close();
    }
  });

  it('names the missing file when a model cannot be found', async () => {
    await expect(
      createExtractor({ ...DEFAULT_EXTRACTOR_OPTIONS, encoder: { ...DEFAULT_EXTRACTOR_OPTIONS.encoder, model: 'resnet50_v1_int8' } }),
    ).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('resnet50-v1-12-int8.onnx') });
  });
});

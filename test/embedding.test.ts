import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEncoder, type Encoder } from '../src/embedding/encoder.js';
import { tapFeatures } from '../src/embedding/feature-tap.js';
import { dequantize, gem, gemQuantized, GemIntegral, l2n, regionalGem, rmacRegions } from '../src/embedding/gem.js';
import { DEFAULT_ENCODER_OPTIONS } from '../src/embedding/options.js';
import { decodeImage, type RawImage } from '../src/imaging/decode.js';
import { wholeImage } from '../src/imaging/resize.js';
import { PROJECT_ROOT, resolveModel } from '../src/models/manifest.js';

const GROCERY = resolve(PROJECT_ROOT, '..', 'shared', 'datasets', 'grocery');

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
const norm = (v: Float32Array) => Math.sqrt(dot(v, v));

describe('GeM, L2 and dequantization (cirtorch)', () => {
  // Two channels of four positions each.
  const features = new Float32Array([1, 2, 3, 4, 0, 0, 8, -5]);

  it('GeM with p = 1 is average pooling (negatives clamped to eps)', () => {
    const pooled = gem(features, 2, 4, 1);
    expect(pooled[0]).toBeCloseTo(2.5, 5);
    expect(pooled[1]).toBeCloseTo(2, 4);
  });

  it('GeM with p = 3 is the cube root of the mean cube, and tends to max pooling as p grows', () => {
    expect(gem(features, 2, 4, 3)[0]).toBeCloseTo(Math.cbrt((1 + 8 + 27 + 64) / 4), 4);
    expect(gem(features, 2, 4, 3)[0]).toBeCloseTo(Math.cbrt(25), 4);
    expect(gem(features, 2, 4, 60)[1]).toBeCloseTo(8, 0);
  });

  it('dequantizes uint8 as (q − zero point) × scale', () => {
    expect(Array.from(dequantize(new Uint8Array([0, 10, 255]), 0.5, 10))).toEqual([-5, 0, 122.5]);
  });

  it('pools quantized maps exactly as dequantize-then-GeM', () => {
    const quantized = new Uint8Array(1280 * 49).map((_, i) => (i * 37) % 256);
    for (const p of [1, 3, 4.5]) {
      const direct = gemQuantized(quantized, 0.0235, 3, 1280, 49, p);
      const reference = gem(dequantize(quantized, 0.0235, 3), 1280, 49, p);
      for (let c = 0; c < 1280; c += 97) expect(direct[c]).toBeCloseTo(reference[c]!, 4);
    }
  });

  it('L2-normalises to unit length', () => {
    const unit = l2n(new Float32Array([3, 4]));
    expect(Array.from(unit).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([0.6, 0.8]);
  });
});

describe('regional GeM over the R-MAC grid', () => {
  it('lays 1 + 4 + 9 overlapping squares on a square map, level 1 being the whole map', () => {
    const regions = rmacRegions(7, 7, 3);
    expect(regions).toHaveLength(14);
    expect(regions[0]).toEqual({ y: 0, x: 0, size: 7 });
    expect(regions.slice(1, 5).map((r) => r.size)).toEqual([4, 4, 4, 4]);
    for (const { y, x, size } of regions) {
      expect(y + size).toBeLessThanOrEqual(7);
      expect(x + size).toBeLessThanOrEqual(7);
    }
    // Level 2 covers both edges of the map.
    expect(regions.slice(1, 5).map((r) => [r.y, r.x])).toEqual([[0, 0], [0, 3], [3, 0], [3, 3]]);
  });

  it('adds regions along the long side of a wide map', () => {
    const regions = rmacRegions(7, 12, 2);
    expect(regions.filter((r) => r.size === 7).length).toBeGreaterThan(1);
    for (const { y, x, size } of regions) expect([y + size <= 7, x + size <= 12]).toEqual([true, true]);
  });

  it('is plain GeM when the only region is the whole map, for float and quantized maps alike', () => {
    const quantized = new Uint8Array(64 * 25).map((_, i) => (i * 53) % 256);
    const floats = dequantize(quantized, 0.02, 7);
    const whole = [{ y: 0, x: 0, size: 5 }];
    const fromQuantized = l2n(regionalGem(new GemIntegral({ values: { quantized, scale: 0.02, zeroPoint: 7 }, channels: 64, height: 5, width: 5 }, 3), whole));
    const fromFloats = l2n(regionalGem(new GemIntegral({ values: floats, channels: 64, height: 5, width: 5 }, 3), whole));
    const reference = l2n(gem(floats, 64, 25, 3));
    for (let c = 0; c < 64; c++) {
      expect(fromQuantized[c]).toBeCloseTo(reference[c]!, 5);
      expect(fromFloats[c]).toBeCloseTo(reference[c]!, 5);
    }
  });

  it('sums L2-normalised region vectors, so one strong peak does not swamp what the rest of the map shows', () => {
    // Channel 0 fires weakly everywhere, channel 1 strongly in one corner cell only.
    const map = new Float32Array(2 * 16);
    map.fill(1, 0, 16);
    map[16] = 100;
    const global = l2n(gem(map, 2, 16, 3));
    const regional = l2n(regionalGem(new GemIntegral({ values: map, channels: 2, height: 4, width: 4 }, 3), rmacRegions(4, 4, 3)));
    expect(regional[0]! / regional[1]!).toBeGreaterThan(global[0]! / global[1]!);
  });
});

describe('feature tap', () => {
  it('finds the quantized input of MobileNetV2’s QLinearGlobalAveragePool and its scale and zero point', () => {
    const { path } = resolveModel('mobilenetv2_int8');
    const tap = tapFeatures(readFileSync(path), '', 'mobilenetv2');
    expect(tap.tensor).toBe('627_quantized');
    expect(tap.quantization?.scale).toBeCloseTo(0.0235294, 6);
    expect(tap.quantization?.zeroPoint).toBe(0);
  });

  it('refuses a feature tensor the graph does not have', () => {
    const { path } = resolveModel('mobilenetv2_int8');
    expect(() => tapFeatures(readFileSync(path), 'no_such_tensor', 'mobilenetv2')).toThrow(
      expect.objectContaining({ code: 'MODEL_INVALID', message: expect.stringContaining('"no_such_tensor"') }),
    );
  });
});

describe('MobileNetV2 int8 encoder', () => {
  let encoder: Encoder;
  let image: RawImage;
  beforeAll(async () => {
    encoder = await createEncoder(DEFAULT_ENCODER_OPTIONS);
    image = await decodeImage(readFileSync(resolve(GROCERY, 'val', 'Fruit', 'Banana', 'Banana_001.jpg')), 50e6);
  });
  afterAll(() => encoder.close());

  it('describes itself: model, sha256, 1280 dimensions, GeM p = 3 (regional for the whole image, global for crops), crops at 224 and the whole image at 416', () => {
    expect(encoder.meta).toEqual({
      model: 'mobilenetv2_int8',
      sha256: 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f',
      dim: 1280,
      inputSize: 224,
      imageInputSize: 416,
      pooling: 'rgem',
      cropPooling: 'gem',
      regionLevels: 3,
      gemP: 3,
    });
    expect(encoder.featureTensor).toBe('627_quantized');
  });

  it('gives one unit-length 1280-d vector per region', async () => {
    const regions = [wholeImage(image), { x: 100, y: 100, width: 150, height: 90 }, { x: 0, y: 0, width: 20, height: 300 }];
    const { vectors } = await encoder.encode(image, regions);
    expect(vectors).toHaveLength(3);
    for (const vector of vectors) {
      expect(vector).toHaveLength(1280);
      expect(norm(vector)).toBeCloseTo(1, 4);
    }
    expect(dot(vectors[0]!, vectors[2]!)).toBeLessThan(0.95); // different regions, different vectors
  });

  it('embeds a crop the same alone as in a batch with others (cosine > 0.999)', async () => {
    const crop = { x: 40, y: 60, width: 200, height: 180 };
    const alone = (await encoder.encode(image, [crop])).vectors[0]!;
    const batched = (await encoder.encode(image, [wholeImage(image), { x: 0, y: 0, width: 100, height: 100 }, crop])).vectors[2]!;
    expect(dot(alone, batched)).toBeGreaterThan(0.999);
  });

  it('pools each region of a batch as asked: regional and global GeM of one crop differ, and match the crop pooled alone', async () => {
    const crop = { x: 40, y: 60, width: 200, height: 180 };
    const mixed = (await encoder.encode(image, [wholeImage(image), crop], 224, ['rgem', 'gem'])).vectors;
    const globalAlone = (await encoder.encode(image, [crop], 224, ['gem'])).vectors[0]!;
    const regionalAlone = (await encoder.encode(image, [crop], 224, ['rgem'])).vectors[0]!;
    const wholeRegional = (await encoder.encode(image, [wholeImage(image)], 224, ['rgem'])).vectors[0]!;
    expect(dot(mixed[1]!, globalAlone)).toBeGreaterThan(0.999);
    expect(dot(mixed[0]!, wholeRegional)).toBeGreaterThan(0.999);
    expect(dot(globalAlone, regionalAlone)).toBeLessThan(0.995);
  });

  it('runs at other input sizes (symbolic height and width): 320 gives vectors close to 224', async () => {
    const large = await createEncoder({ ...DEFAULT_ENCODER_OPTIONS, inputSize: 320 });
    try {
      const [at320] = (await large.encode(image, [wholeImage(image)])).vectors;
      const [at224] = (await encoder.encode(image, [wholeImage(image)])).vectors;
      expect(at320).toHaveLength(1280);
      expect(norm(at320!)).toBeCloseTo(1, 4);
      expect(dot(at320!, at224!)).toBeGreaterThan(0.7);
      expect(dot(at320!, at224!)).toBeLessThan(0.9999);
    } finally {
      await large.close();
    }
  });

  it('with midLevel, pools the mid-level map beside the last one: 1280 then 576 values, weighted 1 : 2, each part pooled on its own', async () => {
    const withMidLevel = await createEncoder({ ...DEFAULT_ENCODER_OPTIONS, midLevel: true });
    try {
      expect(withMidLevel.meta).toMatchObject({ dim: 1856, midLevel: '582_quantized×2', midLevelDim: 576 });
      expect(encoder.meta).not.toHaveProperty('midLevel'); // without, the identity is what older catalogs stored
      const regions = [wholeImage(image), { x: 40, y: 60, width: 200, height: 180 }];
      for (const [index, pooling] of [[0, 'rgem'], [1, 'gem']] as const) {
        const both = (await withMidLevel.encode(image, [regions[index]!], 224, [pooling])).vectors[0]!;
        const last = (await encoder.encode(image, [regions[index]!], 224, [pooling])).vectors[0]!;
        const head = both.subarray(0, 1280);
        const tail = both.subarray(1280);
        expect(norm(head)).toBeCloseTo(1 / Math.sqrt(5), 4);
        expect(norm(tail)).toBeCloseTo(2 / Math.sqrt(5), 4);
        // The last layer's part is the one-layer vector, scaled.
        expect(dot(head, last) / norm(head)).toBeGreaterThan(0.9999);
      }
    } finally {
      await withMidLevel.close();
    }
  });

  it('refuses a model that is not an encoder', async () => {
    await expect(createEncoder({ ...DEFAULT_ENCODER_OPTIONS, model: 'yolox_nano' })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});

describe('ResNet-50 encoder (random weights: shapes and latency only)', () => {
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await createEncoder({ ...DEFAULT_ENCODER_OPTIONS, model: 'resnet50_random' });
  });
  afterAll(() => encoder.close());

  it('taps the input of its GlobalAveragePool and gives unit-length 2048-d vectors', async () => {
    expect(encoder.featureTensor).toBe('/layer4/layer4.2/relu_2/Relu_output_0');
    expect(encoder.quantization).toBeNull();
    expect(encoder.meta.dim).toBe(2048);
    const image = await decodeImage(readFileSync(resolve(GROCERY, 'val', 'Fruit', 'Banana', 'Banana_002.jpg')), 50e6);
    const { vectors } = await encoder.encode(image, [wholeImage(image), { x: 10, y: 10, width: 100, height: 100 }]);
    for (const vector of vectors) {
      expect(vector).toHaveLength(2048);
      expect(norm(vector)).toBeCloseTo(1, 4);
    }
  });
});

/**
 * The encoder stage: every region of one image is resized into ONE batch tensor, run once through the
 * tapped network, then each feature map is dequantized (when int8), GeM-pooled and L2-normalised; with
 * mid-level maps, each layer is pooled and normalised on its own and the parts concatenated.
 */
import { readFileSync } from 'node:fs';
import { FindthisError } from '../core/errors.js';
import type { RawImage } from '../imaging/decode.js';
import { letterboxGeometry, letterboxInto, resizeInto, type Region } from '../imaging/resize.js';
import { resolveModel } from '../models/manifest.js';
import { createSession, ort } from '../models/session.js';
import { tapFeatures, type FeatureQuantization } from './feature-tap.js';
import { concatenateUnits, FeatureMaps } from './feature-maps.js';
import { gem, gemQuantized, GemIntegral, l2n, rmacRegions, type FeatureValues, type PoolRegion } from './gem.js';
import type { EncoderOptions, Pooling } from './options.js';

/** What produced a vector: an index stores this and refuses vectors from another encoder. */
export interface EncoderMeta {
  /** Manifest model name, e.g. 'mobilenetv2_int8'. */
  model: string;
  /** sha256 of the model file (from the manifest, checked by models:fetch). */
  sha256: string;
  /** Vector length: channels of the feature map, and of the mid-level maps. */
  dim: number;
  /** Side of the square every crop is resized to. */
  inputSize: number;
  /** Side of the square the whole-image object is resized to. */
  imageInputSize: number;
  /** Pooling of the whole-image object, and of each detection crop. */
  pooling: Pooling;
  cropPooling: Pooling;
  /** R-MAC levels where 'rgem' is used (0 when neither pooling is 'rgem'). */
  regionLevels: number;
  gemP: number;
  /** The mid-level maps pooled beside the feature map, `tensor×weight` joined by `+`, and their channels; absent when none (older catalogs have none). */
  midLevel?: string;
  midLevelDim?: number;
}

export interface Encoding {
  /** One unit-length vector per region, in order. */
  vectors: Float32Array[];
  /** Resizing all regions into the batch tensor. */
  cropMs: number;
  /** The session run (all regions in one batch). */
  encodeMs: number;
  /** Dequantize + GeM + L2 of every region. */
  poolMs: number;
  /** The GeM integrals of regions[0]'s feature maps, when asked for (`keepFirstMap`): boxes of them are pooled later. */
  firstMap?: FeatureMaps;
}

export interface Encoder {
  readonly meta: EncoderMeta;
  /** The tapped feature tensor and its quantization (null = float). */
  readonly featureTensor: string;
  readonly quantization: FeatureQuantization;
  /**
   * Embeds each region of the image (at least one), in one batched session run at `inputSize`
   * (default: meta.inputSize), pooling region i with `poolings[i]` (default: meta.pooling for all);
   * with `keepFirstMap`, also returns the GeM integrals of regions[0]'s feature maps.
   */
  encode(image: RawImage, regions: readonly Region[], inputSize?: number, poolings?: readonly Pooling[], keepFirstMap?: boolean): Promise<Encoding>;
  close(): Promise<void>;
}

export async function createEncoder(options: EncoderOptions, context: { modelsDir?: string } = {}): Promise<Encoder> {
  const { name, path, entry } = resolveModel(options.model, context);
  if (entry.role !== 'encoder') throw new FindthisError('INVALID_CONFIG', `Model ${name} is a ${entry.role}, not an encoder`);
  const label = `${name} (${path})`;
  const midLevel = options.midLevel ? (entry.features?.midLevel ?? []) : [];
  const tap = tapFeatures(readFileSync(path), options.featureTensor || entry.features?.tensor || '', label, midLevel.map(({ tensor }) => tensor));
  const session = await createSession(tap.model, options.threads, label);
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const layers = [
    { output: outputName, quantization: tap.quantization, weight: 1 },
    ...midLevel.map(({ tensor, weight }, i) => ({ output: tensor, quantization: tap.midLevel[i]!.quantization, weight })),
  ];
  const size = options.inputSize;
  const sample = 3 * size * size;
  const imageInputSize = options.imageInputSize || size;
  const input = entry.input;
  const normalization = { channelOrder: input.channelOrder, scale: input.scale, mean: input.mean, std: input.std } as const;

  // One probe run: checks the graph really takes `size` and tells the feature map's shape.
  const probe = await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(sample), [1, 3, size, size]) });
  const [, dim = 0, featureHeight = 0, featureWidth = 0] = probe[outputName]!.dims;
  const spatial = featureHeight * featureWidth;
  if (probe[outputName]!.dims.length !== 4 || dim === 0 || spatial === 0) {
    throw new FindthisError('MODEL_INVALID', `${label}: feature tensor ${tap.tensor} has shape [${probe[outputName]!.dims.join(',')}], expected [N,C,H,W]`);
  }
  if (entry.features?.dim && entry.features.dim !== dim) {
    throw new FindthisError('MODEL_INVALID', `${label}: feature tensor ${tap.tensor} has ${dim} channels, the manifest says ${entry.features.dim}`);
  }

  const expectedType = tap.quantization ? 'uint8' : 'float32';
  if (probe[outputName]!.type !== expectedType) {
    throw new FindthisError('MODEL_INVALID', `${label}: feature tensor ${tap.tensor} is ${probe[outputName]!.type}, expected ${expectedType}`);
  }
  const midLevelDim = midLevel.reduce((sum, { tensor, dim: channels }) => {
    const got = probe[tensor]!.dims[1];
    if (got !== channels) throw new FindthisError('MODEL_INVALID', `${label}: mid-level tensor ${tensor} has ${got} channels, the manifest says ${channels}`);
    return sum + channels;
  }, 0);

  // Batch buffers are reused (one crop is 600 kB at 224): a free one large enough is taken, so that
  // overlapping encode() calls never share one.
  const spareBatches: Float32Array[] = [];
  const takeBatch = (length: number): Float32Array => {
    const index = spareBatches.findIndex((buffer) => buffer.length >= length);
    return index >= 0 ? spareBatches.splice(index, 1)[0]! : new Float32Array(length);
  };

  const regionLevels = options.pooling === 'rgem' || options.cropPooling === 'rgem' ? options.regionLevels : 0;
  const meta: EncoderMeta = {
    model: name,
    sha256: entry.sha256,
    dim: dim + midLevelDim,
    inputSize: size,
    imageInputSize,
    pooling: options.pooling,
    cropPooling: options.cropPooling,
    regionLevels,
    gemP: options.gemP,
    ...(midLevel.length ? { midLevel: midLevel.map(({ tensor, weight }) => `${tensor}×${weight}`).join('+'), midLevelDim } : {}),
  };
  // R-MAC grids depend only on the feature map's size: one per input size used.
  const regionGrids = new Map<string, PoolRegion[]>();
  const gridFor = (height: number, width: number): PoolRegion[] => {
    const key = `${height}x${width}`;
    let grid = regionGrids.get(key);
    if (!grid) regionGrids.set(key, (grid = rmacRegions(height, width, regionLevels)));
    return grid;
  };
  return {
    meta,
    featureTensor: tap.tensor,
    quantization: tap.quantization,
    async encode(image, regions, inputSize = size, poolings = regions.map(() => options.pooling), keepFirstMap = false) {
      const start = performance.now();
      const sample = 3 * inputSize * inputSize;
      const buffer = takeBatch(regions.length * sample);
      const batch = buffer.subarray(0, regions.length * sample);
      regions.forEach((region, index) => {
        const target = { tensor: batch, offset: index * sample, planeWidth: inputSize, planeHeight: inputSize };
        if (input.resize === 'letterbox') {
          const letterbox = letterboxGeometry(region.width, region.height, { size: inputSize, upscale: true, stride: 0 });
          letterboxInto(image, region, letterbox, input.padValue ?? 0, normalization, target);
        }
        else resizeInto(image, region, inputSize, inputSize, normalization, target);
      });
      const cropped = performance.now();
      const outputs = await session.run({ [inputName]: new ort.Tensor('float32', batch, [regions.length, 3, inputSize, inputSize]) });
      const encoded = performance.now();
      spareBatches.push(buffer);
      // Region i's map of each layer, and the integrals of every layer when a box of it is pooled later.
      const mapsOf = (index: number): Array<{ values: FeatureValues; channels: number; height: number; width: number }> =>
        layers.map(({ output, quantization }) => {
          const features = outputs[output]!;
          const [, channels = 0, height = 0, width = 0] = features.dims;
          const begin = index * channels * height * width;
          const end = begin + channels * height * width;
          const values = quantization
            ? { quantized: (features.data as Uint8Array).subarray(begin, end), ...quantization }
            : (features.data as Float32Array).subarray(begin, end);
          return { values, channels, height, width };
        });
      let firstMap: FeatureMaps | undefined;
      const vectors = regions.map((_, index) => {
        const maps = mapsOf(index);
        const kept = keepFirstMap && index === 0;
        if (poolings[index] === 'rgem' || kept) {
          const integrals = new FeatureMaps(maps.map((map, i) => ({ integral: new GemIntegral(map, options.gemP), weight: layers[i]!.weight })));
          if (kept) firstMap = integrals;
          if (poolings[index] === 'rgem') return l2n(integrals.regional(gridFor));
        }
        return l2n(concatenateUnits(maps.map(({ values, channels, height, width }, i) => {
          const pooled = 'quantized' in values
            ? gemQuantized(values.quantized, values.scale, values.zeroPoint, channels, height * width, options.gemP)
            : gem(values, channels, height * width, options.gemP);
          return { part: pooled, weight: layers[i]!.weight };
        })));
      });
      const encoding: Encoding = { vectors, cropMs: cropped - start, encodeMs: encoded - cropped, poolMs: performance.now() - encoded };
      if (firstMap) encoding.firstMap = firstMap;
      return encoding;
    },
    close: () => session.release(),
  };
}

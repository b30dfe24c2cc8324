/**
 * Pooling and normalisation as pure numeric functions, named as in cirtorch
 * (Radenović, Tolias, Chum: "Fine-tuning CNN Image Retrieval with No Human Annotation"):
 * GeM(x)_c = (mean over positions of max(x, eps)^p)^(1/p), then l2n(v) = v / (‖v‖ + eps).
 * Quantized maps' sums run in a WebAssembly kernel (gem-kernel.ts).
 */
import { channelSums, integralImages } from './gem-kernel.js';

/** cirtorch's clamp floor for GeM and the L2 denominator. */
export const GEM_EPS = 1e-6;

/** Real values of a uint8 quantized tensor: (q − zeroPoint) × scale. */
export function dequantize(quantized: Uint8Array, scale: number, zeroPoint: number): Float32Array {
  const out = new Float32Array(quantized.length);
  for (let i = 0; i < quantized.length; i++) out[i] = (quantized[i]! - zeroPoint) * scale;
  return out;
}

/** v ↦ v^(1/p): Math.cbrt for the default p = 3, which takes a third off pooling (Math.pow is slow). */
function rootOf(p: number): (value: number) => number {
  return p === 3 ? Math.cbrt : (value) => Math.pow(value, 1 / p);
}

/**
 * GeM pooling of one feature map laid out channel-major (`channels × spatial` values, as one sample
 * of an NCHW tensor). Returns `channels` values.
 */
export function gem(features: Float32Array, channels: number, spatial: number, p = 3, eps = GEM_EPS): Float32Array {
  const out = new Float32Array(channels);
  const cube = p === 3; // the default: x·x·x is several times faster than Math.pow
  const root = rootOf(p);
  for (let c = 0, i = 0; c < channels; c++) {
    let sum = 0;
    for (let end = i + spatial; i < end; i++) {
      const x = Math.max(features[i]!, eps);
      sum += cube ? x * x * x : Math.pow(x, p);
    }
    out[c] = root(sum / spatial);
  }
  return out;
}

/**
 * GeM pooling straight from a uint8 quantized feature map: the same result as
 * `gem(dequantize(q, scale, zeroPoint), …)`, via a 256-entry table of max((q − zp)·scale, eps)^p.
 */
export function gemQuantized(
  quantized: Uint8Array,
  scale: number,
  zeroPoint: number,
  channels: number,
  spatial: number,
  p = 3,
  eps = GEM_EPS,
): Float32Array {
  const sums = channelSums({ quantized, table: powerTable(scale, zeroPoint, p, eps), channels }, spatial);
  const root = rootOf(p);
  const out = new Float32Array(channels);
  for (let c = 0; c < channels; c++) out[c] = root(sums[c]! / spatial);
  return out;
}

/** Power tables made so far, by setting: an encoder's layers and p never change, so every map reuses its layer's. */
const powerTables = new Map<string, Float64Array>();

/** max((q − zeroPoint)·scale, eps)^p for every uint8 q (256 Math.pow calls, about 20 µs, once per setting). */
function powerTable(scale: number, zeroPoint: number, p: number, eps: number): Float64Array {
  const key = `${scale} ${zeroPoint} ${p} ${eps}`;
  let table = powerTables.get(key);
  if (!table) {
    table = new Float64Array(256);
    for (let q = 0; q < 256; q++) table[q] = Math.pow(Math.max((q - zeroPoint) * scale, eps), p);
    powerTables.set(key, table);
  }
  return table;
}

/** L2 normalisation: a new vector v / (‖v‖₂ + eps). */
export function l2n(vector: Float32Array, eps = GEM_EPS): Float32Array {
  let sumSquares = 0;
  for (let i = 0; i < vector.length; i++) sumSquares += vector[i]! * vector[i]!;
  const inverse = 1 / (Math.sqrt(sumSquares) + eps);
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! * inverse;
  return out;
}

/** A square pooling region of a feature map, in feature-map cells. */
export interface PoolRegion {
  y: number;
  x: number;
  size: number;
}

/** A rectangle of feature-map cells: rows y..y+height−1, columns x..x+width−1. */
export interface CellBox {
  y: number;
  x: number;
  height: number;
  width: number;
}

/**
 * The R-MAC region grid (Tolias, Sicre, Jégou: "Particular object retrieval with integral max-pooling
 * of CNN activations", ICLR 2016): at level l = 1..levels, squares of side ⌊2·min(H,W)/(l+1)⌋ laid
 * uniformly, l along the short side and as many along the long side as keep the overlap near 40%.
 * Level 1 on a square map is the whole map. 3 levels on a square map give 1 + 4 + 9 = 14 regions.
 */
export function rmacRegions(height: number, width: number, levels: number): PoolRegion[] {
  const short = Math.min(height, width);
  const regions: PoolRegion[] = [];
  for (let level = 1; level <= levels; level++) {
    const size = Math.floor((2 * short) / (level + 1));
    if (size < 1) break;
    const along = (extent: number): number[] => {
      const count = extent === short ? level : Math.max(level, Math.round((extent - size) / (size * 0.6)) + 1);
      if (count === 1) return [Math.floor((extent - size) / 2)];
      return Array.from({ length: count }, (_, i) => Math.round((i * (extent - size)) / (count - 1)));
    };
    for (const y of along(height)) for (const x of along(width)) regions.push({ y, x, size });
  }
  return regions;
}

/** A feature map as the encoder gets it: float, or uint8 with its quantization. */
export type FeatureValues = Float32Array | { quantized: Uint8Array; scale: number; zeroPoint: number };

/** One sample's feature map, channel-major, with its shape. */
export interface FeatureMap {
  values: FeatureValues;
  channels: number;
  height: number;
  width: number;
}

/**
 * GeM over any box of one feature map in four look-ups per channel: max(x, eps)^p goes into one
 * integral image per channel, built once, so pooling hundreds of boxes (a photo's proposals, the R-MAC
 * grid) costs little more than building it. One photo's integral serves both its regional GeM and the
 * scoring of its proposals.
 */
export class GemIntegral {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Channel c's integral image at c·plane: (height + 1) × (width + 1) sums, a zero row and column first. */
  private readonly sums: Float64Array;
  private readonly plane: number;

  constructor(map: FeatureMap, readonly p = 3, eps = GEM_EPS) {
    const { values, channels, height, width } = map;
    this.channels = channels;
    this.height = height;
    this.width = width;
    const stride = width + 1;
    const spatial = height * width;
    this.plane = (height + 1) * stride;
    if (!(values instanceof Float32Array)) {
      this.sums = integralImages({ quantized: values.quantized, table: powerTable(values.scale, values.zeroPoint, p, eps), channels }, height, width);
      return;
    }
    // Float maps (the f32 encoders) stay in JavaScript: their powers need Math.pow unless p = 3.
    const sums = (this.sums = new Float64Array(this.plane * channels));
    const powered = new Float64Array(spatial);
    for (let c = 0; c < channels; c++) {
      const from = c * spatial;
      for (let i = 0; i < spatial; i++) {
        const x = Math.max(values[from + i]!, eps);
        powered[i] = p === 3 ? x * x * x : Math.pow(x, p);
      }
      const base = c * this.plane;
      for (let y = 0, i = 0; y < height; y++) {
        let rowSum = 0;
        const above = base + y * stride + 1;
        const row = above + stride;
        for (let x = 0; x < width; x++, i++) {
          rowSum += powered[i]!;
          sums[row + x] = sums[above + x]! + rowSum;
        }
      }
    }
  }

  /** GeM of the cells in `box` (not normalised), `channels` values written to `out`. */
  pool({ y, x, height, width }: CellBox, out = new Float64Array(this.channels)): Float64Array {
    const stride = this.width + 1;
    // sum = I[bottom right] − I[bottom left] − I[top right] + I[top left]
    const bottomRight = (y + height) * stride + x + width;
    const bottomLeft = (y + height) * stride + x;
    const topRight = y * stride + x + width;
    const topLeft = y * stride + x;
    const inverseArea = 1 / (height * width);
    const root = rootOf(this.p);
    const sums = this.sums;
    for (let c = 0, at = 0; c < this.channels; c++, at += this.plane) {
      out[c] = root((sums[at + bottomRight]! - sums[at + bottomLeft]! - sums[at + topRight]! + sums[at + topLeft]!) * inverseArea);
    }
    return out;
  }
}

/**
 * Regional GeM (cirtorch's `Rpool` around GeM): GeM over each region, each L2-normalised, summed.
 * The caller L2-normalises the sum. Regions let a product that fills only part of a cluttered photo
 * weigh as much as the shelf around it.
 */
export function regionalGem(integral: GemIntegral, regions: readonly PoolRegion[], eps = GEM_EPS): Float32Array {
  const channels = integral.channels;
  const pooled = new Float64Array(channels);
  const out = new Float32Array(channels);
  for (const { y, x, size } of regions) {
    integral.pool({ y, x, height: size, width: size }, pooled);
    let sumSquares = 0;
    for (let c = 0; c < channels; c++) sumSquares += pooled[c]! * pooled[c]!;
    const inverse = 1 / (Math.sqrt(sumSquares) + eps);
    for (let c = 0; c < channels; c++) out[c]! += pooled[c]! * inverse;
  }
  return out;
}

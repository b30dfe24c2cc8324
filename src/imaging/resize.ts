/**
 * Resizes a region of a RawImage straight into a model's NCHW float32 input, normalising on the way:
 * one separable, antialiased bilinear pass (the triangle filter widened by the downscale factor, as
 * PIL's BILINEAR resize that torchvision models were trained with), no intermediate images.
 */
import type { RawImage } from './decode.js';

/** Integer pixel rectangle inside an image. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** How 0..255 RGB bytes become model input values: out[c] = (byte[src(c)] × scale − mean[c]) / std[c]. */
export interface PixelNormalization {
  channelOrder: 'RGB' | 'BGR';
  scale: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Where the resized pixels go: a plane block of `planeWidth × planeHeight` per channel, starting at `offset`. */
export interface TensorTarget {
  tensor: Float32Array;
  offset: number;
  planeWidth: number;
  planeHeight: number;
}

/** Per output coordinate: first source index and normalised weights (flattened, `taps` per output). */
interface FilterBank {
  first: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Float64Array;
  /**
   * 2 or 4 when every output has been given exactly that many taps (zero weights added, `first` moved
   * back at the far edge), so the horizontal pass can run unrolled; 0 otherwise.
   */
  uniformTaps: number;
}

function filterBank(inStart: number, inSize: number, outSize: number): FilterBank {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle filter has support 1, widened when downscaling
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    let total = 0;
    for (let i = lo; i < hi; i++) {
      const w = Math.max(0, 1 - Math.abs((i - center + 0.5) / filterScale));
      weights[o * taps + i - lo] = w;
      total += w;
    }
    // Drop zero-weight taps at the ends (common when enlarging), so loops do only useful work.
    let skip = 0;
    while (skip < hi - lo - 1 && weights[o * taps + skip] === 0) skip++;
    let used = hi - lo - skip;
    while (used > 1 && weights[o * taps + skip + used - 1] === 0) used--;
    for (let i = 0; i < used; i++) weights[o * taps + i] = weights[o * taps + skip + i]! / (total || 1);
    first[o] = inStart + lo + skip;
    count[o] = used;
  }
  const widest = count.reduce((most, n) => Math.max(most, n), 0);
  const uniformTaps = widest <= 2 && inSize >= 2 ? 2 : widest <= 4 && inSize >= 4 && taps >= 4 ? 4 : 0;
  for (let o = 0; o < outSize && uniformTaps > 0; o++) {
    const n = count[o]!;
    const base = o * taps;
    // Room after the last tap? Pad with zeros there; else start earlier and pad in front.
    const shift = Math.max(0, first[o]! + uniformTaps - (inStart + inSize));
    for (let i = n - 1; i >= 0; i--) weights[base + i + shift] = weights[base + i]!;
    for (let i = 0; i < shift; i++) weights[base + i] = 0;
    for (let i = n + shift; i < uniformTaps; i++) weights[base + i] = 0;
    first[o] = first[o]! - shift;
    count[o] = uniformTaps;
  }
  return { first, count, taps, weights, uniformTaps };
}

/**
 * Resizes `region` of `image` to `outWidth × outHeight` and writes it, normalised, at the top-left of
 * the target's planes (what lies outside that rectangle is left as it is, e.g. letterbox padding).
 */
export function resizeInto(
  image: RawImage,
  region: Region,
  outWidth: number,
  outHeight: number,
  normalization: PixelNormalization,
  target: TensorTarget,
): void {
  const src = image.data;
  const srcStride = image.width * 3;
  const regionStart = region.x * 3;
  const rowLength = region.width * 3;

  // out = byte × gain + bias, per source channel R, G, B, written to that channel's plane.
  const { tensor, offset, planeWidth, planeHeight } = target;
  const plane = planeWidth * planeHeight;
  const bgr = normalization.channelOrder === 'BGR';
  const gain = [0, 0, 0];
  const bias = [0, 0, 0];
  const planeOf = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const sourceChannel = bgr ? 2 - c : c;
    gain[sourceChannel] = normalization.scale / normalization.std[c]!;
    bias[sourceChannel] = -normalization.mean[c]! / normalization.std[c]!;
    planeOf[sourceChannel] = offset + c * plane;
  }
  const [gainR, gainG, gainB] = gain as [number, number, number];
  const [biasR, biasG, biasB] = bias as [number, number, number];
  const [planeR, planeG, planeB] = planeOf as [number, number, number];

  if (region.width === outWidth && region.height === outHeight) {
    // Same size (e.g. a small photo letterboxed without enlarging): the filter is the identity.
    for (let y = 0; y < outHeight; y++) {
      let p = (region.y + y) * srcStride + regionStart;
      const outRow = y * planeWidth;
      for (let x = 0; x < outWidth; x++, p += 3) {
        const o = outRow + x;
        tensor[planeR + o] = src[p]! * gainR + biasR;
        tensor[planeG + o] = src[p + 1]! * gainG + biasG;
        tensor[planeB + o] = src[p + 2]! * gainB + biasB;
      }
    }
    return;
  }

  const horizontal = filterBank(0, region.width, outWidth);
  const vertical = filterBank(region.y, region.height, outHeight);

  const { first: vFirst, count: vCount, weights: vWeights, taps: vTaps } = vertical;
  const { first: hFirst, count: hCount, weights: hWeights, taps: hTaps } = horizontal;
  // Vertical pass first, one output row at a time, into a row of region-width RGB floats: a simple
  // contiguous loop; then the horizontal pass reads that row (which stays in cache).
  const row = new Float64Array(rowLength);
  const uniformTaps = horizontal.uniformTaps;
  for (let y = 0; y < outHeight; y++) {
    const n = vCount[y]!;
    const firstBase = vFirst[y]! * srcStride + regionStart;
    const firstWeight = vWeights[y * vTaps]!;
    // Two and four taps (enlarging; shrinking up to 2×) in one pass over the row, more in several.
    let done = 1;
    if (n === 2) {
      const secondBase = firstBase + srcStride;
      const secondWeight = vWeights[y * vTaps + 1]!;
      for (let i = 0; i < rowLength; i++) row[i] = src[firstBase + i]! * firstWeight + src[secondBase + i]! * secondWeight;
      done = 2;
    } else if (n === 4) {
      const w1 = vWeights[y * vTaps + 1]!;
      const w2 = vWeights[y * vTaps + 2]!;
      const w3 = vWeights[y * vTaps + 3]!;
      const b1 = firstBase + srcStride;
      const b2 = b1 + srcStride;
      const b3 = b2 + srcStride;
      for (let i = 0; i < rowLength; i++) {
        row[i] = src[firstBase + i]! * firstWeight + src[b1 + i]! * w1 + src[b2 + i]! * w2 + src[b3 + i]! * w3;
      }
      done = 4;
    } else {
      for (let i = 0; i < rowLength; i++) row[i] = src[firstBase + i]! * firstWeight;
    }
    for (let k = done; k < n; k++) {
      const w = vWeights[y * vTaps + k]!;
      const base = firstBase + k * srcStride;
      for (let i = 0; i < rowLength; i++) row[i]! += src[base + i]! * w;
    }
    const outRow = y * planeWidth;
    if (uniformTaps === 2) {
      // Enlarging: every output pixel blends exactly two neighbours (unrolled: no inner loop).
      for (let x = 0; x < outWidth; x++) {
        const p = hFirst[x]! * 3;
        const w0 = hWeights[x * hTaps]!;
        const w1 = hWeights[x * hTaps + 1]!;
        const o = outRow + x;
        tensor[planeR + o] = (row[p]! * w0 + row[p + 3]! * w1) * gainR + biasR;
        tensor[planeG + o] = (row[p + 1]! * w0 + row[p + 4]! * w1) * gainG + biasG;
        tensor[planeB + o] = (row[p + 2]! * w0 + row[p + 5]! * w1) * gainB + biasB;
      }
      continue;
    }
    if (uniformTaps === 4) {
      // Shrinking by up to 1.5×–2×: four taps per output pixel, unrolled.
      for (let x = 0; x < outWidth; x++) {
        const p = hFirst[x]! * 3;
        const wBase = x * hTaps;
        const w0 = hWeights[wBase]!;
        const w1 = hWeights[wBase + 1]!;
        const w2 = hWeights[wBase + 2]!;
        const w3 = hWeights[wBase + 3]!;
        const o = outRow + x;
        tensor[planeR + o] = (row[p]! * w0 + row[p + 3]! * w1 + row[p + 6]! * w2 + row[p + 9]! * w3) * gainR + biasR;
        tensor[planeG + o] = (row[p + 1]! * w0 + row[p + 4]! * w1 + row[p + 7]! * w2 + row[p + 10]! * w3) * gainG + biasG;
        tensor[planeB + o] = (row[p + 2]! * w0 + row[p + 5]! * w1 + row[p + 8]! * w2 + row[p + 11]! * w3) * gainB + biasB;
      }
      continue;
    }
    for (let x = 0; x < outWidth; x++) {
      let p = hFirst[x]! * 3;
      const m = hCount[x]!;
      const wBase = x * hTaps;
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let k = 0; k < m; k++, p += 3) {
        const w = hWeights[wBase + k]!;
        red += row[p]! * w;
        green += row[p + 1]! * w;
        blue += row[p + 2]! * w;
      }
      const o = outRow + x;
      tensor[planeR + o] = red * gainR + biasR;
      tensor[planeG + o] = green * gainG + biasG;
      tensor[planeB + o] = blue * gainB + biasB;
    }
  }
}

/**
 * Where an image goes in a letterboxed model input: scaled by `ratio` to `width × height`, placed at
 * the top-left of an `inputWidth × inputHeight` input, padded elsewhere.
 */
export interface Letterbox {
  ratio: number;
  width: number;
  height: number;
  inputWidth: number;
  inputHeight: number;
}

/** How a letterbox is laid out (see letterboxGeometry). */
export interface LetterboxPolicy {
  /** The largest input side: the image is shrunk to fit `size × size`. */
  size: number;
  /** Whether an image smaller than `size` is enlarged to fit it (else it keeps its own size). */
  upscale: boolean;
  /**
   * 0: the input is always `size × size`. Otherwise each input side is the scaled image's side rounded
   * up to a multiple of this (rectangular inference: a 4:3 photo at 416 runs 416 × 320, not 416 × 416).
   */
  stride: number;
}

/** The letterbox of a `width × height` region under `policy`. */
export function letterboxGeometry(width: number, height: number, policy: LetterboxPolicy): Letterbox {
  const { size, upscale, stride } = policy;
  const fit = Math.min(size / width, size / height);
  const ratio = upscale ? fit : Math.min(fit, 1);
  const scaledWidth = Math.max(1, Math.min(size, Math.round(width * ratio)));
  const scaledHeight = Math.max(1, Math.min(size, Math.round(height * ratio)));
  const padded = (side: number): number => (stride > 0 ? Math.min(size, Math.ceil(side / stride) * stride) : size);
  return { ratio, width: scaledWidth, height: scaledHeight, inputWidth: padded(scaledWidth), inputHeight: padded(scaledHeight) };
}

/**
 * Letterboxes `region` of the image into the target's planes (which must be `letterbox.inputWidth ×
 * inputHeight`): resized to `letterbox.width × height` at the top-left, `padValue` (0..255) elsewhere.
 */
export function letterboxInto(
  image: RawImage,
  region: Region,
  letterbox: Letterbox,
  padValue: number,
  normalization: PixelNormalization,
  target: TensorTarget,
): void {
  const { width, height } = letterbox;
  const { tensor, offset, planeWidth, planeHeight } = target;
  const plane = planeWidth * planeHeight;
  // Pad only what the image does not cover: the right of its rows, then the rows below it.
  for (let c = 0; c < 3; c++) {
    const value = (padValue * normalization.scale - normalization.mean[c]!) / normalization.std[c]!;
    const start = offset + c * plane;
    if (width < planeWidth) for (let y = 0; y < height; y++) tensor.fill(value, start + y * planeWidth + width, start + (y + 1) * planeWidth);
    tensor.fill(value, start + height * planeWidth, start + plane);
  }
  resizeInto(image, region, width, height, normalization, target);
}

/** The whole image as a region. */
export function wholeImage(image: RawImage): Region {
  return { x: 0, y: 0, width: image.width, height: image.height };
}

/**
 * Resizes a region of a RawImage straight into a model's NCHW float32 input, normalising on the way:
 * one separable, antialiased bilinear pass (the triangle filter widened by the downscale factor, as
 * PIL's BILINEAR resize that torchvision models were trained with), no intermediate images.
 *
 * The filter weights are worked out here; the two passes run in a small WebAssembly kernel
 * (kernels/resize.wat, 128-bit SIMD for the vertical pass, f64 like the JavaScript loops it replaced,
 * whose results it gives bit for bit): 2–3× faster than those loops, which were a third of a 348×348
 * photo's time outside onnxruntime.
 */
import { instantiateKernel, reserveKernelBytes } from '../core/wasm-memory.js';
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

/** Per output coordinate: first source index, tap count and normalised weights (`taps` slots per output). */
interface FilterBank {
  first: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Float64Array;
}

function filterBank(inStart: number, inSize: number, outSize: number): FilterBank {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle filter has support 1, widened when downscaling
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const raw = new Float64Array(taps);
  const weights = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    let total = 0;
    for (let i = lo; i < hi; i++) {
      raw[i - lo] = Math.max(0, 1 - Math.abs((i - center + 0.5) / filterScale));
      total += raw[i - lo]!;
    }
    // Drop zero-weight taps at the ends (common when enlarging), so the kernel does only useful work.
    let skip = 0;
    while (skip < hi - lo - 1 && raw[skip] === 0) skip++;
    let used = hi - lo - skip;
    while (used > 1 && raw[skip + used - 1] === 0) used--;
    for (let i = 0; i < used; i++) weights[o * taps + i] = raw[skip + i]! / (total || 1);
    first[o] = inStart + lo + skip;
    count[o] = used;
  }
  return { first, count, taps, weights };
}

interface ResizeKernel {
  memory: WebAssembly.Memory;
  /** row[i] = Σ_k src[base + k·stride + i] · w[k] for i < len, as f64 (reads up to 3 bytes past len). */
  vertical(base: number, stride: number, len: number, row: number, weights: number, taps: number): void;
  /** One output row of R, G, B f32 planes (`plane` bytes apart) from an RGB f64 row, × gain + bias per channel. */
  horizontal(
    row: number,
    outWidth: number,
    first: number,
    count: number,
    weights: number,
    taps: number,
    out: number,
    plane: number,
    gainR: number,
    gainG: number,
    gainB: number,
    biasR: number,
    biasG: number,
    biasB: number,
  ): void;
}

/** The kernel, instantiated once per thread (the service's extractor worker has its own). */
let kernel: ResizeKernel | undefined;
/** The image whose bytes sit at offset 0 of the kernel's memory (an extraction resizes one image several times). */
let loadedImage: Uint8Array | undefined;

function resizeKernel(): ResizeKernel {
  kernel ??= instantiateKernel<ResizeKernel>(new URL('./kernels/resize.wasm', import.meta.url));
  return kernel;
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
  // out = byte × gain + bias, per source channel R, G, B, written to that channel's plane.
  const bgr = normalization.channelOrder === 'BGR';
  const gain = [0, 0, 0];
  const bias = [0, 0, 0];
  const planeOf = [0, 0, 0];
  const plane = target.planeWidth * target.planeHeight;
  for (let c = 0; c < 3; c++) {
    const sourceChannel = bgr ? 2 - c : c;
    gain[sourceChannel] = normalization.scale / normalization.std[c]!;
    bias[sourceChannel] = -normalization.mean[c]! / normalization.std[c]!;
    planeOf[sourceChannel] = target.offset + c * plane;
  }
  const [gainR, gainG, gainB] = gain as [number, number, number];
  const [biasR, biasG, biasB] = bias as [number, number, number];
  if (region.width === outWidth && region.height === outHeight) {
    // Same size (e.g. a small photo letterboxed without enlarging): the filter is the identity, and a
    // plain loop beats copying the image into the kernel and the planes back out.
    const src = image.data;
    const [planeR, planeG, planeB] = planeOf as [number, number, number];
    for (let y = 0; y < outHeight; y++) {
      let p = ((region.y + y) * image.width + region.x) * 3;
      const outRow = y * target.planeWidth;
      for (let x = 0; x < outWidth; x++, p += 3) {
        const o = outRow + x;
        target.tensor[planeR + o] = src[p]! * gainR + biasR;
        target.tensor[planeG + o] = src[p + 1]! * gainG + biasG;
        target.tensor[planeB + o] = src[p + 2]! * gainB + biasB;
      }
    }
    return;
  }
  const horizontal = filterBank(0, region.width, outWidth);
  const vertical = filterBank(region.y, region.height, outHeight);

  // Kernel memory: the image (+16 bytes the vertical pass may over-read), one f64 row, the banks, the output planes.
  const { memory, vertical: verticalPass, horizontal: horizontalPass } = resizeKernel();
  const align = (offset: number) => (offset + 15) & ~15;
  const rowLength = region.width * 3;
  const rowAt = align(image.data.length + 16);
  const firstAt = align(rowAt + (rowLength + 4) * 8);
  const countAt = firstAt + outWidth * 4;
  const hWeightsAt = align(countAt + outWidth * 4);
  const vWeightsAt = align(hWeightsAt + horizontal.weights.length * 8);
  const outAt = align(vWeightsAt + vertical.weights.length * 8);
  const outPlane = outWidth * outHeight;
  // It stays at the largest image resized on this thread: about 4 MB at the default maxDecodeSide of 1024.
  reserveKernelBytes(memory, outAt + 3 * outPlane * 4, 'an image to resize and its output');
  if (loadedImage !== image.data) {
    new Uint8Array(memory.buffer, 0, image.data.length).set(image.data);
    loadedImage = image.data;
  }
  new Int32Array(memory.buffer, firstAt, outWidth).set(horizontal.first);
  new Int32Array(memory.buffer, countAt, outWidth).set(horizontal.count);
  new Float64Array(memory.buffer, hWeightsAt, horizontal.weights.length).set(horizontal.weights);
  new Float64Array(memory.buffer, vWeightsAt, vertical.weights.length).set(vertical.weights);

  const srcStride = image.width * 3;
  const regionStart = region.x * 3;
  for (let y = 0; y < outHeight; y++) {
    verticalPass(vertical.first[y]! * srcStride + regionStart, srcStride, rowLength, rowAt, vWeightsAt + y * vertical.taps * 8, vertical.count[y]!);
    horizontalPass(rowAt, outWidth, firstAt, countAt, hWeightsAt, horizontal.taps, outAt + y * outWidth * 4, outPlane * 4, gainR, gainG, gainB, biasR, biasG, biasB);
  }
  // Rows into the target's planes (which may be wider than the output, e.g. a letterbox).
  const out = new Float32Array(memory.buffer, outAt, 3 * outPlane);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < outHeight; y++) {
      const from = c * outPlane + y * outWidth;
      target.tensor.set(out.subarray(from, from + outWidth), planeOf[c]! + y * target.planeWidth);
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

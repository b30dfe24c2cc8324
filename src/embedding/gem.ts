/**
 * Pooling and normalisation as pure numeric functions, named as in cirtorch
 * (Radenović, Tolias, Chum: "Fine-tuning CNN Image Retrieval with No Human Annotation"):
 * GeM(x)_c = (mean over positions of max(x, eps)^p)^(1/p), then l2n(v) = v / (‖v‖ + eps).
 */

/** cirtorch's clamp floor for GeM and the L2 denominator. */
export const GEM_EPS = 1e-6;

/** Real values of a uint8 quantized tensor: (q − zeroPoint) × scale. */
export function dequantize(quantized: Uint8Array, scale: number, zeroPoint: number): Float32Array {
  const out = new Float32Array(quantized.length);
  for (let i = 0; i < quantized.length; i++) out[i] = (quantized[i]! - zeroPoint) * scale;
  return out;
}

/**
 * GeM pooling of one feature map laid out channel-major (`channels × spatial` values, as one sample
 * of an NCHW tensor). Returns `channels` values.
 */
export function gem(features: Float32Array, channels: number, spatial: number, p = 3, eps = GEM_EPS): Float32Array {
  const out = new Float32Array(channels);
  const cube = p === 3; // the default: x·x·x is several times faster than Math.pow
  for (let c = 0, i = 0; c < channels; c++) {
    let sum = 0;
    for (let end = i + spatial; i < end; i++) {
      const x = Math.max(features[i]!, eps);
      sum += cube ? x * x * x : Math.pow(x, p);
    }
    out[c] = Math.pow(sum / spatial, 1 / p);
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
  const powered = new Float64Array(256);
  for (let q = 0; q < 256; q++) powered[q] = Math.pow(Math.max((q - zeroPoint) * scale, eps), p);
  const out = new Float32Array(channels);
  for (let c = 0, i = 0; c < channels; c++) {
    let sum = 0;
    for (let end = i + spatial; i < end; i++) sum += powered[quantized[i]!]!;
    out[c] = Math.pow(sum / spatial, 1 / p);
  }
  return out;
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

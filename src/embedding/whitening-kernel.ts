/**
 * The passes of learning whitening over its vectors, in the WebAssembly kernel (kernels/whitening.wat):
 * - the scatter sum: the matrix stays in the kernel's memory while every group's deltas pass through it,
 *   four vectors per sweep of each row, two values per SIMD lane pair; the same sums as the JavaScript
 *   loop it replaced, to the bit, in less than half its time;
 * - the covariance's products with a vector, which the eigensolver asks for a few hundred times: the
 *   vectors are copied into the kernel's memory once.
 * docs/benchmarks.md, "Learning the whitening". One instance per thread, and one of the two in use at a
 * time (each lays out the memory from its start; whitenLearn runs them one after the other). Its memory
 * stays at the largest size asked for on that thread (whitening learns on a worker thread of its own).
 */
import { instantiateKernel, reserveKernelBytes } from '../core/wasm-memory.js';

interface WhiteningKernel {
  memory: WebAssembly.Memory;
  scatter(target: number, deltas: number, count: number, stride: number, weight: number): void;
  covariance(vectors: number, count: number, stride: number, u: number, shift: number, out: number): number;
}

let instance: WhiteningKernel | undefined;

function loaded(): WhiteningKernel {
  instance ??= instantiateKernel<WhiteningKernel>(new URL('./kernels/whitening.wasm', import.meta.url));
  return instance;
}

/** A group of vectors, the centre their deltas are taken from, and the weight of each outer product. */
export interface ScatterGroup {
  vectors: readonly Float32Array[];
  centre: Float64Array;
  weight: number;
}

/**
 * Σ over the groups of weight · Σ (x − centre)(x − centre)ᵀ, as a row-major dim × dim matrix whose upper
 * triangle holds the sums (the lower one is for the caller to fill, as mirrorUpper does).
 */
export function scatterSum(dim: number, groups: Iterable<ScatterGroup>): Float64Array {
  const kernel = loaded();
  // Rows padded to an even length, so that every row starts on a lane pair; the padding stays zero.
  const stride = dim + (dim & 1);
  const targetBytes = stride * stride * 8;
  reserveKernelBytes(kernel.memory, targetBytes, 'a scatter matrix');
  new Float64Array(kernel.memory.buffer, 0, stride * stride).fill(0);
  for (const { vectors, centre, weight } of groups) {
    const count = Math.ceil(vectors.length / 4) * 4;
    reserveKernelBytes(kernel.memory, targetBytes + count * stride * 8, 'a scatter matrix and its deltas');
    const deltas = new Float64Array(kernel.memory.buffer, targetBytes, count * stride).fill(0);
    vectors.forEach((vector, v) => {
      const offset = v * stride;
      for (let i = 0; i < dim; i++) deltas[offset + i] = vector[i]! - centre[i]!;
    });
    kernel.scatter(0, targetBytes, count, stride, weight);
  }
  const padded = new Float64Array(kernel.memory.buffer, 0, stride * stride);
  const out = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) out.set(padded.subarray(i * stride, i * stride + dim), i * dim);
  return out;
}

/**
 * u ↦ C u for the covariance C = Σ (x − mean)(x − mean)ᵀ / n of `vectors`, never formed: w = (x − mean) · u
 * for each vector, then Σ w (x − mean) / n, two passes over the vectors (4·n·dim operations, where C would
 * take n·dim²). Accumulated in f64, as in JavaScript, in another order: the same products to about 10⁻¹⁵.
 */
export function covarianceMap(vectors: readonly Float32Array[], mean: Float64Array): (u: Float64Array) => Float64Array {
  const kernel = loaded();
  const dim = mean.length;
  // Rows padded to a multiple of four floats (the kernel reads four per step); the padding stays zero.
  const stride = Math.ceil(dim / 4) * 4;
  const uAt = vectors.length * stride * 4;
  const outAt = uAt + stride * 8;
  reserveKernelBytes(kernel.memory, outAt + stride * 8, 'the vectors of a whitening');
  const rows = new Float32Array(kernel.memory.buffer, 0, vectors.length * stride).fill(0);
  vectors.forEach((vector, v) => rows.set(vector, v * stride));
  return (u) => {
    const memory = kernel.memory.buffer;
    const uView = new Float64Array(memory, uAt, stride).fill(0);
    uView.set(u);
    let shift = 0;
    for (let i = 0; i < dim; i++) shift += mean[i]! * u[i]!;
    const outView = new Float64Array(memory, outAt, stride).fill(0);
    const weights = kernel.covariance(0, vectors.length, stride, uAt, shift, outAt);
    const out = new Float64Array(dim);
    for (let i = 0; i < dim; i++) out[i] = (outView[i]! - weights * mean[i]!) / vectors.length;
    return out;
  };
}

/**
 * Scatter sums for learning whitening in the WebAssembly kernel (kernels/scatter.wat): the matrix stays in
 * the kernel's memory while every group's deltas pass through it, four vectors per sweep of each row,
 * two values per SIMD lane pair. The same sums as the JavaScript loop it replaced, to the bit, in less than
 * half its time (docs/benchmarks.md, "Learning the whitening"). One instance per thread; its memory stays
 * at the largest matrix asked for on that thread (whitening learns on a worker thread of its own).
 */
import { readFileSync } from 'node:fs';
import { reserveKernelBytes } from '../core/wasm-memory.js';

interface ScatterKernel {
  memory: WebAssembly.Memory;
  scatter(target: number, deltas: number, count: number, stride: number, weight: number): void;
}

let kernel: ScatterKernel | undefined;

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
  if (!kernel) {
    const module = new WebAssembly.Module(readFileSync(new URL('./kernels/scatter.wasm', import.meta.url)));
    kernel = new WebAssembly.Instance(module).exports as unknown as ScatterKernel;
  }
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

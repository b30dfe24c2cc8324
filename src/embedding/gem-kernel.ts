/**
 * GeM's sums over uint8 quantized feature maps in the WebAssembly kernel (kernels/pool.wat): integral
 * images for regional GeM and proposals, per-channel sums for global GeM. One instance per thread;
 * its memory holds the power table, one feature map and its output, and is reused by every call.
 * The sums are those of the JavaScript loops they replace, in the same order, to the last bit, in
 * about half their time, the copy out included (docs/benchmarks.md, "Pooling in the kernel").
 */
import { instantiateKernel, reserveKernelBytes } from '../core/wasm-memory.js';

interface PoolKernel {
  memory: WebAssembly.Memory;
  integral(q: number, table: number, channels: number, height: number, width: number, out: number): void;
  sums(q: number, table: number, channels: number, spatial: number, out: number): void;
}

let kernel: PoolKernel | undefined;
/** The table at offset 0 of the kernel's memory (gem.ts hands one per layer: a change copies 2 kB). */
let loadedTable: Float64Array | undefined;

/** A quantized map's values through `table` (256 entries, max((q − zp)·scale, eps)^p). */
export interface QuantizedMap {
  quantized: Uint8Array;
  table: Float64Array;
  channels: number;
}

/** Loads the table and the values into the kernel's memory; returns the kernel and where its output goes. */
function load({ quantized, table }: QuantizedMap, outBytes: number): { pool: PoolKernel; outAt: number } {
  kernel ??= instantiateKernel<PoolKernel>(new URL('./kernels/pool.wasm', import.meta.url));
  const tableBytes = 256 * 8;
  const outAt = tableBytes + ((quantized.length + 7) & ~7);
  reserveKernelBytes(kernel.memory, outAt + outBytes, 'a feature map and its sums');
  if (loadedTable !== table) {
    new Float64Array(kernel.memory.buffer, 0, 256).set(table);
    loadedTable = table;
  }
  new Uint8Array(kernel.memory.buffer, tableBytes, quantized.length).set(quantized);
  return { pool: kernel, outAt };
}

/** Channel c's integral image of table[q] at c·(height + 1)·(width + 1): a zero row and column first. */
export function integralImages(map: QuantizedMap, height: number, width: number): Float64Array {
  const length = map.channels * (height + 1) * (width + 1);
  const { pool, outAt } = load(map, length * 8);
  pool.integral(256 * 8, 0, map.channels, height, width, outAt);
  return new Float64Array(pool.memory.buffer, outAt, length).slice();
}

/** Σ table[q] over each channel's `spatial` values. */
export function channelSums(map: QuantizedMap, spatial: number): Float64Array {
  const { pool, outAt } = load(map, map.channels * 8);
  pool.sums(256 * 8, 0, map.channels, spatial, outAt);
  return new Float64Array(pool.memory.buffer, outAt, map.channels).slice();
}

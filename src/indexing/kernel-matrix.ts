import { readFileSync } from 'node:fs';
import { FindthisError } from '../core/errors.js';
import { reserveKernelBytes } from '../core/wasm-memory.js';

/** The exports of kernels/vectors.wat. */
export interface VectorKernel {
  memory: WebAssembly.Memory;
  scan(matrix: number, rows: number, dim: number, query: number, out: number): void;
  gather(matrix: number, rows: number, count: number, dim: number, query: number, out: number): void;
  hamming256(sketches: number, rows: number, count: number, query: number, out: number, histogram: number): void;
  keep_nearest(rows: number, distances: number, count: number, cut: number, ties: number): number;
}

/** Compiled once per thread; every user gets its own instance (its own memory). */
let compiled: WebAssembly.Module | undefined;

/** A new instance of the vector kernel, with its own memory. */
export function vectorKernel(): VectorKernel {
  compiled ??= new WebAssembly.Module(readFileSync(new URL('./kernels/vectors.wasm', import.meta.url)));
  return new WebAssembly.Instance(compiled).exports as unknown as VectorKernel;
}

export const align = (offset: number): number => (offset + 15) & ~15;

/**
 * A growable row-major f32 matrix (`capacity` rows of `dim`) held in the memory of its own instance of
 * the SIMD dot-product kernel (kernels/vectors.wat), so a whole-matrix scan or a scan of chosen rows is
 * one call into the kernel with no copying. Behind the rows lie the kernel's scratch: the query, the
 * row numbers of a gather, and the scores.
 *
 * Growing the memory detaches every earlier view: read `rows` and the returned scores through the
 * getters after any call that may grow, never keep them.
 */
export class KernelMatrix {
  private readonly kernel: VectorKernel;
  private rowCapacity = 0;
  private view = new Float32Array(0);

  constructor(
    readonly dim: number,
    capacity: number,
  ) {
    this.kernel = vectorKernel();
    this.reserve(capacity);
  }

  /** Rows the matrix can hold now. */
  get capacity(): number {
    return this.rowCapacity;
  }

  /** All `capacity` rows, row-major (a view into the kernel's memory). */
  get rows(): Float32Array {
    return this.view;
  }

  /** Bytes of kernel memory held (rows plus scratch). */
  get byteLength(): number {
    return this.kernel.memory.buffer.byteLength;
  }

  /** Makes room for at least `capacity` rows, keeping the rows already there; new rows are zeros. */
  grow(capacity: number): void {
    if (capacity > this.rowCapacity) this.reserve(capacity);
  }

  private reserve(capacity: number): void {
    const { memory } = this.kernel;
    reserveKernelBytes(memory, this.scratchEnd(capacity), `${capacity} vectors of dimension ${this.dim}`);
    const oldEnd = this.rowCapacity * this.dim;
    this.rowCapacity = capacity;
    this.view = new Float32Array(memory.buffer, 0, capacity * this.dim);
    this.view.fill(0, oldEnd); // the new rows held the old scratch
  }

  /** Scores of rows 0 … count−1 against `query`: a view, valid until the next call on this matrix. */
  scan(query: Float32Array, count: number): Float32Array {
    const { queryAt, scoresAt } = this.load(query);
    this.kernel.scan(0, count, this.dim, queryAt, scoresAt);
    return new Float32Array(this.kernel.memory.buffer, scoresAt, count);
  }

  /**
   * Scores of the rows `rowNumbers[0 … count−1]` (each < capacity, count ≤ capacity) against `query`,
   * in that order: a view, valid until the next call on this matrix.
   */
  gather(query: Float32Array, rowNumbers: Int32Array, count: number): Float32Array {
    const { queryAt, rowsAt, scoresAt } = this.load(query);
    new Int32Array(this.kernel.memory.buffer, rowsAt, count).set(rowNumbers.subarray(0, count));
    this.kernel.gather(0, rowsAt, count, this.dim, queryAt, scoresAt);
    return new Float32Array(this.kernel.memory.buffer, scoresAt, count);
  }

  private load(query: Float32Array): { queryAt: number; rowsAt: number; scoresAt: number } {
    if (query.length !== this.dim) throw new FindthisError('INTERNAL', `query of dimension ${query.length} for a matrix of dimension ${this.dim}`);
    const queryAt = align(this.rowCapacity * this.dim * 4);
    const rowsAt = align(queryAt + this.dim * 4);
    const scoresAt = rowsAt + this.rowCapacity * 4;
    new Float32Array(this.kernel.memory.buffer, queryAt, this.dim).set(query);
    return { queryAt, rowsAt, scoresAt };
  }

  private scratchEnd(capacity: number): number {
    return align(capacity * this.dim * 4) + align(this.dim * 4) + 2 * capacity * 4;
  }
}

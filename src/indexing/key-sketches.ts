import { reserveKernelBytes } from '../core/wasm-memory.js';
import { align, vectorKernel } from './kernel-matrix.js';

/**
 * Key bits a sketch keeps: 32 bytes, so 100k sketches (3.4 MB) stay in the L3 cache. On 104,865 real
 * whitened embeddings (14 × 24 tables, 24 probes) the 800 nearest of 4,471 candidates by these bits
 * kept recall@10 at 0.891 of 0.900; 512 bits kept more but cost as much time as they saved
 * (docs/benchmarks.md, "Candidates cut by key sketches").
 */
export const SKETCH_BITS = 256;

/**
 * Each slot's LSH keys, concatenated over its tables (table t's bit b at position t·hashSize + b) and
 * cut to SKETCH_BITS, packed into 64-bit words in the vector kernel's memory. The Hamming distance of
 * two sketches counts the hyperplanes that separate the vectors, Charikar's estimate of their angle, so
 * it orders a query's candidates by likely closeness for a few nanoseconds each: a cache line per
 * candidate where re-ranking reads the whole vector (LshParams.rerank keeps only the nearest).
 *
 * Memory: the sketches, slot-major, then the scratch of a query (its sketch, the histogram of its
 * candidates' distances, their slots and their distances), which moves when the sketches grow.
 */
export class KeySketches {
  private readonly kernel = vectorKernel();
  /** Sketch bits in use: SKETCH_BITS, or every key bit when the tables have fewer. */
  readonly bits: number;
  /** 32-bit words per sketch (an even number: the kernel reads 64-bit words). */
  private readonly words32: number;
  private capacity = 0;
  private view = new Uint32Array(0);

  constructor(
    private readonly tableCount: number,
    private readonly hashSize: number,
  ) {
    this.bits = Math.min(SKETCH_BITS, tableCount * hashSize);
    this.words32 = 2 * Math.ceil(this.bits / 64);
  }

  /** Sketches the slot from its keys, `keys[offset … offset + tableCount − 1]` (all hashSize bits each). */
  set(slot: number, keys: Uint32Array, offset: number): void {
    if (slot >= this.capacity) this.reserve(Math.max(slot + 1, 2 * this.capacity, 1024));
    const { words32, hashSize } = this;
    const base = slot * words32;
    this.view.fill(0, base, base + words32);
    for (let t = 0, position = 0; t < this.tableCount && position < this.bits; t++, position += hashSize) {
      const key = keys[offset + t]!;
      const word = position >>> 5;
      const shift = position & 31;
      this.view[base + word]! |= key << shift;
      // A key straddling the cut (bits is then SKETCH_BITS, a whole number of words) loses its high bits.
      if (shift + hashSize > 32 && word + 1 < words32) this.view[base + word + 1]! |= key >>> (32 - shift);
    }
  }

  /**
   * Moves the `keep` of `slots[0 … count−1]` whose sketches are nearest the query's to the front, in
   * their order (of equally near ones, the first), and returns how many that is: min(count, keep).
   * The query's sketch is its sides of the same hyperplanes: bit t·hashSize + b is
   * projections[i] > thresholds[i] at i = t·hashSize + b.
   */
  nearest(projections: Float32Array, thresholds: Float32Array, slots: Int32Array, count: number, keep: number): number {
    if (count <= keep) return count;
    this.reserve(Math.max(this.capacity, count));
    const { memory } = this.kernel;
    const { queryAt, histogramAt, rowsAt, outAt } = this.scratch(this.capacity);
    const query = new Uint32Array(memory.buffer, queryAt, this.words32).fill(0);
    for (let i = 0; i < this.bits; i++) if (projections[i]! > thresholds[i]!) query[i >>> 5]! |= 1 << (i & 31);
    const histogram = new Uint32Array(memory.buffer, histogramAt, this.bits + 1).fill(0);
    new Int32Array(memory.buffer, rowsAt, count).set(slots.subarray(0, count));
    this.kernel.hamming(0, this.words32 / 2, rowsAt, count, queryAt, outAt, histogramAt);
    // Everything nearer than `cut` is kept, and as many at `cut` as make up `keep`.
    let cut = 0;
    let nearer = 0;
    while (nearer + histogram[cut]! < keep) nearer += histogram[cut++]!;
    const kept = this.kernel.keep_nearest(rowsAt, outAt, count, cut, keep - nearer);
    slots.set(new Int32Array(memory.buffer, rowsAt, kept));
    return kept;
  }

  memoryBytes(): number {
    return this.kernel.memory.buffer.byteLength;
  }

  private reserve(capacity: number): void {
    if (capacity <= this.capacity) return;
    const { memory } = this.kernel;
    reserveKernelBytes(memory, this.scratch(capacity).end, `${capacity} key sketches`);
    const oldEnd = this.capacity * this.words32;
    this.capacity = capacity;
    this.view = new Uint32Array(memory.buffer, 0, capacity * this.words32);
    this.view.fill(0, oldEnd); // the new sketches held the old scratch
  }

  private scratch(capacity: number): { queryAt: number; histogramAt: number; rowsAt: number; outAt: number; end: number } {
    const queryAt = align(capacity * this.words32 * 4);
    const histogramAt = align(queryAt + this.words32 * 4);
    const rowsAt = align(histogramAt + (this.bits + 1) * 4);
    const outAt = rowsAt + capacity * 4;
    return { queryAt, histogramAt, rowsAt, outAt, end: outAt + capacity * 4 };
  }
}

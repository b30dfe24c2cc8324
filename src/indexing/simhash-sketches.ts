import { reserveKernelBytes } from '../core/wasm-memory.js';
import { align, vectorKernel, type KernelMatrix } from './kernel-matrix.js';
import { hyperplanes } from './lsh-hyperplanes.js';

/**
 * Bits a sketch keeps (the kernel's `hamming256` reads them as four 64-bit words): 32 bytes, so 100k sketches (3.4 MB) stay in the L3 cache. On 104,865 real
 * whitened embeddings (12 × 16 tables, 24 probes, 9,552 candidates, recall@10 0.939 when all are
 * scored), the 600 nearest by 256 such bits kept 0.919; 384 bits kept 0.933 for 1.5× the bytes
 * (docs/benchmarks.md, "Candidates cut by SimHash sketches").
 */
export const SKETCH_BITS = 256;

/** Sketch planes are drawn from the index's seed, apart from its tables' planes. */
const SKETCH_SEED_OFFSET = 0x5ce7c4;

/**
 * A SKETCH_BITS-bit sketch of every slot's vector: its sides of SKETCH_BITS random hyperplanes through
 * the catalog's centre (the LSH index's), packed into 64-bit words in the vector kernel's memory. The
 * Hamming distance of two sketches counts the planes between the vectors, Charikar's estimate of their
 * angle, so it orders a query's candidates by likely closeness for a few nanoseconds each: a cache line
 * per candidate where re-ranking reads the whole vector (LshParams.rerank keeps only the nearest).
 *
 * The planes are not the tables' own: those are learned and stretched along the catalog's directions
 * of largest spread, good at splitting it into buckets, worse at telling apart the candidates one
 * bucket gathers (their 192 bits at 12 × 16 kept 0.875 where these keep 0.919).
 *
 * Memory: the sketches, slot-major, then the scratch of a query (its sketch, the histogram of its
 * candidates' distances, their slots and their distances), which moves when the sketches grow.
 */
export class SimHashSketches {
  /** Row b = sketch plane b's normal. */
  readonly planes: KernelMatrix;
  /** Plane b's side of the centre: planes·centre. */
  readonly thresholds = new Float32Array(SKETCH_BITS);
  private readonly kernel = vectorKernel();
  private readonly words32 = SKETCH_BITS / 32;
  private capacity = 0;
  private view = new Uint32Array(0);

  constructor(dim: number, seed: number) {
    this.planes = hyperplanes(SKETCH_BITS, dim, (seed + SKETCH_SEED_OFFSET) >>> 0);
  }

  /** Puts the planes through `centre`; the caller sketches every slot again. */
  recentre(centre: Float32Array): void {
    this.thresholds.set(this.planes.scan(centre, SKETCH_BITS));
  }

  /** Sketches `vector` as the slot's. */
  set(slot: number, vector: Float32Array): void {
    if (slot >= this.capacity) this.reserve(Math.max(slot + 1, 2 * this.capacity, 1024));
    this.pack(vector, this.view, slot * this.words32);
  }

  /**
   * Moves the `keep` of `slots[0 … count−1]` whose sketches are nearest `query`'s to the front, in
   * their order (of equally near ones, the first), and returns how many that is: min(count, keep).
   */
  nearest(query: Float32Array, slots: Int32Array, count: number, keep: number): number {
    if (count <= keep) return count;
    this.reserve(Math.max(this.capacity, count));
    const { memory } = this.kernel;
    const { queryAt, histogramAt, rowsAt, outAt } = this.scratch(this.capacity);
    this.pack(query, new Uint32Array(memory.buffer, queryAt, this.words32), 0);
    const histogram = new Uint32Array(memory.buffer, histogramAt, SKETCH_BITS + 1).fill(0);
    new Int32Array(memory.buffer, rowsAt, count).set(slots.subarray(0, count));
    this.kernel.hamming256(0, rowsAt, count, queryAt, outAt, histogramAt);
    // Everything nearer than `cut` is kept, and as many at `cut` as make up `keep`.
    let cut = 0;
    let nearer = 0;
    while (nearer + histogram[cut]! < keep) nearer += histogram[cut++]!;
    const kept = this.kernel.keep_nearest(rowsAt, outAt, count, cut, keep - nearer);
    slots.set(new Int32Array(memory.buffer, rowsAt, kept));
    return kept;
  }

  memoryBytes(): number {
    return this.kernel.memory.buffer.byteLength + this.planes.byteLength;
  }

  /** Bit b of the sketch at out[offset …]: projection b > threshold b. */
  private pack(vector: Float32Array, out: Uint32Array, offset: number): void {
    const projections = this.planes.scan(vector, SKETCH_BITS);
    const thresholds = this.thresholds;
    for (let word = 0, b = 0; word < this.words32; word++) {
      let bits = 0;
      for (let bit = 0; bit < 32; bit++, b++) if (projections[b]! > thresholds[b]!) bits |= 1 << bit;
      out[offset + word] = bits;
    }
  }

  private reserve(capacity: number): void {
    if (capacity <= this.capacity) return;
    const { memory } = this.kernel;
    reserveKernelBytes(memory, this.scratch(capacity).end, `${capacity} SimHash sketches`);
    const oldEnd = this.capacity * this.words32;
    this.capacity = capacity;
    this.view = new Uint32Array(memory.buffer, 0, capacity * this.words32);
    this.view.fill(0, oldEnd); // the new sketches held the old scratch
  }

  private scratch(capacity: number): { queryAt: number; histogramAt: number; rowsAt: number; outAt: number; end: number } {
    const queryAt = align(capacity * this.words32 * 4);
    const histogramAt = align(queryAt + this.words32 * 4);
    const rowsAt = align(histogramAt + (SKETCH_BITS + 1) * 4);
    const outAt = rowsAt + capacity * 4;
    return { queryAt, histogramAt, rowsAt, outAt, end: outAt + capacity * 4 };
  }
}

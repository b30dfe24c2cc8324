import { crc32 } from 'node:zlib';
import { bytesOf } from '../core/bytes.js';
import { KernelMatrix } from './kernel-matrix.js';
import { learnPlanes, MIN_LEARN_SIZE } from './learned-planes.js';
import { SeededRandom } from '../core/prng.js';
import type { LshParams } from './types.js';
import type { VectorStore } from './vector-store.js';

/**
 * The random hyperplanes of an LSH index and the keys they give (Charikar 2002): in each of
 * `tableCount` tables a vector's key is `hashSize` bits, bit j = which side of hyperplane j it lies on.
 * All tableCount·hashSize normals are one matrix in the SIMD kernel's memory, drawn from a seeded
 * generator, so hashing a vector is one kernel scan.
 *
 * The planes pass through the mean of the indexed vectors, not the origin: CNN (ReLU + GeM) embeddings
 * are non-negative and share a large common component, so planes through the origin put most of the
 * catalog on the same side and waste their bits. The side of plane j is then projection > planes·centre
 * (the plane's threshold). With `learned`, each re-centring instead fits the planes and their
 * thresholds to the catalog (learned-planes.ts), from the same seeded rows; they can no longer be
 * re-drawn from the seed, so the index file stores them.
 */
export class CentredHyperplanes {
  /** Row j = hyperplane j's normal. */
  readonly planes: KernelMatrix;
  /** Mean of the vectors when the centre was last estimated, and the bit thresholds (planes·centre, or learned). */
  readonly centre: Float32Array;
  readonly thresholds: Float32Array;
  /** Catalog size when the centre was last estimated (the index re-centres once it has doubled). */
  centredAtSize = 0;
  /** Whether the planes in use were learned (false: the seed's random planes, through the centre). */
  planesLearned = false;

  constructor(
    readonly tableCount: number,
    readonly hashSize: number,
    dim: number,
    private readonly seed: number,
    readonly learned: boolean,
  ) {
    this.planes = hyperplanes(tableCount * hashSize, dim, seed);
    this.centre = new Float32Array(dim);
    this.thresholds = new Float32Array(tableCount * hashSize);
  }

  /** Checksum of the drawn planes: a stored index hashed with other planes (generator changed) is refused. */
  planesCrc32(): number {
    return crc32(bytesOf(this.planes.rows));
  }

  /** Re-estimates the centre as the mean of the store's live vectors (the caller re-hashes them). */
  recentre(store: VectorStore): void {
    const { dim, size } = store;
    const sum = new Float64Array(dim);
    for (const [, slot] of store.entries()) {
      const vector = store.vectorAt(slot);
      for (let d = 0; d < dim; d++) sum[d]! += vector[d]!;
    }
    for (let d = 0; d < dim; d++) this.centre[d] = size > 0 ? sum[d]! / size : 0;
    if (this.learned && size >= MIN_LEARN_SIZE) {
      learnPlanes(store, hyperplanes(this.thresholds.length, dim, this.seed).rows, this.hashSize, this.planes, this.thresholds);
      this.centredAtSize = size;
      this.planesLearned = true;
    } else {
      this.setThresholds(size);
    }
  }

  /**
   * Takes a centre read from an index file, estimated when the catalog held `centredAtSize` vectors,
   * and, when the file holds learned planes, those planes and their thresholds.
   */
  restore(centre: Buffer, centredAtSize: number, learned?: { planes: Buffer; thresholds: Buffer }): void {
    bytesOf(this.centre).set(centre);
    if (learned === undefined) {
      this.setThresholds(centredAtSize);
      return;
    }
    bytesOf(this.planes.rows).set(learned.planes);
    bytesOf(this.thresholds).set(learned.thresholds);
    this.centredAtSize = centredAtSize;
    this.planesLearned = true;
  }

  /**
   * The keys of `vector` in every table, written to `out` from `outOffset`: its side of each
   * hyperplane, one bit per plane. Stored keys take all hashSize bits; a query needs only the `bits`
   * low ones the buckets use. All planes are scored in one kernel call either way; the projections are
   * returned for margin-ordered probing (a view the next scan overwrites).
   */
  keys(vector: Float32Array, out: Uint32Array, outOffset: number, bits = this.hashSize): Float32Array {
    const hashSize = this.hashSize;
    const projections = this.planes.scan(vector, this.thresholds.length);
    const thresholds = this.thresholds;
    for (let t = 0; t < this.tableCount; t++) {
      let key = 0;
      for (let b = 0, row = t * hashSize; b < bits; b++, row++) {
        if (projections[row]! > thresholds[row]!) key |= 1 << b;
      }
      out[outOffset + t] = key >>> 0;
    }
    return projections;
  }

  memoryBytes(): number {
    return this.planes.byteLength + this.centre.byteLength + this.thresholds.byteLength;
  }

  private setThresholds(centredAtSize: number): void {
    this.thresholds.set(this.planes.scan(this.centre, this.thresholds.length));
    this.centredAtSize = centredAtSize;
  }
}

/** `rows × dim` Gaussian entries from the seeded generator: row j is hyperplane j's normal. */
export function hyperplanes(rows: number, dim: number, seed: number): KernelMatrix {
  const random = new SeededRandom(seed);
  const planes = new KernelMatrix(dim, rows);
  const entries = planes.rows;
  for (let i = 0; i < entries.length; i++) entries[i] = random.gaussian();
  return planes;
}

/** No re-centring below this many vectors: a small catalog keeps the centre it was built with. */
const MIN_RECENTRE_SIZE = 1000;

/**
 * Whether a catalog of `size` vectors, centred when it held `centredAtSize`, is due a new centre (and a
 * full re-hash): once it has doubled since, so a catalog grown from empty by single adds stays centred.
 */
export function recentreDue(size: number, centredAtSize: number): boolean {
  return size >= Math.max(MIN_RECENTRE_SIZE, 2 * centredAtSize);
}

/**
 * The low bits of each key that buckets use for a catalog of `size` vectors: ⌈log2(size /
 * vectorsPerBucket)⌉, between 1 and hashSize (all hashSize without vectorsPerBucket). 16-bit buckets over
 * a few hundred vectors would be almost all empty and every query would come back short.
 */
export function activeBitsFor(params: LshParams, size: number): number {
  const { hashSize, vectorsPerBucket = 0 } = params;
  if (hashSize === 0 || vectorsPerBucket === 0) return hashSize;
  return Math.min(hashSize, Math.max(1, Math.ceil(Math.log2(Math.max(1, size) / vectorsPerBucket))));
}

/**
 * The catalog's products as prototypes for locating regions in search photos (see
 * src/localization/reference.ts): each product's stored vectors, in the indexes' space, summed, kept
 * in step with every write and handed to the extractor before the next search that follows a change.
 */
import type { ProductReference } from '../localization/reference.js';
import type { VectorTransform } from '../embedding/vector-transform.js';

export class ProductPrototypes {
  private readonly sums = new Map<string, Float64Array>();
  private transform: VectorTransform;
  private changed = true;

  constructor(transform: VectorTransform) {
    this.transform = transform;
  }

  /** Starts again under `transform` from every stored vector (already transformed). */
  reset(transform: VectorTransform, vectors: Iterable<{ productId: string; vector: Float32Array }>): void {
    this.transform = transform;
    this.sums.clear();
    for (const { productId, vector } of vectors) this.add(productId, vector);
    this.changed = true;
  }

  /** Counts one more stored vector (in the indexes' space) of `productId`. */
  add(productId: string, vector: Float32Array): void {
    let sum = this.sums.get(productId);
    if (!sum) this.sums.set(productId, (sum = new Float64Array(vector.length)));
    for (let k = 0; k < vector.length; k++) sum[k]! += vector[k]!;
    this.changed = true;
  }

  /** Replaces `productId`'s sum with `sum`, the sum of its stored vectors as a backend keeping them elsewhere read it. */
  set(productId: string, sum: Float32Array): void {
    this.sums.set(productId, Float64Array.from(sum));
    this.changed = true;
  }

  /** The products held. */
  products(): Iterable<string> {
    return this.sums.keys();
  }

  remove(productId: string): void {
    if (this.sums.delete(productId)) this.changed = true;
  }

  /** The reference when it changed since the last call, else undefined (nothing to send). */
  takeChanged(): ProductReference | undefined {
    if (!this.changed) return undefined;
    this.changed = false;
    const dim = this.transform.outputDim;
    const prototypes = new Float32Array(this.sums.size * dim);
    let row = 0;
    for (const sum of this.sums.values()) {
      let norm = 0;
      for (let k = 0; k < dim; k++) norm += sum[k]! * sum[k]!;
      const inverse = 1 / (Math.sqrt(norm) + 1e-12);
      for (let k = 0; k < dim; k++) prototypes[row * dim + k] = sum[k]! * inverse;
      row++;
    }
    return { transform: this.transform.spec, dim, prototypes };
  }
}

/**
 * The catalog's products as prototypes for locating regions in search photos (see
 * src/localization/reference.ts): each product's stored vectors, in the indexes' space, summed, kept
 * in step with every write and handed to the extractor before the next search that follows a change.
 */
import type { ProductReference } from '../localization/reference.js';
import type { VectorTransform } from '../embedding/vector-transform.js';

export class ProductPrototypes {
  private readonly sums = new Map<string, { sum: Float64Array; count: number }>();
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
    let entry = this.sums.get(productId);
    if (!entry) this.sums.set(productId, (entry = { sum: new Float64Array(vector.length), count: 0 }));
    for (let k = 0; k < vector.length; k++) entry.sum[k]! += vector[k]!;
    entry.count++;
    this.changed = true;
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
    for (const { sum } of this.sums.values()) {
      let norm = 0;
      for (let k = 0; k < dim; k++) norm += sum[k]! * sum[k]!;
      const inverse = 1 / (Math.sqrt(norm) + 1e-12);
      for (let k = 0; k < dim; k++) prototypes[row * dim + k] = sum[k]! * inverse;
      row++;
    }
    return { transform: this.transform.spec, dim, prototypes };
  }
}

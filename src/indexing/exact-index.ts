import { validateK } from './params.js';
import { TopK } from './top-k.js';
import type { SearchResult, VectorIndex } from './types.js';
import { VectorStore } from './vector-store.js';

/**
 * Brute-force cosine search: one pass of the SIMD kernel over the store's contiguous vectors (one
 * score per slot), then partial top-k selection over the scores. The reference every recall figure is measured against.
 * It owns nothing but a reference to the (possibly shared) store.
 */
export class ExactIndex implements VectorIndex {
  readonly kind = 'exact' as const;
  private readonly topK = new TopK(10);

  constructor(readonly store: VectorStore) {}

  get dim(): number {
    return this.store.dim;
  }

  get size(): number {
    return this.store.size;
  }

  add(id: string, vector: Float32Array): void {
    this.store.set(id, vector);
  }

  remove(id: string): boolean {
    return this.store.remove(id) >= 0;
  }

  search(query: Float32Array, k: number): SearchResult {
    this.store.checkVector(query, 'query');
    validateK(k);
    const { liveFlags } = this.store;
    const scores = this.store.scoreAll(query);
    const topK = this.topK;
    topK.reset(Math.min(k, this.store.size));
    for (let slot = 0; slot < scores.length; slot++) {
      if (liveFlags[slot] !== 0) topK.push(scores[slot]!, slot);
    }
    const scored = this.store.size;
    const neighbors: SearchResult['neighbors'] = [];
    topK.drain((slot, score) => neighbors.push({ id: this.store.idAt(slot), score }));
    return { neighbors, stats: { bucketsProbed: 0, candidatesScored: scored, fellBack: false } };
  }

  memoryBytes(): number {
    return this.store.memoryBytes();
  }
}

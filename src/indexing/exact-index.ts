import { FindthisError } from '../core/errors.js';
import { bytesOf, indexFilePath, readIndexFile, requireSection, writeIndexFile } from './index-file.js';
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

  /** Writes the live vectors and their ids to `dir/exact.ftix` (a snapshot of the store). */
  async save(dir: string): Promise<void> {
    const ids: string[] = [];
    const vectors = new Float32Array(this.store.size * this.dim);
    for (const [id, slot] of this.store.entries()) {
      vectors.set(this.store.vectorAt(slot), ids.length * this.dim);
      ids.push(id);
    }
    await writeIndexFile(
      indexFilePath(dir, 'exact'),
      { kind: 'exact', dim: this.dim, count: ids.length },
      { ids: Buffer.from(JSON.stringify(ids), 'utf8'), vectors: bytesOf(vectors) },
    );
  }

  /** Loads a snapshot written by `save` into a new store. Throws INDEX_CORRUPT / INDEX_MISMATCH. */
  static async load(dir: string, dim: number): Promise<ExactIndex> {
    const path = indexFilePath(dir, 'exact');
    const contents = await readIndexFile(path, 'exact', dim);
    const ids = JSON.parse(requireSection(contents, 'ids', path).toString('utf8')) as string[];
    const vectorBytes = requireSection(contents, 'vectors', path);
    if (vectorBytes.byteLength !== ids.length * dim * 4) {
      throw new FindthisError('INDEX_CORRUPT', `Index file ${path} has ${vectorBytes.byteLength} vector bytes for ${ids.length} ids`);
    }
    const vectors = new Float32Array(ids.length * dim);
    bytesOf(vectors).set(vectorBytes);
    const store = new VectorStore(dim, ids.length);
    ids.forEach((id, i) => store.set(id, vectors.subarray(i * dim, (i + 1) * dim)));
    return new ExactIndex(store);
  }
}

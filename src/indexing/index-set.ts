import { isFindthisError } from '../core/errors.js';
import { ExactIndex } from './exact-index.js';
import { HnswIndex } from './hnsw-index.js';
import { LshIndex } from './lsh-index.js';
import { validateIndexParams, validateK } from './params.js';
import type { IndexKind, IndexMeta, IndexParams, SearchResult } from './types.js';
import { VectorStore } from './vector-store.js';

export type { IndexMeta } from './types.js';

export interface IndexSetOptions {
  /** Told why an index file was not used and had to be rebuilt (one line per index). Default: silent. */
  log?: (message: string) => void;
}

/**
 * The catalog's three indexes over one shared vector store. The catalog's vectors are the truth: `open`
 * builds the store from them and treats index files as caches, rebuilding any index whose file is
 * missing, truncated, corrupt, of another format version, built with other params or meta, or holding
 * other ids or vectors.
 *
 * - exact and LSH read the store; HNSW keeps its own copy inside hnswlib.
 * - `search('lsh', …)` falls back to HNSW when LSH's buckets yield fewer than min(k, size) vectors;
 *   the result then says `fellBack: true` and keeps LSH's probe counts.
 * - `save()` writes lsh.ftix and hnsw.ftix to the directory given to `open` (atomically, with a format
 *   version, checksum, dimension, params and meta). The exact index needs no file: it is the store.
 */
export class IndexSet {
  private constructor(
    readonly dir: string,
    readonly params: IndexParams,
    readonly meta: IndexMeta,
    private readonly store: VectorStore,
    private readonly exact: ExactIndex,
    private readonly lsh: LshIndex,
    private readonly hnsw: HnswIndex,
  ) {}

  static async open(
    dir: string,
    params: IndexParams,
    vectors: Iterable<[id: string, vector: Float32Array]>,
    meta: IndexMeta,
    options: IndexSetOptions = {},
  ): Promise<{ set: IndexSet; rebuilt: IndexKind[] }> {
    validateIndexParams(params);
    const store = new VectorStore(params.dim);
    for (const [id, vector] of vectors) store.set(id, vector);
    const rebuilt: IndexKind[] = [];
    const log = options.log ?? (() => undefined);

    async function loadOrRebuild<T>(kind: IndexKind, load: () => Promise<T>, build: () => T): Promise<T> {
      try {
        return await load();
      } catch (error) {
        if (!isFindthisError(error) || (error.code !== 'INDEX_CORRUPT' && error.code !== 'INDEX_MISMATCH')) throw error;
        log(`${kind} index rebuilt from ${store.size} stored vectors: ${error.message}`);
        rebuilt.push(kind);
        return build();
      }
    }
    const lsh = await loadOrRebuild(
      'lsh',
      () => LshIndex.load(dir, store, params.lsh, meta),
      () => LshIndex.build(store, params.lsh),
    );
    const hnsw = await loadOrRebuild(
      'hnsw',
      () => HnswIndex.load(dir, store, params.hnsw, meta),
      () => HnswIndex.build(store, params.hnsw),
    );
    const set = new IndexSet(dir, { dim: params.dim, lsh: { ...params.lsh }, hnsw: { ...params.hnsw } }, { ...meta }, store, new ExactIndex(store), lsh, hnsw);
    return { set, rebuilt };
  }

  get size(): number {
    return this.store.size;
  }

  get dim(): number {
    return this.store.dim;
  }

  has(id: string): boolean {
    return this.store.has(id);
  }

  /** Adds or replaces `id` in every index (the vector is validated once, before anything changes). */
  add(id: string, vector: Float32Array): void {
    this.store.checkVector(vector, 'vector');
    this.lsh.add(id, vector);
    this.hnsw.add(id, vector);
  }

  remove(id: string): boolean {
    const removed = this.lsh.remove(id);
    this.hnsw.remove(id);
    return removed;
  }

  search(kind: IndexKind, query: Float32Array, k: number): SearchResult {
    switch (kind) {
      case 'exact':
        return this.exact.search(query, k);
      case 'hnsw':
        return this.hnsw.search(query, k);
      case 'lsh': {
        validateK(k);
        const result = this.lsh.search(query, k);
        if (result.neighbors.length >= Math.min(k, this.size)) return result;
        const fallback = this.hnsw.search(query, k);
        return { neighbors: fallback.neighbors, stats: { ...result.stats, fellBack: true } };
      }
    }
  }

  /** Bytes each index needs to answer (LSH and exact include the shared store; HNSW is its own copy). */
  memoryBytes(kind: IndexKind): number {
    switch (kind) {
      case 'exact':
        return this.exact.memoryBytes();
      case 'lsh':
        return this.lsh.memoryBytes();
      case 'hnsw':
        return this.hnsw.memoryBytes();
    }
  }

  async save(): Promise<void> {
    await this.lsh.save(this.dir, this.meta);
    await this.hnsw.save(this.dir, this.meta);
  }
}

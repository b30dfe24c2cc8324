import { randomBytes } from 'node:crypto';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import hnswlib from 'hnswlib-node';
import { bytesOf } from '../core/bytes.js';
import { FindthisError, invalidParameter } from '../core/errors.js';
import {
  checkSameValues,
  indexFilePath,
  readIndexFile,
  requireSection,
  uint32Section,
  writeIndexFile,
} from './index-file.js';
import { validateHnswParams, validateK } from './params.js';
import type { HnswParams, IndexMeta, PersistedIndex, SearchResult } from './types.js';
import { checkUnitVector, ID_OVERHEAD_BYTES, type VectorStore } from './vector-store.js';

const INITIAL_CAPACITY = 1024;
/** hnswlib's level-generation seed: fixed, so a build from the same adds is the same graph. */
const RANDOM_SEED = 100;
/** Stored points compared with the catalog's vectors at load. */
const LOAD_SAMPLE = 64;
/** sizeof(std::mutex) + level + link-list pointer that hnswlib keeps per allocated element. */
const NATIVE_PER_SLOT_BYTES = 40 + 4 + 8;

/**
 * HNSW (Malkov & Yashunin) from hnswlib-node, cosine space. String ids map to integer labels; every
 * add takes a fresh label, so a re-added or replaced id never collides with a deleted one. Removes use
 * `markDelete`, and adds pass `replaceDeleted`, so a deleted element's memory is reused before the
 * index grows; capacity doubles (`resizeIndex`) only when no deleted element is left to reuse.
 * hnswlib keeps its own copy of the vectors (normalised), so this index does not read the store.
 */
export class HnswIndex implements PersistedIndex {
  readonly kind = 'hnsw' as const;
  readonly params: HnswParams;
  private readonly native: hnswlib.HierarchicalNSW;
  private readonly labelById = new Map<string, number>();
  private readonly idByLabel = new Map<number, string>();
  private nextLabel = 0;
  /** Marked-deleted elements not yet reused. */
  private deleted = 0;

  constructor(
    readonly dim: number,
    params: HnswParams,
    initialCapacity = INITIAL_CAPACITY,
  ) {
    validateHnswParams(params);
    this.params = { ...params };
    this.native = new hnswlib.HierarchicalNSW('cosine', dim);
    this.native.initIndex({
      maxElements: Math.max(16, initialCapacity),
      m: params.M,
      efConstruction: params.efConstruction,
      randomSeed: RANDOM_SEED,
      allowReplaceDeleted: true,
    });
    this.native.setEf(params.efSearch);
  }

  /** An index over every vector in `store`; `onProgress(done, total)` is called every 1024 vectors. */
  static build(store: VectorStore, params: HnswParams, onProgress?: (done: number, total: number) => void): HnswIndex {
    const index = new HnswIndex(store.dim, params, store.size);
    for (const [id, slot] of store.entries()) {
      index.add(id, store.vectorAt(slot));
      if (index.size % 1024 === 0) onProgress?.(index.size, store.size);
    }
    return index;
  }

  get size(): number {
    return this.labelById.size;
  }

  /** Elements hnswlib has room for (live + deleted awaiting reuse + free). */
  get capacity(): number {
    return this.native.getMaxElements();
  }

  /** efSearch is query-time only: changing it needs no rebuild. */
  setEfSearch(efSearch: number): void {
    validateHnswParams({ ...this.params, efSearch });
    this.params.efSearch = efSearch;
    this.native.setEf(efSearch);
  }

  add(id: string, vector: Float32Array): void {
    if (typeof id !== 'string' || id.length === 0) throw invalidParameter('id', 'a non-empty string', id);
    checkUnitVector(vector, this.dim, 'vector');
    this.remove(id);
    if (this.deleted === 0 && this.native.getCurrentCount() >= this.native.getMaxElements()) {
      this.native.resizeIndex(this.native.getMaxElements() * 2);
    }
    const label = this.nextLabel++;
    this.native.addPoint(Array.from(vector), label, true);
    if (this.deleted > 0) this.deleted--;
    this.labelById.set(id, label);
    this.idByLabel.set(label, id);
  }

  remove(id: string): boolean {
    const label = this.labelById.get(id);
    if (label === undefined) return false;
    this.native.markDelete(label);
    this.labelById.delete(id);
    this.idByLabel.delete(label);
    this.deleted++;
    return true;
  }

  search(query: Float32Array, k: number): SearchResult {
    checkUnitVector(query, this.dim, 'query');
    validateK(k);
    const stats = { bucketsProbed: 0, candidatesScored: 0, fellBack: false };
    if (this.size === 0) return { neighbors: [], stats };
    const { distances, neighbors: labels } = this.native.searchKnn(Array.from(query), Math.min(k, this.size));
    const neighbors = labels.map((label, i) => ({ id: this.idByLabel.get(label)!, score: 1 - distances[i]! }));
    return { neighbors, stats };
  }

  /**
   * Estimated from hnswlib's layout: per allocated element the level-0 links (2M + 1 ints), the vector,
   * the label, a mutex, level and link-list pointer; per stored element the upper-level links
   * (expected 1/(M−1) levels of M + 1 ints) and a label-map entry; plus the id ↔ label maps here.
   */
  memoryBytes(): number {
    const { M } = this.params;
    const allocated = this.native.getMaxElements();
    const stored = this.native.getCurrentCount();
    const perAllocated = (2 * M + 1) * 4 + this.dim * 4 + 8 + NATIVE_PER_SLOT_BYTES;
    const perStored = ((M + 1) * 4) / (M - 1) + 32;
    let idChars = 0;
    for (const id of this.labelById.keys()) idChars += id.length;
    return allocated * perAllocated + stored * perStored + this.size * 2 * ID_OVERHEAD_BYTES + idChars * 2;
  }

  /** Writes `dir/hnsw.ftix`: build params, `meta`, hnswlib's own index bytes and the label ↔ id map. */
  async save(dir: string, meta: IndexMeta): Promise<void> {
    await mkdir(dir, { recursive: true });
    const scratch = `${indexFilePath(dir, 'hnsw')}.native-${process.pid}-${randomBytes(4).toString('hex')}`;
    let nativeBytes: Buffer;
    try {
      await this.native.writeIndex(scratch);
      nativeBytes = await readFile(scratch);
    } finally {
      await unlink(scratch).catch(() => undefined);
    }
    const ids = [...this.labelById.keys()];
    const labels = Uint32Array.from(ids, (id) => this.labelById.get(id)!);
    await writeIndexFile(
      indexFilePath(dir, 'hnsw'),
      {
        kind: 'hnsw',
        dim: this.dim,
        params: buildParams(this.params),
        meta,
        count: ids.length,
        deleted: this.deleted,
        nextLabel: this.nextLabel,
      },
      { hnswlib: nativeBytes, labels: bytesOf(labels), ids: Buffer.from(JSON.stringify(ids), 'utf8') },
    );
  }

  /**
   * Loads `dir/hnsw.ftix`. `store` must hold exactly the saved ids, and a sample of stored points must
   * equal the store's vectors (hnswlib keeps its own copy; the store is only compared with). Throws INDEX_CORRUPT or INDEX_MISMATCH. The file's checksum
   * is verified before hnswlib parses a byte of it (hnswlib does not check its input).
   */
  static async load(dir: string, store: VectorStore, params: HnswParams, meta: IndexMeta): Promise<HnswIndex> {
    const dim = store.dim;
    const path = indexFilePath(dir, 'hnsw');
    const contents = await readIndexFile<{ kind: string; dim: number; params: unknown; meta: unknown; count: number; deleted: number; nextLabel: number }>(
      path,
      'hnsw',
      dim,
    );
    const { header } = contents;
    checkSameValues(path, 'HNSW parameter', header.params, buildParams(params));
    checkSameValues(path, 'meta', header.meta, meta);
    const ids = JSON.parse(requireSection(contents, 'ids', path).toString('utf8')) as string[];
    const labels = uint32Section(requireSection(contents, 'labels', path));
    if (labels.length !== ids.length || ids.length !== header.count) {
      throw new FindthisError('INDEX_CORRUPT', `Index file ${path} has ${labels.length} labels for ${ids.length} ids`);
    }
    if (ids.length !== store.size || ids.some((id) => !store.has(id))) {
      throw new FindthisError('INDEX_MISMATCH', `Index file ${path} holds other ids than the catalog (${ids.length} vs ${store.size})`);
    }

    const index = new HnswIndex(dim, params, 16);
    const scratch = `${path}.native-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(scratch, requireSection(contents, 'hnswlib', path));
      await index.native.readIndex(scratch, true);
    } finally {
      await unlink(scratch).catch(() => undefined);
    }
    index.native.setEf(params.efSearch);
    if (index.native.getCurrentCount() !== ids.length + header.deleted || index.native.getNumDimensions() !== dim) {
      throw new FindthisError('INDEX_CORRUPT', `Index file ${path}: hnswlib holds ${index.native.getCurrentCount()} elements, expected ${ids.length + header.deleted}`);
    }
    ids.forEach((id, i) => {
      index.labelById.set(id, labels[i]!);
      index.idByLabel.set(labels[i]!, id);
    });
    index.nextLabel = header.nextLabel;
    index.deleted = header.deleted;
    const step = Math.max(1, Math.floor(ids.length / LOAD_SAMPLE));
    for (let i = 0; i < ids.length; i += step) {
      const stored = index.native.getPoint(labels[i]!);
      const vector = store.vectorAt(store.slotOf(ids[i]!)!);
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += stored[d]! * vector[d]!;
      if (dot < 0.9999) {
        throw new FindthisError('INDEX_MISMATCH', `Index file ${path} has another vector for ${JSON.stringify(ids[i])} than the catalog`);
      }
    }
    return index;
  }
}

/** The params that shape the stored graph (efSearch is query-time). */
function buildParams(params: HnswParams): Record<string, number> {
  return { M: params.M, efConstruction: params.efConstruction };
}

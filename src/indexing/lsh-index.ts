import { crc32 } from 'node:zlib';
import { FindthisError } from '../core/errors.js';
import { BucketTable } from './bucket-table.js';
import {
  bytesOf,
  checkSameValues,
  indexFilePath,
  readIndexFile,
  requireSection,
  uint32Section,
  writeIndexFile,
} from './index-file.js';
import { validateK, validateLshParams } from './params.js';
import { SeededRandom } from './prng.js';
import { TopK } from './top-k.js';
import type { IndexMeta, LshParams, PersistedIndex, SearchResult } from './types.js';
import { KernelMatrix } from './kernel-matrix.js';
import { MarginProbes } from './margin-probes.js';
import { popcount32 } from './vector-math.js';
import type { VectorStore } from './vector-store.js';

/** Recent adds are scanned linearly until they exceed this share of the frozen tables (then rebuilt). */
const PENDING_SHARE = 1 / 8;
/** Frozen entries invalidated by removes/replaces tolerated before a rebuild. */
const STALE_SHARE = 1 / 4;
const MIN_LAZY_ENTRIES = 256;
/** The hashing centre is re-estimated (and everything re-hashed) when the catalog has doubled since. */
const MIN_RECENTRE_SIZE = 1000;
/** Stored signatures re-computed at load to detect vectors that changed under the same ids. */
const LOAD_SAMPLE = 64;

/**
 * Random-hyperplane LSH for cosine similarity (Charikar 2002), with exact re-ranking.
 *
 * - `numTables` tables; in each, a vector's key is `hashSize` bits: bit j = which side of hyperplane j
 *   the vector lies on. All numTables·hashSize hyperplane normals are one (numTables·hashSize × dim)
 *   Float32Array drawn from a seeded generator, so hashing a vector is one matrix–vector product.
 * - The hyperplanes pass through the mean of the indexed vectors, not the origin: CNN (ReLU + GeM)
 *   embeddings are non-negative and share a large common component, so planes through the origin
 *   put most of the catalog on the same side and waste their bits. The centre is estimated at build,
 *   stored with the index, and re-estimated (with a full re-hash, at the next lazy rebuild) whenever
 *   the catalog has doubled since — so a catalog grown from empty by single adds stays centred.
 * - A query collects the slots in its bucket of every table and, with `probes` p > 1, in the
 *   (p − 1)·numTables other buckets a neighbour most likely fell into, ordered by the query's margins to
 *   the hyperplanes (MarginProbes, Lv et al. 2007); without `probes`, with `probeRadius` r > 0, in every
 *   bucket whose key differs in at most r bits. The union (deduplicated with a generation-stamped
 *   Uint32Array) is re-ranked by exact cosine on the shared vector store, in one SIMD kernel call.
 *   Recent adds not yet in the frozen tables match within radius r, or 1 when probing by margin.
 * - Buckets are frozen CSR tables (`BucketTable`) plus a pending list of recent adds; removes and
 *   replaces leave stale entries that are skipped (live flag + stored signature check). The frozen
 *   tables are rebuilt lazily, at the next search, once pending or stale entries pile up.
 * - `hashSize = 0`: every key is 0, one bucket holds everything, and the search is exact (this is
 *   what the Python seed's demo ran). Extra tables would be identical, so only one is kept.
 * - With `vectorsPerBucket`, the frozen tables bucket by the low `activeBits` bits of each key,
 *   ⌈log2(size / vectorsPerBucket)⌉ capped at hashSize: 16-bit buckets over a few hundred vectors are
 *   almost all empty, so every query would come back short and fall back to HNSW. The tables are
 *   rebuilt (not re-hashed: the stored keys have all hashSize bits) when the catalog's size moves
 *   `activeBits`, i.e. at most once per doubling.
 */
export class LshIndex implements PersistedIndex {
  readonly kind = 'lsh' as const;
  readonly params: LshParams;
  /** Tables actually kept: `numTables`, or 1 when hashSize is 0. */
  private readonly tableCount: number;
  /** Row j = hyperplane j's normal, in the SIMD kernel's memory: hashing a vector is one scan. */
  private readonly planes: KernelMatrix;
  /** Mean of the vectors when the centre was last estimated, and planes·centre (the bit thresholds). */
  private centre: Float32Array;
  private thresholds: Float32Array;
  private centredAtSize = 0;
  private readonly queryKeys: Uint32Array;
  /** Low bits of each key the frozen tables bucket by (see vectorsPerBucket), and their mask. */
  private bits: number;
  private bitMask: number;
  private probeMasks: Uint32Array;
  private readonly marginProbes = new MarginProbes();
  /** Radius-mode probes (table, key), filled per query. */
  private radiusTables = new Int32Array(0);
  private radiusKeys = new Uint32Array(0);
  /** signatures[slot · tableCount + t] = key of the vector in `slot` in table t. */
  private signatures: Uint32Array;
  private tables: BucketTable[] = [];
  private frozenEntries = 0;
  private pending = new Int32Array(1024);
  private pendingCount = 0;
  private staleEntries = 0;
  private stamps = new Uint32Array(0);
  /** The distinct slots a query collects, scored in one kernel call. */
  private candidates = new Int32Array(0);
  private generation = 0;
  private readonly topK = new TopK(10);

  constructor(
    readonly store: VectorStore,
    params: LshParams,
  ) {
    validateLshParams(params);
    this.params = { ...params };
    this.tableCount = params.hashSize === 0 ? 1 : params.numTables;
    this.planes = hyperplanes(this.tableCount * params.hashSize, store.dim, params.seed);
    this.centre = new Float32Array(store.dim);
    this.thresholds = new Float32Array(this.tableCount * params.hashSize);
    this.queryKeys = new Uint32Array(this.tableCount);
    this.bits = this.bitsFor(store.size);
    this.bitMask = lowBits(this.bits);
    this.probeMasks = probeMasks(this.bits, params.probeRadius);
    this.signatures = new Uint32Array(store.capacity * this.tableCount);
  }

  /** An index over every vector already in `store`; `onProgress(done, total)` is called every 1024 vectors. */
  static build(store: VectorStore, params: LshParams, onProgress?: (done: number, total: number) => void): LshIndex {
    const index = new LshIndex(store, params);
    index.recentre(onProgress);
    index.rebuildTables();
    return index;
  }

  get dim(): number {
    return this.store.dim;
  }

  get size(): number {
    return this.store.size;
  }

  /** Bits of each key the buckets use now (hashSize, or fewer for a small catalog: see vectorsPerBucket). */
  get activeBits(): number {
    return this.bits;
  }

  /** Multi-probe radius is query-time only: changing it needs no rebuild. */
  setProbeRadius(probeRadius: number): void {
    validateLshParams({ ...this.params, probeRadius });
    this.params.probeRadius = probeRadius;
    this.probeMasks = probeMasks(this.bits, probeRadius);
  }

  /** Margin-ordered probes per table (0: probe by radius instead); query-time only. */
  setProbes(probes: number): void {
    validateLshParams({ ...this.params, probes });
    this.params.probes = probes;
  }

  add(id: string, vector: Float32Array): void {
    const { slot, replaced } = this.store.set(id, vector);
    if (replaced) this.staleEntries += this.tableCount;
    this.hashSlot(slot);
  }

  remove(id: string): boolean {
    if (this.store.remove(id) < 0) return false;
    this.staleEntries += this.tableCount;
    return true;
  }

  search(query: Float32Array, k: number): SearchResult {
    this.store.checkVector(query, 'query');
    validateK(k);
    if (this.pendingCount > Math.max(MIN_LAZY_ENTRIES, this.frozenEntries * PENDING_SHARE) ||
        this.staleEntries > Math.max(MIN_LAZY_ENTRIES, this.frozenEntries * this.tableCount * STALE_SHARE) ||
        this.bitsFor(this.store.size) !== this.bits) {
      this.rebuildTables();
    }
    const { liveFlags } = this.store;
    // Frozen entries go stale only through replaces and slot reuse; until then skip the signature check
    // (a random read per visited entry).
    const checkSignatures = this.staleEntries > 0;
    const tableCount = this.tableCount;
    const signatures = this.signatures;
    const bitMask = this.bitMask;
    const projections = this.computeKeys(query, this.queryKeys, 0, this.bits);
    const { probes = 0 } = this.params;
    let plan: { tables: Int32Array; keys: Uint32Array; count: number } = this.marginProbes;
    if (probes > 0) this.marginProbes.plan(this.queryKeys, projections, this.thresholds, this.params.hashSize, this.bits, probes * tableCount);
    else plan = this.radiusPlan();
    const stamp = this.nextGeneration();
    const stamps = this.stamps;
    const candidates = this.candidates;
    let candidatesScored = 0;

    for (let p = 0; p < plan.count; p++) {
      const t = plan.tables[p]!;
      const key = plan.keys[p]!;
      const table = this.tables[t];
      if (table === undefined) continue;
      const bucket = table.find(key);
      if (bucket < 0) continue;
      const offsets: Uint32Array = table.offsets;
      const slots: Int32Array = table.slots;
      for (let e: number = offsets[bucket]!, end: number = offsets[bucket + 1]!; e < end; e++) {
        const slot = slots[e]!;
        if (stamps[slot] === stamp || liveFlags[slot] === 0) continue;
        if (checkSignatures && (signatures[slot * tableCount + t]! & bitMask) >>> 0 !== key) continue;
        stamps[slot] = stamp;
        candidates[candidatesScored++] = slot;
      }
    }
    const bucketsProbed = this.tables.length > 0 ? plan.count : 0;
    const radius = probes > 0 ? Math.min(1, probes - 1) : this.params.probeRadius;
    for (let p = 0; p < this.pendingCount; p++) {
      const slot = this.pending[p]!;
      if (stamps[slot] === stamp || liveFlags[slot] === 0) continue;
      for (let t = 0; t < tableCount; t++) {
        if (popcount32((signatures[slot * tableCount + t]! ^ this.queryKeys[t]!) & bitMask) <= radius) {
          stamps[slot] = stamp;
          candidates[candidatesScored++] = slot;
          break;
        }
      }
    }
    const scores = this.store.scoreSlots(query, candidates, candidatesScored);
    const topK = this.topK;
    topK.reset(Math.min(k, this.store.size));
    for (let c = 0; c < candidatesScored; c++) topK.push(scores[c]!, candidates[c]!);
    const neighbors: SearchResult['neighbors'] = [];
    topK.drain((slot, score) => neighbors.push({ id: this.store.idAt(slot), score }));
    return { neighbors, stats: { bucketsProbed, candidatesScored, fellBack: false } };
  }

  /** Hyperplanes, signatures, frozen tables, pending list and stamps, plus the vector store it re-ranks on. */
  memoryBytes(): number {
    let bytes = this.planes.byteLength + this.centre.byteLength + this.thresholds.byteLength + this.signatures.byteLength + this.pending.byteLength + this.stamps.byteLength + this.candidates.byteLength;
    for (const table of this.tables) bytes += table.memoryBytes();
    return bytes + this.store.memoryBytes();
  }

  /** Number of buckets in the frozen tables (for the benchmark's report). */
  bucketCount(): number {
    return this.tables.reduce((sum, table) => sum + table.bucketCount, 0);
  }

  /**
   * Writes `dir/lsh.ftix`: params, `meta`, the ids and their signatures. The vectors are not in it
   * (they are the store's, from the catalog); the hyperplanes are re-drawn from the seed and checked
   * by checksum.
   */
  async save(dir: string, meta: IndexMeta): Promise<void> {
    const ids: string[] = [];
    const signatures = new Uint32Array(this.store.size * this.tableCount);
    for (const [id, slot] of this.store.entries()) {
      signatures.set(this.signatures.subarray(slot * this.tableCount, (slot + 1) * this.tableCount), ids.length * this.tableCount);
      ids.push(id);
    }
    await writeIndexFile(
      indexFilePath(dir, 'lsh'),
      {
        kind: 'lsh',
        dim: this.dim,
        params: buildParams(this.params),
        meta,
        count: ids.length,
        centredAtSize: this.centredAtSize,
        planesCrc32: crc32(bytesOf(this.planes.rows)),
      },
      { ids: Buffer.from(JSON.stringify(ids), 'utf8'), signatures: bytesOf(signatures), centre: bytesOf(this.centre) },
    );
  }

  /**
   * Loads `dir/lsh.ftix` over `store`, which must hold exactly the ids it was saved with. Throws
   * INDEX_CORRUPT (missing, truncated, checksum) or INDEX_MISMATCH (dimension, build params, meta,
   * other ids, or vectors whose signatures differ from the stored ones).
   */
  static async load(dir: string, store: VectorStore, params: LshParams, meta: IndexMeta): Promise<LshIndex> {
    const path = indexFilePath(dir, 'lsh');
    const contents = await readIndexFile<{
      kind: string;
      dim: number;
      params: unknown;
      meta: unknown;
      count: number;
      centredAtSize: number;
      planesCrc32: number;
    }>(
      path,
      'lsh',
      store.dim,
    );
    const { header } = contents;
    checkSameValues(path, 'LSH parameter', header.params, buildParams(params));
    checkSameValues(path, 'meta', header.meta, meta);
    const index = new LshIndex(store, params);
    if (header.planesCrc32 !== crc32(bytesOf(index.planes.rows))) {
      throw new FindthisError('INDEX_MISMATCH', `Index file ${path} was hashed with other hyperplanes (generator changed)`);
    }
    const ids = JSON.parse(requireSection(contents, 'ids', path).toString('utf8')) as string[];
    const signatures = uint32Section(requireSection(contents, 'signatures', path));
    const centre = requireSection(contents, 'centre', path);
    if (centre.byteLength !== store.dim * 4) throw new FindthisError('INDEX_CORRUPT', `Index file ${path} has a centre of ${centre.byteLength} bytes`);
    bytesOf(index.centre).set(centre);
    index.setThresholds(header.centredAtSize);
    if (ids.length !== store.size || signatures.length !== ids.length * index.tableCount) {
      throw new FindthisError('INDEX_MISMATCH', `Index file ${path} holds ${ids.length} vectors, the catalog ${store.size}`);
    }
    const tableCount = index.tableCount;
    ids.forEach((id, i) => {
      const slot = store.slotOf(id);
      if (slot === undefined) throw new FindthisError('INDEX_MISMATCH', `Index file ${path} holds id ${JSON.stringify(id)} that the catalog lacks`);
      index.signatures.set(signatures.subarray(i * tableCount, (i + 1) * tableCount), slot * tableCount);
    });
    const check = new Uint32Array(tableCount);
    const step = Math.max(1, Math.floor(ids.length / LOAD_SAMPLE));
    for (let i = 0; i < ids.length; i += step) {
      const slot = store.slotOf(ids[i]!)!;
      index.computeKeys(store.vectorAt(slot), check, 0);
      for (let t = 0; t < tableCount; t++) {
        if (check[t] !== index.signatures[slot * tableCount + t]) {
          throw new FindthisError('INDEX_MISMATCH', `Index file ${path} has a signature for ${JSON.stringify(ids[i])} that its vector no longer gives`);
        }
      }
    }
    index.rebuildTables();
    return index;
  }

  /**
   * Freezes every live slot into new CSR tables and empties the pending list (first re-centring and
   * re-hashing everything if the catalog has doubled since the centre was estimated).
   */
  rebuildTables(): void {
    if (this.params.hashSize > 0 && this.store.size >= Math.max(MIN_RECENTRE_SIZE, 2 * this.centredAtSize)) this.recentre();
    const live = new Int32Array(this.store.size);
    let n = 0;
    for (const [, slot] of this.store.entries()) live[n++] = slot;
    this.bits = this.bitsFor(n);
    this.bitMask = lowBits(this.bits);
    this.probeMasks = probeMasks(this.bits, this.params.probeRadius);
    const keys = new Uint32Array(n);
    const maxKeys = this.bits >= 31 ? 2 ** 31 : 2 ** this.bits;
    this.tables = [];
    for (let t = 0; t < this.tableCount; t++) {
      for (let i = 0; i < n; i++) keys[i] = (this.signatures[live[i]! * this.tableCount + t]! & this.bitMask) >>> 0;
      this.tables.push(new BucketTable(live, keys, maxKeys));
    }
    this.frozenEntries = n;
    this.pendingCount = 0;
    this.staleEntries = 0;
  }

  /** Re-estimates the centre as the mean of the live vectors and re-hashes every live slot. */
  private recentre(onProgress?: (done: number, total: number) => void): void {
    const { dim, size } = this.store;
    const sum = new Float64Array(dim);
    for (const [, slot] of this.store.entries()) {
      const vector = this.store.vectorAt(slot);
      for (let d = 0; d < dim; d++) sum[d]! += vector[d]!;
    }
    for (let d = 0; d < dim; d++) this.centre[d] = size > 0 ? sum[d]! / size : 0;
    this.setThresholds(size);
    let done = 0;
    for (const [, slot] of this.store.entries()) {
      this.hashSlot(slot);
      if (++done % 1024 === 0) onProgress?.(done, size);
    }
  }

  /** The bits buckets use for a catalog of `size` vectors (see vectorsPerBucket). */
  private bitsFor(size: number): number {
    const { hashSize, vectorsPerBucket = 0 } = this.params;
    if (hashSize === 0 || vectorsPerBucket === 0) return hashSize;
    return Math.min(hashSize, Math.max(1, Math.ceil(Math.log2(Math.max(1, size) / vectorsPerBucket))));
  }

  private setThresholds(centredAtSize: number): void {
    this.thresholds.set(this.planes.scan(this.centre, this.thresholds.length));
    this.centredAtSize = centredAtSize;
  }

  /** Computes the slot's signatures and queues it in the pending list. */
  private hashSlot(slot: number): void {
    if (this.signatures.length < this.store.capacity * this.tableCount) {
      const grown = new Uint32Array(this.store.capacity * this.tableCount);
      grown.set(this.signatures);
      this.signatures = grown;
    }
    this.computeKeys(this.store.vectorAt(slot), this.signatures, slot * this.tableCount);
    if (this.pendingCount === this.pending.length) {
      const grown = new Int32Array(this.pending.length * 2);
      grown.set(this.pending);
      this.pending = grown;
    }
    this.pending[this.pendingCount++] = slot;
  }

  /**
   * The keys of `vector` in every table: its side of each hyperplane, one bit per plane. Stored keys
   * take all hashSize bits; a query needs only the `bits` low ones the buckets use. All planes are
   * scored in one kernel call either way.
   */
  private computeKeys(vector: Float32Array, out: Uint32Array, outOffset: number, bits = this.params.hashSize): Float32Array {
    const hashSize = this.params.hashSize;
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

  /** Every table's buckets within the probe radius of the query's keys (radius-mode probing). */
  private radiusPlan(): { tables: Int32Array; keys: Uint32Array; count: number } {
    const masks = this.probeMasks;
    const total = this.tableCount * masks.length;
    if (this.radiusTables.length < total) {
      this.radiusTables = new Int32Array(total);
      this.radiusKeys = new Uint32Array(total);
    }
    let count = 0;
    for (let t = 0; t < this.tableCount; t++) {
      for (let m = 0; m < masks.length; m++, count++) {
        this.radiusTables[count] = t;
        this.radiusKeys[count] = (this.queryKeys[t]! ^ masks[m]!) >>> 0;
      }
    }
    return { tables: this.radiusTables, keys: this.radiusKeys, count };
  }

  private nextGeneration(): number {
    if (this.candidates.length < this.store.capacity) this.candidates = new Int32Array(this.store.capacity);
    if (this.stamps.length < this.store.capacity) this.stamps = new Uint32Array(this.store.capacity);
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.stamps.fill(0);
      this.generation = 1;
    }
    return this.generation;
  }
}

/** The params that shape the stored signatures (probeRadius is query-time). */
function buildParams(params: LshParams): Record<string, number> {
  return { hashSize: params.hashSize, numTables: params.numTables, seed: params.seed };
}

/** `rows × dim` Gaussian entries from the seeded generator: row j is hyperplane j's normal. */
export function hyperplanes(rows: number, dim: number, seed: number): KernelMatrix {
  const random = new SeededRandom(seed);
  const planes = new KernelMatrix(dim, rows);
  const entries = planes.rows;
  for (let i = 0; i < entries.length; i++) entries[i] = random.gaussian();
  return planes;
}

/** A mask of the low `bits` bits (as an unsigned 32-bit number). */
function lowBits(bits: number): number {
  return bits >= 32 ? 0xffffffff : 2 ** bits - 1;
}

/** XOR masks of every key within Hamming distance `radius` of a `bits`-bit key, nearest first. */
export function probeMasks(bits: number, radius: number): Uint32Array {
  const masks: number[] = [0];
  let frontier = [{ mask: 0, next: 0 }];
  for (let distance = 1; distance <= Math.min(radius, bits); distance++) {
    const expanded: { mask: number; next: number }[] = [];
    for (const { mask, next } of frontier) {
      for (let bit = next; bit < bits; bit++) {
        const grown = (mask | (1 << bit)) >>> 0;
        expanded.push({ mask: grown, next: bit + 1 });
        masks.push(grown);
      }
    }
    frontier = expanded;
  }
  return Uint32Array.from(masks);
}

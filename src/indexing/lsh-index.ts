import { BucketTable } from './bucket-table.js';
import { CandidateSlots } from './candidate-slots.js';
import { SimHashSketches } from './simhash-sketches.js';
import { readLshFile, writeLshFile } from './lsh-file.js';
import { activeBitsFor, CentredHyperplanes, recentreDue } from './lsh-hyperplanes.js';
import { MarginProbes } from './margin-probes.js';
import { validateK, validateLshParams } from './params.js';
import { RadiusProbes } from './radius-probes.js';
import { TopK } from './top-k.js';
import type { IndexMeta, LshParams, PersistedIndex, SearchResult } from './types.js';
import type { VectorStore } from './vector-store.js';

/** Recent adds are scanned linearly until they exceed this share of the frozen tables (then rebuilt). */
const PENDING_SHARE = 1 / 8;
/** Frozen entries invalidated by removes/replaces tolerated before a rebuild. */
const STALE_SHARE = 1 / 4;
const MIN_LAZY_ENTRIES = 256;

/**
 * Random-hyperplane LSH for cosine similarity (Charikar 2002), with exact re-ranking.
 *
 * - `numTables` tables; in each, a vector's key is `hashSize` bits, its sides of random hyperplanes
 *   through the catalog's centre, or of hyperplanes learned from the catalog (`planes`: CentredHyperplanes,
 *   lsh-hyperplanes.ts). Centre (or planes) are estimated at build, stored with the index, and re-estimated
 *   (with a full re-hash, at the next lazy rebuild) whenever the catalog has doubled since — so a catalog
 *   grown from empty by single adds stays centred.
 * - A query collects the slots in its bucket of every table and, with `probes` p > 1, in the
 *   (p − 1)·numTables other buckets a neighbour most likely fell into, ordered by the query's margins to
 *   the hyperplanes (MarginProbes, Lv et al. 2007); without `probes`, with `probeRadius` r > 0, in every
 *   bucket whose key differs in at most r bits (RadiusProbes). The union (marked in a bitset of the
 *   slots, 12.5 kB at 100k, and read back in slot order) is re-ranked by exact cosine on the shared
 *   vector store, in one SIMD kernel call; with `rerank`, only its `rerank` nearest by Hamming distance
 *   of their SimHash sketches (SimHashSketches).
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
 * - On disk (lsh-file.ts): ids, keys, centre and learned planes; the vectors are the catalog's.
 */
export class LshIndex implements PersistedIndex {
  readonly kind = 'lsh' as const;
  readonly params: LshParams;
  /** Tables actually kept: `numTables`, or 1 when hashSize is 0. */
  private readonly tableCount: number;
  private readonly hyperplanes: CentredHyperplanes;
  private readonly queryKeys: Uint32Array;
  /** Low bits of each key the frozen tables bucket by (see vectorsPerBucket), and their mask. */
  private bits: number;
  private bitMask: number;
  private readonly marginProbes = new MarginProbes();
  private readonly radiusProbes = new RadiusProbes();
  /**
   * Every slot's SimHash sketch, to cut a query's candidates to `rerank`: kept only once `rerank` has
   * been on (256 projections per insert and per loaded vector are not worth paying for nothing), and
   * never when hashSize is 0.
   */
  private sketches: SimHashSketches | undefined;
  /** signatures[slot · tableCount + t] = key of the vector in `slot` in table t. */
  private signatures: Uint32Array;
  private tables: BucketTable[] = [];
  private frozenEntries = 0;
  private pending = new Int32Array(1024);
  private pendingCount = 0;
  private staleEntries = 0;
  /** The distinct slots a query collects, scored in one kernel call. */
  private readonly found = new CandidateSlots();
  private readonly topK = new TopK(10);

  constructor(
    readonly store: VectorStore,
    params: LshParams,
  ) {
    validateLshParams(params);
    this.params = { ...params };
    this.tableCount = params.hashSize === 0 ? 1 : params.numTables;
    this.hyperplanes = new CentredHyperplanes(this.tableCount, params.hashSize, store.dim, params.seed, params.planes === 'learned');
    this.queryKeys = new Uint32Array(this.tableCount);
    this.bits = activeBitsFor(params, store.size);
    this.bitMask = lowBits(this.bits);
    this.radiusProbes.configure(this.bits, params.probeRadius);
    this.signatures = new Uint32Array(store.capacity * this.tableCount);
    // Empty: a build sketches every slot as it hashes it, a load once the centre is read.
    this.sketches = params.hashSize > 0 && (params.rerank ?? 0) > 0 ? new SimHashSketches(store.dim, params.seed) : undefined;
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
    this.radiusProbes.configure(this.bits, probeRadius);
  }

  /** Margin-ordered probes per table (0: probe by radius instead); query-time only. */
  setProbes(probes: number): void {
    validateLshParams({ ...this.params, probes });
    this.params.probes = probes;
  }

  /** Candidates re-ranked exactly, the nearest by SimHash sketch (0: all); query-time only (the first time on, every slot is sketched). */
  setRerank(rerank: number): void {
    validateLshParams({ ...this.params, rerank });
    this.params.rerank = rerank;
    if (rerank > 0 && this.params.hashSize > 0 && !this.sketches) {
      this.sketches = new SimHashSketches(this.store.dim, this.params.seed);
      this.sketchAll();
    }
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
        activeBitsFor(this.params, this.store.size) !== this.bits) {
      this.rebuildTables();
    }
    const keys = { signatures: this.signatures, tableCount: this.tableCount, bitMask: this.bitMask };
    const projections = this.hyperplanes.keys(query, this.queryKeys, 0, this.bits);
    const { probes = 0 } = this.params;
    const plan = probes > 0 ? this.marginProbes : this.radiusProbes;
    if (probes > 0) this.marginProbes.plan(this.queryKeys, projections, this.hyperplanes.thresholds, this.params.hashSize, this.bits, probes * this.tableCount);
    else this.radiusProbes.plan(this.queryKeys);
    const found = this.found;
    found.reserve(this.store.capacity);
    // Frozen entries go stale only through replaces and slot reuse; until then skip the key check
    // (a random read per visited entry).
    found.markBuckets(plan, this.tables, keys, this.staleEntries > 0);
    const bucketsProbed = this.tables.length > 0 ? plan.count : 0;
    found.markPending(this.pending, this.pendingCount, this.queryKeys, keys, probes > 0 ? Math.min(1, probes - 1) : this.params.probeRadius);
    const candidates = found.slots;
    let candidatesScored = found.collect(this.store.liveFlags);
    const { rerank = 0 } = this.params;
    const candidatesFound = candidatesScored;
    if (rerank > 0 && this.sketches) {
      candidatesScored = this.sketches.nearest(query, candidates, candidatesScored, Math.max(rerank, k));
    }
    const scores = this.store.scoreSlots(query, candidates, candidatesScored);
    const topK = this.topK;
    topK.reset(Math.min(k, this.store.size));
    for (let c = 0; c < candidatesScored; c++) topK.push(scores[c]!, candidates[c]!);
    const neighbors: SearchResult['neighbors'] = [];
    topK.drain((slot, score) => neighbors.push({ id: this.store.idAt(slot), score }));
    return { neighbors, stats: { bucketsProbed, candidatesFound, candidatesScored, fellBack: false } };
  }

  /** Hyperplanes, signatures and their sketches, frozen tables, pending list and the seen-bitset, plus the vector store it re-ranks on. */
  memoryBytes(): number {
    let bytes = this.hyperplanes.memoryBytes() + (this.sketches?.memoryBytes() ?? 0) + this.signatures.byteLength + this.pending.byteLength + this.found.memoryBytes();
    for (const table of this.tables) bytes += table.memoryBytes();
    return bytes + this.store.memoryBytes();
  }

  /** Number of buckets in the frozen tables (for the benchmark's report). */
  bucketCount(): number {
    return this.tables.reduce((sum, table) => sum + table.bucketCount, 0);
  }

  /** Writes `dir/lsh.ftix` (lsh-file.ts): params, `meta`, the ids and their keys, the centre. */
  async save(dir: string, meta: IndexMeta): Promise<void> {
    const ids: string[] = [];
    const signatures = new Uint32Array(this.store.size * this.tableCount);
    for (const [id, slot] of this.store.entries()) {
      signatures.set(this.signatures.subarray(slot * this.tableCount, (slot + 1) * this.tableCount), ids.length * this.tableCount);
      ids.push(id);
    }
    await writeLshFile(dir, this.params, meta, this.hyperplanes, ids, signatures);
  }

  /**
   * Loads `dir/lsh.ftix` over `store`, which must hold exactly the ids it was saved with (errors: see
   * readLshFile).
   */
  static async load(dir: string, store: VectorStore, params: LshParams, meta: IndexMeta): Promise<LshIndex> {
    const index = new LshIndex(store, params);
    index.signatures = await readLshFile(dir, store, params, meta, index.hyperplanes);
    index.sketchAll();
    index.rebuildTables();
    return index;
  }

  /**
   * Freezes every live slot into new CSR tables and empties the pending list (first re-centring and
   * re-hashing everything if the catalog has doubled since the centre was estimated).
   */
  rebuildTables(): void {
    if (this.params.hashSize > 0 && recentreDue(this.store.size, this.hyperplanes.centredAtSize)) this.recentre();
    const live = new Int32Array(this.store.size);
    let n = 0;
    for (const [, slot] of this.store.entries()) live[n++] = slot;
    this.bits = activeBitsFor(this.params, n);
    this.bitMask = lowBits(this.bits);
    this.radiusProbes.configure(this.bits, this.params.probeRadius);
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

  /** Re-estimates the centre (and learns the planes) from the live vectors and re-hashes every live slot. */
  private recentre(onProgress?: (done: number, total: number) => void): void {
    this.hyperplanes.recentre(this.store);
    this.sketches?.recentre(this.hyperplanes.centre);
    const size = this.store.size;
    let done = 0;
    for (const [, slot] of this.store.entries()) {
      this.hashSlot(slot);
      if (++done % 1024 === 0) onProgress?.(done, size);
    }
  }

  /** Puts the sketches' planes through the current centre and sketches every live slot (when sketches are kept). */
  private sketchAll(): void {
    if (!this.sketches) return;
    this.sketches.recentre(this.hyperplanes.centre);
    for (const [, slot] of this.store.entries()) this.sketches.set(slot, this.store.vectorAt(slot));
  }

  /** Computes the slot's signatures and queues it in the pending list. */
  private hashSlot(slot: number): void {
    if (this.signatures.length < this.store.capacity * this.tableCount) {
      const grown = new Uint32Array(this.store.capacity * this.tableCount);
      grown.set(this.signatures);
      this.signatures = grown;
    }
    this.hyperplanes.keys(this.store.vectorAt(slot), this.signatures, slot * this.tableCount);
    this.sketches?.set(slot, this.store.vectorAt(slot));
    if (this.pendingCount === this.pending.length) {
      const grown = new Int32Array(this.pending.length * 2);
      grown.set(this.pending);
      this.pending = grown;
    }
    this.pending[this.pendingCount++] = slot;
  }
}

/** A mask of the low `bits` bits (as an unsigned 32-bit number). */
function lowBits(bits: number): number {
  return bits >= 32 ? 0xffffffff : 2 ** bits - 1;
}

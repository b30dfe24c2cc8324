import { FindthisError, invalidParameter } from '../core/errors.js';
import { KernelMatrix } from './kernel-matrix.js';
import { norm } from './vector-math.js';

/** How far from 1 a vector's length may be before it is refused as "not unit-length". */
const UNIT_TOLERANCE = 1e-3;

/**
 * Throws INVALID_VECTOR unless `vector` is a Float32Array of dimension `dim`, finite and unit-length
 * (within 1e-3). `name` is the parameter named in the message. Vectors come from the encoder and the
 * transforms, never straight from a client, so a bad one is a bug (500), not a bad request.
 */
export function checkUnitVector(vector: Float32Array, dim: number, name: string): void {
  if (!(vector instanceof Float32Array)) throw invalidParameter(name, 'a Float32Array', vector, 'INVALID_VECTOR');
  if (vector.length !== dim) throw invalidParameter(name, `a vector of dimension ${dim}`, `dimension ${vector.length}`, 'INVALID_VECTOR');
  const length = norm(vector);
  if (!Number.isFinite(length) || Math.abs(length - 1) > UNIT_TOLERANCE) {
    throw invalidParameter(name, 'a unit-length (L2-normalised) vector', `length ${length}`, 'INVALID_VECTOR');
  }
}

/** Rough JS heap cost of one string id in a Map plus an array, beyond its characters. */
export const ID_OVERHEAD_BYTES = 80;

/**
 * The one in-memory copy of the catalog's vectors, shared by the exact and LSH indexes: a contiguous
 * f32 matrix in the SIMD kernel's memory (slot i at [i·dim, (i+1)·dim), see KernelMatrix), a string
 * id ↔ slot map, and a stack of freed slots that new ids reuse. Vectors are checked once here: right
 * dimension, finite, unit length. Free slots hold zeros.
 *
 * `data` and views from `vectorAt` are detached when the store grows: read them through the getters
 * on each use, never keep them across an add.
 */
export class VectorStore {
  readonly dim: number;
  private readonly vectors: KernelMatrix;
  private live: Uint8Array;
  private slotIds: (string | undefined)[] = [];
  private readonly slotById = new Map<string, number>();
  private freeSlots: number[] = [];
  private used = 0;
  private idChars = 0;

  constructor(dim: number, initialCapacity = 1024) {
    if (!Number.isInteger(dim) || dim < 1) throw invalidParameter('dim', 'a positive integer', dim);
    this.dim = dim;
    const capacity = Math.max(16, initialCapacity);
    this.vectors = new KernelMatrix(dim, capacity);
    this.live = new Uint8Array(capacity);
  }

  /** Live ids. */
  get size(): number {
    return this.slotById.size;
  }

  /** Slots handed out so far (live or freed): scans run over [0, slotCount). */
  get slotCount(): number {
    return this.used;
  }

  get capacity(): number {
    return this.live.length;
  }

  /** The contiguous vector storage (slot-major). */
  get data(): Float32Array {
    return this.vectors.rows;
  }

  /** 1 for a live slot, 0 for a free one; indexed by slot. */
  get liveFlags(): Uint8Array {
    return this.live;
  }

  has(id: string): boolean {
    return this.slotById.has(id);
  }

  slotOf(id: string): number | undefined {
    return this.slotById.get(id);
  }

  idAt(slot: number): string {
    const id = this.slotIds[slot];
    if (id === undefined) throw new FindthisError('INTERNAL', `vector store slot ${slot} is free`);
    return id;
  }

  /** A view (not a copy) of the vector in `slot`. */
  vectorAt(slot: number): Float32Array {
    return this.vectors.rows.subarray(slot * this.dim, (slot + 1) * this.dim);
  }

  /**
   * Cosine similarities of a unit query with every slot in [0, slotCount) (free slots score 0): a view
   * valid until the next scoring call on this store.
   */
  scoreAll(query: Float32Array): Float32Array {
    return this.vectors.scan(query, this.used);
  }

  /** Cosine similarities of a unit query with `slots[0 … count−1]` (distinct slots), in that order; a view as scoreAll's. */
  scoreSlots(query: Float32Array, slots: Int32Array, count: number): Float32Array {
    return this.vectors.gather(query, slots, count);
  }

  /** Throws INVALID_VECTOR unless `vector` fits this store (see `checkUnitVector`). */
  checkVector(vector: Float32Array, name: string): void {
    checkUnitVector(vector, this.dim, name);
  }

  /** Stores `vector` under `id`; an existing id keeps its slot and gets the new vector. */
  set(id: string, vector: Float32Array): { slot: number; replaced: boolean } {
    if (typeof id !== 'string' || id.length === 0) throw invalidParameter('id', 'a non-empty string', id);
    this.checkVector(vector, 'vector');
    const existing = this.slotById.get(id);
    if (existing !== undefined) {
      this.vectors.rows.set(vector, existing * this.dim);
      return { slot: existing, replaced: true };
    }
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.takeNewSlot();
    this.vectors.rows.set(vector, slot * this.dim);
    this.live[slot] = 1;
    this.slotIds[slot] = id;
    this.slotById.set(id, slot);
    this.idChars += id.length;
    return { slot, replaced: false };
  }

  /** Frees the id's slot for reuse; returns the slot, or -1 when the id was not stored. */
  remove(id: string): number {
    const slot = this.slotById.get(id);
    if (slot === undefined) return -1;
    this.slotById.delete(id);
    this.slotIds[slot] = undefined;
    this.live[slot] = 0;
    this.vectors.rows.fill(0, slot * this.dim, (slot + 1) * this.dim);
    this.freeSlots.push(slot);
    this.idChars -= id.length;
    return slot;
  }

  /** Live (id, slot) pairs in slot order. */
  *entries(): IterableIterator<[id: string, slot: number]> {
    for (let slot = 0; slot < this.used; slot++) {
      const id = this.slotIds[slot];
      if (id !== undefined) yield [id, slot];
    }
  }

  memoryBytes(): number {
    return this.vectors.byteLength + this.live.byteLength + this.slotById.size * ID_OVERHEAD_BYTES + this.idChars * 2;
  }

  private takeNewSlot(): number {
    if (this.used === this.live.length) this.grow(this.live.length * 2);
    return this.used++;
  }

  private grow(capacity: number): void {
    this.vectors.grow(capacity);
    const live = new Uint8Array(capacity);
    live.set(this.live);
    this.live = live;
  }
}

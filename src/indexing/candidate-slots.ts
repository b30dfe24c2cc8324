/**
 * One LSH query's candidates, each slot once. The walks over the probed buckets and the pending list
 * only set each slot's bit in a bitset (12.5 kB at 100k slots, so it stays in the L1 cache); reading the
 * bits back lists each candidate once, live ones only, in slot order, so the sketch pass and the scoring
 * that follow read the catalog's rows front to back instead of at random. Reading back clears the bits
 * for the next query.
 */
import type { BucketTable } from './bucket-table.js';
import { popcount32 } from './vector-math.js';

/** The buckets a query probes: table and key of each (MarginProbes or RadiusProbes). */
export interface ProbePlan {
  tables: Int32Array;
  keys: Uint32Array;
  count: number;
}

/** How a slot's stored keys are read: signatures[slot · tableCount + t], compared on the low bits in `bitMask`. */
export interface SlotKeys {
  signatures: Uint32Array;
  tableCount: number;
  bitMask: number;
}

export class CandidateSlots {
  /** Bit (slot & 31) of word (slot >>> 5): the slot is among the query's candidates. */
  private seen = new Uint32Array(0);
  /** The candidates `collect` listed, in its first `count` entries. */
  slots = new Int32Array(0);

  /** Sizes the bitset and the list to `capacity` slots (both are left empty by the last collect). */
  reserve(capacity: number): void {
    if (this.slots.length < capacity) this.slots = new Int32Array(capacity);
    if (this.seen.length * 32 < capacity) this.seen = new Uint32Array(Math.ceil(capacity / 32));
  }

  /**
   * Marks every slot in the planned buckets of the frozen `tables`. With `checkKeys` (some entries are
   * stale: their slot was replaced or reused), an entry counts only while the slot's stored key still
   * puts it in that bucket.
   */
  markBuckets(plan: ProbePlan, tables: readonly BucketTable[], { signatures, tableCount, bitMask }: SlotKeys, checkKeys: boolean): void {
    const seen = this.seen;
    for (let p = 0; p < plan.count; p++) {
      const t = plan.tables[p]!;
      const key = plan.keys[p]!;
      const table = tables[t];
      if (table === undefined) continue;
      const bucket = table.find(key);
      if (bucket < 0) continue;
      const offsets: Uint32Array = table.offsets;
      const slots: Int32Array = table.slots;
      for (let e: number = offsets[bucket]!, end: number = offsets[bucket + 1]!; e < end; e++) {
        const slot = slots[e]!;
        if (checkKeys && (signatures[slot * tableCount + t]! & bitMask) >>> 0 !== key) continue;
        seen[slot >>> 5] = seen[slot >>> 5]! | (1 << (slot & 31));
      }
    }
  }

  /** Marks each of the first `count` pending slots (recent adds) whose key in some table is within `radius` bits of the query's. */
  markPending(pending: Int32Array, count: number, queryKeys: Uint32Array, { signatures, tableCount, bitMask }: SlotKeys, radius: number): void {
    const seen = this.seen;
    for (let p = 0; p < count; p++) {
      const slot = pending[p]!;
      if ((seen[slot >>> 5]! & (1 << (slot & 31))) !== 0) continue;
      for (let t = 0; t < tableCount; t++) {
        if (popcount32((signatures[slot * tableCount + t]! ^ queryKeys[t]!) & bitMask) <= radius) {
          seen[slot >>> 5] = seen[slot >>> 5]! | (1 << (slot & 31));
          break;
        }
      }
    }
  }

  /** Lists the marked slots whose `liveFlags` entry is set into `slots`, in slot order, and clears every mark; returns how many. */
  collect(liveFlags: Uint8Array): number {
    const seen = this.seen;
    const slots = this.slots;
    let count = 0;
    for (let word = 0; word < seen.length; word++) {
      let bits = seen[word]!;
      if (bits === 0) continue;
      seen[word] = 0;
      while (bits !== 0) {
        const low = bits & -bits;
        const slot = (word << 5) | (31 - Math.clz32(low));
        if (liveFlags[slot] !== 0) slots[count++] = slot;
        bits ^= low;
      }
    }
    return count;
  }

  memoryBytes(): number {
    return this.seen.byteLength + this.slots.byteLength;
  }
}

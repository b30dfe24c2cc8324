/**
 * One LSH table's buckets, frozen in typed arrays (CSR layout): an open-addressing hash from the
 * 32-bit signature to a bucket number, and for bucket b the slots `slots[offsets[b] .. offsets[b+1])`
 * in ascending order. Built in O(n) by counting; never mutated (the LSH index keeps recent adds in a
 * separate pending list and rebuilds these lazily).
 */
export class BucketTable {
  private readonly keys: Uint32Array;
  /** Bucket number + 1 at each hash position; 0 = empty position. */
  private readonly bucketAt: Int32Array;
  private readonly shift: number;
  readonly offsets: Uint32Array;
  readonly slots: Int32Array;

  /** `slotKeys[i]` is the signature of `slotList[i]`; `maxKeys` bounds the distinct keys (2^hashSize). */
  constructor(slotList: Int32Array, slotKeys: Uint32Array, maxKeys: number) {
    const n = slotList.length;
    const distinctBound = Math.max(1, Math.min(n, maxKeys));
    let bits = 1;
    while (1 << bits < 2 * distinctBound) bits++;
    this.keys = new Uint32Array(1 << bits);
    this.bucketAt = new Int32Array(1 << bits);
    this.shift = 32 - bits;

    const bucketOfEntry = new Int32Array(n);
    const counts = new Uint32Array(distinctBound + 1);
    let buckets = 0;
    const mask = (1 << bits) - 1;
    for (let i = 0; i < n; i++) {
      const key = slotKeys[i]!;
      let pos = Math.imul(key, 0x9e3779b1) >>> this.shift;
      for (;;) {
        const at = this.bucketAt[pos]!;
        if (at === 0) {
          this.keys[pos] = key;
          this.bucketAt[pos] = ++buckets;
          bucketOfEntry[i] = buckets - 1;
          break;
        }
        if (this.keys[pos] === key) {
          bucketOfEntry[i] = at - 1;
          break;
        }
        pos = (pos + 1) & mask;
      }
      counts[bucketOfEntry[i]! + 1]!++;
    }
    this.offsets = new Uint32Array(buckets + 1);
    for (let b = 0; b < buckets; b++) this.offsets[b + 1] = this.offsets[b]! + counts[b + 1]!;
    const fill = this.offsets.slice(0, buckets);
    this.slots = new Int32Array(n);
    for (let i = 0; i < n; i++) this.slots[fill[bucketOfEntry[i]!]!++] = slotList[i]!;
  }

  /** Bucket number holding `key`, or -1. */
  find(key: number): number {
    const mask = this.keys.length - 1;
    let pos = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const at = this.bucketAt[pos]!;
      if (at === 0) return -1;
      if (this.keys[pos] === key) return at - 1;
      pos = (pos + 1) & mask;
    }
  }

  get bucketCount(): number {
    return this.offsets.length - 1;
  }

  memoryBytes(): number {
    return this.keys.byteLength + this.bucketAt.byteLength + this.offsets.byteLength + this.slots.byteLength;
  }
}

/**
 * One LSH table's buckets, frozen in typed arrays (CSR layout): for bucket b the slots
 * `slots[offsets[b] .. offsets[b+1])` in ascending order. When the key space is small next to the
 * catalog (2^bits ≤ 4n: 16-bit keys from 16k vectors up), the key is the bucket number (direct
 * addressing: one look-up per probe, and less memory than a hash); otherwise an open-addressing hash
 * maps the 32-bit signature to a bucket number. Built in O(n) by counting; never mutated (the LSH index
 * keeps recent adds in a separate pending list and rebuilds these lazily).
 */
export class BucketTable {
  private readonly keys: Uint32Array;
  /** Bucket number + 1 at each hash position; 0 = empty position. Empty when directly addressed. */
  private readonly bucketAt: Int32Array;
  private readonly shift: number;
  private readonly direct: boolean;
  readonly offsets: Uint32Array;
  readonly slots: Int32Array;
  /** Non-empty buckets. */
  readonly bucketCount: number;

  /** `slotKeys[i]` is the signature of `slotList[i]`; `maxKeys` bounds the distinct keys (2^hashSize). */
  constructor(slotList: Int32Array, slotKeys: Uint32Array, maxKeys: number) {
    const n = slotList.length;
    this.direct = maxKeys <= 4 * Math.max(n, 1024);
    if (this.direct) {
      this.keys = new Uint32Array(0);
      this.bucketAt = new Int32Array(0);
      this.shift = 0;
      this.offsets = new Uint32Array(maxKeys + 1);
      for (let i = 0; i < n; i++) this.offsets[slotKeys[i]! + 1]!++;
      let nonEmpty = 0;
      for (let key = 0; key < maxKeys; key++) {
        if (this.offsets[key + 1]! > 0) nonEmpty++;
        this.offsets[key + 1]! += this.offsets[key]!;
      }
      this.bucketCount = nonEmpty;
      const fill = this.offsets.slice(0, maxKeys);
      this.slots = new Int32Array(n);
      for (let i = 0; i < n; i++) this.slots[fill[slotKeys[i]!]!++] = slotList[i]!;
      return;
    }
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
    this.bucketCount = buckets;
    this.offsets = new Uint32Array(buckets + 1);
    for (let b = 0; b < buckets; b++) this.offsets[b + 1] = this.offsets[b]! + counts[b + 1]!;
    const fill = this.offsets.slice(0, buckets);
    this.slots = new Int32Array(n);
    for (let i = 0; i < n; i++) this.slots[fill[bucketOfEntry[i]!]!++] = slotList[i]!;
  }

  /** Bucket number holding `key`, or -1 (directly addressed: the key, whose bucket may be empty). */
  find(key: number): number {
    if (this.direct) return key < this.offsets.length - 1 ? key : -1;
    const mask = this.keys.length - 1;
    let pos = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const at = this.bucketAt[pos]!;
      if (at === 0) return -1;
      if (this.keys[pos] === key) return at - 1;
      pos = (pos + 1) & mask;
    }
  }

  memoryBytes(): number {
    return this.keys.byteLength + this.bucketAt.byteLength + this.offsets.byteLength + this.slots.byteLength;
  }
}

/**
 * Partial top-k selection: a bounded min-heap over (score, slot), so a scan of n candidates costs
 * O(n log k) and never sorts all n. Ties are broken by the lower slot, which makes the result independent
 * of the order candidates arrive in (LSH with hashSize 0 and the exact scan return the same list).
 */
export class TopK {
  private scores: Float64Array;
  private slots: Int32Array;
  private capacity = 0;
  private count = 0;

  constructor(k: number) {
    this.scores = new Float64Array(Math.max(1, k));
    this.slots = new Int32Array(Math.max(1, k));
    this.reset(k);
  }

  reset(k: number): void {
    if (k > this.scores.length) {
      this.scores = new Float64Array(k);
      this.slots = new Int32Array(k);
    }
    this.capacity = k;
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }

  /** True when (scoreA, slotA) ranks below (scoreB, slotB). */
  private static worse(scoreA: number, slotA: number, scoreB: number, slotB: number): boolean {
    return scoreA < scoreB || (scoreA === scoreB && slotA > slotB);
  }

  push(score: number, slot: number): void {
    if (this.capacity === 0) return;
    if (this.count < this.capacity) {
      let i = this.count++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!TopK.worse(score, slot, this.scores[parent]!, this.slots[parent]!)) break;
        this.scores[i] = this.scores[parent]!;
        this.slots[i] = this.slots[parent]!;
        i = parent;
      }
      this.scores[i] = score;
      this.slots[i] = slot;
      return;
    }
    if (!TopK.worse(this.scores[0]!, this.slots[0]!, score, slot)) return;
    this.siftDownFromRoot(score, slot, this.count);
  }

  private siftDownFromRoot(score: number, slot: number, count: number): void {
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= count) break;
      const right = left + 1;
      let child = left;
      if (right < count && TopK.worse(this.scores[right]!, this.slots[right]!, this.scores[left]!, this.slots[left]!)) {
        child = right;
      }
      if (!TopK.worse(this.scores[child]!, this.slots[child]!, score, slot)) break;
      this.scores[i] = this.scores[child]!;
      this.slots[i] = this.slots[child]!;
      i = child;
    }
    this.scores[i] = score;
    this.slots[i] = slot;
  }

  /** Empties the heap, calling `emit` best first. */
  drain(emit: (slot: number, score: number) => void): void {
    const n = this.count;
    const orderScores = new Float64Array(n);
    const orderSlots = new Int32Array(n);
    // Popping the min n times yields worst-first; fill from the back.
    for (let remaining = n; remaining > 0; remaining--) {
      orderScores[remaining - 1] = this.scores[0]!;
      orderSlots[remaining - 1] = this.slots[0]!;
      const lastScore = this.scores[remaining - 1]!;
      const lastSlot = this.slots[remaining - 1]!;
      this.siftDownFromRoot(lastScore, lastSlot, remaining - 1);
    }
    this.count = 0;
    for (let i = 0; i < n; i++) emit(orderSlots[i]!, orderScores[i]!);
  }
}

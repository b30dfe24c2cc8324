/**
 * Query-directed multi-probe for hyperplane LSH (Lv et al., "Multi-probe LSH", VLDB 2007): instead of
 * every bucket within a Hamming radius, probe the buckets a near neighbour most likely fell into. A
 * neighbour lands across hyperplane b mostly when the query lies close to it, so flipping a set A of the
 * query's bits scores Σ_{b∈A} margin_b² (margin = projection − threshold), and buckets are probed by
 * increasing score, over all tables at once: a table where the query sits near many planes gets more
 * probes than one where it sits far from all of them.
 *
 * The sets come from Lv et al.'s heap: per table the bits are sorted by margin; from a set whose largest
 * sorted position is j, "shift" replaces j by j + 1 and "expand" adds j + 1. Every set is generated once,
 * in increasing score, starting from {0} of every table.
 */
export class MarginProbes {
  /** The planned probes: table and key of each, home buckets first. */
  tables = new Int32Array(0);
  keys = new Uint32Array(0);
  count = 0;
  /** Per table: bit numbers sorted by |margin|, and the squared margins in that order. */
  private order = new Uint8Array(0);
  private squares = new Float64Array(0);
  private heapScores = new Float64Array(0);
  private heapTables = new Int32Array(0);
  private heapSets = new Uint32Array(0);
  private heapLast = new Int32Array(0);
  private heapSize = 0;

  /**
   * Plans `budget` probes (at least one per table: its home bucket). `projections[t·hashSize + b]` and
   * `thresholds` are those of the query's planes; `bits` ≤ 32 low bits of each key are in use.
   */
  plan(queryKeys: Uint32Array, projections: Float32Array, thresholds: Float32Array, hashSize: number, bits: number, budget: number): void {
    const tableCount = queryKeys.length;
    const total = Math.max(budget, tableCount);
    if (this.tables.length < total) {
      this.tables = new Int32Array(total);
      this.keys = new Uint32Array(total);
    }
    if (this.order.length < tableCount * bits) {
      this.order = new Uint8Array(tableCount * bits);
      this.squares = new Float64Array(tableCount * bits);
    }
    const heapCapacity = tableCount + 2 * total;
    if (this.heapScores.length < heapCapacity) {
      this.heapScores = new Float64Array(heapCapacity);
      this.heapTables = new Int32Array(heapCapacity);
      this.heapSets = new Uint32Array(heapCapacity);
      this.heapLast = new Int32Array(heapCapacity);
    }
    this.heapSize = 0;
    this.count = 0;
    for (let t = 0; t < tableCount; t++) {
      this.tables[this.count] = t;
      this.keys[this.count++] = queryKeys[t]!;
      if (bits === 0) continue;
      const base = t * bits;
      for (let b = 0; b < bits; b++) {
        const margin = projections[t * hashSize + b]! - thresholds[t * hashSize + b]!;
        const square = margin * margin;
        let i = b;
        for (; i > 0 && this.squares[base + i - 1]! > square; i--) {
          this.squares[base + i] = this.squares[base + i - 1]!;
          this.order[base + i] = this.order[base + i - 1]!;
        }
        this.squares[base + i] = square;
        this.order[base + i] = b;
      }
      this.push(this.squares[base]!, t, 1, 0);
    }
    while (this.count < total && this.heapSize > 0) {
      const score = this.heapScores[0]!;
      const t = this.heapTables[0]!;
      const set = this.heapSets[0]!;
      const last = this.heapLast[0]!;
      this.pop();
      let flip = 0;
      for (let rest = set, position = 0; rest !== 0; rest >>>= 1, position++) {
        if (rest & 1) flip |= 1 << this.order[t * bits + position]!;
      }
      this.tables[this.count] = t;
      this.keys[this.count++] = (queryKeys[t]! ^ flip) >>> 0;
      if (last + 1 < bits) {
        const next = this.squares[t * bits + last + 1]!;
        this.push(score - this.squares[t * bits + last]! + next, t, ((set & ~(1 << last)) | (1 << (last + 1))) >>> 0, last + 1);
        this.push(score + next, t, (set | (1 << (last + 1))) >>> 0, last + 1);
      }
    }
  }

  private push(score: number, table: number, set: number, last: number): void {
    let i = this.heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.heapScores[parent]! <= score) break;
      this.move(parent, i);
      i = parent;
    }
    this.put(i, score, table, set, last);
  }

  private pop(): void {
    const n = --this.heapSize;
    if (n === 0) return;
    const score = this.heapScores[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.heapScores[child + 1]! < this.heapScores[child]!) child++;
      if (this.heapScores[child]! >= score) break;
      this.move(child, i);
      i = child;
    }
    this.put(i, score, this.heapTables[n]!, this.heapSets[n]!, this.heapLast[n]!);
  }

  private move(from: number, to: number): void {
    this.heapScores[to] = this.heapScores[from]!;
    this.heapTables[to] = this.heapTables[from]!;
    this.heapSets[to] = this.heapSets[from]!;
    this.heapLast[to] = this.heapLast[from]!;
  }

  private put(i: number, score: number, table: number, set: number, last: number): void {
    this.heapScores[i] = score;
    this.heapTables[i] = table;
    this.heapSets[i] = set;
    this.heapLast[i] = last;
  }
}

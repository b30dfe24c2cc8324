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
  /**
   * Generated sets: table, the bits to flip (in key bits, kept as the set changes so that no set is
   * decoded) and the set's largest sorted position. The heap orders set numbers by score and moves
   * only those two arrays.
   */
  private setTables = new Int32Array(0);
  private setFlips = new Uint32Array(0);
  private setLast = new Int32Array(0);
  private sets = 0;
  private heapScores = new Float64Array(0);
  private heapSets = new Int32Array(0);
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
    const capacity = tableCount + 2 * total;
    if (this.heapScores.length < capacity) {
      this.setTables = new Int32Array(capacity);
      this.setFlips = new Uint32Array(capacity);
      this.setLast = new Int32Array(capacity);
      this.heapScores = new Float64Array(capacity);
      this.heapSets = new Int32Array(capacity);
    }
    const { order, squares, setTables, setFlips, setLast } = this;
    this.sets = 0;
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
        for (; i > 0 && squares[base + i - 1]! > square; i--) {
          squares[base + i] = squares[base + i - 1]!;
          order[base + i] = order[base + i - 1]!;
        }
        squares[base + i] = square;
        order[base + i] = b;
      }
      this.push(squares[base]!, t, 1 << order[base]!, 0);
    }
    while (this.count < total && this.heapSize > 0) {
      const score = this.heapScores[0]!;
      const set = this.heapSets[0]!;
      this.pop();
      const t = setTables[set]!;
      const flip = setFlips[set]!;
      const last = setLast[set]!;
      this.tables[this.count] = t;
      this.keys[this.count++] = (queryKeys[t]! ^ flip) >>> 0;
      if (last + 1 < bits) {
        const base = t * bits;
        const next = squares[base + last + 1]!;
        const nextBit = 1 << order[base + last + 1]!;
        // "shift": the largest position moves up one; "expand": the next position joins.
        this.push(score - squares[base + last]! + next, t, (flip ^ (1 << order[base + last]!) ^ nextBit) >>> 0, last + 1);
        this.push(score + next, t, (flip | nextBit) >>> 0, last + 1);
      }
    }
  }

  private push(score: number, table: number, flip: number, last: number): void {
    const set = this.sets++;
    this.setTables[set] = table;
    this.setFlips[set] = flip;
    this.setLast[set] = last;
    const scores = this.heapScores;
    const heap = this.heapSets;
    let i = this.heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (scores[parent]! <= score) break;
      scores[i] = scores[parent]!;
      heap[i] = heap[parent]!;
      i = parent;
    }
    scores[i] = score;
    heap[i] = set;
  }

  private pop(): void {
    const n = --this.heapSize;
    if (n === 0) return;
    const scores = this.heapScores;
    const heap = this.heapSets;
    const score = scores[n]!;
    const set = heap[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && scores[child + 1]! < scores[child]!) child++;
      if (scores[child]! >= score) break;
      scores[i] = scores[child]!;
      heap[i] = heap[child]!;
      i = child;
    }
    scores[i] = score;
    heap[i] = set;
  }
}

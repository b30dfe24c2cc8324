/**
 * Radius multi-probe for hyperplane LSH: in every table, the query's own bucket and every bucket whose
 * key differs from it in at most `radius` of the `bits` bits in use, nearest first. The plain
 * alternative to MarginProbes (margin-probes.ts), which the index uses when `probes` is set; both fill
 * the same plan shape, so the index walks either the same way.
 */
export class RadiusProbes {
  /** The planned probes: table and key of each. */
  tables = new Int32Array(0);
  keys = new Uint32Array(0);
  count = 0;
  private masks = probeMasks(0, 0);

  /** Sets the key width and radius the next plans use (when the buckets' bits change, or the radius). */
  configure(bits: number, radius: number): void {
    this.masks = probeMasks(bits, radius);
  }

  /** Plans every table's probes around `queryKeys[t]`. */
  plan(queryKeys: Uint32Array): void {
    const masks = this.masks;
    const tableCount = queryKeys.length;
    const total = tableCount * masks.length;
    if (this.tables.length < total) {
      this.tables = new Int32Array(total);
      this.keys = new Uint32Array(total);
    }
    let count = 0;
    for (let t = 0; t < tableCount; t++) {
      for (let m = 0; m < masks.length; m++, count++) {
        this.tables[count] = t;
        this.keys[count] = (queryKeys[t]! ^ masks[m]!) >>> 0;
      }
    }
    this.count = count;
  }
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

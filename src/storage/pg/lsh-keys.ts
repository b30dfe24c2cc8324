/**
 * LSH as SQL rows: the same random hyperplanes through the data's centre as the in-process LshIndex
 * (same seed, same planes), but a vector's key in table t is stored as one integer row
 * (table_no, key) under a b-tree, and a query is a set of key ranges to probe.
 *
 * The in-process index buckets by the low `bits` of each key, with `bits` growing with the catalog
 * (vectorsPerBucket). To make "the first `bits` planes agree" a b-tree range, plane j is written at
 * bit (hashSize − 1 − j): vectors sharing planes 0..bits−1 then hold one contiguous key range, so
 * the bucket size can follow the catalog without re-keying a row. Always random planes: learned ones
 * (`planes` 'learned') would re-key every row at each re-learning, so this backend ignores that knob.
 */
import type { KernelMatrix } from '../../indexing/kernel-matrix.js';
import { hyperplanes } from '../../indexing/lsh-hyperplanes.js';
import { probeMasks } from '../../indexing/radius-probes.js';
import type { LshParams } from '../../indexing/types.js';

/** Key ranges to probe: table_no[i], and keys in [lo[i], hi[i]). */
export interface LshProbes {
  tables: number[];
  lo: number[];
  hi: number[];
}

export class SqlLshKeys {
  /** Tables actually kept: numTables, or 1 when hashSize is 0 (one bucket holds everything). */
  readonly tableCount: number;
  /** The planes in the SIMD kernel LshIndex uses too: the same projections, bit for bit. */
  private readonly planes: KernelMatrix;
  private readonly thresholds: Float32Array;

  constructor(
    readonly params: LshParams,
    readonly dim: number,
    centre: Float32Array,
  ) {
    this.tableCount = params.hashSize === 0 ? 1 : params.numTables;
    const rows = this.tableCount * params.hashSize;
    this.planes = hyperplanes(rows, dim, params.seed);
    this.thresholds = this.planes.scan(centre, rows).slice();
  }

  /** The vector's stored key in every table (all hashSize planes, plane j at bit hashSize − 1 − j). */
  keys(vector: Float32Array): number[] {
    const projections = this.project(vector);
    return Array.from({ length: this.tableCount }, (_, t) => this.key(projections, t, this.params.hashSize));
  }

  /**
   * The ranges a query probes when buckets use `bits` planes: its own bucket in every table and, with
   * probeRadius r, every bucket whose first `bits` planes differ from its own in at most r of them.
   */
  probes(query: Float32Array, bits: number): LshProbes {
    const { hashSize, probeRadius } = this.params;
    const width = 2 ** (hashSize - bits);
    const masks = probeMasks(bits, probeRadius);
    const probes: LshProbes = { tables: [], lo: [], hi: [] };
    const projections = this.project(query);
    for (let t = 0; t < this.tableCount; t++) {
      const prefix = this.key(projections, t, bits);
      for (const mask of masks) {
        // Mask bit j flips plane j, which sits at bit hashSize − 1 − j of the key.
        let flipped = prefix;
        for (let j = 0; j < bits; j++) if (mask & (1 << j)) flipped ^= 2 ** (hashSize - 1 - j);
        probes.tables.push(t);
        probes.lo.push(flipped);
        probes.hi.push(flipped + width);
      }
    }
    return probes;
  }

  /** The vector's projection on every plane (a copy: the kernel's scores view is reused by its next call). */
  private project(vector: Float32Array): Float32Array {
    return this.planes.scan(vector, this.thresholds.length).slice();
  }

  /** Sides of the first `planes` hyperplanes of table t, plane j at bit hashSize − 1 − j (as a number: up to 32 bits). */
  private key(projections: Float32Array, t: number, planes: number): number {
    const { hashSize } = this.params;
    let key = 0;
    for (let j = 0; j < planes; j++) {
      const row = t * hashSize + j;
      if (projections[row]! > this.thresholds[row]!) key += 2 ** (hashSize - 1 - j);
    }
    return key;
  }
}

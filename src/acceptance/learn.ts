/**
 * Learns the acceptance model from the catalog alone, by playing both situations a query can be in:
 * - the product is catalogued: each sampled stored object is searched for among the others, its own
 *   photo left out; the answer is right or wrong;
 * - the product is missing: the same object searched for with its whole product left out; whatever
 *   comes first is wrong.
 * A logistic regression on (cosine, margin over the best other product) separates right answers
 * from wrong ones, per query kind; the acceptance threshold lets a set share of the answers for
 * missing products through (`wholeFalseAcceptance`, `regionFalseAcceptance`, and a looser one for the
 * regions of a photo already answered, `answeredRegionFalseAcceptance`). It needs products photographed more than once: a catalog of
 * one photo per product cannot show what a right answer looks like, and stays unjudged.
 */
import { SeededRandom } from '../core/prng.js';
import type { ObjectKind } from '../core/types.js';
import { KernelMatrix } from '../indexing/kernel-matrix.js';
import { confidence, features, sigmoid, type AcceptanceModel, type KindModel, type MatchEvidence } from './model.js';

export interface AcceptanceOptions {
  /** Stored objects searched per kind, 10..100,000. Default 1,000 (about a second for 10,000 stored vectors). */
  queries: number;
  /**
   * Share of the simulated answers for missing products the whole photo's threshold lets through, 0..1:
   * the threshold is their confidence at this quantile. Default 0.5. The right answers are not used to
   * set it: a catalog's photos of one product are often near-duplicates (a series of shots), so right
   * answers among them score far higher than a shopper's photo will; answers for missing products are
   * not inflated that way.
   */
  wholeFalseAcceptance: number;
  /**
   * The same for regions, 0..1. Default 0.06: a photo has several regions, and one wrong acceptance
   * among them is enough to answer a photo of a missing product. On composed val scenes (catalog B),
   * 0.1 found 49% of the products at 78% precision and answered one of 12 everyday photos; 0.06
   * found 41% at 86% and answered none (docs/design.md has the dial).
   */
  regionFalseAcceptance: number;
  /**
   * The same for the first product of each region of a photo that already has an accepted object, 0..1
   * (below `regionFalseAcceptance`, it acts as that). Default 0.15. The region threshold is strict
   * because one wrong region answers a photo that should get none; once something in the photo is
   * accepted, a wrong region adds a wrong entry to an answer instead, and a photo of several products
   * gets more of them. On composed val scenes (catalog B) the answers held 8 points more of the products,
   * at 82% precision instead of 89–92%, with every everyday photo still answered empty (docs/design.md,
   * "Regions of an answered photo").
   */
  answeredRegionFalseAcceptance: number;
  /**
   * Photos of the query's own product left out with it, the most alike first, 0..100: a catalog's shots
   * of a product are often near-duplicates of each other, far closer than a shopper's photo will be,
   * and a model learned with them in would expect right answers to score as high. Default 3.
   */
  nearDuplicates: number;
}

export const DEFAULT_ACCEPTANCE_OPTIONS: AcceptanceOptions = { queries: 1000, wholeFalseAcceptance: 0.5, regionFalseAcceptance: 0.06, answeredRegionFalseAcceptance: 0.15, nearDuplicates: 3 };

/** A stored object in the indexes' space. */
export interface StoredSample {
  productId: string;
  imageId: number;
  kind: ObjectKind;
  vector: Float32Array;
}

interface Example {
  evidence: MatchEvidence & { productId: string };
  right: boolean;
  /** The catalogued situation (false: the product was left out). */
  present: boolean;
}

/** Why no model can be learned from these samples, or undefined. */
export function whyNotJudgeable(samples: ReadonlyArray<Omit<StoredSample, 'vector'>>): string | undefined {
  const images = new Map<string, Set<number>>();
  for (const { productId, imageId, kind } of samples) {
    if (kind !== 'whole') continue;
    let set = images.get(productId);
    if (!set) images.set(productId, (set = new Set()));
    set.add(imageId);
  }
  const repeated = [...images.values()].filter((set) => set.size > 1).length;
  if (images.size < 2) return 'fewer than 2 products';
  if (repeated < 2) return 'fewer than 2 products have more than one photo';
  return undefined;
}

/** Learns the model (see the file comment). Throws nothing; returns undefined where whyNotJudgeable says why. */
export function learnAcceptance(samples: readonly StoredSample[], transformId: string, options: AcceptanceOptions, seed = 1): AcceptanceModel | undefined {
  if (whyNotJudgeable(samples)) return undefined;
  const whole = learnKind(samples, 'whole', options, seed);
  if (!whole) return undefined;
  const region = learnKind(samples, 'region', options, seed + 1) ?? whole;
  return {
    version: 2,
    whole: whole.model,
    region: region.model,
    answeredRegionThreshold: Math.min(region.model.threshold, region.letThrough(options.answeredRegionFalseAcceptance)),
    learnedFrom: { queries: options.queries, products: new Set(samples.map((s) => s.productId)).size, transform: transformId },
  };
}

/** A kind's model, and the threshold that lets a given share of its simulated answers for missing products through. */
interface LearnedKind {
  model: KindModel;
  letThrough(falseAcceptance: number): number;
}

function learnKind(samples: readonly StoredSample[], kind: ObjectKind, options: AcceptanceOptions, seed: number): LearnedKind | undefined {
  // Both kinds are compared with whole photos, as in search (INDEXED_KIND).
  const pool = samples.filter((s) => s.kind === 'whole');
  const queries = sample(samples.filter((s) => s.kind === kind), options.queries, seed);
  if (queries.length === 0 || pool.length === 0) return undefined;
  const dim = pool[0]!.vector.length;
  // The exact scan's SIMD kernel: a thousand queries against every whole photo is most of the learning.
  const matrix = new KernelMatrix(dim, pool.length);
  pool.forEach((s, i) => matrix.rows.set(s.vector, i * dim));
  const examples: Example[] = [];
  for (const query of queries) {
    const scores = matrix.scan(query.vector, pool.length);
    const twins = nearestImages(pool, scores, query, options.nearDuplicates);
    const present = bestTwo(pool, scores, (s) => s.imageId !== query.imageId && !twins.has(s.imageId));
    const absent = bestTwo(pool, scores, (s) => s.productId !== query.productId);
    if (present) examples.push({ evidence: present, right: present.productId === query.productId, present: true });
    if (absent) examples.push({ evidence: absent, right: false, present: false });
  }
  if (!examples.some((e) => e.right)) return undefined;
  const model: KindModel = {
    weights: fitLogistic(examples.map((e) => features(e.evidence)), examples.map((e) => (e.right ? 1 : 0))),
    threshold: 0.5,
    simulated: { rightAccepted: 1, missingAccepted: 1 },
  };
  const absentConfidences = examples.filter((e) => !e.present).map((e) => confidence(model, e.evidence)).sort((a, b) => b - a);
  const letThrough = (falseAcceptance: number) => (absentConfidences[Math.floor(falseAcceptance * absentConfidences.length)] ?? 0) + 1e-9;
  model.threshold = letThrough(kind === 'whole' ? options.wholeFalseAcceptance : options.regionFalseAcceptance);
  const share = (list: Example[]) => list.filter((e) => confidence(model, e.evidence) >= model.threshold).length / Math.max(1, list.length);
  model.simulated = { rightAccepted: share(examples.filter((e) => e.right)), missingAccepted: share(examples.filter((e) => !e.present)) };
  return { model, letThrough };
}

/**
 * The `count` photos of the query's product most like it (its own excepted), while at least one other
 * stays: near-duplicates (a series of shots, the same pack twice) that no shopper's photo would be.
 */
function nearestImages(pool: readonly StoredSample[], scores: Float32Array, query: StoredSample, count: number): Set<number> {
  const best = new Map<number, number>();
  for (let i = 0; i < pool.length; i++) {
    const entry = pool[i]!;
    if (entry.productId !== query.productId || entry.imageId === query.imageId) continue;
    best.set(entry.imageId, Math.max(best.get(entry.imageId) ?? -Infinity, scores[i]!));
  }
  const ranked = [...best].sort((a, b) => b[1] - a[1]).map(([imageId]) => imageId);
  return new Set(ranked.slice(0, Math.min(count, ranked.length - 1)));
}

/** The best and second-best distinct products among the pool entries `keep` admits. */
function bestTwo(pool: readonly StoredSample[], scores: Float32Array, keep: (s: StoredSample) => boolean): { productId: string; score: number; rival: number } | undefined {
  const best = new Map<string, number>();
  for (let i = 0; i < pool.length; i++) {
    const entry = pool[i]!;
    if (!keep(entry)) continue;
    const current = best.get(entry.productId);
    if (current === undefined || scores[i]! > current) best.set(entry.productId, scores[i]!);
  }
  let top: string | undefined;
  let score = -Infinity;
  let rival = -1;
  for (const [productId, value] of best) {
    if (value > score) {
      if (top !== undefined) rival = Math.max(rival, score);
      top = productId;
      score = value;
    } else rival = Math.max(rival, value);
  }
  return top === undefined ? undefined : { productId: top, score, rival };
}

/** Up to `count` items, spread evenly by a seeded shuffle. */
function sample<T>(items: readonly T[], count: number, seed: number): T[] {
  if (items.length <= count) return [...items];
  const random = new SeededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, count);
}

/**
 * Logistic regression by Newton's method. The ridge keeps the weights moderate: right and wrong answers
 * in the simulation are often nearly separable, and unbounded weights would make every confidence 0 or 1.
 */
export function fitLogistic(rows: ReadonlyArray<readonly number[]>, labels: readonly number[], iterations = 25, ridge = 1): [number, number, number] {
  const d = 3;
  const w = new Float64Array(d);
  for (let it = 0; it < iterations; it++) {
    const gradient = new Float64Array(d);
    const hessian = new Float64Array(d * d);
    rows.forEach((row, n) => {
      const x = [1, ...row];
      let z = 0;
      for (let i = 0; i < d; i++) z += w[i]! * x[i]!;
      const p = sigmoid(z);
      const r = p * (1 - p);
      for (let i = 0; i < d; i++) {
        gradient[i]! += (p - labels[n]!) * x[i]!;
        for (let j = 0; j < d; j++) hessian[i * d + j]! += r * x[i]! * x[j]!;
      }
    });
    for (let i = 0; i < d; i++) {
      gradient[i]! += ridge * w[i]!;
      hessian[i * d + i]! += ridge;
    }
    const step = solve(hessian, gradient, d);
    let change = 0;
    for (let i = 0; i < d; i++) {
      w[i]! -= step[i]!;
      change = Math.max(change, Math.abs(step[i]!));
    }
    if (change < 1e-8) break;
  }
  return [w[0]!, w[1]!, w[2]!];
}

/** Solves A x = b (A symmetric positive definite, d × d) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let col = 0; col < d; col++) {
    let pivot = col;
    for (let row = col + 1; row < d; row++) if (Math.abs(m[row * d + col]!) > Math.abs(m[pivot * d + col]!)) pivot = row;
    if (pivot !== col) {
      for (let k = 0; k < d; k++) [m[col * d + k], m[pivot * d + k]] = [m[pivot * d + k]!, m[col * d + k]!];
      [x[col], x[pivot]] = [x[pivot]!, x[col]!];
    }
    const diagonal = m[col * d + col]! || 1e-12;
    for (let row = col + 1; row < d; row++) {
      const factor = m[row * d + col]! / diagonal;
      for (let k = col; k < d; k++) m[row * d + k]! -= factor * m[col * d + k]!;
      x[row]! -= factor * x[col]!;
    }
  }
  for (let row = d - 1; row >= 0; row--) {
    let sum = x[row]!;
    for (let k = row + 1; k < d; k++) sum -= m[row * d + k]! * x[k]!;
    x[row] = sum / (m[row * d + row]! || 1e-12);
  }
  return x;
}

import { KernelMatrix } from './kernel-matrix.js';
import { dotAt } from './vector-math.js';
import type { VectorStore } from './vector-store.js';

/**
 * Vectors a learning reads: up to 4,096 (at dim 80 a sample of 512 lost 0.02 of recall@10), fewer at
 * high dimension so that its three scans per plane stay near 2^19 multiply-adds (1280-d raw vectors:
 * 409, which learned planes as good as 4,096 did, in a tenth of the time).
 */
function sampleSize(dim: number): number {
  return Math.min(4096, Math.max(256, Math.floor(2 ** 19 / dim)));
}
/** Below this many vectors the planes stay random (the covariance would have too few directions). */
export const MIN_LEARN_SIZE = 64;

/**
 * Data-adapted hyperplanes (`lsh.planes` 'learned'), learned from a sample of the catalog:
 *
 * - normal j = Σ·g_j, with g_j the seeded Gaussian row j the random planes would use and Σ the
 *   sample's covariance: a random direction stretched towards where the catalog varies most. After the
 *   project's whitening the within-product spread is about the same in every direction and the total
 *   variance is not, so these directions separate products while splitting near neighbours no more
 *   often than a random one does;
 * - within a table the normals are made Σ-orthogonal (Gram–Schmidt with ⟨u, v⟩ = u·Σ·v, i.e. the sample's
 *   projections uncorrelated), so a table's bits do not repeat each other and its buckets stay even;
 * - each normal is unit length, so margins are comparable across planes for margin-ordered probing;
 * - each threshold is the median of the sample's projections: every bit splits the catalog in half.
 *
 * Measured against random planes through the centre, and against Annoy's split (the difference of two
 * sampled vectors, cut at their midpoint), in docs/benchmarks.md ("Data-adapted hyperplanes").
 * `random` holds the seeded Gaussian rows (tableCount·hashSize × dim); `planes` and `thresholds` receive
 * the learned ones.
 */
export function learnPlanes(store: VectorStore, random: Float32Array, hashSize: number, planes: KernelMatrix, thresholds: Float32Array): void {
  const { dim } = store;
  const slots = Array.from(store.entries(), ([, slot]) => slot);
  const count = Math.min(slots.length, sampleSize(dim));
  const mean = new Float64Array(dim);
  const sampleSlots = Array.from({ length: count }, (_, i) => slots[Math.floor((i * slots.length) / count)]!);
  for (const slot of sampleSlots) {
    const vector = store.vectorAt(slot);
    for (let d = 0; d < dim; d++) mean[d]! += vector[d]! / count;
  }
  // The centred sample by rows (projections X·w) and by columns (Xᵀ·u), both scanned in the SIMD kernel.
  const byRows = new KernelMatrix(dim, count);
  const byColumns = new KernelMatrix(count, dim);
  sampleSlots.forEach((slot, i) => {
    const vector = store.vectorAt(slot);
    for (let d = 0; d < dim; d++) {
      const centred = vector[d]! - mean[d]!;
      byRows.rows[i * dim + d] = centred;
      byColumns.rows[d * count + i] = centred;
    }
  });
  const rowCount = thresholds.length;
  const normals: Float32Array[] = [];
  const projections: Float32Array[] = [];
  for (let j = 0; j < rowCount; j++) {
    if (j % hashSize === 0) {
      normals.length = 0;
      projections.length = 0;
    }
    const gaussian = random.subarray(j * dim, (j + 1) * dim);
    let normal = byColumns.scan(byRows.scan(gaussian, count).slice(), dim).slice(); // ∝ Σ·g
    let projection = byRows.scan(normal, count).slice();
    const before = dot(projection, projection);
    for (let k = 0; k < normals.length; k++) subtract(normal, projection, normals[k]!, projections[k]!);
    // A sample spanning fewer directions than the table has planes: keep the random plane.
    if (!(dot(projection, projection) > 1e-6 * before)) {
      normal = gaussian.slice();
      projection = byRows.scan(normal, count).slice();
    }
    const scale = 1 / Math.sqrt(dot(normal, normal));
    for (let d = 0; d < dim; d++) normal[d]! *= scale;
    for (let i = 0; i < count; i++) projection[i]! *= scale;
    normals.push(normal);
    projections.push(projection);
    planes.rows.set(normal, j * dim);
    let offset = 0;
    for (let d = 0; d < dim; d++) offset += normal[d]! * mean[d]!;
    thresholds[j] = median(projection) + offset;
  }
}

/** Removes from (normal, projection) their Σ-component along (other, otherProjection). */
function subtract(normal: Float32Array, projection: Float32Array, other: Float32Array, otherProjection: Float32Array): void {
  const coefficient = dot(projection, otherProjection) / dot(otherProjection, otherProjection);
  for (let d = 0; d < normal.length; d++) normal[d]! -= coefficient * other[d]!;
  for (let i = 0; i < projection.length; i++) projection[i]! -= coefficient * otherProjection[i]!;
}

function dot(a: Float32Array, b: Float32Array): number {
  return dotAt(a, 0, b);
}

function median(values: Float32Array): number {
  const sorted = values.slice().sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

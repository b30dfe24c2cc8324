/**
 * Which candidate regions of a photo are embedded and searched: the best-scored first, skipping any
 * that repeats one already kept — overlapping it (IoU), or lying mostly inside it while showing the
 * same product (one pile, one product) — until the photo's region budget is spent.
 */
import type { BBox } from '../core/types.js';

/** A candidate region in photo pixels, with the score that ranks it. */
export interface RegionCandidate {
  bbox: BBox;
  score: number;
}

export interface SelectionPolicy<C extends RegionCandidate = RegionCandidate> {
  /** Most regions kept. */
  budget: number;
  iouThreshold: number;
  /** Share of a region's own area inside a kept region of the same product above which it is dropped. */
  containment: number;
  /**
   * Whether a candidate lying inside or around a kept one shows the same product (one pile): asked only
   * of such pairs, so most candidates are never compared.
   */
  samePile: (candidate: C, kept: C) => boolean;
}

function area([x1, y1, x2, y2]: BBox): number {
  return Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
}

function intersection(a: BBox, b: BBox): number {
  return area([Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])]);
}

/** Whether `candidate` repeats `kept`: overlaps it, or sits inside it (or holds it) showing the same product. */
function repeats<C extends RegionCandidate>(candidate: C, kept: C, policy: SelectionPolicy<C>): boolean {
  const shared = intersection(candidate.bbox, kept.bbox);
  if (shared === 0) return false;
  const own = area(candidate.bbox);
  const other = area(kept.bbox);
  if (shared / (own + other - shared) > policy.iouThreshold) return true;
  if (shared / Math.min(own, other) <= policy.containment) return false;
  return policy.samePile(candidate, kept);
}

/** The best candidates that repeat none kept before them, at most `budget`, best first. */
export function selectRegions<C extends RegionCandidate>(candidates: readonly C[], policy: SelectionPolicy<C>): C[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: C[] = [];
  for (const candidate of sorted) {
    if (kept.length >= policy.budget) break;
    if (!kept.some((other) => repeats(candidate, other, policy))) kept.push(candidate);
  }
  return kept;
}

/**
 * Regions a photo of `width × height` pixels gets besides the whole photo: one per whole
 * `pixelsPerRegion`, so a photo smaller than that is the whole photo alone.
 */
export function regionBudget(width: number, height: number, pixelsPerRegion: number, maxRegions: number): number {
  return Math.min(maxRegions, Math.floor((width * height) / pixelsPerRegion));
}

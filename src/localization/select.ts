/**
 * Which candidate regions of a photo are embedded and searched: the best-scored first, skipping any
 * that repeats one already kept — overlapping it (IoU), or lying mostly inside or around it while
 * showing the same product (one pile, one product) — until the photo's region budget is spent. A kept
 * region grows to hold the parts of its pile: the pile's box, not its best-scored fruit, is the product.
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

/**
 * How `candidate` repeats `kept`, if it does: it overlaps it, or it is part of the same pile (inside it,
 * or holding it, and showing the same product).
 */
function repetition<C extends RegionCandidate>(candidate: C, kept: C, policy: SelectionPolicy<C>): 'overlap' | 'pile' | undefined {
  const shared = intersection(candidate.bbox, kept.bbox);
  if (shared === 0) return undefined;
  const own = area(candidate.bbox);
  const other = area(kept.bbox);
  if (shared / (own + other - shared) > policy.iouThreshold) return 'overlap';
  if (shared / Math.min(own, other) <= policy.containment) return undefined;
  return policy.samePile(candidate, kept) ? 'pile' : undefined;
}

function union(a: BBox, b: BBox): BBox {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

/** The best candidates that repeat none kept before them, at most `budget`, best first, each grown to the union of its pile's parts. */
export function selectRegions<C extends RegionCandidate>(candidates: readonly C[], policy: SelectionPolicy<C>): C[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: C[] = [];
  // Grown boxes are kept aside: repetition is judged against each region's own box and look.
  const grown = new Map<C, BBox>();
  for (const candidate of sorted) {
    if (kept.length >= policy.budget) break;
    let repeated = false;
    for (const other of kept) {
      const how = repetition(candidate, other, policy);
      if (!how) continue;
      if (how === 'pile') grown.set(other, union(grown.get(other) ?? other.bbox, candidate.bbox));
      repeated = true;
      break;
    }
    if (!repeated) kept.push(candidate);
  }
  return kept.map((region) => {
    const bbox = grown.get(region);
    return bbox ? { ...region, bbox } : region;
  });
}

/**
 * Regions a photo of `width × height` pixels gets besides the whole photo: one per whole
 * `pixelsPerRegion`, so a photo smaller than that is the whole photo alone.
 */
export function regionBudget(width: number, height: number, pixelsPerRegion: number, maxRegions: number): number {
  return Math.min(maxRegions, Math.floor((width * height) / pixelsPerRegion));
}

/**
 * Where the products in a search photo are. The detector's class-agnostic proposals (objectness, not
 * COCO class: most groceries have no COCO class) are the candidates, best objectness first. Each is
 * GeM-pooled from the whole photo's feature map (already computed for the photo's own vector, so no
 * second CNN run) and compared with the catalog's product prototypes, to tell which product it looks
 * like: a proposal inside or around a better one that looks like the same product is the same pile.
 * The best candidates that repeat no better one are kept, up to the photo's region budget.
 *
 * Measured on composed grocery scenes (docs/design.md): sliding windows over the feature map scored
 * against the prototypes (Tolias, Sicre & Jégou's approximate max-pooling localisation) found fewer
 * products than the proposals (66% against 85–94%), and ranking proposals by objectness found more
 * than ranking them by prototype cosine; grouping piles by product added 6 points.
 */
import type { BBox } from '../core/types.js';
import type { Proposal } from '../detection/detector.js';
import type { FeatureMap } from '../embedding/gem.js';
import type { LocalizationOptions } from './options.js';
import type { ProductScorer } from './reference.js';
import { regionBudget, selectRegions } from './select.js';
import { cellBox } from './grid.js';

/** A chosen region: its box in the decoded photo's pixels, the detector's label (a class or `object`) and objectness. */
export interface LocatedRegion {
  bbox: BBox;
  label: string;
  score: number;
}

export function locateRegions(
  map: FeatureMap,
  size: { width: number; height: number },
  proposals: readonly Proposal[],
  scorer: ProductScorer | undefined,
  options: LocalizationOptions,
  gemP: number,
): LocatedRegion[] {
  const budget = regionBudget(size.width, size.height, options.pixelsPerRegion, options.maxRegions);
  const large = proposals.filter(({ bbox: [x1, y1, x2, y2] }) => Math.min(x2 - x1, y2 - y1) >= options.minRegionSide);
  if (budget === 0 || large.length === 0) return [];
  const grid = { rows: map.height, columns: map.width, width: size.width, height: size.height };
  const products = scorer && scorer.products > 0 ? scorer.closest(map, large.map((p) => cellBox(p.bbox, grid)), gemP) : undefined;
  const candidates = large.map((proposal, i) => ({ bbox: proposal.bbox, label: proposal.label, score: proposal.objectness, product: products?.[i] ?? -1 }));
  const policy = { budget, iouThreshold: options.iouThreshold, containment: options.containment };
  return selectRegions(candidates, policy).map(({ bbox, label, score }) => ({ bbox, label, score }));
}

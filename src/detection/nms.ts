/** Non-maximum suppression over decoded candidates: class-aware for detections, agnostic for proposals. */
import type { Candidate } from './decoders.js';

/** Intersection over union of two boxes (0 when either has no area). */
export function iou(a: Candidate, b: Candidate): number {
  const width = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const height = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - intersection;
  return union > 0 ? intersection / union : 0;
}

/** How NMS ranks and compares boxes. */
export interface NmsPolicy {
  /** Rank by class score (detections) or by objectness (class-agnostic proposals). Default `score`. */
  rankBy?: 'score' | 'objectness';
  /** Suppress overlapping boxes whatever their class. Default false (class-aware). */
  agnostic?: boolean;
}

/**
 * Keeps the best-ranked boxes: a box is dropped when it overlaps a kept box (of the SAME class, unless
 * `agnostic`) by more than `iouThreshold`. Returns at most `maxDetections`, best first.
 */
export function nms(candidates: readonly Candidate[], iouThreshold: number, maxDetections: number, policy: NmsPolicy = {}): Candidate[] {
  const rank = policy.rankBy ?? 'score';
  const sorted = [...candidates].sort((a, b) => b[rank] - a[rank]);
  const kept: Candidate[] = [];
  for (const candidate of sorted) {
    if (kept.length >= maxDetections) break;
    const suppressed = kept.some((other) => (policy.agnostic || other.classIndex === candidate.classIndex) && iou(other, candidate) > iouThreshold);
    if (!suppressed) kept.push(candidate);
  }
  return kept;
}

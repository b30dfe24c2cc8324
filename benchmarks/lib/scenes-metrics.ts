/**
 * bench:scenes' measures, as pure functions of the composed scenes and what the search answered.
 * They read only the parts of the search answer every version has (objects with boxes and matches,
 * the merged `answer`), so they hold before and after an acceptance rule: an empty `answer` is the
 * service saying "no match".
 */
import type { BBox, ObjectKind } from '../../src/core/types.js';
import { rankProducts } from '../../src/pipeline/answer.js';
import type { ScenePlan } from './scenes-compose.js';

export interface SearchedMatch {
  productId: string;
  score: number;
}

export interface SearchedPhoto {
  /** The whole photo (kind `whole`) and the regions found in it. */
  objects: ReadonlyArray<{ kind: ObjectKind; label: string; bbox: BBox; matches: readonly SearchedMatch[] }>;
  answer: readonly SearchedMatch[];
}

/** What happened to one product of a scene. */
export interface ProductOutcome {
  productId: string;
  /** Some region's centre lies inside the product's rectangle. */
  covered: boolean;
  /** Best rank (0 = first) of the product in the matches of the regions centred on it; null when in none. */
  regionRank: number | null;
  inAnswer: boolean;
}

export interface SceneOutcome {
  products: ProductOutcome[];
  regions: number;
  answerEntries: number;
  /** Answer entries that are products of the scene. */
  answerRight: number;
}

/** The regions: every object except the whole photo. */
export function regionsOf(searched: SearchedPhoto): SearchedPhoto['objects'] {
  return searched.objects.filter((object) => object.kind !== 'whole');
}

export function centreInside([x1, y1, x2, y2]: BBox, [rx1, ry1, rx2, ry2]: BBox): boolean {
  const cx = (x1 + x2) / 2;
  const cy = (y1 + y2) / 2;
  return cx >= rx1 && cx < rx2 && cy >= ry1 && cy < ry2;
}

export function sceneOutcome(plan: ScenePlan, searched: SearchedPhoto): SceneOutcome {
  const regions = regionsOf(searched);
  const inScene = new Set(plan.products.map((product) => product.productId));
  const answered = new Set(searched.answer.map((entry) => entry.productId));
  const products = plan.products.map(({ productId, bbox }): ProductOutcome => {
    const onIt = regions.filter((region) => centreInside(region.bbox, bbox));
    const ranks = onIt.map((region) => region.matches.findIndex((match) => match.productId === productId)).filter((rank) => rank >= 0);
    return { productId, covered: onIt.length > 0, regionRank: ranks.length > 0 ? Math.min(...ranks) : null, inAnswer: answered.has(productId) };
  });
  return {
    products,
    regions: regions.length,
    answerEntries: searched.answer.length,
    answerRight: searched.answer.filter((entry) => inScene.has(entry.productId)).length,
  };
}

export interface SceneMetrics {
  scenes: number;
  products: number;
  coverage: number;
  regionRecallAt1: number;
  regionRecallAt5: number;
  answerRecall: number;
  /** Share of answer entries that are products of the scene (NaN when nothing was answered). */
  answerPrecision: number;
  /** Share of scenes answered empty. */
  emptyAnswers: number;
  regionsPerScene: number;
}

export function sceneMetrics(outcomes: readonly SceneOutcome[]): SceneMetrics {
  const products = outcomes.flatMap((outcome) => outcome.products);
  const share = (count: number, of: number) => (of > 0 ? count / of : Number.NaN);
  const entries = outcomes.reduce((sum, outcome) => sum + outcome.answerEntries, 0);
  return {
    scenes: outcomes.length,
    products: products.length,
    coverage: share(products.filter((p) => p.covered).length, products.length),
    regionRecallAt1: share(products.filter((p) => p.regionRank === 0).length, products.length),
    regionRecallAt5: share(products.filter((p) => p.regionRank !== null && p.regionRank < 5).length, products.length),
    answerRecall: share(products.filter((p) => p.inAnswer).length, products.length),
    answerPrecision: share(outcomes.reduce((sum, outcome) => sum + outcome.answerRight, 0), entries),
    emptyAnswers: share(outcomes.filter((outcome) => outcome.answerEntries === 0).length, outcomes.length),
    regionsPerScene: share(outcomes.reduce((sum, outcome) => sum + outcome.regions, 0), outcomes.length),
  };
}

/** One single-product photo searched in a catalog. */
export interface SingleOutcome {
  productId: string;
  /** Whether the catalog lacks the product. */
  missing: boolean;
  /** Best raw match score over all objects (−Infinity when nothing matched). */
  topScore: number;
  /** The whole photo's best raw match score (−Infinity when it matched nothing). */
  wholeScore: number;
  /** The answer's first score (−Infinity when the answer is empty). */
  answerScore: number;
  /** The answer's first product, null when the answer is empty. */
  answerFirst: string | null;
  /** The first product had nothing been judged: every object's matches merged as the answer is. */
  unjudgedFirst: string | null;
}

export function singleOutcome(productId: string, missing: boolean, searched: SearchedPhoto): SingleOutcome {
  const best = (objects: SearchedPhoto['objects']) => Math.max(-Infinity, ...objects.flatMap((object) => object.matches.map((match) => match.score)));
  return {
    productId,
    missing,
    topScore: best(searched.objects),
    wholeScore: best(searched.objects.filter((object) => object.kind === 'whole')),
    answerScore: searched.answer[0]?.score ?? -Infinity,
    answerFirst: searched.answer[0]?.productId ?? null,
    unjudgedFirst: rankProducts(searched.objects)[0]?.productId ?? null,
  };
}

export interface OpenSetMetrics {
  missingPhotos: number;
  inCatalogPhotos: number;
  /** AUROC of the top raw score over all objects, in-catalog photos positive. */
  auroc: number;
  /** The same for the whole photo's top raw score, and for the answer's first score (empty = lowest). */
  aurocWhole: number;
  aurocAnswer: number;
  /** Share of photos of missing products answered empty. */
  missingAnsweredEmpty: number;
  /** Share of in-catalog photos answered empty. */
  inCatalogAnsweredEmpty: number;
  /** Right product first among in-catalog photos (an empty answer is a miss). */
  inCatalogRecallAt1: number;
  /** The same had nothing been judged: what the acceptance rule may cost at most 2 points of. */
  inCatalogRecallAt1Unjudged: number;
}

export function openSetMetrics(outcomes: readonly SingleOutcome[]): OpenSetMetrics {
  const missing = outcomes.filter((outcome) => outcome.missing);
  const present = outcomes.filter((outcome) => !outcome.missing);
  const share = (count: number, of: number) => (of > 0 ? count / of : Number.NaN);
  return {
    missingPhotos: missing.length,
    inCatalogPhotos: present.length,
    auroc: auroc(present.map((o) => o.topScore), missing.map((o) => o.topScore)),
    aurocWhole: auroc(present.map((o) => o.wholeScore), missing.map((o) => o.wholeScore)),
    aurocAnswer: auroc(present.map((o) => o.answerScore), missing.map((o) => o.answerScore)),
    missingAnsweredEmpty: share(missing.filter((outcome) => outcome.answerFirst === null).length, missing.length),
    inCatalogAnsweredEmpty: share(present.filter((outcome) => outcome.answerFirst === null).length, present.length),
    inCatalogRecallAt1: share(present.filter((outcome) => outcome.answerFirst === outcome.productId).length, present.length),
    inCatalogRecallAt1Unjudged: share(present.filter((outcome) => outcome.unjudgedFirst === outcome.productId).length, present.length),
  };
}

/** Area under the ROC curve: the chance a positive scores above a negative, ties counting half. */
export function auroc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return Number.NaN;
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (positives.length * negatives.length);
}

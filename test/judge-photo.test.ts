/**
 * How a photo is judged (judgeWith): each object by its kind's model, and once anything in the photo is
 * accepted, each region's first product again against the looser answeredRegionThreshold.
 */
import { describe, expect, it } from 'vitest';
import type { AcceptanceModel, KindModel } from '../src/acceptance/model.js';
import { judgeWith } from '../src/pipeline/catalog-service.js';
import type { ProductMatch } from '../src/pipeline/product-matcher.js';

/** Confidence by the cosine alone: sigmoid(20·(cosine − 0.5)), so 0.55 → 0.73, 0.49 → 0.45, 0.48 → 0.40, 0.45 → 0.27. */
function kind(threshold: number): KindModel {
  return { weights: [-10, 20, 0], threshold, simulated: { rightAccepted: 1, missingAccepted: 0 } };
}

const model: AcceptanceModel = {
  version: 2,
  whole: kind(0.5),
  region: kind(0.6),
  answeredRegionThreshold: 0.3,
  learnedFrom: { queries: 10, products: 3, transform: 'identity' },
};

function matches(...scores: Array<[productId: string, score: number]>): ProductMatch[] {
  return scores.map(([productId, score], i) => ({ productId, score, bbox: [0, 0, 1, 1], imageId: i, objectId: i, label: 'image', metadata: {} }));
}

/** A photo: the whole photo naming `whole`, and a region naming a product at 0.49 and another at 0.48 (confidences 0.45 and 0.40). */
function photo(whole: number, regionLabel = 'object') {
  return [
    { kind: 'whole' as const, label: 'image', matches: matches(['Banana', whole], ['Lemon', 0]) },
    { kind: 'region' as const, label: regionLabel, matches: matches(['Cabbage', 0.49], ['Leek', 0.48]) },
  ];
}

const accepted = (verdicts: ReadonlyArray<ReadonlyArray<{ accepted: boolean }>>) => verdicts.map((list) => list.map((verdict) => verdict.accepted));
// Labels stored catalog regions have: `object` and `bottle`, not `chair`.
const judge = judgeWith(model, (label) => (label === 'object' || label === 'bottle' ? 5 : 0));

describe('judging a photo', () => {
  it('accepts a region from the looser threshold once the whole photo is accepted, its first product only', () => {
    expect(accepted(judge(photo(0.55)))).toEqual([[true, false], [true, false]]);
    expect(judge(photo(0.55))[1]![0]!.confidence).toBeCloseTo(0.45, 2);
  });

  it('keeps the region threshold while nothing in the photo is accepted: one weak region alone does not answer it', () => {
    expect(accepted(judge(photo(0.45)))).toEqual([[false, false], [false, false]]);
  });

  it('counts an accepted region as answering the photo too', () => {
    const objects = [...photo(0.45), { kind: 'region' as const, label: 'bottle', matches: matches(['Oatly-Oat-Milk', 0.55], ['Arla-Standard-Milk', 0.3]) }];
    expect(accepted(judge(objects))).toEqual([[false, false], [true, false], [true, false]]);
  });

  it('never accepts a region of a class no catalog photo has, answered photo or not', () => {
    expect(accepted(judge(photo(0.55, 'chair')))).toEqual([[true, false], [false, false]]);
  });

  it('judges with the region threshold alone under a model learned before the looser one existed', () => {
    const { answeredRegionThreshold: _absent, ...older } = model;
    expect(accepted(judgeWith(older, () => 5)(photo(0.55)))).toEqual([[true, false], [false, false]]);
  });
});

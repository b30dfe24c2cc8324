/**
 * "Is this the product, or only something like it?" A match is accepted when a logistic model of its
 * cosine and its margin over the best other product says it is likely enough. The model is learned
 * from the catalog itself at optimize time (see learn.ts); before that, nothing is judged and every
 * match is accepted.
 */

/** One kind's learned model: the whole photo and regions are judged apart (regions' cosines run lower). */
export interface KindModel {
  /** Logistic weights: bias, cosine, margin. */
  weights: [number, number, number];
  /** Accepted from this probability on (chosen at learning time, see learn.ts). */
  threshold: number;
  /** In the simulation it was learned from: the share of right answers, and of answers for missing products, it accepts. */
  simulated: { rightAccepted: number; missingAccepted: number };
}

export interface AcceptanceModel {
  version: 2;
  whole: KindModel;
  region: KindModel;
  /**
   * Regions of a photo that already has an accepted object are accepted from this confidence (at most
   * region.threshold): the region threshold is strict so that no wrong region answers a photo that
   * should get none, and once the photo is answered that risk is gone. Absent in models learned before
   * it: such regions keep region.threshold.
   */
  answeredRegionThreshold?: number;
  /** What it was learned from. */
  learnedFrom: { queries: number; products: number; transform: string };
}

/** One candidate product for a query object: its cosine, and the best cosine of any other product. */
export interface MatchEvidence {
  score: number;
  /** Best cosine of another product for the same object (−1 when there is none). */
  rival: number;
}

/** The features the model weighs, in the order of `weights[1..]`. */
export function features(evidence: MatchEvidence): [number, number] {
  return [evidence.score, evidence.score - evidence.rival];
}

export function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-value));
}

/** Probability that `evidence` is the photographed product, by `model`. */
export function confidence(model: Pick<KindModel, 'weights'>, evidence: MatchEvidence): number {
  const [bias, cosine, margin] = model.weights;
  const [x1, x2] = features(evidence);
  return sigmoid(bias + cosine * x1 + margin * x2);
}

/**
 * Confidence of each match of one object's distinct-product list (best first), and whether it is
 * accepted; `refuse` turns every one down whatever its confidence (see judgeWith in
 * src/pipeline/catalog-service.ts).
 */
export function judge(model: KindModel | undefined, matches: ReadonlyArray<{ score: number }>, refuse = false): Array<{ confidence: number | null; accepted: boolean }> {
  return matches.map((match, index) => {
    if (!model) return { confidence: null, accepted: true };
    const rival = index === 0 ? (matches[1]?.score ?? -1) : matches[0]!.score;
    const p = confidence(model, { score: match.score, rival });
    return { confidence: p, accepted: !refuse && p >= model.threshold };
  });
}

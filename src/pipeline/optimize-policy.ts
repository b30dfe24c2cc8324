/**
 * What optimize does to the vector space: learn whitening, go back to raw vectors, or keep the
 * current transform; and the rule that optimizes run one at a time.
 */
import { performance } from 'node:perf_hooks';
import type { Catalog } from '../catalog/catalog.js';
import type { CatalogCounts } from '../catalog/records.js';
import { FindthisError } from '../core/errors.js';
import { whyNotLearnable, type LabelledVector, type Whitening, type WhiteningOptions } from '../embedding/whitening.js';
import { whitenLearnOffThread } from '../embedding/whitening-thread.js';
import type { IndexKind } from '../indexing/types.js';
import type { AcceptanceModel, KindModel } from '../acceptance/model.js';
import { rawTransform, whiteningTransform, type RawVectorShape, type VectorTransform } from '../embedding/vector-transform.js';

/**
 * Fewest products whitening is learned for. It keeps at most (products − 1) dimensions: with fewer
 * than 16, products added later would be squeezed into a space too small to tell them apart (with
 * 2 products every vector became ±1), so a smaller catalog stays raw.
 */
export const MIN_PRODUCTS_FOR_WHITENING = 17;

export interface OptimizeRequest {
  /** Learn whitening with these options; `false` indexes raw vectors; absent keeps the current transform. */
  whitening?: WhiteningOptions | false;
  /**
   * More labelled vectors to learn from besides the catalog's own whole-image vectors: photos kept out
   * of the catalog (e.g. store photos of products the catalog shows once), grouped by product id.
   */
  samples?: LabelledVector[];
}

export interface OptimizeResult {
  products: number;
  images: number;
  vectors: number;
  indexed: Record<IndexKind, number>;
  transform: string;
  /** What the learned whitening was made of; null when vectors are indexed raw or the transform was kept. */
  whitening: { dimensions: number; vectors: number; products: number; shrinkage: number } | null;
  /** Why whitening was asked for but not learned. */
  skipped?: string;
  /** The acceptance model learned ("no match"): its thresholds, or why none could be learned. */
  acceptance: AcceptanceSummary;
  ms: number;
}

export type AcceptanceSummary =
  | { wholeThreshold: number; regionThreshold: number; answeredRegionThreshold: number; queries: number; simulated: { whole: KindModel['simulated']; region: KindModel['simulated'] } }
  | { skipped: string };

/** What optimize reports of the acceptance model it learned, or of why it learned none. */
export function acceptanceSummary(model: AcceptanceModel | undefined, why: string | undefined): AcceptanceSummary {
  if (!model) return { skipped: `no acceptance model (${why ?? 'nothing to learn from'}): every match is accepted` };
  return {
    wholeThreshold: model.whole.threshold,
    regionThreshold: model.region.threshold,
    answeredRegionThreshold: model.answeredRegionThreshold ?? model.region.threshold,
    queries: model.learnedFrom.queries,
    simulated: { whole: model.whole.simulated, region: model.region.simulated },
  };
}

/** The transform an optimize indexes under, and what it learned or why it did not. */
export interface TransformChoice {
  transform: VectorTransform;
  learned?: Whitening;
  skipped?: string;
}

/**
 * Decides (and with whitening options, learns off the main thread) the transform for `request`.
 * A catalog with no product photographed twice, or with fewer than MIN_PRODUCTS_FOR_WHITENING
 * products, stays raw and the choice says why.
 */
export async function chooseTransform(catalog: WhiteningSource, current: VectorTransform, request: OptimizeRequest): Promise<TransformChoice> {
  if (request.whitening === false) return { transform: rawTransform(catalog.encoder) };
  if (!request.whitening) return { transform: current };
  const samples = [...(await catalog.wholeImageSamples()), ...(request.samples ?? [])];
  const unlearnable = whyNotLearnable(samples, MIN_PRODUCTS_FOR_WHITENING);
  if (unlearnable) {
    return { transform: rawTransform(catalog.encoder), skipped: `whitening not learned: ${unlearnable}; vectors are indexed raw` };
  }
  // Learning takes seconds on its thread; ingests and deletes go on meanwhile, and the rebuild
  // that follows reads every stored vector, theirs included.
  const learned = await whitenLearnOffThread(samples, request.whitening);
  return { transform: whiteningTransform(learned), learned };
}

/** What whitening is learned from: the encoder's vector shape (what stays raw without it) and the catalog's whole-image vectors, grouped by product. */
export interface WhiteningSource {
  encoder: RawVectorShape;
  wholeImageSamples(): LabelledVector[] | Promise<LabelledVector[]>;
}

/** The embedded catalog's whole-image vectors, grouped by product: the default pairs to learn whitening from. */
export function wholeImageSamples(catalog: Catalog): LabelledVector[] {
  const samples: LabelledVector[] = [];
  for (const { productId, kind, vector } of catalog.labelledVectors()) {
    if (kind === 'whole') samples.push({ group: productId, vector });
  }
  return samples;
}

/** What optimize reports once `indexed` vectors are indexed under `choice`. */
export function optimizeResult(counts: CatalogCounts, indexed: number, choice: TransformChoice, acceptance: AcceptanceSummary, started: number): OptimizeResult {
  const { transform, learned, skipped } = choice;
  return {
    products: counts.products,
    images: counts.images,
    vectors: counts.objects,
    indexed: { lsh: indexed, hnsw: indexed, exact: indexed },
    transform: transform.id,
    whitening: learned
      ? { dimensions: learned.outputDim, vectors: learned.learnedFrom.vectors, products: learned.learnedFrom.groups, shrinkage: learned.shrinkage }
      : null,
    ...(skipped ? { skipped } : {}),
    acceptance,
    ms: performance.now() - started,
  };
}

/**
 * Optimize requests, one at a time and at most one waiting: a request arriving while one runs waits
 * for the next run (the catalog may have changed since the running one read it); a request arriving
 * while one already waits, asking the same (`key`), gets that waiting one's result; asking something
 * else, it is refused with 409 OPTIMIZE_CONFLICT. Five concurrent requests thus cost two runs, not five.
 */
export class OptimizeSingleFlight<T> {
  private running: Promise<T> | undefined;
  private waiting: { key: string | undefined; result: Promise<T> } | undefined;

  /** `key` names what is asked (undefined: a request that is never shared, e.g. one with its own samples). */
  run(key: string | undefined, task: () => Promise<T>): Promise<T> {
    const running = this.running;
    if (!running) return this.start(task);
    if (!this.waiting) {
      const result = running.catch(() => undefined).then(() => {
        this.waiting = undefined;
        return this.start(task);
      });
      this.waiting = { key, result };
      return result;
    }
    if (key !== undefined && key === this.waiting.key) return this.waiting.result;
    return Promise.reject(new FindthisError('OPTIMIZE_CONFLICT', 'An optimize with other options already waits behind the running one; retry when it is done'));
  }

  /** Settles once nothing runs and nothing waits. */
  async idle(): Promise<void> {
    while (this.running || this.waiting) await Promise.allSettled([this.running, this.waiting?.result]);
  }

  private start(task: () => Promise<T>): Promise<T> {
    const run: Promise<T> = task().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}

/** What an optimize request asks, as OptimizeSingleFlight's key: requests with their own samples are never shared. */
export function optimizeKey({ whitening, samples }: OptimizeRequest): string | undefined {
  if (samples) return undefined;
  return whitening === undefined ? 'keep' : whitening === false ? 'raw' : `whiten ${whitening.dimensions} ${whitening.shrinkage}`;
}

/** Runs tasks one at a time, in the order given; a failed task does not stop the ones after it. */
export class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Settles when every task given so far has settled. */
  idle(): Promise<unknown> {
    return this.tail;
  }
}

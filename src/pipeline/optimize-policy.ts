/**
 * What optimize does to the vector space: learn whitening, go back to raw vectors, or keep the
 * current transform; and the rule that optimizes run one at a time.
 */
import { performance } from 'node:perf_hooks';
import type { Catalog, CatalogCounts } from '../catalog/catalog.js';
import { whyNotLearnable, type LabelledVector, type Whitening, type WhiteningOptions } from '../embedding/whitening.js';
import { whitenLearnOffThread } from '../embedding/whitening-thread.js';
import type { IndexKind } from '../indexing/types.js';
import { identityTransform, whiteningTransform, type VectorTransform } from './vector-transform.js';

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
  ms: number;
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
  if (request.whitening === false) return { transform: identityTransform(catalog.dim) };
  if (!request.whitening) return { transform: current };
  const samples = [...(await catalog.wholeImageSamples()), ...(request.samples ?? [])];
  const unlearnable = whyNotLearnable(samples, MIN_PRODUCTS_FOR_WHITENING);
  if (unlearnable) {
    return { transform: identityTransform(catalog.dim), skipped: `whitening not learned: ${unlearnable}; vectors are indexed raw` };
  }
  // Learning takes seconds on its thread; ingests and deletes go on meanwhile, and the rebuild
  // that follows reads every stored vector, theirs included.
  const learned = await whitenLearnOffThread(samples, request.whitening);
  return { transform: whiteningTransform(learned), learned };
}

/** What whitening is learned from: the encoder's dimension and the catalog's whole-image vectors, grouped by product. */
export interface WhiteningSource {
  dim: number;
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
export function optimizeResult(counts: CatalogCounts, indexed: number, choice: TransformChoice, started: number): OptimizeResult {
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
    ms: performance.now() - started,
  };
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

/**
 * What a photo's regions are compared with to tell which product each looks like: the catalog's
 * products as unit prototype vectors (the mean of each product's stored vectors) in the indexes'
 * space, with the transform from raw vectors to that space. Plain data, so that it crosses to the
 * extractor's thread. Comparing a region with a few thousand prototypes costs far less than searching
 * the index, and it only has to group regions: the chosen ones are embedded and searched properly.
 */
import { l2n, type CellBox } from '../embedding/gem.js';
import type { FeatureMaps } from '../embedding/feature-maps.js';
import { dotAt } from '../indexing/vector-math.js';
import { transformFromSpec, type TransformSpec } from '../embedding/vector-transform.js';

export interface ProductReference {
  transform: TransformSpec;
  /** Vector length in the indexes' space (the transform's output). */
  dim: number;
  /** One unit row of `dim` values per product, row-major. */
  prototypes: Float32Array;
}

/** A reference ready to use: the transform rebuilt once. */
export interface ProductScorer {
  readonly products: number;
  /** One box of a photo's feature maps, GeM-pooled from their integrals, in the indexes' space (unit length: the transform normalises). */
  vectorOf(map: FeatureMaps, box: CellBox): Float32Array;
  /** The closest prototype's row for a vector from vectorOf. */
  closest(vector: Float32Array): number;
}

export function productScorer(reference: ProductReference): ProductScorer {
  const transform = transformFromSpec(reference.transform);
  const { dim, prototypes } = reference;
  const products = Math.floor(prototypes.length / dim);
  return {
    products,
    vectorOf: (map, box) => transform.apply(l2n(map.pool(box))),
    closest(vector) {
      let best = -1;
      let score = -Infinity;
      for (let p = 0, offset = 0; p < products; p++, offset += dim) {
        const dot = dotAt(prototypes, offset, vector);
        if (dot > score) {
          score = dot;
          best = p;
        }
      }
      return best;
    },
  };
}

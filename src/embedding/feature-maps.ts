/**
 * One sample's feature maps from several layers of the encoder: the last (the feature tensor) and
 * mid-level ones. Each is GeM-pooled on its own grid and L2-normalised, weighted, and the parts are
 * concatenated: the last layer says what kind of thing it is, a mid-level one (finer cells, nearer the
 * print on a pack) which one of its kind. With a single layer this is plain GeM of that layer.
 */
import { GEM_EPS, GemIntegral, regionalGem, type CellBox, type PoolRegion } from './gem.js';

export interface FeatureLayer {
  integral: GemIntegral;
  /** Weight of this layer's unit part in the concatenation. */
  weight: number;
}

export class FeatureMaps {
  /** Total vector length: every layer's channels. */
  readonly channels: number;
  /** The first layer's grid: boxes are given in its cells. */
  readonly height: number;
  readonly width: number;

  constructor(readonly layers: readonly FeatureLayer[]) {
    const first = layers[0];
    if (!first) throw new RangeError('FeatureMaps needs at least one layer');
    this.height = first.integral.height;
    this.width = first.integral.width;
    this.channels = layers.reduce((sum, { integral }) => sum + integral.channels, 0);
  }

  /** GeM of `box` (cells of the first layer's grid) on every layer, each part unit length × its weight. */
  pool(box: CellBox): Float32Array {
    return this.concatenate((integral) => integral.pool(this.scaled(box, integral)));
  }

  /** Regional GeM (each layer over its own R-MAC grid), each part unit length × its weight. */
  regional(gridOf: (height: number, width: number) => readonly PoolRegion[]): Float32Array {
    return this.concatenate((integral) => regionalGem(integral, gridOf(integral.height, integral.width)));
  }

  private concatenate(poolLayer: (integral: GemIntegral) => ArrayLike<number>): Float32Array {
    return concatenateUnits(this.layers.map(({ integral, weight }) => ({ part: poolLayer(integral), weight })));
  }

  /** `box` on `integral`'s grid: the same part of the photo, in its cells (at least one). */
  private scaled(box: CellBox, integral: GemIntegral): CellBox {
    if (integral.height === this.height && integral.width === this.width) return box;
    const sy = integral.height / this.height;
    const sx = integral.width / this.width;
    const y = Math.min(integral.height - 1, Math.floor(box.y * sy));
    const x = Math.min(integral.width - 1, Math.floor(box.x * sx));
    const bottom = Math.min(integral.height, Math.max(y + 1, Math.ceil((box.y + box.height) * sy)));
    const right = Math.min(integral.width, Math.max(x + 1, Math.ceil((box.x + box.width) * sx)));
    return { y, x, height: bottom - y, width: right - x };
  }
}

/**
 * The parts, each scaled to length `weight`, end to end. A single part is returned as it is (the same
 * array when it is a Float32Array, which the poolers give freshly made): the caller normalises the whole,
 * so a one-layer encoder's vectors stay what plain GeM gives, to the last bit, with no copy on the way.
 */
export function concatenateUnits(parts: ReadonlyArray<{ part: ArrayLike<number>; weight: number }>): Float32Array {
  if (parts.length === 1) {
    const only = parts[0]!.part;
    return only instanceof Float32Array ? only : Float32Array.from(only);
  }
  const out = new Float32Array(parts.reduce((sum, { part }) => sum + part.length, 0));
  let offset = 0;
  for (const { part, weight } of parts) {
    let sumSquares = 0;
    for (let i = 0; i < part.length; i++) sumSquares += part[i]! * part[i]!;
    const scale = weight / (Math.sqrt(sumSquares) + GEM_EPS);
    for (let i = 0; i < part.length; i++) out[offset + i] = part[i]! * scale;
    offset += part.length;
  }
  return out;
}

/**
 * Photo boxes on a feature-map grid. The whole photo is resized to the encoder's square input, so
 * one feature-map cell covers `width / columns` × `height / rows` photo pixels.
 */
import type { BBox } from '../core/types.js';
import type { CellBox } from '../embedding/gem.js';

/** A feature map laid over a photo: its rows and columns, and the photo's size in pixels. */
export interface Grid {
  rows: number;
  columns: number;
  width: number;
  height: number;
}

/** The cell box closest to a photo box: the cells it covers at least half of (at least one). */
export function cellBox([x1, y1, x2, y2]: BBox, grid: Grid): CellBox {
  const cellWidth = grid.width / grid.columns;
  const cellHeight = grid.height / grid.rows;
  const left = clamp(Math.round(x1 / cellWidth), 0, grid.columns - 1);
  const top = clamp(Math.round(y1 / cellHeight), 0, grid.rows - 1);
  const right = clamp(Math.round(x2 / cellWidth), left + 1, grid.columns);
  const bottom = clamp(Math.round(y2 / cellHeight), top + 1, grid.rows);
  return { x: left, y: top, width: right - left, height: bottom - top };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

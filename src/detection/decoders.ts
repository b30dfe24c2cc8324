/**
 * Output decoders for the three YOLO layouts. Each turns the raw output tensor into candidate boxes
 * in model-input pixels (x1, y1, x2, y2), keeping those whose score reaches the threshold. Pure
 * functions of the tensor, so they are tested on hand-made tensors.
 */
import { FindthisError } from '../core/errors.js';

export type YoloFormat = 'yolox' | 'yolov5' | 'yolov8';

/** One candidate box, before NMS, in model-input pixels. */
export interface Candidate {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classIndex: number;
  /** How sure the model is that there is an object at all, whatever its class: YOLOX/v5 objectness, v8's best class score. */
  objectness: number;
}

/** A candidate from the centre, width and height every YOLO head predicts. */
function centredBox(cx: number, cy: number, width: number, height: number, score: number, classIndex: number, objectness: number): Candidate {
  return { x1: cx - width / 2, y1: cy - height / 2, x2: cx + width / 2, y2: cy + height / 2, score, classIndex, objectness };
}

/**
 * Which candidates a decoder keeps: a class score of at least `score`, or an objectness of at least
 * `objectness` (class-agnostic proposals: products the COCO classes do not name). Default: score only.
 */
export interface KeepThresholds {
  score: number;
  objectness?: number;
}

/** A raw output tensor: its dims and values. */
export interface OutputTensor {
  dims: readonly number[];
  data: Float32Array;
}

/** Anchor points of a YOLOX head on a `width × height` input: Σ (width/stride)·(height/stride) over the strides. */
export function yoloxGridCount(width: number, height: number, strides: readonly number[]): number {
  return strides.reduce((sum, stride) => sum + (width / stride) * (height / stride), 0);
}

/**
 * Recognises the layout from the output shape `[1, A, B]`: `A < B` is channels-first (YOLOv8/YOLO11,
 * `[1,4+C,N]`); otherwise rows of `5+C`, which are YOLOX when there is one row per anchor point of the
 * stride grid (its boxes are not decoded yet) and YOLOv5 otherwise.
 */
export function recogniseFormat(dims: readonly number[], inputSize: number, strides: readonly number[]): YoloFormat {
  const [batch, a, b] = dims;
  if (dims.length !== 3 || batch !== 1 || a === undefined || b === undefined) {
    throw new FindthisError('MODEL_INVALID', `Detector output has shape [${dims.join(',')}], expected [1,N,5+C] or [1,4+C,N]`);
  }
  if (a < b) return 'yolov8';
  return a === yoloxGridCount(inputSize, inputSize, strides) ? 'yolox' : 'yolov5';
}

function expectClasses(format: YoloFormat, found: number, classCount: number, dims: readonly number[]): void {
  if (found !== classCount) {
    throw new FindthisError(
      'MODEL_INVALID',
      `Detector output [${dims.join(',')}] read as ${format} has ${found} classes, but the manifest names ${classCount}`,
    );
  }
}

/** Best class of a row of class scores starting at `start` (stride `step`). */
function bestClass(data: Float32Array, start: number, step: number, count: number): { index: number; score: number } {
  let index = 0;
  let score = -Infinity;
  for (let c = 0, p = start; c < count; c++, p += step) {
    const value = data[p]!;
    if (value > score) {
      score = value;
      index = c;
    }
  }
  return { index, score };
}

/** The model input a detector output came from, in pixels. */
export interface InputShape {
  width: number;
  height: number;
}

/**
 * YOLOX raw grid `[1, Σ(W/s)·(H/s), 5+C]`: per anchor point `tx, ty, tw, th, objectness, C class
 * scores` (scores already sigmoid-ed), points ordered by stride then row then column. Box:
 * `cx = (tx + gx)·s`, `w = exp(tw)·s`. Score = objectness × best class score.
 */
export function decodeYolox(
  output: OutputTensor,
  input: InputShape,
  strides: readonly number[],
  classCount: number,
  keep: KeepThresholds,
): Candidate[] {
  const { score: scoreThreshold, objectness: objectnessThreshold = Infinity } = keep;
  const floor = Math.min(scoreThreshold, objectnessThreshold);
  const [, rows = 0, width = 0] = output.dims;
  expectClasses('yolox', width - 5, classCount, output.dims);
  const expected = yoloxGridCount(input.width, input.height, strides);
  if (rows !== expected) {
    throw new FindthisError('MODEL_INVALID', `YOLOX output has ${rows} rows, expected ${expected} for input ${input.width}×${input.height}`);
  }
  const data = output.data;
  const candidates: Candidate[] = [];
  let row = 0;
  for (const stride of strides) {
    const columns = input.width / stride;
    const gridRows = input.height / stride;
    for (let gy = 0; gy < gridRows; gy++) {
      for (let gx = 0; gx < columns; gx++, row++) {
        const p = row * width;
        const objectness = data[p + 4]!;
        if (objectness < floor) continue; // score = objectness × class ≤ objectness
        const best = bestClass(data, p + 5, 1, classCount);
        const score = objectness * best.score;
        if (score < scoreThreshold && objectness < objectnessThreshold) continue;
        const w = Math.exp(data[p + 2]!) * stride;
        const h = Math.exp(data[p + 3]!) * stride;
        candidates.push(centredBox((data[p]! + gx) * stride, (data[p + 1]! + gy) * stride, w, h, score, best.index, objectness));
      }
    }
  }
  return candidates;
}

/** YOLOv5 `[1, N, 5+C]`: per row decoded `cx, cy, w, h`, objectness, C class scores. Score = objectness × best class. */
export function decodeYolov5(output: OutputTensor, classCount: number, keep: KeepThresholds): Candidate[] {
  const { score: scoreThreshold, objectness: objectnessThreshold = Infinity } = keep;
  const floor = Math.min(scoreThreshold, objectnessThreshold);
  const [, rows = 0, width = 0] = output.dims;
  expectClasses('yolov5', width - 5, classCount, output.dims);
  const data = output.data;
  const candidates: Candidate[] = [];
  for (let row = 0; row < rows; row++) {
    const p = row * width;
    const objectness = data[p + 4]!;
    if (objectness < floor) continue;
    const best = bestClass(data, p + 5, 1, classCount);
    const score = objectness * best.score;
    if (score < scoreThreshold && objectness < objectnessThreshold) continue;
    candidates.push(centredBox(data[p]!, data[p + 1]!, data[p + 2]!, data[p + 3]!, score, best.index, objectness));
  }
  return candidates;
}

/** YOLOv8/YOLO11 `[1, 4+C, N]` (channels first): decoded `cx, cy, w, h`, then C class scores, no objectness. */
export function decodeYolov8(output: OutputTensor, classCount: number, keep: KeepThresholds): Candidate[] {
  const threshold = Math.min(keep.score, keep.objectness ?? Infinity);
  const [, channels = 0, count = 0] = output.dims;
  expectClasses('yolov8', channels - 4, classCount, output.dims);
  const data = output.data;
  const candidates: Candidate[] = [];
  for (let i = 0; i < count; i++) {
    const best = bestClass(data, 4 * count + i, count, classCount);
    if (best.score < threshold) continue;
    candidates.push(centredBox(data[i]!, data[count + i]!, data[2 * count + i]!, data[3 * count + i]!, best.score, best.index, best.score));
  }
  return candidates;
}

/** Decodes `output` as `format` (see the decoders above). */
export function decodeOutput(
  format: YoloFormat,
  output: OutputTensor,
  input: InputShape,
  strides: readonly number[],
  classCount: number,
  keep: KeepThresholds,
): Candidate[] {
  switch (format) {
    case 'yolox':
      return decodeYolox(output, input, strides, classCount, keep);
    case 'yolov5':
      return decodeYolov5(output, classCount, keep);
    case 'yolov8':
      return decodeYolov8(output, classCount, keep);
  }
}

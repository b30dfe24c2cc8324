/**
 * The detector stage: letterbox the decoded image into the YOLO input, run the session, decode the
 * output, keep allowed classes, class-aware NMS, and map boxes back to original-image pixels.
 *
 * The input is as small as the image allows (rectangular inference, as Ultralytics' `rect`): each side
 * is the letterboxed image's side rounded up to the largest stride, so a 4:3 photo runs at 416 × 320
 * and a 348 × 348 photo, not enlarged by default, at 352 × 352: about 0.7× the work of 416 × 416.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { FindthisError } from '../core/errors.js';
import type { LabelledBox } from '../core/types.js';
import type { RawImage } from '../imaging/decode.js';
import { letterboxGeometry, letterboxInto, wholeImage, type LetterboxPolicy } from '../imaging/resize.js';
import { freeImageSize } from '../models/image-input.js';
import { resolveModel, type InputSpec } from '../models/manifest.js';
import { createSession, ort } from '../models/session.js';
import { decodeOutput, recogniseFormat, type Candidate, type InputShape, type YoloFormat } from './decoders.js';
import { nms } from './nms.js';
import type { DetectorOptions } from './options.js';

/** A detection: label, score and box in original-image pixels (clipped), plus its class index. */
export interface Detection extends LabelledBox {
  classIndex: number;
}

/** The label of a proposal whose class the detector is not sure of. */
export const UNSURE_LABEL = 'object';

/**
 * A class-agnostic proposal: a box the model holds to be an object, whatever its class. `label` is
 * the COCO class when its score reaches the detection threshold, else UNSURE_LABEL: a hint, not a filter.
 */
export interface Proposal extends Detection {
  objectness: number;
}

export interface DetectionResult {
  detections: Detection[];
  /** Class-agnostic proposals, by objectness, best first (empty when `proposalObjectness` is 1). */
  proposals: Proposal[];
  /** The model input the image was letterboxed into, in pixels. */
  input: InputShape;
  letterboxMs: number;
  /** The session run. */
  runMs: number;
  /** Output decoding, class filter, mapping to image pixels and NMS. */
  boxesMs: number;
}

export interface Detector {
  readonly model: string;
  readonly format: YoloFormat;
  readonly classNames: readonly string[];
  /** The largest input side (the manifest's input size). */
  readonly inputSize: number;
  /** True when the model runs at any input size (rectangular inference); false: always inputSize². */
  readonly flexibleInput: boolean;
  detect(image: RawImage): Promise<DetectionResult>;
  close(): Promise<void>;
  /** False once it can no longer detect (its worker thread stopped); absent means always healthy. */
  isHealthy?(): boolean;
}

/**
 * Maps candidates (model-input pixels of a letterbox with scale `ratio`) to original-image boxes:
 * divides by the ratio, clips to the image, drops boxes with a side below `minBoxSize` and classes
 * filtered out by `keepClass`.
 */
export function toImageBoxes(
  candidates: readonly Candidate[],
  ratio: number,
  width: number,
  height: number,
  minBoxSize: number,
  keepClass: (classIndex: number) => boolean,
): Candidate[] {
  const boxes: Candidate[] = [];
  for (const candidate of candidates) {
    if (!keepClass(candidate.classIndex)) continue;
    const x1 = Math.min(width, Math.max(0, candidate.x1 / ratio));
    const y1 = Math.min(height, Math.max(0, candidate.y1 / ratio));
    const x2 = Math.min(width, Math.max(0, candidate.x2 / ratio));
    const y2 = Math.min(height, Math.max(0, candidate.y2 / ratio));
    if (x2 - x1 < Math.max(minBoxSize, 1) || y2 - y1 < Math.max(minBoxSize, 1)) continue;
    boxes.push({ ...candidate, x1, y1, x2, y2 });
  }
  return boxes;
}

/** A class filter from allow/deny lists of names; unknown names are a configuration error. */
export function classFilter(classNames: readonly string[], allow: readonly string[], deny: readonly string[]): (classIndex: number) => boolean {
  for (const name of [...allow, ...deny]) {
    if (!classNames.includes(name)) {
      throw new FindthisError('INVALID_CONFIG', `Unknown detector class ${JSON.stringify(name)} in classAllow/classDeny: the model's classes are ${classNames.join(', ')}`);
    }
  }
  const keep = classNames.map((name) => (allow.length === 0 || allow.includes(name)) && !deny.includes(name));
  return (classIndex) => keep[classIndex] === true;
}

function letterboxSpec(input: InputSpec) {
  return { channelOrder: input.channelOrder, scale: input.scale, mean: input.mean, std: input.std } as const;
}

/**
 * The detector's session: at any input size when the export allows it (the image input made symbolic,
 * then probed on a rectangle one stride short of square), else the file as exported.
 */
async function openSession(path: string, threads: number, label: string, size: number, stride: number): Promise<{ session: ort.InferenceSession; flexible: boolean }> {
  let flexibleModel: Uint8Array | undefined;
  try {
    const model = onnxProto.onnx.ModelProto.decode(readFileSync(path));
    freeImageSize(model.graph ?? {}, label);
    flexibleModel = onnxProto.onnx.ModelProto.encode(model).finish();
  } catch {
    // Not an editable single-image-input model: the plain load below reports what is wrong with it.
  }
  if (flexibleModel && size > stride) {
    const session = await createSession(flexibleModel, threads, label);
    try {
      const height = size - stride;
      await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(3 * height * size), [1, 3, height, size]) });
      return { session, flexible: true };
    } catch {
      await session.release(); // shapes baked into the graph (e.g. a static Reshape): run it as exported
    }
  }
  return { session: await createSession(path, threads, label), flexible: false };
}

export async function createDetector(options: DetectorOptions, context: { modelsDir?: string } = {}): Promise<Detector> {
  const { name, path, entry } = resolveModel(options.model, context);
  if (entry.role !== 'detector' || !entry.detection) {
    throw new FindthisError('INVALID_CONFIG', `Model ${name} is a ${entry.role}, not a detector`);
  }
  const classNames = entry.detection.classes;
  const strides = entry.detection.strides ?? [8, 16, 32];
  const largestStride = Math.max(...strides);
  const size = entry.input.size;
  const keepClass = classFilter(classNames, options.classAllow, options.classDeny);
  const { session, flexible } = await openSession(path, options.threads, `${name} (${path})`, size, largestStride);
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const normalization = letterboxSpec(entry.input);
  const padValue = entry.input.padValue ?? 114;
  const policy: LetterboxPolicy = { size, upscale: options.upscale, stride: flexible ? largestStride : 0 };

  // The format: the option, else the manifest, else recognised from one run's output shape.
  let format: YoloFormat;
  if (options.format !== 'auto') format = options.format;
  else if (entry.detection.format) format = entry.detection.format;
  else {
    const probe = await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]) });
    format = recogniseFormat(probe[outputName]!.dims, size, strides);
  }

  // Input buffers (up to 2 MB) are reused: allocating and zeroing one per image shows in the timings.
  // A list rather than one buffer, so that overlapping detect() calls never share one.
  const spareInputs: Float32Array[] = [];
  return {
    model: name,
    format,
    classNames,
    inputSize: size,
    flexibleInput: flexible,
    async detect(image) {
      const start = performance.now();
      const letterbox = letterboxGeometry(image.width, image.height, policy);
      const { inputWidth, inputHeight } = letterbox;
      const buffer = spareInputs.pop() ?? new Float32Array(3 * size * size);
      const input = buffer.subarray(0, 3 * inputWidth * inputHeight);
      letterboxInto(image, wholeImage(image), letterbox, padValue, normalization, { tensor: input, offset: 0, planeWidth: inputWidth, planeHeight: inputHeight });
      const letterboxed = performance.now();
      const outputs = await session.run({ [inputName]: new ort.Tensor('float32', input, [1, 3, inputHeight, inputWidth]) });
      const ran = performance.now();
      spareInputs.push(buffer);
      const output = outputs[outputName]!;
      const shape = { width: inputWidth, height: inputHeight };
      const keep = { score: options.scoreThreshold, objectness: options.proposalObjectness };
      const candidates = decodeOutput(format, { dims: output.dims, data: output.data as Float32Array }, shape, strides, classNames.length, keep);
      const boxes = toImageBoxes(candidates, letterbox.ratio, image.width, image.height, options.minBoxSize, () => true);
      const confident = boxes.filter((box) => box.score >= options.scoreThreshold);
      const detections = nms(confident.filter((box) => keepClass(box.classIndex)), options.iouThreshold, options.maxDetections).map((box) => ({
        label: classNames[box.classIndex]!,
        score: box.score,
        bbox: [box.x1, box.y1, box.x2, box.y2] as [number, number, number, number],
        classIndex: box.classIndex,
      }));
      // A confident box of a denied class (a hand, a shopper) is no product; an unsure one may be.
      const open = boxes.filter((box) => box.objectness >= options.proposalObjectness && (box.score < options.scoreThreshold || keepClass(box.classIndex)));
      const proposals = nms(open, options.iouThreshold, options.maxDetections, { rankBy: 'objectness', agnostic: true }).map((box) => ({
        label: box.score >= options.scoreThreshold ? classNames[box.classIndex]! : UNSURE_LABEL,
        score: box.score,
        objectness: box.objectness,
        bbox: [box.x1, box.y1, box.x2, box.y2] as [number, number, number, number],
        classIndex: box.classIndex,
      }));
      return { detections, proposals, input: shape, letterboxMs: letterboxed - start, runMs: ran - letterboxed, boxesMs: performance.now() - ran };
    },
    close: () => session.release(),
  };
}

/**
 * The detector stage: letterbox the decoded image into the YOLO input, run the session, decode the
 * output, keep allowed classes, class-aware NMS, and map boxes back to original-image pixels.
 */
import { FindthisError } from '../core/errors.js';
import type { ImageObject } from '../core/types.js';
import type { RawImage } from '../imaging/decode.js';
import { letterboxInto, wholeImage } from '../imaging/resize.js';
import { resolveModel, type InputSpec } from '../models/manifest.js';
import { createSession, ort } from '../models/session.js';
import { decodeOutput, recogniseFormat, type Candidate, type YoloFormat } from './decoders.js';
import { nms } from './nms.js';
import type { DetectorOptions } from './options.js';

/** A detection: label, score and box in original-image pixels (clipped), plus its class index. */
export interface Detection extends ImageObject {
  classIndex: number;
}

export interface DetectionResult {
  detections: Detection[];
  letterboxMs: number;
  /** Session run + decoding + NMS. */
  detectMs: number;
  /** The session run alone. */
  runMs: number;
}

export interface Detector {
  readonly model: string;
  readonly format: YoloFormat;
  readonly classNames: readonly string[];
  readonly inputSize: number;
  detect(image: RawImage): Promise<DetectionResult>;
  close(): Promise<void>;
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

export async function createDetector(options: DetectorOptions, context: { modelsDir?: string } = {}): Promise<Detector> {
  const { name, path, entry } = resolveModel(options.model, context);
  if (entry.role !== 'detector' || !entry.detection) {
    throw new FindthisError('INVALID_CONFIG', `Model ${name} is a ${entry.role}, not a detector`);
  }
  const classNames = entry.detection.classes;
  const strides = entry.detection.strides ?? [8, 16, 32];
  const size = entry.input.size;
  const keepClass = classFilter(classNames, options.classAllow, options.classDeny);
  const session = await createSession(path, options.threads, `${name} (${path})`);
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const normalization = letterboxSpec(entry.input);
  const padValue = entry.input.padValue ?? 114;

  // The format: the option, else the manifest, else recognised from one run's output shape.
  let format: YoloFormat;
  if (options.format !== 'auto') format = options.format;
  else if (entry.detection.format) format = entry.detection.format;
  else {
    const probe = await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]) });
    format = recogniseFormat(probe[outputName]!.dims, size, strides);
  }

  // Input buffers are reused (2 MB each: allocating and zeroing one per image shows in the timings);
  // a list rather than one buffer, so that overlapping detect() calls never share one.
  const spareInputs: Float32Array[] = [];
  return {
    model: name,
    format,
    classNames,
    inputSize: size,
    async detect(image) {
      const start = performance.now();
      const input = spareInputs.pop() ?? new Float32Array(3 * size * size);
      const letterbox = letterboxInto(image, wholeImage(image), size, padValue, normalization, {
        tensor: input,
        offset: 0,
        planeWidth: size,
        planeHeight: size,
      });
      const letterboxed = performance.now();
      const outputs = await session.run({ [inputName]: new ort.Tensor('float32', input, [1, 3, size, size]) });
      const ran = performance.now();
      spareInputs.push(input);
      const output = outputs[outputName]!;
      const candidates = decodeOutput(format, { dims: output.dims, data: output.data as Float32Array }, size, strides, classNames.length, options.scoreThreshold);
      const boxes = toImageBoxes(candidates, letterbox.ratio, image.width, image.height, options.minBoxSize, keepClass);
      const kept = nms(boxes, options.iouThreshold, options.maxDetections);
      const detections = kept.map((box) => ({
        label: classNames[box.classIndex]!,
        score: box.score,
        bbox: [box.x1, box.y1, box.x2, box.y2] as [number, number, number, number],
        classIndex: box.classIndex,
      }));
      return { detections, letterboxMs: letterboxed - start, detectMs: performance.now() - letterboxed, runMs: ran - letterboxed };
    },
    close: () => session.release(),
  };
}

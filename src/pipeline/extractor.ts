/**
 * The one function from an image to its objects: decode once, detect while the whole image is
 * encoded, crop, encode the crops in batched runs (one per input size), GeM-pool and L2-normalise.
 * objects[0] is always the whole image.
 */
import { WHOLE_IMAGE_LABEL, type BBox, type EmbeddedObject, type ImageObject } from '../core/types.js';
import { createDetector } from '../detection/detector.js';
import { createDetectorThread } from '../detection/detector-thread.js';
import { DEFAULT_DETECTOR_OPTIONS, type DetectorOptions } from '../detection/options.js';
import { createEncoder, type Encoder, type EncoderMeta, type Encoding } from '../embedding/encoder.js';
import { DEFAULT_ENCODER_OPTIONS, type EncoderOptions, type Pooling } from '../embedding/options.js';
import { DEFAULT_CROP_OPTIONS, type CropOptions } from '../imaging/crop-options.js';
import { decodeImage, type RawImage } from '../imaging/decode.js';
import { wholeImage } from '../imaging/resize.js';
import { DEFAULT_MAX_PIXELS } from '../imaging/limits.js';
import type { Region } from '../imaging/resize.js';
import { locateRegions } from '../localization/locate.js';
import { DEFAULT_LOCALIZATION_OPTIONS, regionInputSize, type LocalizationOptions } from '../localization/options.js';
import { productScorer, type ProductReference, type ProductScorer } from '../localization/reference.js';

export type { DetectorOptions } from '../detection/options.js';
export type { EncoderOptions } from '../embedding/options.js';
export type { CropOptions } from '../imaging/crop-options.js';
export type { LocalizationOptions } from '../localization/options.js';
export type { ProductReference } from '../localization/reference.js';
export type { EncoderMeta } from '../embedding/encoder.js';
export { resolveModel, modelSearchDirs } from '../models/manifest.js';

/**
 * Wall-clock milliseconds per stage of one extraction. The detector's three stages run beside the
 * whole image's crop, encode and pool when it has a thread of its own, so the stages can add up to
 * more than `totalMs`.
 */
export interface StageTimings {
  /** Header check, EXIF auto-orient and decode to raw RGB. */
  decodeMs: number;
  /** Letterbox resize + pad + tensor fill for the detector. */
  letterboxMs: number;
  /** Detector session run. */
  detectMs: number;
  /** Decoding the detector's output, class filter and NMS. */
  boxesMs: number;
  /** Search photos: pooling, scoring and choosing the candidate regions (0 for catalog photos). */
  locateMs: number;
  /** Cutting and resizing every crop into the encoder's batch tensor. */
  cropMs: number;
  /** Encoder session run (all crops in one batch). */
  encodeMs: number;
  /** Dequantize + GeM + L2 of every crop. */
  poolMs: number;
  totalMs: number;
}

export interface Extraction {
  /** Size of the image after EXIF orientation. */
  width: number;
  height: number;
  /**
   * objects[0] is the whole image (kind 'whole', label 'image', score 1, bbox [0,0,width,height]); then
   * (kind 'region'), for a catalog photo, its detections, best first; for a search photo, the located
   * regions, best first.
   */
  objects: EmbeddedObject[];
  timings: StageTimings;
}

export interface Extractor {
  readonly encoder: EncoderMeta;
  /** Detector class names by index. */
  readonly classNames: readonly string[];
  /**
   * A catalog photo (`catalog`, the default) is the whole photo and its detections; a search photo
   * (`search`) is the whole photo and the regions where products seem to be (see locateRegions).
   * Throws FindthisError INVALID_IMAGE / EMPTY_IMAGE / IMAGE_TOO_LARGE for bad input.
   */
  extract(image: Buffer, purpose?: ExtractionPurpose): Promise<Extraction>;
  /** What search photos' regions are compared with (the catalog's product prototypes); null: none yet. */
  setReference(reference: ProductReference | null): void;
  close(): Promise<void>;
  /** False once it can no longer extract (its worker thread died); absent means always healthy. */
  isHealthy?(): boolean;
}

/** What a photo is extracted for: to be stored in the catalog, or to be searched for. */
export type ExtractionPurpose = 'catalog' | 'search';

export interface ExtractorOptions {
  detector: DetectorOptions;
  encoder: EncoderOptions;
  crop: CropOptions;
  localization: LocalizationOptions;
  /** Images with more pixels (width × height) are refused from their header, 1..268,402,689. Default 50,000,000. */
  maxPixels: number;
  /**
   * Photos whose long side exceeds this are decoded shrunk to it, 0 or 256..16384 (0 = never).
   * Default 1024: a 4000 × 3000 phone photo took about 0.5 s through the pipeline at full size, most
   * of it resizing 12 MP down to a 416 input; at 1024 a product a fifth of the photo wide is still
   * about 200 px, near the encoder's 224. Boxes are reported in the photo's own pixels either way.
   */
  maxDecodeSide: number;
  /**
   * Longest a decode may take, in seconds, 0..3600 (0 = no limit). Default 10: a 50 MP photo decodes
   * in about a second; a hostile image that would hold a thread for minutes is refused with DECODE_TIMEOUT.
   */
  decodeTimeoutSeconds: number;
}

/** The embedded defaults: YOLOX-Nano + MobileNetV2 int8 at 224, GeM p=3, person denied, 50 MP limit, decoded at most 1024 px. */
export const DEFAULT_EXTRACTOR_OPTIONS: ExtractorOptions = {
  detector: DEFAULT_DETECTOR_OPTIONS,
  encoder: DEFAULT_ENCODER_OPTIONS,
  crop: DEFAULT_CROP_OPTIONS,
  localization: DEFAULT_LOCALIZATION_OPTIONS,
  maxPixels: DEFAULT_MAX_PIXELS,
  maxDecodeSide: 1024,
  decodeTimeoutSeconds: 10,
};

/** Where to find model files besides the default search places (see resolveModel). */
export interface ExtractorContext {
  modelsDir?: string;
}

/**
 * The pixels embedded for a box: the box grown by `padding` × its size on each side, clipped to the
 * image, rounded outwards to whole pixels (at least one).
 */
export function cropRegion(bbox: BBox, padding: number, width: number, height: number): Region {
  const [x1, y1, x2, y2] = bbox;
  const padX = (x2 - x1) * padding;
  const padY = (y2 - y1) * padding;
  const left = Math.min(width - 1, Math.max(0, Math.floor(x1 - padX)));
  const top = Math.min(height - 1, Math.max(0, Math.floor(y1 - padY)));
  const right = Math.max(left + 1, Math.min(width, Math.ceil(x2 + padX)));
  const bottom = Math.max(top + 1, Math.min(height, Math.ceil(y2 + padY)));
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Loads both models (once) and returns the extractor. Throws MODEL_NOT_FOUND / MODEL_INVALID / INVALID_CONFIG. */
export async function createExtractor(options: ExtractorOptions, context: ExtractorContext = {}): Promise<Extractor> {
  const detector = await (options.detector.ownThread ? createDetectorThread : createDetector)(options.detector, context);
  const encoder = await createEncoder(options.encoder, context).catch(async (error: unknown) => {
    await detector.close();
    throw error;
  });
  const { padding, maxObjects } = options.crop;
  let scorer: ProductScorer | undefined;
  return {
    encoder: encoder.meta,
    classNames: detector.classNames,
    isHealthy: () => detector.isHealthy?.() ?? true,
    setReference(reference) {
      scorer = reference ? productScorer(reference) : undefined;
    },
    async extract(buffer, purpose = 'catalog') {
      const start = performance.now();
      const image = await decodeImage(buffer, options.maxPixels, options.maxDecodeSide, options.decodeTimeoutSeconds);
      const decoded = performance.now();
      const { inputSize, imageInputSize, pooling, cropPooling } = encoder.meta;
      // The whole photo is encoded while the detector runs (beside it on the detector's own thread, else after it).
      const [detected, first] = await Promise.all([detector.detect(image), encoder.encode(image, [wholeImage(image)], imageInputSize, [pooling], purpose === 'search')]);
      const { detections, proposals, letterboxMs, runMs, boxesMs } = detected;
      const whole: ImageObject = { kind: 'whole', label: WHOLE_IMAGE_LABEL, score: 1, bbox: [0, 0, image.width, image.height] };
      let found: ImageObject[];
      let rest: Encoding | undefined;
      let locateMs = 0;
      if (purpose === 'search') {
        const located = performance.now();
        const regions = locateRegions(first.firstMap!, image, proposals, scorer, options.localization);
        locateMs = performance.now() - located;
        found = [whole, ...regions.map(({ label, score, bbox }): ImageObject => ({ kind: 'region', label, score, bbox }))];
        const boxes = regions.map((r) => cropRegion(r.bbox, padding, image.width, image.height));
        const sizes = boxes.map((box) => regionInputSize(box, image, options.localization, inputSize));
        // Regions are compared with whole catalog photos (INDEXED_KIND), so they are pooled like them.
        rest = await encodeAtSizes(encoder, image, boxes, sizes, pooling);
      } else {
        found = [whole, ...detections.slice(0, Math.max(0, maxObjects - 1)).map(({ label, score, bbox }): ImageObject => ({ kind: 'region', label, score, bbox }))];
        const crops = found.slice(1).map((object) => cropRegion(object.bbox, padding, image.width, image.height));
        rest = await encodeAtSizes(encoder, image, crops, crops.map(() => inputSize), cropPooling);
      }
      const encoding = rest ? mergeEncodings(first, rest) : first;
      const totalMs = performance.now() - start;
      // Boxes in the photo's own pixels, also when it was decoded shrunk.
      const { width, height } = image.original ?? image;
      const sx = width / image.width;
      const sy = height / image.height;
      const toPhoto = (index: number, [x1, y1, x2, y2]: BBox): BBox => (index === 0 ? [0, 0, width, height] : [x1 * sx, y1 * sy, x2 * sx, y2 * sy]);
      return {
        width,
        height,
        objects: found.map((object, index) => ({ ...object, bbox: toPhoto(index, object.bbox), vector: encoding.vectors[index]! })),
        timings: {
          decodeMs: decoded - start,
          letterboxMs,
          detectMs: runMs,
          boxesMs,
          locateMs,
          cropMs: encoding.cropMs,
          encodeMs: encoding.encodeMs,
          poolMs: encoding.poolMs,
          totalMs,
        },
      };
    },
    async close() {
      await Promise.all([detector.close(), encoder.close()]);
    },
  };
}

/**
 * Each region at its own input size, all pooled with `pooling`, one batched run per size, the vectors
 * in the regions' order; undefined when there are no regions.
 */
async function encodeAtSizes(encoder: Encoder, image: RawImage, regions: readonly Region[], sizes: readonly number[], pooling: Pooling): Promise<Encoding | undefined> {
  const vectors: Float32Array[] = new Array(regions.length);
  let total: Encoding | undefined;
  for (const size of new Set(sizes)) {
    const picked = sizes.flatMap((s, i) => (s === size ? [i] : []));
    const encoded = await encoder.encode(image, picked.map((i) => regions[i]!), size, picked.map(() => pooling));
    picked.forEach((i, j) => (vectors[i] = encoded.vectors[j]!));
    total = total ? mergeEncodings(total, encoded) : encoded;
  }
  return total && { ...total, vectors };
}

/** Two encodings of one image as one: vectors in order, times added, the first one's feature map. */
function mergeEncodings(first: Encoding, then: Encoding): Encoding {
  return {
    vectors: [...first.vectors, ...then.vectors],
    cropMs: first.cropMs + then.cropMs,
    encodeMs: first.encodeMs + then.encodeMs,
    poolMs: first.poolMs + then.poolMs,
    ...(first.firstMap ? { firstMap: first.firstMap } : {}),
  };
}

/**
 * The one function from an image to its objects: decode once, detect, crop, encode all crops in one
 * batched run, GeM-pool and L2-normalise. objects[0] is always the whole image.
 */
import type { EmbeddedObject } from '../core/types.js';
import { DEFAULT_DETECTOR_OPTIONS, type DetectorOptions } from '../detection/options.js';
import { DEFAULT_ENCODER_OPTIONS, type EncoderOptions } from '../embedding/options.js';
import { DEFAULT_CROP_OPTIONS, type CropOptions } from '../imaging/crop-options.js';
import { DEFAULT_MAX_PIXELS } from '../imaging/limits.js';

export type { DetectorOptions } from '../detection/options.js';
export type { EncoderOptions } from '../embedding/options.js';
export type { CropOptions } from '../imaging/crop-options.js';
export { resolveModel, modelSearchDirs } from '../models/manifest.js';

/** Wall-clock milliseconds per stage of one extraction. */
export interface StageTimings {
  /** Header check, EXIF auto-orient and decode to raw RGB. */
  decodeMs: number;
  /** Letterbox resize + pad + tensor fill for the detector. */
  letterboxMs: number;
  /** Detector session run + output decoding + NMS. */
  detectMs: number;
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
  /** objects[0] is the whole image: label 'image', score 1, bbox [0,0,width,height]; then detections, best first. */
  objects: EmbeddedObject[];
  timings: StageTimings;
}

/** What produced a vector: an index stores this and refuses vectors from another encoder. */
export interface EncoderMeta {
  /** Manifest model name, e.g. 'mobilenetv2_int8'. */
  model: string;
  /** sha256 of the model file. */
  sha256: string;
  /** Vector length (channels of the feature map). */
  dim: number;
  inputSize: number;
  pooling: 'gem';
  gemP: number;
}

export interface Extractor {
  readonly encoder: EncoderMeta;
  /** Detector class names by index. */
  readonly classNames: readonly string[];
  /** Throws FindthisError INVALID_IMAGE / EMPTY_IMAGE / IMAGE_TOO_LARGE for bad input. */
  extract(image: Buffer): Promise<Extraction>;
  close(): Promise<void>;
}

export interface ExtractorOptions {
  detector: DetectorOptions;
  encoder: EncoderOptions;
  crop: CropOptions;
  /** Images with more pixels (width × height) are refused from their header, 1..268,402,689. Default 50,000,000. */
  maxPixels: number;
}

/** The embedded defaults: YOLOX-Nano + MobileNetV2 int8 at 224, GeM p=3, person denied, 50 MP limit. */
export const DEFAULT_EXTRACTOR_OPTIONS: ExtractorOptions = {
  detector: DEFAULT_DETECTOR_OPTIONS,
  encoder: DEFAULT_ENCODER_OPTIONS,
  crop: DEFAULT_CROP_OPTIONS,
  maxPixels: DEFAULT_MAX_PIXELS,
};

/** Where to find model files besides the default search places (see resolveModel). */
export interface ExtractorContext {
  modelsDir?: string;
}

/** Loads both models (once) and returns the extractor. */
export async function createExtractor(options: ExtractorOptions, context: ExtractorContext = {}): Promise<Extractor> {
  void options;
  void context;
  throw new Error('createExtractor: being implemented (issue 2)');
}

/**
 * The model manifest (models/manifest.json): which files findthis loads, where they come from, and how
 * each is fed and read. Model files themselves are resolved at run time from, in order, an explicit
 * `modelsDir`, env `MODELS_DIR`, the project's `models/`, then `../shared/models` beside the checkout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FindthisError } from '../core/errors.js';

/** The project root, found from this file's location (not the working directory). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MANIFEST_PATH = join(PROJECT_ROOT, 'models', 'manifest.json');

/** How an image becomes the model's input tensor (NCHW float32). */
export interface InputSpec {
  /** Input tensor name (documentation; sessions read the real name from the graph). */
  name: string;
  /** Square side in pixels the model was trained at. */
  size: number;
  channelOrder: 'RGB' | 'BGR';
  /** Pixel values 0..255 are multiplied by this first (1/255 for ImageNet models, 1 for YOLOX). */
  scale: number;
  /** Per channel (in `channelOrder`), subtracted after scaling. */
  mean: [number, number, number];
  /** Per channel (in `channelOrder`), divided by after subtracting the mean. */
  std: [number, number, number];
  /** `letterbox`: keep aspect, image top-left, pad; `stretch`: resize to the square ignoring aspect. */
  resize: 'letterbox' | 'stretch';
  /** Pad value (0..255) for letterboxing. */
  padValue?: number;
}

/** A mid-level feature map an encoder's vector also pools. */
export interface MidLevelTensor {
  tensor: string;
  dim: number;
  weight: number;
}

export interface ModelEntry {
  file: string;
  role: 'detector' | 'encoder';
  bytes: number;
  sha256: string;
  /** Public download address, or null when the file has none (it must be put in place by hand). */
  url: string | null;
  license: string;
  description: string;
  /** Optional models are fetched only when named on the models:fetch command line. */
  optional?: boolean;
  input: InputSpec;
  /** Detectors: output layout, anchor strides (YOLOX) and class names by index. */
  detection?: { format?: 'yolox' | 'yolov5' | 'yolov8'; strides?: number[]; classes: string[] };
  /**
   * Encoders: the feature-map tensor to tap ('' = input of the last global pool) and its channel count;
   * `midLevel`: feature maps of earlier layers pooled beside it (encoder.midLevel), each with its
   * channel count and its weight in the concatenated vector.
   */
  features?: { tensor: string; dim: number; midLevel?: MidLevelTensor[] };
}

export interface Manifest {
  models: Record<string, ModelEntry>;
}

let cachedManifest: Manifest | undefined;

/** Reads models/manifest.json (once per process). */
export function loadManifest(): Manifest {
  cachedManifest ??= JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as Manifest;
  return cachedManifest;
}

/** The manifest entry for `name`, or INVALID_CONFIG naming the known models. */
export function modelEntry(name: string, manifest: Manifest = loadManifest()): ModelEntry {
  const entry = manifest.models[name];
  if (!entry) {
    throw new FindthisError(
      'INVALID_CONFIG',
      `Unknown model ${JSON.stringify(name)}: expected one of ${Object.keys(manifest.models).join(', ')} (models/manifest.json)`,
    );
  }
  return entry;
}

/** Where model files are looked for, in order. `modelsDir` (if given) comes first. */
export function modelSearchDirs(modelsDir?: string): string[] {
  const dirs = [
    modelsDir,
    process.env.MODELS_DIR || undefined,
    join(PROJECT_ROOT, 'models'),
    resolve(PROJECT_ROOT, '..', 'shared', 'models'),
  ].filter((dir): dir is string => Boolean(dir));
  return [...new Set(dirs.map((dir) => resolve(dir)))];
}

/** The first existing path of `file` in the search dirs, or undefined. */
export function findModelFile(file: string, modelsDir?: string): string | undefined {
  for (const dir of modelSearchDirs(modelsDir)) {
    const path = join(dir, file);
    if (existsSync(path)) return path;
  }
  return undefined;
}

export interface ResolvedModel {
  name: string;
  path: string;
  entry: ModelEntry;
}

/**
 * Resolves a manifest model name to its file on disk. Throws MODEL_NOT_FOUND naming the file, the
 * places searched, and how to get it.
 */
export function resolveModel(name: string, options: { modelsDir?: string } = {}): ResolvedModel {
  const entry = modelEntry(name);
  const path = findModelFile(entry.file, options.modelsDir);
  if (!path) {
    const how = entry.url ? `run \`npm run models:fetch -- ${name}\` or download ${entry.url}` : 'it has no public address; copy it by hand';
    throw new FindthisError(
      'MODEL_NOT_FOUND',
      `Model ${name} (${entry.file}) is in none of ${modelSearchDirs(options.modelsDir).join(', ')}: ${how} into ${join(PROJECT_ROOT, 'models')}`,
    );
  }
  return { name, path, entry };
}

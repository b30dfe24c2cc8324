/** Pooling of the feature map: global GeM, or regional GeM over the R-MAC grid (see `regionalGem`). */
export const POOLINGS = ['gem', 'rgem'] as const;
export type Pooling = (typeof POOLINGS)[number];

/**
 * How crops are turned into vectors. Plain JSON values: the service's config schema is written from this type.
 */
export interface EncoderOptions {
  /** Manifest name of the encoder model. Default `'mobilenetv2_int8'`. */
  model: string;
  /**
   * Square side in pixels that every crop is resized to, 32..1024 (multiples of 32 keep the feature
   * grid exact). Default 224. The input's height/width are made symbolic, so 320 or 416 also run.
   */
  inputSize: number;
  /**
   * Square side the whole-image object is resized to, 0 or 32..1024; 0 means `inputSize`. Default 416:
   * the whole photo carries the answer most often and gains most from resolution (grocery val, whitened:
   * recall@1 0.71 at 224, 0.83 at 320, 0.86 at 416, regional GeM), while detections are small regions
   * that an upscale would not sharpen, so they stay at `inputSize` and cost less.
   */
  imageInputSize: number;
  /**
   * Pooling of the whole-image object, and of a search photo's regions (at `inputSize`): they are
   * compared with whole catalog photos, so they are pooled alike. `'rgem'` (default): GeM over the
   * R-MAC regions, L2-normalised and summed; `'gem'`: one global GeM. Regional pooling raised grocery
   * val recall@1 by 5–10 points at every input size: a product filling part of a shelf photo weighs as
   * much as the shelf. On composed scenes it raised region recall@1 from 68.0% to 71.6%.
   */
  pooling: Pooling;
  /**
   * Pooling of each detection crop of a catalog photo. Default `'gem'`: a crop is already one product, tight in its box,
   * and its 7×7 map has little to divide; regional pooling there measured the same recall (grocery,
   * catalog B whitened: recall@1 85.1 either way, recall@5 98.3 vs 98.0) for 0.7 ms more per crop.
   */
  cropPooling: Pooling;
  /** R-MAC levels wherever `'rgem'` is used, 1..5: level l adds l×l regions. Default 3 (14 regions on a square map). */
  regionLevels: number;
  /** GeM pooling exponent p, 1..10 (1 = average pooling, large = max pooling). Default 3 (cirtorch). */
  gemP: number;
  /**
   * Name of the feature-map tensor to tap. Default `''`: the manifest's `featureTensor`, or else the
   * input of the last (QLinear)GlobalAveragePool node.
   */
  featureTensor: string;
  /**
   * Also pool the mid-level feature maps the model's manifest names (MobileNetV2: block 13's expanded
   * 576 channels at stride 16, weight 2), each on its own and concatenated with the feature map's
   * vector. Default false. Whitened, it finds single product photos better (grocery val in catalog B,
   * nothing judged: recall@1 83.1% → 87.2%) but not the regions of a photo of several (52.0% →
   * 52.8% of regions), and moves the acceptance model's defaults (docs/design.md, "Mid-level feature
   * maps"). A catalog is built with one setting or the other: its vectors' length and identity differ,
   * so turning it on means ingesting again.
   */
  midLevel: boolean;
  /** onnxruntime intra-op threads for this session, 1..64. Default 2. */
  threads: number;
}

export const DEFAULT_ENCODER_OPTIONS: EncoderOptions = {
  model: 'mobilenetv2_int8',
  inputSize: 224,
  imageInputSize: 416,
  pooling: 'rgem',
  cropPooling: 'gem',
  regionLevels: 3,
  gemP: 3,
  featureTensor: '',
  midLevel: false,
  threads: 2,
};

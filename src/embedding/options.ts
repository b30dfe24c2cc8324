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
  /** GeM pooling exponent p, 1..10 (1 = average pooling, large = max pooling). Default 3 (cirtorch). */
  gemP: number;
  /**
   * Name of the feature-map tensor to tap. Default `''`: the manifest's `featureTensor`, or else the
   * input of the last (QLinear)GlobalAveragePool node.
   */
  featureTensor: string;
  /** onnxruntime intra-op threads for this session, 1..64. Default 2. */
  threads: number;
}

export const DEFAULT_ENCODER_OPTIONS: EncoderOptions = {
  model: 'mobilenetv2_int8',
  inputSize: 224,
  gemP: 3,
  featureTensor: '',
  threads: 2,
};

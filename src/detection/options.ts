/** Output layouts the detector can decode. `auto` recognises the layout from the output tensor's shape. */
export const DETECTOR_FORMATS = ['auto', 'yolox', 'yolov5', 'yolov8'] as const;
export type DetectorFormat = (typeof DETECTOR_FORMATS)[number];

/**
 * How objects are detected. Plain JSON values: the service's config schema is written from this type.
 */
export interface DetectorOptions {
  /** Manifest name of the detector model. Default `'yolox_nano'`. */
  model: string;
  /**
   * Output layout override. Default `'auto'`: the manifest's `format`, or else recognised from the
   * output shape (`[1,N,85]` with a 3549-row YOLOX grid → yolox, `[1,N,5+C]` → yolov5, `[1,4+C,N]` → yolov8).
   */
  format: DetectorFormat;
  /** Minimum detection score (objectness × class score for YOLOX/v5, class score for v8), 0..1. Default 0.3. */
  scoreThreshold: number;
  /** IoU above which a lower-scored box of the same class is suppressed (class-aware NMS), 0..1. Default 0.45. */
  iouThreshold: number;
  /** Most detections kept per image, highest score first, 0..300. Default 20. */
  maxDetections: number;
  /** Boxes whose shorter side is below this many original-image pixels are dropped, ≥ 0. Default 16. */
  minBoxSize: number;
  /** Class names to keep; empty keeps every class. Default `[]`. */
  classAllow: string[];
  /** Class names to drop (applied after `classAllow`). Default `['person']`: hands and shoppers are not products. */
  classDeny: string[];
  /**
   * Whether an image smaller than the model's input size is enlarged to it. Default true: enlarged,
   * the 348 × 348 grocery photos yield more and better boxes (recall@1 0.3–0.6 points higher,
   * docs/benchmarks.md, Retrieval quality). False runs such a photo at 352 × 352: about 0.7× the detector's time.
   */
  upscale: boolean;
  /**
   * Objectness (YOLOX/v5; best class score for v8) from which a box becomes a class-agnostic
   * proposal for search, 0..1 (1 = no proposals). Default 0.05: COCO classes name few groceries
   * (milk cartons, onions, cucumbers), but the objectness head still fires on them, if weakly.
   */
  proposalObjectness: number;
  /**
   * onnxruntime intra-op threads for this session, 1..64. Default 1: YOLOX-Nano's small layers gain
   * little from a second thread (1.1–1.3× faster for about 1.35× the CPU), and on its own thread
   * (`ownThread`) it runs beside the encoder, which uses the other core.
   */
  threads: number;
  /**
   * Whether the detector runs on a worker thread of its own, beside the encoder's run on the whole
   * photo, rather than before it on the extractor's thread. Default true: a search took 0.89–0.93×
   * the time for 0.92× the CPU, for about 53 MB more resident memory (docs/design.md, "The detector
   * beside the encoder").
   */
  ownThread: boolean;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  model: 'yolox_nano',
  format: 'auto',
  scoreThreshold: 0.3,
  iouThreshold: 0.45,
  maxDetections: 20,
  minBoxSize: 16,
  classAllow: [],
  classDeny: ['person'],
  upscale: true,
  proposalObjectness: 0.05,
  threads: 1,
  ownThread: true,
};

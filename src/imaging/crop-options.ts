/** Which regions of an image are embedded. Plain JSON values: the service's config schema is written from this type. */
export interface CropOptions {
  /**
   * Context added around each detection box before cropping, as a fraction of the box's width and
   * height on each side, 0..1. Default 0 (the box as detected), clipped to the image.
   */
  padding: number;
  /**
   * Most objects embedded per image, counting the whole image, 1..100. Default 6: the whole image
   * plus the 5 best detections. Each detection costs about 3 ms (encoder run, resize, pooling with
   * MobileNetV2), and in store photos the detections after the first few are mostly more pieces of
   * the same pile of fruit.
   */
  maxObjects: number;
}

export const DEFAULT_CROP_OPTIONS: CropOptions = {
  padding: 0,
  maxObjects: 6,
};

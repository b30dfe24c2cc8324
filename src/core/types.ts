/** Data shapes shared by several pipeline stages. Types only. */

/** A box in original-image pixels: left, top, right, bottom (x2 > x1, y2 > y1). */
export type BBox = [x1: number, y1: number, x2: number, y2: number];

/** One object found in an image, before embedding. The whole image is the object labelled `image`. */
export interface ImageObject {
  label: string;
  /** Detector confidence in 0..1 (1 for the whole image). */
  score: number;
  bbox: BBox;
}

/** An object with its L2-normalised feature vector. */
export interface EmbeddedObject extends ImageObject {
  vector: Float32Array;
}

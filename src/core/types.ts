/** Data shapes shared by several pipeline stages. */

/** A box in original-image pixels: left, top, right, bottom (x2 > x1, y2 > y1). */
export type BBox = [x1: number, y1: number, x2: number, y2: number];

/**
 * What an object is: the whole photo, or a region of it a detector found. Code decides by kind; the
 * label is what the API shows (`image` for the whole photo, the detector's class for a region).
 */
export type ObjectKind = 'whole' | 'region';

/** The label the whole photo carries in the API and in the catalog. */
export const WHOLE_IMAGE_LABEL = 'image';

/** A labelled box, as a detector reports it. */
export interface LabelledBox {
  label: string;
  /** Detector confidence in 0..1 (1 for the whole image). */
  score: number;
  bbox: BBox;
}

/** One object found in an image, before embedding: the whole photo or a detected region. */
export interface ImageObject extends LabelledBox {
  kind: ObjectKind;
}

/** An object with its L2-normalised feature vector. */
export interface EmbeddedObject extends ImageObject {
  vector: Float32Array;
}

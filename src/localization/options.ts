/**
 * How a search photo is cut into regions. Plain JSON values: the service's config schema is written
 * from this type. Catalog photos (ingest) keep the detector's class-aware detections.
 */
export interface LocalizationOptions {
  /**
   * Photo pixels per region of the region budget: a photo gets ⌊width × height / pixelsPerRegion⌋
   * regions besides the whole photo, at most `maxRegions`. Default 40,000: a 348 px photo of one
   * product gets 3, a 640 × 480 photo 7, a 1024 × 768 photo of a table of products 10 (capped).
   * Each region is one more 224 px encoder run (a large one, about two): on a 348 px store photo the
   * regions changed the answer for one photo in a hundred, while they find most products of a photo
   * of several.
   */
  pixelsPerRegion: number;
  /** Most regions per photo besides the whole photo, 0..64. Default 10 (each costs about 3 ms). */
  maxRegions: number;
  /** A region overlapping a better one by more IoU than this is dropped, 0..1. Default 0.3. */
  iouThreshold: number;
  /**
   * A region lying this much (share of the smaller one's area) inside or around a better one that
   * looks like the same product is part of its pile: the better one grows to hold it, and it is not a
   * region of its own. A pile of apples is one product, not five, 0..1. Default 0.5.
   */
  containment: number;
  /**
   * A region inside or around a better one (see `containment`) shows the same product when both are
   * closest to the same product prototype, or when their own vectors (GeM of their boxes on the
   * photo's feature map, in the indexes' space) have at least this cosine, 0..1 (1: the prototypes
   * alone). Default 0.5: one lemon of a pile can sit nearer a melon's prototype than the pile does,
   * yet it looks like the pile.
   */
  pileSimilarity: number;
  /**
   * Proposals whose shorter side is under this many pixels of the decoded photo are not regions, 0..4,096.
   * Default 32: such a crop is enlarged seven times or more to the encoder's 224, and its vector says
   * more about the blur than the object. On composed grocery scenes these were parts of a product
   * (one apple of a pile) spending the region budget; in everyday photos, a 30 px speck matched an
   * aubergine with the highest confidence of the photo.
   */
  minRegionSide: number;
  /**
   * Regions whose shorter side has at least this many pixels of the decoded photo are encoded at
   * `largeRegionInputSize` instead of the encoder's `inputSize`, 0..4,096 (0 = never). Default 128: a
   * product that fills a fair part of a large photo keeps detail that 224 px throws away, while a
   * smaller region would be enlarged more than 2.5 times, and a speck enlarged that much can look like
   * a product. On composed grocery scenes (docs/design.md, "Large regions at 320 px") answer recall
   * rose by 7–10 points at about the same precision.
   */
  largeRegionSide: number;
  /**
   * A region covering more than this share of the photo's area stays at `inputSize`, 0..1. Default 0.4:
   * the whole photo, encoded at the encoder's `imageInputSize`, already shows it in detail. On 348 px
   * photos of one product such regions were four in five of the large ones, and encoding them at 320
   * cost a tenth more CPU per search for no measurable recall.
   */
  largeRegionMaxShare: number;
  /** Input side for large regions (see `largeRegionSide`), 32..1,024. Default 320. */
  largeRegionInputSize: number;
}

export const DEFAULT_LOCALIZATION_OPTIONS: LocalizationOptions = {
  pixelsPerRegion: 40_000,
  maxRegions: 10,
  iouThreshold: 0.3,
  containment: 0.5,
  pileSimilarity: 0.5,
  minRegionSide: 32,
  largeRegionSide: 128,
  largeRegionMaxShare: 0.4,
  largeRegionInputSize: 320,
};

/** The input side a search photo's region is encoded at: `largeRegionInputSize` for a large region (see above), else `inputSize`. */
export function regionInputSize(region: { width: number; height: number }, photo: { width: number; height: number }, options: LocalizationOptions, inputSize: number): number {
  const { largeRegionSide, largeRegionMaxShare, largeRegionInputSize } = options;
  const large = largeRegionSide > 0 && Math.min(region.width, region.height) >= largeRegionSide && region.width * region.height <= largeRegionMaxShare * photo.width * photo.height;
  return large ? largeRegionInputSize : inputSize;
}

/**
 * Turns an uploaded buffer into raw RGB pixels, once per image: format check first (by signature,
 * format.ts: photos only), header check (size limit, zero size), then EXIF auto-orientation and a
 * decode bounded in time. Truncated files are refused, not decoded grey.
 * Photos larger than `maxSide` are decoded shrunk to it: a 12 MP phone photo carries far more pixels
 * than a 416 detector input and 224 crops use, and every later stage costs in proportion to them.
 */
import sharp from 'sharp';
import type { SharpOptions } from 'sharp';
import { FindthisError } from '../core/errors.js';
import { sniffPhotoFormat } from './format.js';

/** Decoded pixels: 8-bit RGB, row-major, 3 bytes per pixel, after EXIF orientation. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** The photo's own size (after EXIF orientation) when these pixels were shrunk on decode; absent at full size. */
  original?: { width: number; height: number };
}

/** sharp input options shared by the header read and the decode: refuse truncated data and oversized images. */
function inputOptions(maxPixels: number): SharpOptions {
  return { failOn: 'truncated', limitInputPixels: maxPixels };
}

function decodeError(error: unknown, format: string, timeoutSeconds: number): FindthisError {
  const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  if (/^timeout:/.test(reason)) {
    return new FindthisError('DECODE_TIMEOUT', `Decoding the ${format} image took longer than the limit of ${timeoutSeconds} s`, { cause: error });
  }
  // Prebuilt libvips decodes AVIF but not HEVC-compressed HEIF (HEIC): refused as a format, not as corrupt.
  if (format === 'heif' && /heif|codec|compression/i.test(reason)) {
    return new FindthisError('UNSUPPORTED_FORMAT', `The upload is HEIF in a codec this build does not decode (${reason}); send JPEG, PNG, WebP or AVIF`, { cause: error });
  }
  return new FindthisError('INVALID_IMAGE', `The upload is not a decodable ${format} image (${reason})`, { cause: error });
}

/**
 * Decodes `buffer` to RGB after applying its EXIF orientation; when its long side exceeds `maxSide`
 * (0 = never), shrunk to fit `maxSide × maxSide` (JPEGs shrink in the DCT while decoding, which also
 * makes them decode several times faster), with `original` telling the photo's own size.
 * Decoding takes at most `timeoutSeconds` (0 = no limit; sharp checks it between tiles of work).
 * Throws EMPTY_IMAGE (no bytes, zero width/height), UNSUPPORTED_FORMAT (SVG, PDF, ...: judged from
 * the first bytes, before any decoder runs), IMAGE_TOO_LARGE (more than `maxPixels`, judged from the
 * header before any pixel is decoded), DECODE_TIMEOUT, or INVALID_IMAGE (not an image, truncated, corrupt).
 */
export async function decodeImage(buffer: Uint8Array, maxPixels: number, maxSide = 0, timeoutSeconds = 0): Promise<RawImage> {
  if (buffer.length === 0) throw new FindthisError('EMPTY_IMAGE', 'The image has zero bytes');
  const format = sniffPhotoFormat(buffer);
  try {
    // One pass through sharp: its pixel limit is checked on the header, before any pixel is decoded
    // (a separate metadata() call first would cost another trip to the thread pool).
    let pipeline = sharp(buffer, inputOptions(maxPixels)).rotate(); // EXIF auto-orient: phone photos are often stored sideways
    if (maxSide > 0) pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
    if (timeoutSeconds > 0) pipeline = pipeline.timeout({ seconds: timeoutSeconds });
    const { data, info } = await pipeline.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.width === 0 || info.height === 0) throw new FindthisError('EMPTY_IMAGE', `The image has zero size (${info.width}×${info.height})`);
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    const image: RawImage = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    // Only a photo that now fills maxSide can have been shrunk: its own size is read from the header.
    if (maxSide > 0 && Math.max(info.width, info.height) >= maxSide) {
      const { autoOrient } = await sharp(buffer, { limitInputPixels: false }).metadata();
      if (autoOrient.width !== info.width || autoOrient.height !== info.height) image.original = { ...autoOrient };
    }
    return image;
  } catch (error) {
    if (error instanceof FindthisError) throw error;
    if (error instanceof Error && error.message.includes('exceeds pixel limit')) throw await tooLarge(buffer, maxPixels);
    throw decodeError(error, format, timeoutSeconds);
  }
}

/** IMAGE_TOO_LARGE with the header's dimensions (read only on this error path). */
async function tooLarge(buffer: Uint8Array, maxPixels: number): Promise<FindthisError> {
  const { width = 0, height = 0 } = await sharp(buffer, { limitInputPixels: false }).metadata();
  return new FindthisError('IMAGE_TOO_LARGE', `The image has ${width}×${height} = ${width * height} pixels, more than the limit of ${maxPixels}`);
}

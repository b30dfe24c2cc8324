/**
 * Judges an upload's format from its first bytes, before any decoder sees it. findthis accepts the
 * raster photo formats a shop receives; libvips on its own would also pick a loader by content for
 * SVG (a 756-byte SVG with a filter took 30 s to render), PDF and its other vector or exotic loaders.
 * Only buffers whose signature is on the allow-list below ever reach sharp.
 */
import { FindthisError } from '../core/errors.js';

/** The photo formats findthis decodes (GIF and TIFF: the first frame or page). */
export const PHOTO_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif'] as const;
export type PhotoFormat = (typeof PHOTO_FORMATS)[number];

/**
 * File name extensions of each photo format: what the ingest command picks up in a folder. The bytes
 * still decide (sniffPhotoFormat), so a mislabelled file is refused by its content.
 */
export const PHOTO_EXTENSIONS: Readonly<Record<PhotoFormat, readonly string[]>> = {
  jpeg: ['.jpg', '.jpeg'],
  png: ['.png'],
  webp: ['.webp'],
  gif: ['.gif'],
  tiff: ['.tif', '.tiff'],
  avif: ['.avif'],
  heif: ['.heic', '.heif'],
};

const ascii = (bytes: Uint8Array, start: number, end: number): string => String.fromCharCode(...bytes.subarray(start, end));
const startsWith = (bytes: Uint8Array, signature: readonly number[]): boolean => signature.every((byte, i) => bytes[i] === byte);

/** ISO-BMFF brands (bytes 8..12 after `ftyp`): AVIF is AV1 in HEIF; the others are HEIF (usually HEVC). */
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/** Recognised formats that are refused, with the name the error message gives them. */
const REFUSED: Array<{ name: string; test: (bytes: Uint8Array, head: string) => boolean }> = [
  { name: 'SVG (vector, scriptable)', test: (_b, head) => /<svg[\s>]/i.test(head) },
  { name: 'PDF', test: (_b, head) => head.startsWith('%PDF') },
  { name: 'PostScript', test: (b, head) => head.startsWith('%!') || startsWith(b, [0xc5, 0xd0, 0xd3, 0xc6]) },
  { name: 'HTML', test: (_b, head) => /^\s*<(!doctype html|html)/i.test(head) },
  { name: 'XML', test: (_b, head) => /^\s*<\?xml/i.test(head) },
  { name: 'BMP', test: (_b, head) => head.startsWith('BM') },
  { name: 'JPEG 2000', test: (b) => startsWith(b, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(b, [0xff, 0x4f, 0xff, 0x51]) },
  { name: 'JPEG XL', test: (b) => startsWith(b, [0xff, 0x0a]) || startsWith(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20]) },
  { name: 'Photoshop', test: (_b, head) => head.startsWith('8BPS') },
  { name: 'ICO', test: (b) => startsWith(b, [0, 0, 1, 0]) },
  { name: 'FITS', test: (_b, head) => head.startsWith('SIMPLE  =') },
  { name: 'Radiance HDR', test: (_b, head) => head.startsWith('#?RADIANCE') || head.startsWith('#?RGBE') },
  { name: 'PNM', test: (_b, head) => /^P[1-7F f]\s/.test(head) },
  { name: 'libvips native', test: (b) => startsWith(b, [0x08, 0xf2, 0xa6, 0xb6]) || startsWith(b, [0xb6, 0xa6, 0xf2, 0x08]) },
];

/**
 * The photo format of `bytes`, judged by its signature. Throws UNSUPPORTED_FORMAT for a recognised
 * format findthis refuses (SVG, PDF, ...: named in the message) and INVALID_IMAGE for bytes that
 * are no known image at all.
 */
export function sniffPhotoFormat(bytes: Uint8Array): PhotoFormat {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  // Classic TIFF (II*\0, MM\0*) and BigTIFF (II+\0, MM\0+).
  if (['49492a00', '4d4d002a', '49492b00', '4d4d002b'].includes(Buffer.from(bytes.subarray(0, 4)).toString('hex'))) return 'tiff';
  if (ascii(bytes, 4, 8) === 'ftyp') {
    const brand = ascii(bytes, 8, 12);
    if (AVIF_BRANDS.has(brand)) return 'avif';
    if (HEIF_BRANDS.has(brand)) return 'heif';
    throw new FindthisError('UNSUPPORTED_FORMAT', `The upload is an ISO media file of brand ${JSON.stringify(brand)} (video or other), not a photo; ${ACCEPTED}`);
  }
  // Text formats may start with a BOM, white space or comments: look at the first kilobyte.
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  const refused = REFUSED.find(({ test }) => test(bytes, head));
  if (refused) throw new FindthisError('UNSUPPORTED_FORMAT', `The upload is ${refused.name}, which findthis does not accept; ${ACCEPTED}`);
  throw new FindthisError('INVALID_IMAGE', `The upload is not an image: its first bytes match no known format; ${ACCEPTED}`);
}

const ACCEPTED = 'send a photo as JPEG, PNG, WebP, AVIF/HEIF, GIF or TIFF';

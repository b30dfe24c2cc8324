/** Image buffers made in tests. */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/**
 * A PNG whose header claims `width × height` (with a valid CRC) but whose pixel data is 2×2: only a
 * check of the header can refuse it as too large, since decoding it fails.
 */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#fff' } }).png().toBuffer();
  png.writeUInt32BE(width, 16); // IHDR data starts at byte 16: width, height, ...
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

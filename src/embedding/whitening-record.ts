/**
 * Learned whitening as stored bytes (the data of a stored transform, see vector-transform.ts): magic
 * "FTWH", format version, JSON header length, JSON header (dimensions, shrinkage, what it was learned from), then
 * the mean and the projection as little-endian float32.
 */
import { bytesOf } from '../core/bytes.js';
import { FindthisError } from '../core/errors.js';
import type { Whitening } from './whitening.js';

const WHITENING_MAGIC = 'FTWH';
const WHITENING_VERSION = 1;

/** Serialises whitening for storage: magic, version, JSON header length, JSON header, mean, projection. */
export function whiteningToBuffer(whitening: Whitening): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      inputDim: whitening.inputDim,
      outputDim: whitening.outputDim,
      shrinkage: whitening.shrinkage,
      learnedFrom: whitening.learnedFrom,
    }),
    'utf8',
  );
  const prefix = Buffer.alloc(12);
  prefix.write(WHITENING_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(WHITENING_VERSION, 4);
  prefix.writeUInt32LE(header.byteLength, 8);
  return Buffer.concat([prefix, header, bytesOf(whitening.mean), bytesOf(whitening.projection)]);
}

/** Reads what `whiteningToBuffer` wrote; a wrong magic, version or length is INDEX_CORRUPT. */
export function whiteningFromBuffer(bytes: Buffer): Whitening {
  const corrupt = (why: string) => new FindthisError('INDEX_CORRUPT', `Stored whitening is unreadable: ${why}`);
  if (bytes.byteLength < 12 || bytes.toString('latin1', 0, 4) !== WHITENING_MAGIC) throw corrupt('not a whitening record');
  const version = bytes.readUInt32LE(4);
  if (version !== WHITENING_VERSION) throw corrupt(`expected format version ${WHITENING_VERSION}, but got ${version}`);
  const headerBytes = bytes.readUInt32LE(8);
  let header: Omit<Whitening, 'mean' | 'projection'>;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + headerBytes)) as Omit<Whitening, 'mean' | 'projection'>;
  } catch {
    throw corrupt('its header is not JSON');
  }
  const { inputDim, outputDim } = header;
  if (!Number.isInteger(inputDim) || !Number.isInteger(outputDim) || inputDim < 1 || outputDim < 1) {
    throw corrupt(`expected positive integer dimensions, but got ${inputDim} and ${outputDim}`);
  }
  const expected = 12 + headerBytes + 4 * (inputDim + inputDim * outputDim);
  if (bytes.byteLength !== expected) throw corrupt(`expected ${expected} bytes, but got ${bytes.byteLength}`);
  const floats = new Float32Array(inputDim + inputDim * outputDim);
  Buffer.from(floats.buffer).set(bytes.subarray(12 + headerBytes));
  return { ...header, mean: floats.subarray(0, inputDim), projection: floats.subarray(inputDim) };
}

import { readFile } from 'node:fs/promises';

/**
 * Reads a 2-D little-endian float32 NumPy `.npy` file (format 1.0–3.0, C order), as written by
 * `numpy.save(path, array.astype('<f4'))`. Returns the rows and the row length.
 */
export async function readNpyFloat32(path: string): Promise<{ rows: number; dim: number; data: Float32Array }> {
  const bytes = await readFile(path);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path} is not a .npy file`);
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(header);
  if (descr !== '<f4' || fortran !== 'False' || shape === null) {
    throw new Error(`${path}: expected a 2-D C-order '<f4' array, but got header ${header.trim()}`);
  }
  const rows = Number(shape[1]);
  const dim = Number(shape[2]);
  const offset = headerStart + headerLength;
  if (bytes.byteLength - offset !== rows * dim * 4) {
    throw new Error(`${path}: expected ${rows * dim * 4} data bytes for shape (${rows}, ${dim}), but got ${bytes.byteLength - offset}`);
  }
  const data = new Float32Array(rows * dim);
  Buffer.from(data.buffer).set(bytes.subarray(offset));
  return { rows, dim, data };
}

import { readFile, writeFile } from 'node:fs/promises';

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

/** Writes rows of equal length as a 2-D little-endian float32 `.npy` (format 1.0), readable by readNpyFloat32 and numpy.load. */
export async function writeNpyFloat32(path: string, rows: readonly Float32Array[]): Promise<void> {
  const dim = rows[0]?.length ?? 0;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${dim}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const data = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => data.set(row, i * dim));
  await writeFile(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
}

import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { bytesOf } from '../core/bytes.js';
import { FindthisError } from '../core/errors.js';

/**
 * The one on-disk container for every index file:
 *
 *   "FTIX" | formatVersion u32 | headerBytes u32 | payloadBytes u64 | crc32(header + payload) u32
 *   | header (UTF-8 JSON: kind, dim, params, meta, section sizes …) | payload (the sections, back to back)
 *
 * all little-endian. The header is plain JSON at the start of the file, so `head -c 2000 lsh.ftix`
 * shows the dimension and params an index was built with. Written atomically: temp file in the same
 * directory, fsync, rename, fsync of the directory.
 */
export const INDEX_FORMAT_VERSION = 1;
const MAGIC = 'FTIX';
const PREFIX_BYTES = 24;

export interface IndexFileHeader {
  kind: string;
  dim: number;
  [key: string]: unknown;
}

export interface IndexFileContents<H extends IndexFileHeader> {
  header: H;
  sections: Map<string, Buffer>;
}

export function indexFilePath(dir: string, name: string): string {
  return join(dir, `${name}.ftix`);
}

/** A Uint32Array copy of a section (copied so the result is aligned whatever the buffer's offset). */
export function uint32Section(bytes: Buffer): Uint32Array {
  const out = new Uint32Array(bytes.byteLength >>> 2);
  bytesOf(out).set(bytes.subarray(0, out.byteLength));
  return out;
}

export async function writeIndexFile(
  path: string,
  header: IndexFileHeader,
  sections: Record<string, Buffer>,
): Promise<void> {
  const names = Object.keys(sections);
  const fullHeader = { ...header, sections: names.map((name) => ({ name, bytes: sections[name]!.byteLength })) };
  const headerBytes = Buffer.from(JSON.stringify(fullHeader), 'utf8');
  let payloadBytes = 0;
  let crc = crc32(headerBytes);
  for (const name of names) {
    payloadBytes += sections[name]!.byteLength;
    crc = crc32(sections[name]!, crc);
  }
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(INDEX_FORMAT_VERSION, 4);
  prefix.writeUInt32LE(headerBytes.byteLength, 8);
  prefix.writeBigUInt64LE(BigInt(payloadBytes), 12);
  prefix.writeUInt32LE(crc, 20);

  await writeAtomically(path, [prefix, headerBytes, ...names.map((name) => sections[name]!)]);
}

/** Writes chunks to a temp file beside `path`, fsyncs, renames over `path` and fsyncs the directory. */
export async function writeAtomically(path: string, chunks: Buffer[]): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const file = await open(temp, 'w');
  try {
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.byteLength) {
        const { bytesWritten } = await file.write(chunk, written, chunk.byteLength - written);
        written += bytesWritten;
      }
    }
    await file.sync();
  } catch (error) {
    await file.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await file.close();
  await rename(temp, path);
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

function corrupt(path: string, why: string): FindthisError {
  return new FindthisError('INDEX_CORRUPT', `Index file ${path} ${why}`);
}

/**
 * Reads and verifies an index file: magic, format version, lengths and checksum, then that it holds
 * `kind` at dimension `dim`. Throws INDEX_CORRUPT (missing, truncated, bad checksum) or INDEX_MISMATCH
 * (other format version, kind or dimension).
 */
export async function readIndexFile<H extends IndexFileHeader>(
  path: string,
  kind: string,
  dim: number,
): Promise<IndexFileContents<H>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw corrupt(path, code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? String(error)})`);
  }
  if (bytes.byteLength < PREFIX_BYTES || bytes.toString('latin1', 0, 4) !== MAGIC) {
    throw corrupt(path, 'is not a findthis index file (bad magic or shorter than its prefix)');
  }
  const version = bytes.readUInt32LE(4);
  if (version !== INDEX_FORMAT_VERSION) {
    throw new FindthisError(
      'INDEX_MISMATCH',
      `Index file ${path} has format version ${version}, expected ${INDEX_FORMAT_VERSION}`,
    );
  }
  const headerBytes = bytes.readUInt32LE(8);
  const payloadBytes = Number(bytes.readBigUInt64LE(12));
  const expectedLength = PREFIX_BYTES + headerBytes + payloadBytes;
  if (bytes.byteLength !== expectedLength) {
    throw corrupt(path, `is ${bytes.byteLength} bytes, expected ${expectedLength} (truncated or appended to)`);
  }
  const body = bytes.subarray(PREFIX_BYTES);
  if (crc32(body) !== bytes.readUInt32LE(20)) throw corrupt(path, 'fails its crc32 checksum');

  let header: H & { sections: { name: string; bytes: number }[] };
  try {
    header = JSON.parse(body.toString('utf8', 0, headerBytes));
  } catch {
    throw corrupt(path, 'has an unreadable header');
  }
  if (header.kind !== kind) {
    throw new FindthisError('INDEX_MISMATCH', `Index file ${path} holds a ${header.kind} index, expected ${kind}`);
  }
  if (header.dim !== dim) {
    throw new FindthisError('INDEX_MISMATCH', `Index file ${path} has dimension ${header.dim}, expected ${dim}`);
  }
  const sections = new Map<string, Buffer>();
  let offset = headerBytes;
  for (const { name, bytes: length } of header.sections) {
    sections.set(name, body.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== body.byteLength) throw corrupt(path, 'has section sizes that do not add up');
  return { header, sections };
}

export function requireSection(contents: IndexFileContents<IndexFileHeader>, name: string, path: string): Buffer {
  const section = contents.sections.get(name);
  if (section === undefined) throw corrupt(path, `lacks its "${name}" section`);
  return section;
}

/** Throws INDEX_MISMATCH naming the first key whose stored value differs from the expected one. */
export function checkSameValues(path: string, what: string, stored: unknown, expected: Record<string, unknown>): void {
  const storedRecord = (stored ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(expected), ...Object.keys(storedRecord)]);
  for (const key of keys) {
    if (storedRecord[key] !== expected[key]) {
      throw new FindthisError(
        'INDEX_MISMATCH',
        `Index file ${path} was built with ${what} ${key}=${JSON.stringify(storedRecord[key])}, now ${JSON.stringify(expected[key])}`,
      );
    }
  }
}

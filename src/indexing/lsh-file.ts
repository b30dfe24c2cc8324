import { FindthisError } from '../core/errors.js';
import { bytesOf } from '../core/bytes.js';
import { checkSameValues, indexFilePath, readIndexFile, requireSection, uint32Section, writeIndexFile } from './index-file.js';
import type { CentredHyperplanes } from './lsh-hyperplanes.js';
import type { IndexMeta, LshParams } from './types.js';
import type { VectorStore } from './vector-store.js';

/**
 * `lsh.ftix`, the LSH index's file in the common container (index-file.ts). It holds the params that
 * shape the keys, the caller's `meta`, the ids with their keys (all hashSize bits) and the hashing
 * centre; not the vectors (they are the catalog's). Random hyperplanes are re-drawn from the seed and
 * checked by checksum; learned ones (`planes` 'learned', once learned) are stored with their thresholds.
 * A file without the `planes` param is a random-planes index, as every file written before it existed.
 */

/** Stored keys re-computed at load to detect vectors that changed under the same ids. */
const LOAD_SAMPLE = 64;

/** A type, not an interface: readIndexFile wants a header assignable to its indexable IndexFileHeader. */
type LshFileHeader = {
  kind: string;
  dim: number;
  params: unknown;
  meta: unknown;
  count: number;
  centredAtSize: number;
  planesCrc32: number;
};

/** Writes `dir/lsh.ftix`; signatures[i · tableCount + t] is the key of ids[i] in table t. */
export async function writeLshFile(
  dir: string,
  params: LshParams,
  meta: IndexMeta,
  hyperplanes: CentredHyperplanes,
  ids: string[],
  signatures: Uint32Array,
): Promise<void> {
  await writeIndexFile(
    indexFilePath(dir, 'lsh'),
    {
      kind: 'lsh',
      dim: hyperplanes.planes.dim,
      params: buildParams(params),
      meta,
      count: ids.length,
      centredAtSize: hyperplanes.centredAtSize,
      planesCrc32: hyperplanes.planesCrc32(),
    },
    {
      ids: Buffer.from(JSON.stringify(ids), 'utf8'),
      signatures: bytesOf(signatures),
      centre: bytesOf(hyperplanes.centre),
      ...(hyperplanes.planesLearned ? { planes: bytesOf(hyperplanes.planes.rows), thresholds: bytesOf(hyperplanes.thresholds) } : {}),
    },
  );
}

/**
 * Reads `dir/lsh.ftix` for an index with these params and meta over `store`, which must hold exactly
 * the ids it was saved with. Restores the stored centre into `hyperplanes` and returns the keys by
 * slot (signatures[slot · tableCount + t]). Throws INDEX_CORRUPT (missing, truncated, checksum) or
 * INDEX_MISMATCH (dimension, build params, meta, hyperplanes, other ids, or vectors whose keys differ
 * from the stored ones: checked on a sample).
 */
export async function readLshFile(
  dir: string,
  store: VectorStore,
  params: LshParams,
  meta: IndexMeta,
  hyperplanes: CentredHyperplanes,
): Promise<Uint32Array> {
  const path = indexFilePath(dir, 'lsh');
  const contents = await readIndexFile<LshFileHeader>(path, 'lsh', store.dim);
  const { header } = contents;
  checkSameValues(path, 'LSH parameter', header.params, buildParams(params));
  checkSameValues(path, 'meta', header.meta, meta);
  const planes = contents.sections.get('planes');
  const thresholds = contents.sections.get('thresholds');
  if (planes === undefined && header.planesCrc32 !== hyperplanes.planesCrc32()) {
    throw new FindthisError('INDEX_MISMATCH', `Index file ${path} was hashed with other hyperplanes (generator changed)`);
  }
  const ids = JSON.parse(requireSection(contents, 'ids', path).toString('utf8')) as string[];
  const stored = uint32Section(requireSection(contents, 'signatures', path));
  const centre = requireSection(contents, 'centre', path);
  checkBytes(path, 'centre', centre, store.dim * 4);
  if (planes === undefined) {
    hyperplanes.restore(centre, header.centredAtSize);
  } else {
    checkBytes(path, 'planes', planes, hyperplanes.planes.rows.byteLength);
    checkBytes(path, 'thresholds', thresholds, hyperplanes.thresholds.byteLength);
    hyperplanes.restore(centre, header.centredAtSize, { planes, thresholds: thresholds! });
  }
  const { tableCount } = hyperplanes;
  if (ids.length !== store.size || stored.length !== ids.length * tableCount) {
    throw new FindthisError('INDEX_MISMATCH', `Index file ${path} holds ${ids.length} vectors, the catalog ${store.size}`);
  }
  const signatures = new Uint32Array(store.capacity * tableCount);
  ids.forEach((id, i) => {
    const slot = store.slotOf(id);
    if (slot === undefined) throw new FindthisError('INDEX_MISMATCH', `Index file ${path} holds id ${JSON.stringify(id)} that the catalog lacks`);
    signatures.set(stored.subarray(i * tableCount, (i + 1) * tableCount), slot * tableCount);
  });
  const check = new Uint32Array(tableCount);
  const step = Math.max(1, Math.floor(ids.length / LOAD_SAMPLE));
  for (let i = 0; i < ids.length; i += step) {
    const slot = store.slotOf(ids[i]!)!;
    hyperplanes.keys(store.vectorAt(slot), check, 0);
    for (let t = 0; t < tableCount; t++) {
      if (check[t] !== signatures[slot * tableCount + t]) {
        throw new FindthisError('INDEX_MISMATCH', `Index file ${path} has a signature for ${JSON.stringify(ids[i])} that its vector no longer gives`);
      }
    }
  }
  return signatures;
}

/**
 * The params that shape the stored keys (probeRadius, probes and rerank are query-time; vectorsPerBucket only
 * picks the bits buckets use). `planes` only when learned, so files written before it keep loading.
 */
function buildParams(params: LshParams): Record<string, number | string> {
  const { hashSize, numTables, seed, planes = 'random' } = params;
  return { hashSize, numTables, seed, ...(planes === 'random' ? {} : { planes }) };
}

function checkBytes(path: string, name: string, section: Buffer | undefined, bytes: number): void {
  if (section?.byteLength !== bytes) {
    throw new FindthisError('INDEX_CORRUPT', `Index file ${path} has ${section === undefined ? 'no' : `a ${section.byteLength}-byte`} ${name} section, expected ${bytes} bytes`);
  }
}

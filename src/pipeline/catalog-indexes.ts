/**
 * The life of a catalog's index caches under `<dataDir>/indexes`: opened beside the catalog (rebuilt
 * from the stored whole-photo vectors when missing or stale), rebuilt off the main thread into `indexes.next/`
 * and swapped in. SQLite holds the truth; these are caches of the transformed vectors.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeEncoder } from '../catalog/encoder-identity.js';
import type { Catalog } from '../catalog/catalog.js';
import { FindthisError } from '../core/errors.js';
import type { ObjectKind } from '../core/types.js';
import { IndexSet, type IndexMeta } from '../indexing/index-set.js';
import type { HnswParams, LshParams } from '../indexing/types.js';
import { buildIndexFilesOffThread, rowsOf } from './index-build-thread.js';
import { transformFromSpec, type VectorTransform } from '../embedding/vector-transform.js';

export interface CatalogIndexParams {
  lsh: LshParams;
  hnsw: HnswParams;
}

/**
 * What the indexes hold, and so what a search compares every object with, the whole photo and its
 * regions alike: whole catalog photos. A shelf photo resembling one apple cropped from another
 * product's photo is not a match (grocery val, whitened: whole-image recall@1 81.4% against every
 * stored object, 85% against whole images), and a region, pooled like a whole photo, finds its
 * product among whole photos more often than among everything (composed val scenes: region recall@1
 * 65.6% against everything with global GeM, 71.6% against whole photos with regional GeM;
 * docs/design.md). Detections, about three quarters of the stored vectors, stay in the catalog: the
 * acceptance model learns from them.
 */
export const INDEXED_KIND = 'whole' satisfies ObjectKind;

export function indexDirOf(dataDir: string): string {
  return join(dataDir, 'indexes');
}

/** Start-up messages: what was cleaned up or rebuilt, with counts and times. */
export type StartupLog = (message: string) => void;

/**
 * Loads the indexes from `<dataDir>/indexes`, building (on this thread) any that are missing or
 * stale. An `indexes.next/` left by an optimize that was interrupted (crash, kill) is removed first:
 * `indexes/` is still the complete set it was about to replace. Both are told to `log`.
 */
export async function openCatalogIndexes(
  catalog: Catalog,
  dataDir: string,
  index: CatalogIndexParams,
  transform: VectorTransform,
  log: StartupLog = () => undefined,
): Promise<IndexSet> {
  const staging = `${indexDirOf(dataDir)}.next`;
  if (existsSync(staging)) {
    rmSync(staging, { recursive: true, force: true });
    log(`start-up: removed ${staging}, left by an interrupted optimize`);
  }
  function* transformed(): Iterable<[string, Float32Array]> {
    for (const [id, vector] of catalog.vectors(INDEXED_KIND)) yield [id, transform.apply(vector)];
  }
  const started = performance.now();
  const { set, rebuilt } = await IndexSet.open(indexDirOf(dataDir), { dim: transform.outputDim, ...index }, transformed(), indexMeta(catalog, transform), { log });
  if (rebuilt.length > 0) {
    log(`start-up: rebuilt the ${rebuilt.join(' and ')} index${rebuilt.length > 1 ? 'es' : ''} from ${set.size} stored vectors in ${Math.round(performance.now() - started)} ms`);
  }
  return set;
}

/**
 * Rebuilds every index from the stored vectors under `transform`: built and saved on a worker thread
 * into `indexes.next/`, which then replaces `indexes/`, and loaded from there. Writes wait meanwhile
 * (ingest and delete await the rebuild); a write that slips in anyway makes the load find other ids
 * and rebuild that index here, so the result always matches the catalog.
 */
export async function rebuildCatalogIndexes(catalog: Catalog, dataDir: string, index: CatalogIndexParams, transform: VectorTransform): Promise<IndexSet> {
  const dir = indexDirOf(dataDir);
  const staging = `${dir}.next`;
  rmSync(staging, { recursive: true, force: true });
  const params = { dim: transform.outputDim, ...index };
  const meta = indexMeta(catalog, transform);
  const built = await buildIndexFilesOffThread(staging, params, meta, transform.spec, catalog.vectors(INDEXED_KIND));
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  const { set } = await IndexSet.open(dir, params, rowsOf(built.ids, built.vectors, params.dim), meta);
  return set;
}

function indexMeta(catalog: Catalog, transform: VectorTransform): IndexMeta {
  return { encoder: describeEncoder(catalog.encoder), transform: transform.id };
}

/** The transform stored in the catalog by the last optimize, if any. */
export function storedTransform(catalog: Catalog): VectorTransform | undefined {
  const stored = catalog.storedTransform();
  if (!stored) return undefined;
  if (stored.kind !== 'whitening') {
    throw new FindthisError('INDEX_MISMATCH', `Catalog ${catalog.file} stores a transform of kind ${stored.kind}; this version knows only whitening`);
  }
  return transformFromSpec({ kind: 'whitening', data: stored.data });
}

/** Stores `transform` in the catalog, so the next open indexes in the same space (identity stores nothing). */
export function saveTransform(catalog: Catalog, transform: VectorTransform): void {
  const { spec } = transform;
  catalog.saveTransform(spec.kind === 'whitening' ? { kind: spec.kind, data: Buffer.from(spec.data) } : undefined);
}

/**
 * Makes sure the manifest's model files are present and intact: finds each in the search places,
 * checks its size (and its sha256 once per size+mtime, remembered in models/.verified.json), and
 * downloads what is missing from its public address, writing atomically (temp file, then rename).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FindthisError } from '../core/errors.js';
import { PROJECT_ROOT, findModelFile, loadManifest, modelEntry, modelSearchDirs, type Manifest, type ModelEntry } from './manifest.js';

const VERIFIED_PATH = join(PROJECT_ROOT, 'models', '.verified.json');

interface VerifiedRecord {
  bytes: number;
  mtimeMs: number;
  sha256: string;
}

export type ModelStatus =
  | { name: string; state: 'ok' | 'fetched'; path: string }
  | { name: string; state: 'absent-no-address'; file: string };

export interface EnsureOptions {
  /** Models to ensure; default every non-optional model of the manifest. */
  names?: string[];
  /** Searched first, and where downloads go when given (else env MODELS_DIR, else the project's models/). */
  modelsDir?: string;
  /** Progress lines (downloads only). */
  log?: (line: string) => void;
  /** The manifest to satisfy; default models/manifest.json. */
  manifest?: Manifest;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function readVerified(): Record<string, VerifiedRecord> {
  try {
    return JSON.parse(readFileSync(VERIFIED_PATH, 'utf8')) as Record<string, VerifiedRecord>;
  } catch {
    return {}; // first run, or the record was removed: everything is hashed once more
  }
}

/** Checks size always, sha256 only when the file's size or mtime differ from the last verification. */
async function verifyFile(name: string, entry: ModelEntry, path: string, verified: Record<string, VerifiedRecord>): Promise<boolean> {
  const stat = statSync(path);
  if (stat.size !== entry.bytes) {
    throw new FindthisError(
      'MODEL_CHECKSUM',
      `Model ${name} at ${path} has ${stat.size} bytes, expected ${entry.bytes}: delete it and run npm run models:fetch`,
    );
  }
  const known = verified[path];
  if (known && known.bytes === stat.size && known.mtimeMs === stat.mtimeMs && known.sha256 === entry.sha256) return false;
  const sha256 = await sha256File(path);
  if (sha256 !== entry.sha256) {
    throw new FindthisError(
      'MODEL_CHECKSUM',
      `Model ${name} at ${path} has sha256 ${sha256}, expected ${entry.sha256}: delete it and run npm run models:fetch`,
    );
  }
  verified[path] = { bytes: stat.size, mtimeMs: stat.mtimeMs, sha256 };
  return true;
}

async function download(name: string, entry: ModelEntry, url: string, dest: string, log: (line: string) => void): Promise<void> {
  const partial = `${dest}.part`;
  mkdirSync(dirname(dest), { recursive: true });
  try {
    const response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(10 * 60_000) });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    const hash = createHash('sha256');
    let received = 0;
    let lastReport = 0;
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
      if (received - lastReport >= entry.bytes / 10) {
        lastReport = received;
        log(`  ${name}: ${Math.round((100 * received) / entry.bytes)}%`);
      }
    });
    await pipeline(body, createWriteStream(partial));
    const sha256 = hash.digest('hex');
    if (received !== entry.bytes || sha256 !== entry.sha256) {
      throw new FindthisError(
        'MODEL_CHECKSUM',
        `Downloaded ${entry.file} from ${url}: ${received} bytes, sha256 ${sha256}; expected ${entry.bytes} bytes, sha256 ${entry.sha256}`,
      );
    }
    renameSync(partial, dest);
  } catch (error) {
    rmSync(partial, { force: true });
    if (error instanceof FindthisError) throw error;
    throw new FindthisError(
      'MODEL_NOT_FOUND',
      `Could not download model ${name} (${entry.file}) from ${url}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}. ` +
        `Download it by hand and put it at ${dest} (or in any of ${modelSearchDirs(dirname(dest)).join(', ')}).`,
      { cause: error },
    );
  }
}

/**
 * Ensures every requested model is present and intact, downloading missing ones. Models without a
 * public address that are absent are reported (state 'absent-no-address'), not thrown, so that the
 * models which are present still pass. Throws MODEL_NOT_FOUND / MODEL_CHECKSUM otherwise.
 */
export async function ensureModels(options: EnsureOptions = {}): Promise<ModelStatus[]> {
  const manifest = options.manifest ?? loadManifest();
  const names = options.names?.length
    ? options.names
    : Object.entries(manifest.models).filter(([, entry]) => !entry.optional).map(([name]) => name);
  const log = options.log ?? (() => {});
  const verified = readVerified();
  let verifiedChanged = false;
  const statuses: ModelStatus[] = [];
  for (const name of names) {
    const entry = modelEntry(name, manifest);
    const found = findModelFile(entry.file, options.modelsDir);
    if (found) {
      verifiedChanged = (await verifyFile(name, entry, found, verified)) || verifiedChanged;
      statuses.push({ name, state: 'ok', path: found });
      continue;
    }
    if (!entry.url) {
      statuses.push({ name, state: 'absent-no-address', file: entry.file });
      continue;
    }
    const dest = join(options.modelsDir ?? (process.env.MODELS_DIR || join(PROJECT_ROOT, 'models')), entry.file);
    log(`  ${name}: downloading ${entry.url}`);
    await download(name, entry, entry.url, dest, log);
    verified[dest] = { bytes: entry.bytes, mtimeMs: statSync(dest).mtimeMs, sha256: entry.sha256 };
    verifiedChanged = true;
    statuses.push({ name, state: 'fetched', path: dest });
  }
  if (verifiedChanged) {
    for (const path of Object.keys(verified)) if (!existsSync(path)) delete verified[path];
    try {
      writeFileSync(VERIFIED_PATH, `${JSON.stringify(verified, null, 2)}\n`);
    } catch {
      // A read-only checkout only loses the shortcut: the files are hashed again next run.
    }
  }
  return statuses;
}

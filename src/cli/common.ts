/**
 * What the CLI commands share: loading the config, opening the same CatalogSearch the
 * service uses, finding images in a folder, a progress display, and turning errors into messages and
 * exit codes (2 = bad usage or start-up failure).
 */
import { readdirSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { invalidParameter, isFindthisError } from '../core/errors.js';
import { loadConfig } from '../config/load.js';
import type { FindthisConfig } from '../config/schema.js';
import { PHOTO_EXTENSIONS } from '../imaging/format.js';
import { CatalogSearch } from '../pipeline/catalog-search.js';
import { createExtractor } from '../pipeline/extractor.js';
import { createExtractorPool } from '../pipeline/extractor-pool.js';

/** The photo formats decode accepts, by extension (one list: src/imaging/format.ts). */
export const IMAGE_EXTENSIONS = new Set(Object.values(PHOTO_EXTENSIONS).flat());

export const EXIT_USAGE = 2;
export const EXIT_NOTHING_DONE = 1;

export interface OpenedCatalog {
  config: Readonly<FindthisConfig>;
  catalogSearch: CatalogSearch;
  close(): Promise<void>;
}

/**
 * The models and the catalog + indexes under the config's DATA_DIR (config: loadConfig(), file + env).
 * `extractorThreads` > 1 runs that many extractions side by side on worker threads (ingest
 * --concurrency); 1 extracts in this process.
 */
export async function openCatalog(config: Readonly<FindthisConfig> = loadConfig(), extractorThreads = 1): Promise<OpenedCatalog> {
  const context = config.paths.modelsDir ? { modelsDir: config.paths.modelsDir } : {};
  const extractor = extractorThreads > 1 ? await createExtractorPool(extractorThreads, config.extractor, context) : await createExtractor(config.extractor, context);
  try {
    const catalogSearch = await CatalogSearch.open(extractor, {
      dataDir: resolve(config.paths.dataDir),
      index: config.index,
      candidateFactor: config.search.candidateFactor,
      log: (message) => process.stderr.write(`findthis: ${message}\n`),
      acceptance: config.acceptance,
    });
    return {
      config,
      catalogSearch,
      async close() {
        try {
          await catalogSearch.close();
        } finally {
          await extractor.close();
        }
      },
    };
  } catch (error) {
    await extractor.close();
    throw error;
  }
}

/** Every image file under `dir` (recursively), sorted; a single image file is returned as is. */
export function listImages(path: string): string[] {
  const stats = statSync(path);
  if (stats.isFile()) return [path];
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push(full);
    }
  };
  walk(path);
  return found;
}

/** The product an image belongs to: its folder's name, or its own name for files directly in `root`. */
export function productIdFor(root: string, file: string): string {
  const folder = dirname(relative(root, file));
  return folder === '.' ? basename(file, extname(file)) : basename(folder);
}

export interface Progress {
  tick(label: string): void;
  stop(): void;
}

/** A progress bar on a terminal; plain "n/total" lines (about every 5%) when stderr is not a TTY. */
export function startProgress(total: number, verb: string): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: `${verb} [{bar}] {value}/{total} {percentage}% | {rate} img/s | eta {eta}s | {label}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    let done = 0;
    bar.start(total, 0, { label: '', rate: '0.0' });
    return {
      tick(label) {
        done += 1;
        bar.increment(1, { label, rate: (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) });
      },
      stop: () => bar.stop(),
    };
  }
  const step = Math.max(1, Math.round(total / 20));
  let done = 0;
  return {
    tick(label) {
      done += 1;
      if (done % step === 0 || done === total) process.stderr.write(`${verb} ${done}/${total} ${label}\n`);
    },
    stop() {},
  };
}

/**
 * Writes to stdout and resolves once the text is handed to the OS: stdout into a pipe is
 * asynchronous, and process.exit() right after a plain write() would cut long output short.
 */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

/**
 * The one backup FILE argument of `backup` and `restore`, and the configured DATA_DIR, both absolute;
 * on bad usage or config, the message and exit EXIT_USAGE.
 */
export function backupFileAndDataDir(usage: string): { file: string; dataDir: string } {
  try {
    const { positionals } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: {} });
    if (positionals.length !== 1) throw invalidParameter('arguments', `one backup FILE (${usage})`, positionals.join(' '));
    return { file: resolve(positionals[0]!), dataDir: resolve(loadConfig().paths.dataDir) };
  } catch (error) {
    exitWithError(error);
  }
}

/** Prints a start-up or usage failure and exits with EXIT_USAGE. */
export function exitWithError(error: unknown): never {
  const message = isFindthisError(error) ? `${error.code}: ${error.message}` : String((error as Error)?.stack ?? error);
  process.stderr.write(`error: ${message}\n`);
  process.exit(EXIT_USAGE);
}

export function describeError(error: unknown): string {
  return isFindthisError(error) ? `${error.code}: ${error.message}` : String((error as Error)?.message ?? error);
}

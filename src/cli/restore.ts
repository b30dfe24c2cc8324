/**
 * `npm run restore -- FILE`: puts a backup made by `npm run backup` in place of DATA_DIR's catalog and
 * drops the index files (the next start rebuilds them from the restored vectors). The service must be
 * stopped: a DATA_DIR in use is refused (DATA_DIR_LOCKED). Exit 0 on success, 1 when the restore
 * fails, 2 for bad usage, a file that is not a findthis catalog, or a DATA_DIR in use.
 */
import { restoreCatalog } from '../catalog/backup.js';
import { backupFileAndDataDir, describeError, EXIT_USAGE, writeStdout } from './common.js';
import { isFindthisError } from '../core/errors.js';

const USAGE = 'usage: npm run restore -- FILE   (env DATA_DIR, FINDTHIS_CONFIG; the service must be stopped)';

const { file: source, dataDir } = backupFileAndDataDir(USAGE);
try {
  const result = await restoreCatalog(dataDir, source);
  await writeStdout(`restored ${result.products} products, ${result.images} images from ${source} into ${result.file}; the indexes are rebuilt at the next start\n`);
} catch (error) {
  process.stderr.write(`error: ${describeError(error)}\n`);
  process.exitCode = isFindthisError(error) && (error.code === 'DATA_DIR_LOCKED' || error.code === 'INVALID_FIELD') ? EXIT_USAGE : 1;
}

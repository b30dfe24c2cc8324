/**
 * `npm run backup -- FILE`: a consistent copy of DATA_DIR's catalog, taken with SQLite's online backup
 * API while the service keeps running and writing. The index files are not copied: they are rebuilt
 * from the catalog after a restore. Exit 0 on success, 1 when the copy fails, 2 for bad usage.
 */
import { backupCatalog } from '../catalog/backup.js';
import { backupFileAndDataDir, describeError, writeStdout } from './common.js';

const USAGE = 'usage: npm run backup -- FILE   (env DATA_DIR, FINDTHIS_CONFIG)';

const { file: dest, dataDir } = backupFileAndDataDir(USAGE);
try {
  const result = await backupCatalog(dataDir, dest);
  await writeStdout(`backed up ${result.products} products, ${result.images} images (${result.bytes} bytes) from ${dataDir} to ${result.file}\n`);
} catch (error) {
  process.stderr.write(`error: ${describeError(error)}\n`);
  process.exitCode = 1;
}

/**
 * `npm run models:fetch [-- name...]`: finds every model of models/manifest.json (env MODELS_DIR, the
 * project's models/, ../shared/models) or downloads it, checking size and sha256. Runs before
 * `npm start` and `npm test`, so it prints one line when all is well.
 */
import { relative } from 'node:path';
import { isFindthisError } from '../core/errors.js';
import { ensureModels } from '../models/fetch.js';
import { PROJECT_ROOT } from '../models/manifest.js';

try {
  const statuses = await ensureModels({ names: process.argv.slice(2), log: (line) => console.log(line) });
  const present = statuses.flatMap((s) => (s.state === 'absent-no-address' ? [] : [`${s.name}${s.state === 'fetched' ? ' (fetched)' : ''}`]));
  const places = [...new Set(statuses.flatMap((s) => ('path' in s ? [relative(PROJECT_ROOT, s.path).replace(/[^/]*$/, '') || './'] : [])))];
  console.log(`models ok: ${present.join(', ')} [${places.join(', ')}]`);
  for (const status of statuses) {
    if (status.state === 'absent-no-address') {
      console.warn(
        `models: ${status.name} (${status.file}) is absent and has no public address; put it in models/ or ../shared/models. Features that need it will fail.`,
      );
    }
  }
} catch (error) {
  console.error(`models:fetch failed [${isFindthisError(error) ? error.code : 'INTERNAL'}]: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}

/**
 * `npm run backup` copies a catalog that is open and being written (as the service holds it), and
 * `npm run restore` puts it into another DATA_DIR, where a search finds what the backup held and
 * nothing written after it. A restore into a DATA_DIR in use is refused.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { CatalogSearch } from '../src/pipeline/catalog-search.js';
import { createExtractor, type Extractor } from '../src/pipeline/extractor.js';
import { iconicImages } from '../benchmarks/lib/grocery.js';

const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const config = loadConfig({ env: {} });
const root = mkdtempSync(join(tmpdir(), 'findthis-backup-'));
const [BEFORE, AFTER] = [['Banana', 'Kiwi', 'Cabbage'], ['Pineapple']];
let extractor: Extractor;

function cli(script: string, args: string[], dataDir: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [`src/cli/${script}.ts`, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, DATA_DIR: dataDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

const open = (dataDir: string) => CatalogSearch.open(extractor, { dataDir, index: config.index, candidateFactor: config.search.candidateFactor });
const photo = (name: string) => readFileSync(iconicImages().get(name)!);

beforeAll(async () => {
  extractor = await createExtractor(config.extractor);
});

afterAll(async () => {
  await extractor?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('backup and restore', () => {
  it('backs up a catalog in use, restores it elsewhere, and the restored catalog answers searches', async () => {
    const live = join(root, 'live');
    const restored = join(root, 'restored');
    const file = join(root, 'catalog.backup');
    const running = await open(live);
    try {
      for (const name of BEFORE) await running.ingest(name, photo(name), { name });
      // The backup runs in its own process while this one holds the DATA_DIR open (and its lock).
      const backup = cli('backup', [file], live);
      const backedUp = await backup;
      expect(backedUp.status, backedUp.stderr).toBe(0);
      expect(backedUp.stdout).toContain(`backed up ${BEFORE.length} products, ${BEFORE.length} images`);
      for (const name of AFTER) await running.ingest(name, photo(name));

      // Restoring into a DATA_DIR in use is refused.
      const refused = await cli('restore', [file], live);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain('DATA_DIR_LOCKED');
    } finally {
      await running.close();
    }

    const restore = await cli('restore', [file], restored);
    expect(restore.status, restore.stderr).toBe(0);
    const catalogSearch = await open(restored);
    try {
      expect(catalogSearch.size()).toMatchObject({ products: BEFORE.length, images: BEFORE.length });
      for (const name of BEFORE) {
        const answer = await catalogSearch.search(photo(name), { k: 1, index: 'lsh', minScore: -1, compare: false, similar: false });
        expect(answer.objects[0]!.matches[0]).toMatchObject({ productId: name, metadata: { name } });
      }
      expect(catalogSearch.product(AFTER[0]!)).toBeUndefined();
    } finally {
      await catalogSearch.close();
    }
  }, 120_000);

  it('refuses a file that is not a findthis catalog, and a missing argument', async () => {
    const target = join(root, 'other');
    const notCatalog = await cli('restore', [join(PROJECT_ROOT, 'package.json')], target);
    expect(notCatalog.status).toBe(2);
    expect(notCatalog.stderr).toContain('Expected a findthis catalog backup');
    const usage = await cli('backup', [], target);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: npm run backup -- FILE');
  }, 60_000);
});

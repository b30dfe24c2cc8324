/** The ingest and query commands as a user runs them: real processes, real images, one DATA_DIR. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { GROCERY_DIR, iconicImages } from '../benchmarks/lib/grocery.js';

const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const work = mkdtempSync(join(tmpdir(), 'findthis-cli-'));
const dataDir = join(work, 'data');
const input = join(work, 'catalog');
const QUERY = join(GROCERY_DIR, 'val/Fruit/Banana/Banana_005.jpg');

function run(script: 'ingest' | 'query', args: string[], data = dataDir) {
  return spawnSync(TSX, [`src/cli/${script}.ts`, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATA_DIR: data },
    encoding: 'utf8',
  });
}

afterAll(() => rmSync(work, { recursive: true, force: true }));
/** What the first ingest (one image at a time) printed. */
let oneAtATime = '';

describe('npm run ingest / npm run query', () => {
  it('ingests a folder: product = sub-folder or file name; errors are listed, not fatal', () => {
    const iconic = iconicImages();
    for (const name of ['Banana', 'Kiwi', 'Pineapple']) {
      mkdirSync(join(input, name), { recursive: true });
      copyFileSync(iconic.get(name) as string, join(input, name, `${name}.jpg`));
    }
    copyFileSync(join(GROCERY_DIR, 'train/Fruit/Banana/Banana_001.jpg'), join(input, 'Banana', 'shelf.jpg'));
    copyFileSync(iconic.get('Cabbage') as string, join(input, 'Cabbage.jpg'));
    mkdirSync(join(input, 'Broken'));
    writeFileSync(join(input, 'Broken', 'not-a-photo.jpg'), 'plain text, not a JPEG\n');
    writeFileSync(join(input, 'README.txt'), 'ignored: not an image extension\n');

    const result = run('ingest', [input]);
    oneAtATime = result.stdout;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ingested 5\/6 images \(\d+ objects\) into 4 products \(4 new\)/);
    expect(result.stdout).toMatch(/catalog now 4 products, \d+ vectors/);
    expect(result.stdout).toContain('1 error(s):');
    expect(result.stdout).toContain('Broken/not-a-photo.jpg (product Broken): INVALID_IMAGE');
    expect(result.stderr).toContain('ingest 6/6'); // plain progress lines when stderr is not a terminal
  });

  it('ingests with --concurrency N on N extractor threads: the same catalog as one image at a time', () => {
    const result = run('ingest', [input, '--concurrency', '2'], join(work, 'data-concurrent'));
    expect(result.status, result.stderr).toBe(0);
    const summary = (stdout: string) => /^ingested (.*) in /.exec(stdout)?.[1];
    expect(summary(result.stdout)).toBe(summary(oneAtATime));
    expect(/catalog now .*/.exec(result.stdout)?.[0]).toBe(/catalog now .*/.exec(oneAtATime)?.[0]);
    expect(result.stdout).toContain('Broken/not-a-photo.jpg (product Broken): INVALID_IMAGE');
    const bad = run('ingest', [input, '--concurrency', '0'], join(work, 'data-refused'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--concurrency');
  });

  it('prints per object the top matches with cosine and the seed score (100 × cosine) as JSON', () => {
    // 22 store photos: the JSON is well over 64 KB, and must reach the pipe whole
    const result = run('query', [join(GROCERY_DIR, 'val/Fruit/Apple'), '--json', '--k', '3', '--index', 'exact']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(65_536);
    const rows = JSON.parse(result.stdout);
    expect(rows).toHaveLength(22);
    expect(rows[0].file).toBe('Golden-Delicious/Golden-Delicious_001.jpg');
    for (const row of rows) {
      expect(row.objects[0].label).toBe('image');
      for (const object of row.objects) {
        expect(object.index).toBe('exact');
        expect(object.matches).toHaveLength(3);
        expect(new Set(object.matches.map((m: { productId: string }) => m.productId)).size).toBe(3);
        for (const match of object.matches) expect(match.score).toBeCloseTo(100 * match.cosine, 1);
      }
    }
  });

  it('writes CSV and text', () => {
    const csv = run('query', [join(GROCERY_DIR, 'val/Fruit/Banana'), '--csv', '--k', '2']);
    expect(csv.status, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('file,object,label,object_score,bbox,index,fallback,rank,product_id,cosine,score,accepted,confidence');
    const first = lines[1]?.split(',') ?? [];
    expect(first[0]).toBe('Banana_001.jpg');
    expect(Number(first.at(-3))).toBeCloseTo(100 * Number(first.at(-4)), 1);
    // A catalog never optimized has no acceptance model: every match accepted, no confidence.
    expect(first.slice(-2)).toEqual(['true', '']);
    const text = run('query', [QUERY]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^Banana_005\.jpg \(\d+×\d+, \d+ objects, \d+ ms\)/);
    expect(text.stdout).toMatch(/ 1\. Banana +cosine 0\.\d{4} {2}score \d+\.\d/);
  });

  it('answers bad usage with exit code 2 and a clear message, and an empty folder with 1', () => {
    const none = run('ingest', []);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('usage: npm run ingest -- <dir>');
    const k = run('query', [QUERY, '--k', '0']);
    expect(k.status).toBe(2);
    expect(k.stderr).toContain('Expected an integer in 1..100 for --k, but got "0"');
    const both = run('query', [QUERY, '--json', '--csv']);
    expect(both.status).toBe(2);
    const empty = join(work, 'empty');
    mkdirSync(empty);
    const nothing = run('ingest', [empty]);
    expect(nothing.status).toBe(1);
    expect(nothing.stderr).toContain('no images');
  });
});

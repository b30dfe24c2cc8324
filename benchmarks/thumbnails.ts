/**
 * npm run bench:thumbnails -- [--runs R]
 *
 * What keeping a thumbnail costs an ingest: for each of the 81 grocery iconic images (the catalog
 * photos) and 40 val photos, one extraction (createExtractor, embedded defaults, in process) and right
 * after it one makeThumbnail (256 px WebP), R passes after 5 warm-up pairs, so both see the same load.
 * Prints p50/p95 of each, the paired p50 ratio thumbnail / extraction, and thumbnail sizes.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { makeThumbnail } from '../src/imaging/thumbnail.js';
import { createExtractor } from '../src/pipeline/extractor.js';
import { groceryPhotos, groceryProducts } from './lib/grocery.js';
import { percentileOfSorted } from './lib/percentiles.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(args.runs);
const sets = {
  'iconic (catalog photos)': groceryProducts().map((product) => product.iconic),
  'val (348 px store photos)': groceryPhotos('val').filter((_, i) => i % 7 === 0).slice(0, 40).map((photo) => photo.path),
};

const config = loadConfig();
const extractor = await createExtractor(config.extractor);
const started = new Date().toISOString();
const load = loadavg()[0]?.toFixed(1);
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);
try {
  const warm = readFileSync(sets['iconic (catalog photos)'][0] as string);
  for (let i = 0; i < 5; i += 1) {
    await extractor.extract(warm);
    await makeThumbnail(warm);
  }
  console.log(`bench:thumbnails ${started}, ${cpus().length} cores, load average ${load} at start, ${runs} passes\n`);
  console.log('| photos | n | extraction p50 / p95 ms | thumbnail p50 / p95 ms | paired p50 thumbnail ÷ extraction | source KB p50 | thumbnail KB p50 |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, files] of Object.entries(sets)) {
    const extract: number[] = [];
    const thumb: number[] = [];
    const ratio: number[] = [];
    const sourceBytes: number[] = [];
    const thumbBytes: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      for (const file of files) {
        const bytes = readFileSync(file);
        let t = performance.now();
        await extractor.extract(bytes);
        const e = performance.now() - t;
        t = performance.now();
        const thumbnail = await makeThumbnail(bytes);
        const m = performance.now() - t;
        extract.push(e);
        thumb.push(m);
        ratio.push(m / e);
        if (run === 0) {
          sourceBytes.push(bytes.length / 1024);
          thumbBytes.push(thumbnail.length / 1024);
        }
      }
    }
    const p = (values: number[], q: number) => percentileOfSorted(sorted(values), q);
    console.log(
      `| ${name} | ${files.length} | ${ms(p(extract, 50))} / ${ms(p(extract, 95))} | ${ms(p(thumb, 50))} / ${ms(p(thumb, 95))} | ${p(ratio, 50).toFixed(2)} | ${p(sourceBytes, 50).toFixed(1)} | ${p(thumbBytes, 50).toFixed(1)} |`,
    );
  }
  console.log(`\nload average ${loadavg()[0]?.toFixed(1)} at the end`);
} finally {
  await extractor.close();
}

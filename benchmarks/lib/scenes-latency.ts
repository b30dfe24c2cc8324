/**
 * The search's latency before and after issue 9's localisation, side by side in one process on the
 * same photos (absolute times on this shared machine drift by ±30%; a ratio of paired runs does not):
 *   before  the photo's objects as ingest still extracts them (the whole photo and the detector's
 *           class-aware detections: the search path before class-agnostic regions), each matched
 *           with nothing judged;
 *   after   CatalogSearch.search: class-agnostic regions, matched and judged.
 * Each photo runs both ways `runs` times, the order alternating, so that load bursts hit both alike.
 */
import { performance } from 'node:perf_hooks';
import type { CatalogSearch } from '../../src/pipeline/catalog-search.js';
import { ACCEPT_ALL, answerSearch } from '../../src/pipeline/catalog-service.js';
import type { SearchQuery } from '../../src/pipeline/search-types.js';
import { percentileOfSorted } from './percentiles.js';

export interface TimedPhoto {
  /** `width×height`: rows are per shape. */
  shape: string;
  jpeg: Buffer;
}

export interface PairedLatencyRow {
  shape: string;
  photos: number;
  searches: number;
  beforeP50Ms: number;
  beforeP95Ms: number;
  afterP50Ms: number;
  afterP95Ms: number;
  /** after p50 / before p50. */
  p50Ratio: number;
}

export async function pairedLatency(catalog: CatalogSearch, photos: readonly TimedPhoto[], query: SearchQuery, runs: number, onProgress?: (done: number, of: number) => void): Promise<PairedLatencyRow[]> {
  const before = async (jpeg: Buffer) => {
    const started = performance.now();
    const extraction = await catalog.extractor.extract(jpeg, 'catalog');
    await answerSearch(extraction, query, (vector, kind, k) => catalog.matchVector(vector, kind, k, query.minScore), ACCEPT_ALL, started);
    return performance.now() - started;
  };
  const after = async (jpeg: Buffer) => {
    const started = performance.now();
    await catalog.search(jpeg, query);
    return performance.now() - started;
  };
  const times = new Map<string, { photos: number; before: number[]; after: number[] }>();
  for (let run = 0; run < runs; run++) {
    for (const [i, { shape, jpeg }] of photos.entries()) {
      const entry = times.get(shape) ?? { photos: 0, before: [], after: [] };
      if (run === 0) entry.photos++;
      if ((run + i) % 2 === 0) {
        entry.before.push(await before(jpeg));
        entry.after.push(await after(jpeg));
      } else {
        entry.after.push(await after(jpeg));
        entry.before.push(await before(jpeg));
      }
      times.set(shape, entry);
      onProgress?.(run * photos.length + i + 1, runs * photos.length);
    }
  }
  return [...times]
    .map(([shape, entry]) => {
      const b = [...entry.before].sort((x, y) => x - y);
      const a = [...entry.after].sort((x, y) => x - y);
      const beforeP50Ms = percentileOfSorted(b, 50);
      const afterP50Ms = percentileOfSorted(a, 50);
      return { shape, photos: entry.photos, searches: a.length, beforeP50Ms, beforeP95Ms: percentileOfSorted(b, 95), afterP50Ms, afterP95Ms: percentileOfSorted(a, 95), p50Ratio: afterP50Ms / beforeP50Ms };
    })
    .sort((x, y) => x.shape.localeCompare(y.shape));
}

export function printPairedLatency(rows: readonly PairedLatencyRow[], note: string): void {
  const ms = (value: number) => value.toFixed(1);
  const lines = [
    `\nsearch latency in process, before (class-aware detections) and after (regions) side by side; ${note}`,
    '',
    '| photo size | photos × runs | before p50 / p95 ms | after p50 / p95 ms | after / before p50 |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.shape} | ${r.searches} | ${ms(r.beforeP50Ms)} / ${ms(r.beforeP95Ms)} | ${ms(r.afterP50Ms)} / ${ms(r.afterP95Ms)} | ${r.p50Ratio.toFixed(2)} |`),
    '',
    'targets: 348×348 after p50 ≤ 1.10 × before; 1024×768 after p50 ≤ 80 ms',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

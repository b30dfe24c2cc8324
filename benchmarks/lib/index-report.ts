/** The table and the recall–QPS picture of `npm run bench:index` (and of the real-embedding index benchmark). */
import type { FaissIndexName } from './faiss-peer.js';
import { svgChart, type ChartSeries } from './svg-chart.js';

export interface IndexRow {
  index: 'exact' | 'lsh' | 'hnsw' | FaissIndexName;
  params: Record<string, number | string>;
  n: number;
  dim: number;
  recallAt1: number;
  recallAt10: number;
  /** Best run's queries/s. */
  qps: number;
  p50Ms: number;
  p99Ms: number;
  buildSeconds: number;
  /** Bytes each indexed vector costs (findthis's indexes; FAISS's are not measured: NaN). */
  bytesPerVector: number;
  /** Distinct vectors scored per query (exact and LSH; NaN otherwise). */
  candidatesPerQuery: number;
  /** Share of LSH queries that found fewer than 10 vectors (the IndexSet would fall back to HNSW). */
  shortAnswerShare: number;
  data: string;
}

function paramText(row: IndexRow): string {
  return Object.entries(row.params).map(([key, value]) => `${key}=${value}`).join(' ') || '—';
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');

/** One markdown table: every row with its speed as a multiple of findthis's exact scan and of FAISS flat (when run). */
export function markdownTable(rows: IndexRow[]): string {
  const exactQps = rows.find((r) => r.index === 'exact')!.qps;
  const faissFlatQps = rows.find((r) => r.index === 'faiss-flat')?.qps ?? Number.NaN;
  const lines = [
    '| index | params | recall@1 | recall@10 | QPS | × exact | × FAISS flat | p50 ms | p99 ms | cand./query | build s | bytes/vector |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.index} | ${paramText(r)} | ${r.recallAt1.toFixed(3)} | ${r.recallAt10.toFixed(3)} | ${r.qps.toFixed(0)} | ${(r.qps / exactQps).toFixed(2)} | ` +
        `${fixed(r.qps / faissFlatQps, 2)} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${fixed(r.candidatesPerQuery, 0)} | ${r.buildSeconds.toFixed(1)} | ${fixed(r.bytesPerVector, 0)} |`,
    );
  }
  return lines.join('\n');
}

/** Rows not beaten on both recall@10 and QPS by another row, by increasing recall. */
export function paretoFront(rows: IndexRow[]): IndexRow[] {
  return rows
    .filter((r) => !rows.some((o) => o !== r && o.recallAt10 >= r.recallAt10 && o.qps >= r.qps && (o.recallAt10 > r.recallAt10 || o.qps > r.qps)))
    .sort((a, b) => a.recallAt10 - b.recallAt10);
}

function lshLabel(r: IndexRow): string {
  const probes = r.params.probes !== undefined ? `p${r.params.probes}` : `r${r.params.probeRadius}`;
  const rerank = r.params.rerank ? ` rr${r.params.rerank}` : '';
  return `${r.params.activeBits ?? r.params.hashSize}×${r.params.numTables} ${probes}${rerank}${r.params.vectorsPerBucket ? ' (default)' : ''}`;
}

/** The recall@10–QPS picture of one case (log QPS); FAISS's series appear when its rows are there. Both HNSWs share M and efConstruction. */
export function recallQpsPlot(rows: IndexRow[], title: string): string {
  const point = (r: IndexRow, label?: string) => ({ x: r.recallAt10, y: r.qps, ...(label ? { label } : {}) });
  const of = (index: IndexRow['index']) => rows.filter((r) => r.index === index);
  const lsh = of('lsh').filter((r) => r.params.hashSize !== 0);
  const hnsw = of('hnsw');
  const lshPlanes = [...new Set(lsh.map((r) => r.params.planes ?? 'random'))];
  const series: ChartSeries[] = [
    { name: 'HNSW, hnswlib (ef)', points: hnsw.map((r) => point(r, `${r.params.efSearch}`)) },
    ...lshPlanes.map((planes) => {
      const ofPlanes = lsh.filter((r) => (r.params.planes ?? 'random') === planes);
      // Beside learned planes' front, random planes' is the baseline: its labels would only crowd the other's.
      const labelled = lshPlanes.length === 1 || planes === 'learned';
      return { name: lshPlanes.length > 1 ? `LSH ${planes} planes, best` : 'LSH, best settings', points: paretoFront(ofPlanes).map((r) => point(r, labelled ? lshLabel(r) : undefined)) };
    }),
    { name: 'LSH, all settings', points: lsh.map((r) => point(r)), line: false },
    { name: 'exact scan', points: of('exact').map((r) => point(r)), line: false },
  ];
  if (of('faiss-flat').length > 0) {
    series.push(
      { name: 'FAISS flat', points: of('faiss-flat').map((r) => point(r)), line: false },
      { name: 'FAISS HNSW (ef)', points: of('faiss-hnsw').map((r) => point(r, `${r.params.efSearch}`)) },
      { name: 'FAISS IVF-Flat (nprobe)', points: of('faiss-ivf-flat').map((r) => point(r, `${r.params.nprobe}`)) },
    );
  }
  const minRecall = Math.min(...rows.map((r) => r.recallAt10));
  return svgChart(series, {
    title,
    xLabel: 'recall@10 against the exact scan',
    yLabel: 'queries per second, one thread (log scale)',
    logY: true,
    xDomain: [Math.max(0, Math.floor(minRecall * 10) / 10), 1],
    width: 1000,
    height: 560,
  });
}

/**
 * The FAISS bridge of `npm run bench:index`: the vectors cross to Debian's python3-faiss and back with
 * their row numbers intact, so FAISS flat finds what findthis's exact scan finds, and HNSW and IVF-Flat
 * answer at their expected recall. Small data: this checks the bridge, not speed.
 */
import { describe, expect } from 'vitest';
import { clusteredData, row } from '../benchmarks/lib/clustered-vectors.js';
import { FAISS_PYTHON, runFaissPeer } from '../benchmarks/lib/faiss-peer.js';
import { ExactIndex } from '../src/indexing/exact-index.js';
import { VectorStore } from '../src/indexing/vector-store.js';
import { debianTool } from './support/debian-tools.js';

const faiss = debianTool(FAISS_PYTHON, 'python3-faiss', ['-c', 'import faiss']);

describe('FAISS as a peer in bench:index', () => {
  faiss.it(
    'runs flat, HNSW and IVF-Flat on the same vectors; flat agrees with the exact scan',
    async () => {
      const dim = 32;
      const n = 3000;
      const queries = 40;
      const data = clusteredData({ n, queries, dim, clusters: 30, seed: 7 });
      const store = new VectorStore(dim, n);
      for (let i = 0; i < n; i++) store.set(`v${i}`, row(data.vectors, dim, i));
      const exact = new ExactIndex(store);
      const truth = Array.from({ length: queries }, (_, q) => exact.search(row(data.queries, dim, q), 10).neighbors.map((x) => x.id));

      const rows = await runFaissPeer(data.vectors, n, data.queries, dim, truth, (r) => `v${r}`, {
        k: 10,
        runs: 1,
        warmup: 5,
        hnsw: { M: 8, efConstruction: 40, efSearch: [64] },
        ivf: { nlist: 16, trainRows: 3000, nprobe: [1, 16] },
      });

      expect(rows.map((r) => [r.index, r.params])).toEqual([
        ['faiss-flat', {}],
        ['faiss-hnsw', { M: 8, efConstruction: 40, efSearch: 64 }],
        ['faiss-ivf-flat', { nlist: 16, nprobe: 1 }],
        ['faiss-ivf-flat', { nlist: 16, nprobe: 16 }],
      ]);
      const [flat, hnsw, ivfOne, ivfAll] = rows;
      // Flat and IVF probing every list are exhaustive: they may differ only on near-ties in float order.
      expect(flat!.recallAt10).toBeGreaterThanOrEqual(0.99);
      expect(ivfAll!.recallAt10).toBeGreaterThanOrEqual(0.99);
      expect(hnsw!.recallAt10).toBeGreaterThan(0.9);
      expect(ivfOne!.recallAt10).toBeLessThan(ivfAll!.recallAt10);
      for (const r of rows) {
        expect(r.qps).toBeGreaterThan(0);
        expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      }
    },
    120_000,
  );
});

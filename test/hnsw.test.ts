import { describe, expect, it } from 'vitest';
import { clusteredData, row } from '../benchmarks/lib/clustered-vectors.js';
import { recallAtK } from '../benchmarks/lib/recall.js';
import { ExactIndex } from '../src/indexing/exact-index.js';
import { HnswIndex } from '../src/indexing/hnsw-index.js';
import { DEFAULT_INDEX_PARAMS } from '../src/indexing/params.js';
import { VectorStore } from '../src/indexing/vector-store.js';

const dim = 128;
const n = 20_000;
const queryCount = 100;
const data = clusteredData({ n: n + 1000, queries: queryCount, dim, clusters: 200, seed: 3 });
const small = { M: 8, efConstruction: 50, efSearch: 50 };

describe('HnswIndex', () => {
  // efConstruction halved to keep the test fast; a larger one only builds a better graph.
  const tested = { ...DEFAULT_INDEX_PARAMS.hnsw, efConstruction: DEFAULT_INDEX_PARAMS.hnsw.efConstruction / 2 };
  it(`reaches recall@10 ≥ 0.95 with ${JSON.stringify(tested)} (20k × 128, 200 clusters)`, () => {
    const store = new VectorStore(dim);
    for (let i = 0; i < n; i++) store.set(`v${i}`, row(data.vectors, dim, i));
    const exact = new ExactIndex(store);
    const hnsw = HnswIndex.build(store, tested);
    let sum = 0;
    for (let q = 0; q < queryCount; q++) {
      const query = row(data.queries, dim, q);
      const found = hnsw.search(query, 10).neighbors;
      const truth = exact.search(query, 10).neighbors;
      sum += recallAtK(truth.map((x) => x.id), found.map((x) => x.id), 10);
      expect(found[0]!.score).toBeCloseTo(truth[0]!.score, 4); // cosine similarity, same scale as exact
    }
    expect(sum / queryCount).toBeGreaterThanOrEqual(0.95);
  });

  it('grows its capacity as vectors are added', () => {
    const hnsw = new HnswIndex(dim, small, 16);
    for (let i = 0; i < 100; i++) hnsw.add(`v${i}`, row(data.vectors, dim, i));
    expect(hnsw.size).toBe(100);
    expect(hnsw.capacity).toBeGreaterThanOrEqual(100);
    expect(hnsw.search(row(data.vectors, dim, 99), 1).neighbors[0]).toMatchObject({ id: 'v99' });
  });

  it('reuses the space of removed vectors instead of growing, and never returns a removed id', () => {
    const hnsw = new HnswIndex(dim, small, 64);
    for (let i = 0; i < 64; i++) hnsw.add(`v${i}`, row(data.vectors, dim, i));
    const capacity = hnsw.capacity;
    for (let i = 0; i < 32; i++) expect(hnsw.remove(`v${i}`)).toBe(true);
    expect(hnsw.remove('v0')).toBe(false);
    for (let i = 0; i < 32; i++) hnsw.add(`w${i}`, row(data.vectors, dim, 100 + i));
    expect(hnsw.capacity).toBe(capacity);
    expect(hnsw.size).toBe(64);
    for (let i = 0; i < 32; i++) {
      const ids = hnsw.search(row(data.vectors, dim, i), 64).neighbors.map((x) => x.id);
      expect(ids.filter((id) => /^v([0-9]|[12][0-9]|3[01])$/.test(id))).toEqual([]);
      expect(ids).toHaveLength(64);
    }
    expect(hnsw.search(row(data.vectors, dim, 105), 1).neighbors[0]).toMatchObject({ id: 'w5' });
  });

  it('re-adding an id replaces its vector', () => {
    const hnsw = new HnswIndex(dim, small);
    for (let i = 0; i < 200; i++) hnsw.add(`v${i}`, row(data.vectors, dim, i));
    hnsw.add('v3', row(data.vectors, dim, 500));
    expect(hnsw.size).toBe(200);
    const top = hnsw.search(row(data.vectors, dim, 500), 1).neighbors[0]!;
    expect(top.id).toBe('v3');
    expect(top.score).toBeCloseTo(1, 5);
  });

  it('answers with fewer than k when it holds fewer, and nothing when empty', () => {
    const hnsw = new HnswIndex(dim, small);
    expect(hnsw.search(row(data.queries, dim, 0), 5).neighbors).toEqual([]);
    hnsw.add('a', row(data.vectors, dim, 0));
    expect(hnsw.search(row(data.queries, dim, 0), 5).neighbors.map((x) => x.id)).toEqual(['a']);
  });
});

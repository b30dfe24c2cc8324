import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusteredData, row } from '../benchmarks/lib/clustered-vectors.js';
import { FindthisError } from '../src/core/errors.js';
import { IndexSet } from '../src/indexing/index-set.js';
import type { IndexKind, IndexParams } from '../src/indexing/types.js';

const dim = 64;
const data = clusteredData({ n: 2500, queries: 20, dim, clusters: 30, seed: 8 });
const kinds: IndexKind[] = ['exact', 'lsh', 'hnsw'];
const dirs: string[] = [];

async function openSet(lsh: IndexParams['lsh'], count = 2000): Promise<IndexSet> {
  const dir = await mkdtemp(join(tmpdir(), 'findthis-index-set-'));
  dirs.push(dir);
  const vectors = Array.from({ length: count }, (_, i): [string, Float32Array] => [`v${i}`, row(data.vectors, dim, i)]);
  return (await IndexSet.open(dir, { dim, lsh, hnsw: { M: 8, efConstruction: 60, efSearch: 50 } }, vectors, {})).set;
}

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('IndexSet', () => {
  it('falls back to HNSW, and says so, when the LSH buckets hold fewer than k vectors', async () => {
    // 32-bit keys, one table, no probing: the query's bucket holds (almost) nothing.
    const set = await openSet({ hashSize: 32, numTables: 1, probeRadius: 0, seed: 1 });
    const query = row(data.queries, dim, 0);
    const result = set.search('lsh', query, 10);
    expect(result.stats.fellBack).toBe(true);
    expect(result.stats.bucketsProbed).toBe(1);
    expect(result.stats.candidatesScored).toBeLessThan(10);
    expect(result.neighbors).toEqual(set.search('hnsw', query, 10).neighbors);
    expect(result.neighbors).toHaveLength(10);
  });

  it('does not fall back when LSH finds k vectors, nor when k exceeds the catalog but LSH found all', async () => {
    const set = await openSet({ hashSize: 0, numTables: 1, probeRadius: 0, seed: 1 }, 5);
    const query = row(data.queries, dim, 0);
    expect(set.search('lsh', query, 3).stats.fellBack).toBe(false);
    const all = set.search('lsh', query, 10);
    expect(all.stats.fellBack).toBe(false);
    expect(all.neighbors).toHaveLength(5);
  });

  it('never returns a removed id from any index, also after re-adding others into the freed slots', async () => {
    const set = await openSet({ hashSize: 8, numTables: 6, probeRadius: 1, seed: 3 });
    const removed = Array.from({ length: 200 }, (_, i) => `v${i * 7}`);
    for (const id of removed) expect(set.remove(id)).toBe(true);
    for (const id of removed) expect(set.has(id)).toBe(false);
    for (let i = 2000; i < 2100; i++) set.add(`w${i}`, row(data.vectors, dim, i));
    expect(set.size).toBe(2000 - 200 + 100);
    const gone = new Set(removed);
    for (const kind of kinds) {
      for (let i = 0; i < 200; i += 4) {
        const hits = set.search(kind, row(data.vectors, dim, i * 7), 20).neighbors;
        expect(hits.filter((hit) => gone.has(hit.id)), `${kind} returned a removed id`).toEqual([]);
      }
      expect(set.search(kind, row(data.vectors, dim, 2050), 1).neighbors[0]).toMatchObject({ id: 'w2050' });
    }
  });

  it('refuses a bad vector before changing any index', async () => {
    const set = await openSet({ hashSize: 8, numTables: 4, probeRadius: 0, seed: 3 }, 100);
    expect(() => set.add('bad', new Float32Array(dim + 1))).toThrow(FindthisError);
    expect(() => set.add('bad', new Float32Array(dim))).toThrow(/unit-length/);
    expect(set.has('bad')).toBe(false);
    for (const kind of kinds) expect(set.search(kind, row(data.vectors, dim, 0), 200).neighbors).toHaveLength(100);
  });

  it('refuses invalid params with the parameter named', async () => {
    await expect(openSet({ hashSize: 40, numTables: 4, probeRadius: 0, seed: 3 })).rejects.toThrow(
      'Expected an integer in 0..32 for hashSize, but got 40',
    );
  });

  it('reports the memory each index needs', async () => {
    const set = await openSet({ hashSize: 8, numTables: 4, probeRadius: 0, seed: 3 });
    const vectorBytes = 2000 * dim * 4;
    expect(set.memoryBytes('exact')).toBeGreaterThanOrEqual(vectorBytes);
    expect(set.memoryBytes('lsh')).toBeGreaterThan(set.memoryBytes('exact'));
    expect(set.memoryBytes('hnsw')).toBeGreaterThan(vectorBytes);
  });
});

import { describe, expect, it } from 'vitest';
import { clusteredData, row } from '../benchmarks/lib/clustered-vectors.js';
import { FindthisError } from '../src/core/errors.js';
import { ExactIndex } from '../src/indexing/exact-index.js';
import { VectorStore } from '../src/indexing/vector-store.js';

const dim = 32;
const data = clusteredData({ n: 3000, queries: 20, dim, clusters: 30, seed: 11 });

function buildExact(): ExactIndex {
  const index = new ExactIndex(new VectorStore(dim, 16));
  for (let i = 0; i < 3000; i++) index.add(`v${i}`, row(data.vectors, dim, i));
  return index;
}

describe('ExactIndex', () => {
  it('returns the same top-k as a full sort of every cosine, best first', () => {
    const index = buildExact();
    for (let q = 0; q < 20; q++) {
      const query = row(data.queries, dim, q);
      const all = Array.from({ length: 3000 }, (_, i) => {
        let dot = 0;
        for (let d = 0; d < dim; d++) dot += data.vectors[i * dim + d]! * query[d]!;
        return { id: `v${i}`, score: dot };
      }).sort((a, b) => b.score - a.score);
      const { neighbors, stats } = index.search(query, 15);
      expect(neighbors.map((n) => n.id)).toEqual(all.slice(0, 15).map((n) => n.id));
      neighbors.forEach((n, i) => expect(n.score).toBeCloseTo(all[i]!.score, 5));
      expect(stats).toEqual({ bucketsProbed: 0, candidatesScored: 3000, fellBack: false });
    }
  });

  it('returns at most size results, and none when empty', () => {
    const index = new ExactIndex(new VectorStore(dim));
    expect(index.search(row(data.queries, dim, 0), 5).neighbors).toEqual([]);
    index.add('a', row(data.vectors, dim, 0));
    index.add('b', row(data.vectors, dim, 1));
    expect(index.search(row(data.queries, dim, 0), 5).neighbors).toHaveLength(2);
  });

  it('never returns a removed id, and reuses its slot for the next add', () => {
    const index = buildExact();
    const capacity = index.store.capacity;
    const removedSlot = index.store.slotOf('v7');
    expect(index.remove('v7')).toBe(true);
    expect(index.remove('v7')).toBe(false);
    index.add('new', row(data.vectors, dim, 8));
    expect(index.store.slotOf('new')).toBe(removedSlot);
    expect(index.store.capacity).toBe(capacity);
    const hits = index.search(row(data.vectors, dim, 7), 50).neighbors.map((n) => n.id);
    expect(hits).not.toContain('v7');
    expect(index.size).toBe(3000);
  });

  it('replaces the vector when an id is added again', () => {
    const index = buildExact();
    index.add('v0', row(data.vectors, dim, 1));
    const top = index.search(row(data.vectors, dim, 1), 2).neighbors;
    expect(top.map((n) => n.id).sort()).toEqual(['v0', 'v1']);
    expect(top[0]!.score).toBeCloseTo(1, 5);
    expect(index.size).toBe(3000);
  });

  it('refuses wrong dimensions and non-unit vectors with INVALID_VECTOR (a bug, 500), and bad k with INVALID_FIELD', () => {
    const index = buildExact();
    const check = (action: () => unknown, code: string, message: string) => {
      expect(action).toThrow(FindthisError);
      expect(action).toThrow(expect.objectContaining({ code, message: expect.stringContaining(message) }));
    };
    check(() => index.add('x', new Float32Array(dim + 1)), 'INVALID_VECTOR', `Expected a vector of dimension ${dim} for vector, but got "dimension 33"`);
    check(() => index.add('x', new Float32Array(dim).fill(1)), 'INVALID_VECTOR', 'Expected a unit-length (L2-normalised) vector for vector');
    check(() => index.search(new Float32Array(dim), 3), 'INVALID_VECTOR', 'Expected a unit-length (L2-normalised) vector for query, but got "length 0"');
    check(() => index.search(row(data.queries, dim, 0), 0), 'INVALID_FIELD', 'Expected an integer in 1..10000 for k, but got 0');
    expect(index.size).toBe(3000);
  });
});

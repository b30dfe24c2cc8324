/** The distinct-product matcher against a small in-memory exact index: no models, no files. */
import { describe, expect, it } from 'vitest';
import type { ObjectRef } from '../src/catalog/records.js';
import { ExactIndex } from '../src/indexing/exact-index.js';
import type { IndexKind, SearchResult } from '../src/indexing/types.js';
import { VectorStore } from '../src/indexing/vector-store.js';
import {
  matchDistinctProducts,
  productOverlap,
  StoredObjects,
  type MatchRequest,
  type NeighborSource,
  type ProductMatch,
} from '../src/pipeline/product-matcher.js';

const DIM = 3;

/** A unit vector at `degrees` from the x axis in the x–y plane, tilted by `z` out of it. */
function unit(degrees: number, z = 0): Float32Array {
  const radians = (degrees * Math.PI) / 180;
  const v = [Math.cos(radians), Math.sin(radians), z];
  const norm = Math.hypot(...v);
  return new Float32Array(v.map((x) => x / norm));
}

interface Stored {
  id: number;
  productId: string;
  label: string;
  vector: Float32Array;
}

/** An exact index over `stored` that records the k of every query it answers. */
function catalogOf(stored: Stored[]): { index: NeighborSource & { asked: number[] }; objects: StoredObjects } {
  const store = new VectorStore(DIM);
  const exact = new ExactIndex(store);
  for (const { id, vector } of stored) exact.add(String(id), vector);
  const asked: number[] = [];
  const index = {
    asked,
    get size() {
      return exact.size;
    },
    search(_kind: IndexKind, query: Float32Array, k: number): SearchResult {
      asked.push(k);
      return exact.search(query, k);
    },
  };
  const refs: ObjectRef[] = stored.map(({ id, productId, label }) => ({ id, productId, kind: label === 'image' ? 'whole' : 'region', label, imageId: id * 10, score: 1, bbox: [0, 0, id + 1, id + 1] }));
  return { index, objects: new StoredObjects(refs) };
}

const query = unit(0);
const metadataOf = (productId: string) => ({ name: `product ${productId}` });
const request = (over: Partial<MatchRequest> = {}): MatchRequest => ({ k: 2, minScore: -1, candidateFactor: 1, ...over });

/** Product `a` has five crops right next to the query; `b` and `c` lie further out; `c` has a whole image only. */
const crowded: Stored[] = [
  { id: 1, productId: 'a', label: 'image', vector: unit(1) },
  { id: 2, productId: 'a', label: 'apple', vector: unit(2) },
  { id: 3, productId: 'a', label: 'apple', vector: unit(3) },
  { id: 4, productId: 'a', label: 'apple', vector: unit(4) },
  { id: 5, productId: 'a', label: 'apple', vector: unit(5) },
  { id: 6, productId: 'b', label: 'bottle', vector: unit(20) },
  { id: 7, productId: 'b', label: 'image', vector: unit(40) },
  { id: 8, productId: 'c', label: 'image', vector: unit(60) },
];

describe('matchDistinctProducts', () => {
  it('answers a cosine of at most 1, though float sums put a vector\'s match with itself a little above', async () => {
    const over = unit(0).map((x) => x * 1.000001);
    const { index, objects } = catalogOf([{ id: 1, productId: 'a', label: 'image', vector: over }]);
    expect((await index.search('exact', over, 1)).neighbors[0]!.score).toBeGreaterThan(1);
    const found = await matchDistinctProducts(index, 'exact', over, objects, request({ k: 1 }), metadataOf);
    expect(found.matches.map((m) => [m.productId, m.score])).toEqual([['a', 1]]);
  });

  it('keeps each product once, with its best crop, best first', async () => {
    const { index, objects } = catalogOf(crowded);
    const found = await matchDistinctProducts(index, 'exact', query, objects, request({ k: 3, candidateFactor: 10 }), metadataOf);
    expect(found.matches.map((m) => [m.productId, m.objectId])).toEqual([['a', 1], ['b', 6], ['c', 8]]);
    expect(found.matches[0]).toMatchObject({ label: 'image', imageId: 10, bbox: [0, 0, 2, 2], metadata: { name: 'product a' } });
    expect(found.matches[0]!.score).toBeCloseTo(Math.cos(Math.PI / 180), 6);
    expect(found.fallback).toBe(false);
    expect(found.stats.candidatesScored).toBe(crowded.length);
    expect(index.asked).toEqual([8]);
  });

  it('doubles the neighbours asked for while one product crowds them out', async () => {
    const { index, objects } = catalogOf(crowded);
    const found = await matchDistinctProducts(index, 'exact', query, objects, request({ k: 2, candidateFactor: 1 }), metadataOf);
    expect(found.matches.map((m) => m.productId)).toEqual(['a', 'b']);
    // 2 and 4 neighbours are all product a's; 8 (all of them) reach b.
    expect(index.asked).toEqual([2, 4, 8]);
  });

  it('stops at the first neighbour below minScore, with fewer than k products', async () => {
    const { index, objects } = catalogOf(crowded);
    const minScore = Math.cos((10 * Math.PI) / 180); // a's crops (≤ 5°) pass, b's (≥ 20°) do not
    const found = await matchDistinctProducts(index, 'exact', query, objects, request({ k: 2, minScore }), metadataOf);
    expect(found.matches.map((m) => m.productId)).toEqual(['a']);
    expect(index.asked).toEqual([2, 4, 8]);
    const strict = catalogOf(crowded);
    const none = await matchDistinctProducts(strict.index, 'exact', query, strict.objects, request({ k: 2, minScore: 0.9999999 }), metadataOf);
    expect(none.matches).toEqual([]);
    expect(strict.index.asked).toEqual([2]);
  });

  it('returns every product when k is larger than the catalog, without asking past its size', async () => {
    const { index, objects } = catalogOf(crowded);
    const found = await matchDistinctProducts(index, 'exact', query, objects, request({ k: 10, candidateFactor: 4 }), metadataOf);
    expect(found.matches.map((m) => m.productId)).toEqual(['a', 'b', 'c']);
    expect(index.asked).toEqual([8]);
  });

  it('answers nothing from an empty index without asking it', async () => {
    const { index, objects } = catalogOf([]);
    const found = await matchDistinctProducts(index, 'lsh', query, objects, request(), metadataOf);
    expect(found).toMatchObject({ matches: [], fallback: false, stats: { bucketsProbed: 0, candidatesScored: 0, fellBack: false } });
    expect(index.asked).toEqual([]);
  });

  it('skips index ids it has no stored object for', async () => {
    const { index, objects } = catalogOf(crowded);
    objects.remove('1');
    objects.remove('2');
    const found = await matchDistinctProducts(index, 'exact', query, objects, request({ k: 1 }), metadataOf);
    expect(found.matches.map((m) => m.objectId)).toEqual([3]);
  });
});

describe('StoredObjects', () => {
  it('counts the regions of each label among its objects as they come and go', () => {
    const objects = new StoredObjects();
    objects.add({ id: 1, productId: 'a', kind: 'whole', label: 'image', imageId: 1, score: 1, bbox: [0, 0, 1, 1] });
    objects.add({ id: 2, productId: 'a', kind: 'region', label: 'apple', imageId: 1, score: 0.5, bbox: [0, 0, 1, 1] });
    objects.add({ id: 3, productId: 'b', kind: 'region', label: 'apple', imageId: 2, score: 0.5, bbox: [0, 0, 1, 1] });
    expect([objects.regionsLabelled('apple'), objects.regionsLabelled('image')]).toEqual([2, 0]);
    objects.add({ id: 3, productId: 'b', kind: 'region', label: 'bottle', imageId: 2, score: 0.5, bbox: [0, 0, 1, 1] });
    expect([objects.regionsLabelled('apple'), objects.regionsLabelled('bottle')]).toEqual([1, 1]);
    objects.remove('2');
    objects.remove('2');
    objects.remove('1');
    expect([objects.regionsLabelled('apple'), objects.regionsLabelled('bottle')]).toEqual([0, 1]);
    expect(objects.get('1')).toBeUndefined();
    expect(objects.get('3')?.label).toBe('bottle');
  });
});

describe('productOverlap', () => {
  it('gives the share of the other index\'s products that LSH found too', () => {
    const of = (...ids: string[]) => ids.map((productId) => ({ productId }) as ProductMatch);
    expect(productOverlap(of('a', 'b', 'c'), of('a', 'c', 'd', 'e'))).toBe(0.5);
    expect(productOverlap(of(), of())).toBe(1);
    expect(productOverlap(of('a'), of())).toBe(0);
    expect(productOverlap(of(), of('a'))).toBe(0);
  });
});

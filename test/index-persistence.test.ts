import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clusteredData, row } from '../benchmarks/lib/clustered-vectors.js';
import { indexFilePath } from '../src/indexing/index-file.js';
import { IndexSet } from '../src/indexing/index-set.js';
import type { IndexKind, IndexParams } from '../src/indexing/types.js';

const dim = 64;
const n = 3000;
const data = clusteredData({ n: n + 10, queries: 30, dim, clusters: 40, seed: 21 });
const params: IndexParams = {
  dim,
  // rerank 40 cuts most queries' candidates by SimHash sketch: a loaded index must sketch its slots again.
  lsh: { hashSize: 10, numTables: 8, probeRadius: 1, rerank: 40, seed: 7, planes: 'learned' },
  hnsw: { M: 8, efConstruction: 60, efSearch: 40 },
};
const meta = { encoder: 'test-encoder', dim };
const kinds: IndexKind[] = ['exact', 'lsh', 'hnsw'];

function vectors(count = n): [string, Float32Array][] {
  return Array.from({ length: count }, (_, i) => [`v${i}`, row(data.vectors, dim, i)]);
}

function answers(set: IndexSet): unknown[] {
  return kinds.flatMap((kind) => Array.from({ length: 30 }, (_, q) => set.search(kind, row(data.queries, dim, q), 10)));
}

let dir: string;
let logged: string[];
const log = (message: string) => logged.push(message);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'findthis-indexes-'));
  logged = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens with no files (everything rebuilt), saves, and returns the set and its answers. */
async function savedSet(): Promise<{ set: IndexSet; before: unknown[] }> {
  const { set, rebuilt } = await IndexSet.open(dir, params, vectors(), meta, { log });
  expect(rebuilt.sort()).toEqual(['hnsw', 'lsh']);
  expect(logged.join('\n')).toMatch(/lsh\.ftix is missing/);
  await set.save();
  logged = [];
  return { set, before: answers(set) };
}

describe('index persistence', () => {
  it('save then open gives identical results, nothing rebuilt, no temp files left', async () => {
    const { before } = await savedSet();
    expect((await readdir(dir)).sort()).toEqual(['hnsw.ftix', 'lsh.ftix']);
    const { set, rebuilt } = await IndexSet.open(dir, params, vectors(), meta, { log });
    expect(rebuilt).toEqual([]);
    expect(logged).toEqual([]);
    expect(answers(set)).toEqual(before);
  });

  it('keeps the dimension, params and meta readable at the start of each file', async () => {
    await savedSet();
    const head = (await readFile(indexFilePath(dir, 'lsh'))).toString('utf8', 24, 400);
    expect(head).toContain('"dim":64');
    expect(head).toContain('"hashSize":10');
    expect(head).toContain('"encoder":"test-encoder"');
  });

  it('rebuilds a truncated index file instead of trusting it', async () => {
    const { before } = await savedSet();
    const path = indexFilePath(dir, 'hnsw');
    const { size } = await stat(path);
    await truncate(path, size - 100);
    const { set, rebuilt } = await IndexSet.open(dir, params, vectors(), meta, { log });
    expect(rebuilt).toEqual(['hnsw']);
    expect(logged.join('\n')).toMatch(/hnsw index rebuilt from 3000 stored vectors: .*truncated/);
    expect(answers(set)).toEqual(before);
  });

  it('rebuilds an index file with one corrupted byte (checksum)', async () => {
    const { before } = await savedSet();
    const path = indexFilePath(dir, 'lsh');
    const bytes = await readFile(path);
    bytes[bytes.length - 5]! ^= 0xff;
    await writeFile(path, bytes);
    const { set, rebuilt } = await IndexSet.open(dir, params, vectors(), meta, { log });
    expect(rebuilt).toEqual(['lsh']);
    expect(logged.join('\n')).toMatch(/crc32/);
    expect(answers(set)).toEqual(before);
  });

  it('rebuilds on another format version', async () => {
    await savedSet();
    const path = indexFilePath(dir, 'lsh');
    const bytes = await readFile(path);
    bytes.writeUInt32LE(99, 4);
    await writeFile(path, bytes);
    const { rebuilt } = await IndexSet.open(dir, params, vectors(), meta, { log });
    expect(rebuilt).toEqual(['lsh']);
    expect(logged.join('\n')).toMatch(/format version 99, expected 1/);
  });

  it('rebuilds only what build-time params change; query-time probeRadius and efSearch need no rebuild', async () => {
    await savedSet();
    const queryTime = { ...params, lsh: { ...params.lsh, probeRadius: 2 }, hnsw: { ...params.hnsw, efSearch: 80 } };
    expect((await IndexSet.open(dir, queryTime, vectors(), meta, { log })).rebuilt).toEqual([]);
    const buildTime = { ...params, lsh: { ...params.lsh, numTables: 9 }, hnsw: { ...params.hnsw, M: 12 } };
    expect((await IndexSet.open(dir, buildTime, vectors(), meta, { log })).rebuilt).toEqual(['lsh', 'hnsw']);
    expect(logged.join('\n')).toMatch(/numTables=8, now 9/);
    expect(logged.join('\n')).toMatch(/M=8, now 12/);
  });

  it('stores learned hyperplanes (they cannot be re-drawn from the seed); files with random ones still load', async () => {
    await savedSet();
    const head = (await readFile(indexFilePath(dir, 'lsh'))).toString('utf8', 24, 1000);
    expect(head).toContain('"planes":"learned"');
    expect(head).toMatch(/"name":"planes","bytes":20480\b/); // 80 planes × 64 dimensions × 4 bytes
    const random = { ...params, lsh: { ...params.lsh, planes: 'random' as const } };
    const { set, rebuilt } = await IndexSet.open(dir, random, vectors(), meta, { log });
    expect(rebuilt).toEqual(['lsh']);
    expect(logged.join('\n')).toMatch(/planes="learned", now undefined/);
    await set.save();
    expect((await readFile(indexFilePath(dir, 'lsh'))).toString('utf8', 24, 1000)).not.toMatch(/"planes"|"name":"planes"/);
    expect((await IndexSet.open(dir, random, vectors(), meta, { log })).rebuilt).toEqual([]);
  });

  it('rebuilds when the meta (e.g. encoder) differs', async () => {
    await savedSet();
    const { rebuilt } = await IndexSet.open(dir, params, vectors(), { ...meta, encoder: 'other' }, { log });
    expect(rebuilt).toEqual(['lsh', 'hnsw']);
    expect(logged.join('\n')).toMatch(/encoder="test-encoder", now "other"/);
  });

  it('rebuilds when the stored vectors no longer match the files (ids or values)', async () => {
    await savedSet();
    const more = await IndexSet.open(dir, params, vectors(n + 1), meta, { log });
    expect(more.rebuilt).toEqual(['lsh', 'hnsw']);
    expect(more.set.search('lsh', row(data.vectors, dim, n), 1).neighbors[0]).toMatchObject({ id: `v${n}` });

    const changed = vectors();
    changed[0] = ['v0', row(data.vectors, dim, n + 5)];
    const { rebuilt, set } = await IndexSet.open(dir, params, changed, meta, { log });
    expect(rebuilt).toEqual(['lsh', 'hnsw']);
    for (const kind of kinds) expect(set.search(kind, row(data.vectors, dim, n + 5), 1).neighbors[0]).toMatchObject({ id: 'v0' });
  });
});

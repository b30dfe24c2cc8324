/**
 * `npm run bench:storage-recall -- [--queries 296] [--catalog iconic|B]`: recall parity of the two
 * storage backends on grocery. The same extractor fills an embedded catalog (SQLite + in-process
 * indexes) and a pg one (PGlite + pgvector via db:start, its own process) with the 81 iconic photos
 * (raw vectors: one photo per product is too little to learn whitening from), or with catalog B (the
 * iconic and 2,640 train photos, then optimized with the config's whitening on both); then every val
 * photo is extracted once and matched object by object on both, per index; the whole-photo answer
 * (rankProducts) is right when its first product is the photo's. Prints recall@1 per backend and
 * index, and how many queries the two backends ranked differently.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import type { IndexKind } from '../src/indexing/types.js';
import { rankProducts } from '../src/pipeline/answer.js';
import { CatalogSearch } from '../src/pipeline/catalog-search.js';
import { createExtractor } from '../src/pipeline/extractor.js';
import { PgCatalogSearch } from '../src/storage/pg/pg-catalog-search.js';
import { catalogBPhotos } from './lib/grocery-catalog.js';
import { iconicImages, valPhotos } from './lib/grocery.js';

const { values } = parseArgs({ options: { queries: { type: 'string', default: '296' }, catalog: { type: 'string', default: 'iconic' } } });
if (values.catalog !== 'iconic' && values.catalog !== 'B') throw new Error(`--catalog ${values.catalog}: expected iconic or B`);
const catalogPhotos: Array<[product: string, path: string]> =
  values.catalog === 'B' ? catalogBPhotos().map(({ path, product }) => [product.name, path]) : [...iconicImages()];
const KINDS: IndexKind[] = ['lsh', 'hnsw', 'exact'];
const K = 5;
const config = loadConfig({ env: {} });
const log = (message: string): boolean => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

const engine = spawn(process.execPath, ['--import', 'tsx', 'src/cli/db-start.ts', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  engine.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('\n')) resolve(out.trim());
  });
  engine.once('exit', (code) => reject(new Error(`db:start exited with ${code}`)));
});
const dataDir = mkdtempSync(join(tmpdir(), 'findthis-storage-recall-'));
const extractor = await createExtractor(config.extractor);
const common = { index: config.index, candidateFactor: config.search.candidateFactor };
const backends = { embedded: await CatalogSearch.open(extractor, { dataDir, ...common }), pg: await PgCatalogSearch.open(extractor, { url, ...common }) };
try {
  for (const [i, [name, path]] of catalogPhotos.entries()) {
    const image = readFileSync(path);
    for (const backend of Object.values(backends)) await backend.ingest(name, image);
    if ((i + 1) % 250 === 0) log(`${i + 1}/${catalogPhotos.length} catalog photos`);
  }
  log(`catalogs filled: ${JSON.stringify(await backends.pg.size())}`);
  if (values.catalog === 'B') {
    for (const [label, backend] of Object.entries(backends)) {
      const { transform, vectors, indexed, ms } = await backend.optimize({ whitening: config.whitening });
      log(`${label} optimized: ${transform}, ${vectors} vectors, ${indexed.hnsw} indexed, ${Math.round(ms)} ms`);
    }
  }
  const queries = valPhotos().slice(0, Number(values.queries));
  const right = { embedded: new Map(KINDS.map((k) => [k, 0])), pg: new Map(KINDS.map((k) => [k, 0])) };
  const differing = new Map(KINDS.map((k) => [k, 0]));
  for (const [i, [path, product]] of queries.entries()) {
    const { objects } = await extractor.extract(readFileSync(path));
    for (const kind of KINDS) {
      const firsts: Record<string, string | undefined> = {};
      for (const [label, backend] of Object.entries(backends) as [keyof typeof backends, CatalogSearch | PgCatalogSearch][]) {
        const perObject = [];
        for (const object of objects) {
          const found = await backend.matchVector(object.vector, kind, K, 0);
          perObject.push({ kind: object.kind, label: object.label, bbox: object.bbox, matches: found.matches });
        }
        firsts[label] = rankProducts(perObject)[0]?.productId;
        if (firsts[label] === product) right[label].set(kind, right[label].get(kind)! + 1);
      }
      if (firsts.embedded !== firsts.pg) differing.set(kind, differing.get(kind)! + 1);
    }
    if ((i + 1) % 50 === 0) log(`${i + 1}/${queries.length} queries`);
  }
  const against = values.catalog === 'B' ? 'catalog B (whitened)' : 'the 81 iconic photos (raw vectors)';
  console.log(`\n${queries.length} grocery val photos against ${against}, whole-photo answer, recall@1 (%)\n`);
  console.log('| index | embedded | pg (PGlite) | queries ranked differently |');
  console.log('|---|---:|---:|---:|');
  for (const kind of KINDS) {
    const pct = (n: number): string => ((100 * n) / queries.length).toFixed(1);
    console.log(`| ${kind} | ${pct(right.embedded.get(kind)!)} | ${pct(right.pg.get(kind)!)} | ${differing.get(kind)} |`);
  }
} finally {
  await backends.embedded.close();
  await backends.pg.close();
  await extractor.close();
  engine.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}

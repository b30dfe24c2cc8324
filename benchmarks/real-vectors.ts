/**
 * npm run bench:real-vectors -- [--crops N] [--seed S] [--queries Q] [--out DIR]
 *
 * Real embeddings for the index benchmark (issue 13, item 4): the configured encoder on the grocery
 * train photos (the indexed rows) and val photos (the queries, last), each photo giving its whole
 * image, its detections (catalog extraction, as ingest stores them), two rescaled copies (decoded at
 * 256 and 128 px on the long side, then embedded whole) and N random crops (seeded: a tenth to the
 * whole of each side, anywhere in the photo) pooled from the whole photo's feature map.
 * Writes DIR/raw.npy (1280-d) and DIR/whitened.npy (the project's learned whitening, learned from
 * the train rows' whole photos and detections grouped by product, then applied to every row); both
 * end with the Q query rows (a seeded random sample of the val rows, in random order), as
 * `npm run bench:index -- --vectors DIR/raw.npy --queries q` reads them (any q ≤ Q).
 * Cached per batch of photos in DIR/chunks (an interrupted run resumes); DIR defaults to
 * benchmarks/results/real-vectors (git-ignored). Minutes of CPU: run it with nice.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { createDetector } from '../src/detection/detector.js';
import { createEncoder } from '../src/embedding/encoder.js';
import { whitenApply, whitenLearn, type LabelledVector } from '../src/embedding/whitening.js';
import { l2n } from '../src/embedding/gem.js';
import { decodeImage } from '../src/imaging/decode.js';
import { cellBox } from '../src/localization/grid.js';
import { wholeImage, type Region } from '../src/imaging/resize.js';
import { SeededRandom } from '../src/core/prng.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { cropRegion } from '../src/pipeline/extractor.js';
import { groceryPhotos, type GroceryPhoto } from './lib/grocery.js';
import { writeNpyFloat32 } from './lib/npy.js';
import { progress } from './lib/progress.js';

const { values: args } = parseArgs({
  options: {
    crops: { type: 'string', default: '34' },
    seed: { type: 'string', default: '13' },
    queries: { type: 'string', default: '1000' },
    out: { type: 'string', default: join(PROJECT_ROOT, 'benchmarks', 'results', 'real-vectors') },
  },
});
const CROPS = Number(args.crops);
const SEED = Number(args.seed);
const QUERIES = Number(args.queries);
const OUT = args.out;
const CHUNK_PHOTOS = 64;
const RESCALE_SIDES = [256, 128];

const config = loadConfig();
const { extractor } = config;
const detector = await createDetector(extractor.detector);
const encoder = await createEncoder(extractor.encoder);
const dim = encoder.meta.dim;

interface Row {
  group: string;
  /** Whole photo or detection: what a catalog stores, and what whitening is learned from. */
  stored: boolean;
  vector: Float32Array;
}

/** Seeded random crops: each side a tenth to all of the photo's, anywhere in it. */
function randomCrops(width: number, height: number, count: number, random: SeededRandom): Region[] {
  return Array.from({ length: count }, () => {
    const w = Math.max(1, Math.round(width * (0.1 + 0.9 * random.next())));
    const h = Math.max(1, Math.round(height * (0.1 + 0.9 * random.next())));
    return { x: Math.floor(random.next() * (width - w + 1)), y: Math.floor(random.next() * (height - h + 1)), width: w, height: h };
  });
}

/**
 * One photo's rows: the whole photo at the encoder's imageInputSize with its whole-image pooling (as
 * ingest and search embed it), its detections re-encoded as crops (as ingest stores them), two
 * rescaled copies encoded whole at the crop size, and the random crops GeM-pooled from the whole
 * photo's feature map (as search photos' regions are scored: no CNN run per crop, which is what
 * makes 100k+ vectors affordable on two shared cores).
 */
async function embedPhoto(photo: GroceryPhoto, random: SeededRandom): Promise<Row[]> {
  const { imageInputSize, inputSize, pooling, cropPooling, gemP } = encoder.meta;
  const bytes = readFileSync(photo.path);
  const image = await decodeImage(bytes, extractor.maxPixels, extractor.maxDecodeSide);
  const { detections } = await detector.detect(image);
  const whole = await encoder.encode(image, [wholeImage(image)], imageInputSize, [pooling], true);
  const map = whole.firstMap!;
  const grid = { rows: map.height, columns: map.width, width: image.width, height: image.height };
  const boxes = randomCrops(image.width, image.height, CROPS, random).map(({ x, y, width, height }) => cellBox([x, y, x + width, y + height], grid));
  const cropVectors = boxes.map((box) => l2n(Float32Array.from(map.pool(box))));
  const detected = detections.slice(0, extractor.crop.maxObjects - 1).map((d) => cropRegion(d.bbox, extractor.crop.padding, image.width, image.height));
  const rescaled = await Promise.all(RESCALE_SIDES.map((side) => decodeImage(bytes, extractor.maxPixels, side)));
  const encoded = [
    ...(detected.length > 0 ? (await encoder.encode(image, detected, inputSize, detected.map(() => cropPooling))).vectors : []),
    ...(await Promise.all(rescaled.map(async (small) => (await encoder.encode(small, [wholeImage(small)], inputSize, [cropPooling])).vectors[0]!))),
  ];
  const group = photo.product.name;
  return [
    { group, stored: true, vector: whole.vectors[0]! },
    ...encoded.map((vector, i) => ({ group, stored: i < detected.length, vector })),
    ...cropVectors.map((vector) => ({ group, stored: false, vector })),
  ];
}

/** Rows of one chunk of photos, from the cache (vectors as raw float32, labels as JSON) or embedded now and cached. */
async function chunkRows(name: string, photos: GroceryPhoto[], chunk: number): Promise<Row[]> {
  const base = join(OUT, 'chunks', `${name}-pooled-${CROPS}-${SEED}-${chunk}`);
  if (existsSync(`${base}.json`)) {
    const labels = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Array<{ group: string; stored: boolean }>;
    const bytes = readFileSync(`${base}.f32`);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return labels.map(({ group, stored }, i) => ({ group, stored, vector: data.subarray(i * dim, (i + 1) * dim) }));
  }
  const random = new SeededRandom(SEED * 100_003 + chunk + (name === 'val' ? 50_000 : 0));
  const rows: Row[] = [];
  for (const photo of photos.slice(chunk * CHUNK_PHOTOS, (chunk + 1) * CHUNK_PHOTOS)) rows.push(...(await embedPhoto(photo, random)));
  const data = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => data.set(row.vector, i * dim));
  writeFileSync(`${base}.f32`, Buffer.from(data.buffer));
  // The labels last: a chunk counts as cached once they exist.
  writeFileSync(`${base}.json`, JSON.stringify(rows.map(({ group, stored }) => ({ group, stored }))));
  return rows;
}

async function embedSplit(name: 'train' | 'val'): Promise<Row[]> {
  const photos = groceryPhotos(name);
  const chunks = Math.ceil(photos.length / CHUNK_PHOTOS);
  const bar = progress(`embed ${name}: ${photos.length} photos × (whole + detections + ${RESCALE_SIDES.length} rescales + ${CROPS} crops)`);
  const rows: Row[] = [];
  for (let chunk = 0; chunk < chunks; chunk += 1) {
    rows.push(...(await chunkRows(name, photos, chunk)));
    bar.update(Math.min(photos.length, (chunk + 1) * CHUNK_PHOTOS), photos.length);
  }
  bar.finish(`(${rows.length} vectors)`);
  return rows;
}

mkdirSync(join(OUT, 'chunks'), { recursive: true });
const train = await embedSplit('train');
const val = await embedSplit('val');
// Queries: a seeded sample of the val rows (whole photos, detections and crops alike) in random
// order, so that the last q of them (what `bench:index --queries q` takes) are a random sample too.
const shuffler = new SeededRandom(SEED);
const shuffled = [...val];
for (let i = shuffled.length - 1; i > 0; i -= 1) {
  const j = shuffler.nextInt(i + 1);
  [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
}
const queries = shuffled.slice(0, QUERIES);
const rows = [...train, ...queries];
await writeNpyFloat32(join(OUT, 'raw.npy'), rows.map((r) => r.vector));

const learning: LabelledVector[] = train.filter((r) => r.stored).map(({ group, vector }) => ({ group, vector }));
const learnBar = progress(`learn whitening (${config.whitening.dimensions} dims) from ${learning.length} stored train vectors`);
const whitening = whitenLearn(learning, { dimensions: config.whitening.dimensions, shrinkage: config.whitening.shrinkage });
learnBar.finish();
await writeNpyFloat32(join(OUT, 'whitened.npy'), rows.map((r) => whitenApply(whitening, r.vector)));
writeFileSync(
  join(OUT, 'meta.json'),
  `${JSON.stringify({ date: new Date().toISOString(), encoder: encoder.meta, dim, crops: CROPS, seed: SEED, rescaleSides: RESCALE_SIDES, indexed: train.length, queries: queries.length, whitening: { outputDim: whitening.outputDim, learnedFrom: whitening.learnedFrom } }, null, 2)}\n`,
);
process.stderr.write(`wrote ${OUT}/raw.npy and whitened.npy: ${train.length} indexed + ${queries.length} query rows (dim ${dim} raw, ${whitening.outputDim} whitened)\n`);
await Promise.all([detector.close(), encoder.close()]);

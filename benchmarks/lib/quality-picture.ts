/**
 * bench:quality's picture: a few queries with their detections and their top-3 catalog products.
 */
import { readFileSync } from 'node:fs';
import sharp, { type OverlayOptions } from 'sharp';
import { WHOLE_IMAGE_LABEL } from '../../src/core/types.js';
import { rankProducts } from '../../src/pipeline/answer.js';
import type { CatalogSearch } from '../../src/pipeline/catalog-search.js';
import type { Extraction } from '../../src/pipeline/extractor.js';
import type { GroceryPhoto } from './grocery.js';

export interface PictureQuery {
  photo: GroceryPhoto;
  extraction: Extraction;
}

/** `count` items spread evenly over `items` (every product is represented in val.txt order). */
export function spread<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

/**
 * A few queries, one row each: the query photo with its detections drawn, then its top-3 products
 * (the catalog image of each best match) with their answer score and, when a detection gave it, that
 * detection's label; framed green when right, red when wrong.
 */
export async function examplesPicture(search: CatalogSearch, all: readonly PictureQuery[], catalogImagePath: (imageId: number) => string | undefined): Promise<Buffer> {
  const tile = 160;
  const gap = 8;
  const examples = spread(all, 6);
  const composites: OverlayOptions[] = [];
  for (const [row, { photo, extraction }] of examples.entries()) {
    const top = row * (tile + gap + 24) + 24;
    const scale = tile / Math.max(extraction.width, extraction.height);
    const boxes = extraction.objects
      .slice(1)
      .map(({ bbox: [x1, y1, x2, y2], label }) => {
        const [x, y, w, h] = [x1 * scale, y1 * scale, (x2 - x1) * scale, (y2 - y1) * scale];
        return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#ffd000" stroke-width="2"/><text x="${x + 3}" y="${y + 13}" font-size="12" fill="#ffd000" font-family="sans-serif">${label}</text>`;
      })
      .join('');
    const query = await sharp(readFileSync(photo.path))
      .rotate()
      .resize(Math.round(extraction.width * scale), Math.round(extraction.height * scale))
      .composite([{ input: Buffer.from(`<svg width="${Math.round(extraction.width * scale)}" height="${Math.round(extraction.height * scale)}">${boxes}</svg>`), top: 0, left: 0 }])
      .png()
      .toBuffer();
    composites.push({ input: query, top, left: gap });
    composites.push(caption(`query: ${photo.product.name}`, gap, top - 20, tile));
    const perObject = [];
    for (const object of extraction.objects) {
      perObject.push({ kind: object.kind, label: object.label, bbox: object.bbox, matches: (await search.matchVector(object.vector, 'hnsw', 3, 0)).matches });
    }
    for (const [rank, match] of rankProducts(perObject).slice(0, 3).entries()) {
      const left = gap + (rank + 1) * (tile + gap) + gap * 2;
      const path = catalogImagePath(match.match.imageId);
      const right = match.productId === photo.product.name;
      const framed = await sharp(readFileSync(path!))
        .rotate()
        .resize(tile - 8, tile - 8, { fit: 'contain', background: '#ffffff' })
        .extend({ top: 4, bottom: 4, left: 4, right: 4, background: right ? '#1a9c3a' : '#d0312d' })
        .png()
        .toBuffer();
      composites.push({ input: framed, top, left });
      composites.push(caption(`${rank + 1}. ${match.productId} ${match.score.toFixed(2)}${match.via === WHOLE_IMAGE_LABEL ? '' : ` (${match.via})`}`, left, top - 20, tile));
    }
  }
  const width = gap + 4 * (tile + gap) + gap * 2;
  const height = examples.length * (tile + gap + 24) + gap;
  // A palette PNG keeps the picture small enough to commit beside the README.
  return sharp({ create: { width, height, channels: 3, background: '#f4f4f4' } }).composite(composites).png({ palette: true, quality: 80 }).toBuffer();
}

function caption(text: string, left: number, top: number, width: number): OverlayOptions {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return {
    input: Buffer.from(`<svg width="${width}" height="18"><text x="0" y="14" font-size="11" font-family="sans-serif" fill="#222">${escaped}</text></svg>`),
    top,
    left,
  };
}

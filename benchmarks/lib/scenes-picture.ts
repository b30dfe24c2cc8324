/**
 * bench:scenes' picture: a few composed scenes, each with its products' true rectangles (dashed
 * blue, named), the regions the search used (green when the region's top match is the product its
 * centre lies on, red when it is another, grey with no match), each labelled with that match and its
 * score, and the merged answer underneath (✓ when the product is in the scene).
 */
import sharp, { type OverlayOptions } from 'sharp';
import type { ScenePlan } from './scenes-compose.js';
import { centreInside, regionsOf, type SearchedPhoto } from './scenes-metrics.js';

export interface PictureExample {
  plan: ScenePlan;
  jpeg: Buffer;
  searched: SearchedPhoto;
}

const CELL_WIDTH = 440;
const SCENE_HEIGHT = 330;
/** Room for 8 lines: the scene, the whole photo's match, and an answer of up to 5 entries. */
const CAPTION_HEIGHT = 118;
const GAP = 10;
const COLUMNS = 3;

export async function scenesPicture(examples: readonly PictureExample[]): Promise<Buffer> {
  const rows = Math.ceil(examples.length / COLUMNS);
  const cells = await Promise.all(examples.map(cell));
  const composites: OverlayOptions[] = cells.map((input, i) => ({
    input,
    left: GAP + (i % COLUMNS) * (CELL_WIDTH + GAP),
    top: GAP + Math.floor(i / COLUMNS) * (SCENE_HEIGHT + CAPTION_HEIGHT + GAP),
  }));
  const width = GAP + COLUMNS * (CELL_WIDTH + GAP);
  const height = GAP + rows * (SCENE_HEIGHT + CAPTION_HEIGHT + GAP);
  // A palette PNG keeps the picture small enough to commit under docs/.
  return sharp({ create: { width, height, channels: 3, background: '#f4f4f4' } }).composite(composites).png({ palette: true, quality: 85 }).toBuffer();
}

async function cell({ plan, jpeg, searched }: PictureExample): Promise<Buffer> {
  const scale = Math.min(CELL_WIDTH / plan.width, SCENE_HEIGHT / plan.height);
  const [w, h] = [Math.round(plan.width * scale), Math.round(plan.height * scale)];
  const rect = ([x1, y1, x2, y2]: readonly number[]) =>
    `x="${(x1! * scale).toFixed(1)}" y="${(y1! * scale).toFixed(1)}" width="${((x2! - x1!) * scale).toFixed(1)}" height="${((y2! - y1!) * scale).toFixed(1)}"`;
  const svg: string[] = [];
  for (const { productId, bbox } of plan.products) {
    svg.push(`<rect ${rect(bbox)} fill="none" stroke="#1e6fd9" stroke-width="2" stroke-dasharray="6 4"/>`);
    svg.push(label(short(productId), bbox[0] * scale + 2, bbox[3] * scale - 4, '#1e6fd9'));
  }
  for (const region of regionsOf(searched)) {
    const top = region.matches[0];
    const onProduct = plan.products.find((product) => centreInside(region.bbox, product.bbox));
    const colour = !top ? '#888888' : top.productId === onProduct?.productId ? '#14a33a' : '#d0312d';
    svg.push(`<rect ${rect(region.bbox)} fill="none" stroke="${colour}" stroke-width="2"/>`);
    const text = top ? `${short(top.productId)} ${top.score.toFixed(2)}` : 'no match';
    svg.push(label(text, region.bbox[0] * scale + 2, region.bbox[1] * scale + 12, colour));
  }
  const scene = await sharp(jpeg)
    .resize(w, h)
    .composite([{ input: Buffer.from(`<svg width="${w}" height="${h}">${svg.join('')}</svg>`), left: 0, top: 0 }])
    .png()
    .toBuffer();

  const inScene = new Set(plan.products.map((product) => product.productId));
  const whole = searched.objects.find((object) => object.kind === 'whole')?.matches[0];
  const lines = [
    `scene ${plan.index}: ${plan.width}×${plan.height}, ${plan.products.length} products, ${regionsOf(searched).length} regions`,
    `whole photo's top match: ${whole ? `${whole.productId} ${whole.score.toFixed(2)}` : 'none'}`,
    searched.answer.length === 0 ? 'answer: empty ("no match")' : 'answer:',
    ...searched.answer.map((entry) => `${inScene.has(entry.productId) ? '✓' : '✗'} ${entry.productId} ${entry.score.toFixed(2)}`),
  ];
  const caption = lines
    .map((line, i) => `<text x="2" y="${13 + i * 14}" font-size="11" font-family="sans-serif" fill="${line.startsWith('✗') ? '#b02020' : '#222'}">${escape(line)}</text>`)
    .join('');
  return sharp({ create: { width: CELL_WIDTH, height: SCENE_HEIGHT + CAPTION_HEIGHT, channels: 3, background: '#ffffff' } })
    .composite([
      { input: scene, left: 0, top: 0 },
      { input: Buffer.from(`<svg width="${CELL_WIDTH}" height="${CAPTION_HEIGHT}">${caption}</svg>`), left: 0, top: SCENE_HEIGHT },
    ])
    .png()
    .toBuffer();
}

/** Text on a white box, so it reads over any photo. */
function label(text: string, x: number, y: number, colour: string): string {
  const width = text.length * 5.6 + 4;
  return (
    `<rect x="${(x - 2).toFixed(1)}" y="${(y - 10).toFixed(1)}" width="${width.toFixed(1)}" height="13" fill="#ffffff" fill-opacity="0.85"/>` +
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="10" font-family="sans-serif" fill="${colour}">${escape(text)}</text>`
  );
}

/** Product names run long (Arla-Ecological-Medium-Fat-Milk): the picture shows 22 characters. */
function short(name: string): string {
  return name.length > 22 ? `${name.slice(0, 21)}…` : name;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The web page in a real browser (Debian's Chromium driven by playwright-core) against the real
 * service with real grocery catalog photos: a store photo is chosen, dropped or pasted as a user would, and its
 * product, the drawn regions and the catalog thumbnails must appear, with no console errors; the
 * catalog view adds and deletes a product; errors are explained; nothing scrolls sideways at 390 px.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { GROCERY_DIR, iconicImages } from '../benchmarks/lib/grocery.js';
import { debianTool } from './support/debian-tools.js';
import { launchChromium, startWebService, type WebService } from './support/web-service.js';

const chromium = debianTool('chromium', 'chromium');
const CATALOG = ['Banana', 'Kiwi', 'Granny-Smith', 'Red-Bell-Pepper', 'Oatly-Oat-Milk', 'Cabbage'];
/** A store photo of bananas in a hand, over more bananas: several detections. */
const QUERY = join(GROCERY_DIR, 'val/Fruit/Banana/Banana_005.jpg');
/** Writes need this key (searches and reads do not). */
const API_KEY = 'web-test-key-0123456789';

/** An <img>'s natural width once loaded (0 while loading or broken); the test's tsconfig has no DOM types. */
const loadedWidth = (image: unknown): number => {
  const { complete, naturalWidth } = image as { complete: boolean; naturalWidth: number };
  return complete ? naturalWidth : 0;
};
/** The page's scroll and viewport widths (evaluated in the browser). */
const PAGE_WIDTHS = '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })';

let service: WebService | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!chromium.available && process.env.CI !== 'true') return;
  const iconic = iconicImages();
  service = await startWebService(
    CATALOG.map((id) => ({ id, path: iconic.get(id) as string, metadata: id === 'Banana' ? { name: 'Bananas, loose' } : undefined })),
    [API_KEY],
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
});

/** A page at `width` px whose console errors and uncaught exceptions are collected. */
async function open(width: number): Promise<{ page: Page; errors: string[] }> {
  const page = await (browser as Browser).newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${(service as WebService).url}/`);
  await page.getByText(`Ready: ${CATALOG.length} products in the catalog.`).waitFor();
  return { page, errors };
}

describe('the web page in Chromium', () => {
  chromium.it('finds a store photo\'s product: regions drawn, thumbnails loaded, object matches on click, no console errors', async () => {
    const { page, errors } = await open(1280);
    // The labelled file input, as a user picks a photo with "Choose a photo…"
    await page.getByLabel('Choose a photo…').setInputFiles(QUERY);

    const best = page.locator('#answer > li').first();
    await best.waitFor();
    expect(await best.getAttribute('data-product')).toBe('Banana');
    expect(await best.locator('.match-name').textContent()).toBe('Bananas, loose'); // metadata name
    expect(await best.textContent()).toMatch(/score 0\.\d\d/);

    // The regions: the whole photo and at least one detection, drawn inside the photo.
    const regions = page.locator('#regions .region');
    expect(await regions.count()).toBeGreaterThanOrEqual(2);
    const photoBox = await page.locator('#photo-image').boundingBox();
    // Regions are drawn largest first: the last detection is on top of any it overlaps.
    const index = await page.locator('#regions .region:not(.whole)').last().getAttribute('data-index');
    const detection = page.locator(`#regions .region[data-index="${index}"]`);
    const box = await detection.locator('rect.box').boundingBox();
    expect(photoBox && box).toBeTruthy();
    if (!photoBox || !box) return;
    expect(box.width).toBeGreaterThan(10);
    expect(box.x).toBeGreaterThanOrEqual(photoBox.x - 1);
    expect(box.x + box.width).toBeLessThanOrEqual(photoBox.x + photoBox.width + 1);
    expect(await detection.locator('text').textContent()).toMatch(/^\d+ \w+/);

    // The best match's catalog thumbnail has loaded.
    const thumbnail = best.locator('img.thumb');
    await expect.poll(() => thumbnail.evaluate(loadedWidth)).toBeGreaterThan(0);
    expect(await thumbnail.getAttribute('src')).toMatch(/^\/v1\/images\/\d+$/);

    // Clicking a detection's region highlights it and shows its matches.
    await detection.locator('rect.box').click();
    expect(await detection.getAttribute('class')).toContain('selected');
    expect(await page.locator(`#objects button[data-index="${index}"]`).getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('#object-matches-heading').textContent()).toMatch(new RegExp(`^Matches for ${Number(index) + 1} `));
    expect(await page.locator('#object-matches > li').count()).toBeGreaterThan(0);
    // The timings come last.
    expect(await page.locator('#timings dt').allTextContents()).toContain('total (server)');

    expect(errors).toEqual([]);
    await page.close();
  });

  chromium.it('searches a photo dropped on the page, and one pasted into it', async () => {
    const { page, errors } = await open(1280);
    const photo = readFileSync(QUERY).toString('base64');
    // A DataTransfer carrying the photo as a File, as the browser builds one for a drop or a paste.
    const transfer = await page.evaluateHandle(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(photo)}), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
      return transfer;
    })()`);
    await page.dispatchEvent('#drop', 'dragover', { dataTransfer: transfer });
    expect(await page.locator('#drop').getAttribute('class')).toContain('dragging');
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
    await page.getByText('Searched with dropped.jpg: best match Banana.').waitFor();
    expect(await page.locator('#drop').getAttribute('class')).not.toContain('dragging');

    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(photo)}), (c) => c.charCodeAt(0));
      const clipboardData = new DataTransfer();
      clipboardData.items.add(new File([bytes], 'image.png', { type: 'image/jpeg' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true }));
    })()`);
    await page.getByText('Searched with the pasted image: best match Banana.').waitFor();
    expect(await page.locator('#answer > li').first().getAttribute('data-product')).toBe('Banana');
    expect(errors).toEqual([]);
    await page.close();
  });

  chromium.it('says "No match in the catalog" when nothing is close enough', async () => {
    const { page, errors } = await open(1280);
    await page.getByText('Search options').click();
    await page.getByLabel('Minimum score').fill('0.999');
    await page.getByLabel('Choose a photo…').setInputFiles(QUERY);
    const noMatch = page.locator('#no-match');
    await noMatch.waitFor();
    expect(await noMatch.textContent()).toBe('No match in the catalog: none of its products looks enough like this photo.');
    expect(await page.locator('#answer > li').count()).toBe(0);
    expect(await page.locator('#regions .region').count()).toBeGreaterThanOrEqual(2); // the objects are still shown
    expect(errors).toEqual([]);
    await page.close();
  });

  chromium.it('explains an error in the page: a PDF is refused with 415', async () => {
    const { page, errors } = await open(1280);
    await page.getByLabel('Choose a photo…').setInputFiles({ name: 'leaflet.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n') });
    const banner = page.getByRole('alert');
    await banner.waitFor();
    expect(await banner.locator('.error-title').textContent()).toBe('Searching with leaflet.pdf failed (HTTP 415 UNSUPPORTED_FORMAT)');
    expect(await banner.locator('.error-explanation').textContent()).toContain('a PDF, an SVG drawing or another document is refused');
    expect(await banner.locator('.error-detail').textContent()).toContain('PDF'); // the API's own message
    // Chromium itself logs the failed request; nothing else may be logged.
    expect(errors.filter((text) => !text.includes('status of 415'))).toEqual([]);
    await page.close();
  });

  chromium.it('lists the catalog with thumbnails; adds a product (401 explained until the API key is given) and deletes it', async () => {
    const { page, errors } = await open(1280);
    await page.getByRole('button', { name: 'Catalog' }).click();
    const cards = page.locator('#products > li');
    await expect.poll(() => cards.count()).toBe(CATALOG.length);
    expect(await page.locator('#page-info').textContent()).toBe(`Products 1–${CATALOG.length} of ${CATALOG.length}`);
    await expect.poll(() => cards.first().locator('img').evaluate(loadedWidth)).toBeGreaterThan(0);

    await page.getByLabel('Product id').fill('Pineapple');
    await page.getByLabel('Photo', { exact: true }).setInputFiles(iconicImages().get('Pineapple') as string);
    await page.getByLabel('Metadata').fill('{"name": "Pineapple, whole"}');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const banner = page.getByRole('alert');
    await banner.waitFor();
    expect(await banner.locator('.error-title').textContent()).toBe('Adding a photo to Pineapple failed (HTTP 401 UNAUTHORIZED)');
    expect(await banner.locator('.error-explanation').textContent()).toContain('open "API key" at the top of the page');
    await page.getByText('API key', { exact: true }).first().click(); // the <summary> opens the key field
    await page.getByLabel('API key').fill(API_KEY);
    expect(await page.evaluate('sessionStorage.getItem("findthis.apiKey")')).toBe(API_KEY);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText(/^Added photo \d+ to Pineapple/).waitFor();
    expect(await banner.isHidden()).toBe(true);
    // With a key, thumbnails are fetched with it (services may guard reads too) and shown from blob: URLs.
    await expect.poll(() => cards.first().locator('img').evaluate(loadedWidth)).toBeGreaterThan(0);
    expect(await cards.first().locator('img').getAttribute('src')).toMatch(/^blob:/);
    await expect.poll(() => cards.count()).toBe(CATALOG.length + 1);
    expect(await page.locator('#products > li[data-product="Pineapple"]').textContent()).toContain('Pineapple, whole');
    expect((service as WebService).catalogSearch.product('Pineapple')?.metadata).toEqual({ name: 'Pineapple, whole' });

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete Pineapple' }).click();
    await page.getByText('Deleted Pineapple.').waitFor();
    await expect.poll(() => cards.count()).toBe(CATALOG.length);
    expect((service as WebService).catalogSearch.product('Pineapple')).toBeUndefined();
    // Chromium itself logs the refused request; nothing else may be logged.
    expect(errors.filter((text) => !text.includes('status of 401'))).toEqual([]);
    await page.close();
  });

  chromium.it('works at 390 px wide with no horizontal scroll', async () => {
    const { page, errors } = await open(390);
    await page.getByLabel('Choose a photo…').setInputFiles(QUERY);
    await page.locator('#answer > li').first().waitFor();
    const widths = await page.evaluate<{ scroll: number; client: number }>(PAGE_WIDTHS);
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    expect(widths.client).toBe(390);
    await page.getByRole('button', { name: 'Catalog' }).click();
    await page.locator('#products > li').first().waitFor();
    expect((await page.evaluate<{ scroll: number }>(PAGE_WIDTHS)).scroll).toBeLessThanOrEqual(390);
    expect(errors).toEqual([]);
    await page.close();
  });
});

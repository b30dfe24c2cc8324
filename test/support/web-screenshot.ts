/**
 * `npm run docs:screenshot`: the picture of the web page in docs/reference.md and the README. The
 * service on a temp DATA_DIR with the 81 grocery iconic images (as `npm run ingest` adds them: no
 * metadata), a store photo chosen in the page as a user would, Chromium's view saved as
 * docs/web-page.png (palette PNG). Args: [photo] [width] [height] [out].
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { GROCERY_DIR, groceryProducts } from '../../benchmarks/lib/grocery.js';
import { PROJECT_ROOT } from '../../src/models/manifest.js';
import { launchChromium, startWebService } from './web-service.js';

const [photo = join(GROCERY_DIR, 'val/Fruit/Banana/Banana_005.jpg'), width = '1200', height = '1000', out = join(PROJECT_ROOT, 'docs/web-page.png')] =
  process.argv.slice(2);

const products = groceryProducts();
process.stderr.write(`ingesting ${products.length} iconic images...\n`);
const service = await startWebService(products.map((product) => ({ id: product.name, path: product.iconic })));
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: Number(height) } });
  page.on('console', (message) => {
    if (message.type() === 'error') process.stderr.write(`console error: ${message.text()}\n`);
  });
  await page.goto(`${service.url}/`);
  await page.getByText(/^Ready/).waitFor();
  await page.getByLabel('Choose a photo…').setInputFiles(photo);
  await page.locator('#answer > li').first().waitFor();
  // Every visible thumbnail loaded before the picture is taken.
  await page.waitForFunction(() => {
    const images = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ complete: boolean }> } }).document.querySelectorAll('img');
    return [...images].every((image) => image.complete);
  });
  await page.evaluate('window.scrollTo(0, 0)');
  const png = await page.screenshot({ fullPage: false });
  await sharp(png).png({ palette: true, quality: 90, effort: 10 }).toFile(out);
  process.stderr.write(`wrote ${out}\n`);
} finally {
  await browser.close();
  await service.close();
}

/**
 * What the web page needs besides the search and product routes: the page itself (plain ES modules
 * and CSS from src/service/web/, no build step), catalog thumbnails, and a paged product list.
 */
import { fileURLToPath } from 'node:url';
import express, { type Express, type RequestHandler } from 'express';
import { FindthisError } from '../core/errors.js';
import type { FindthisApp } from './app.js';
import { parseImageId, parseProductPage } from './params.js';
import { handle } from './routes.js';
import type { ProductListResponse } from './schemas.js';

/** The page's files. */
export const WEB_DIR = fileURLToPath(new URL('./web/', import.meta.url));

/**
 * Thumbnails of an image id never change once written (ids are never reused), but a deleted
 * product's images should not linger in caches for long: a day, revalidated by ETag after that.
 */
const THUMBNAIL_CACHE_CONTROL = 'public, max-age=86400';

/** `access.read`: the API-key check for reads (open unless server.protectReads); the page itself is always open. */
export function registerWebRoutes(app: Express, service: FindthisApp, access: { read: RequestHandler }): void {
  app.get('/v1/products', access.read, handle(async (req, res) => {
    const { offset, limit } = parseProductPage(req.query);
    const page = await service.catalogSearch().listProducts(offset, limit);
    const body: ProductListResponse = { total: page.total, offset, limit, products: page.products };
    res.json(body);
  }));

  app.get('/v1/images/:imageId', access.read, handle(async (req, res) => {
    const { imageId } = parseImageId(req.params);
    const thumbnail = await service.catalogSearch().thumbnail(imageId);
    if (thumbnail === null) throw new FindthisError('NOT_FOUND', `No catalog image with id ${imageId}`);
    if (thumbnail === undefined) {
      throw new FindthisError(
        'THUMBNAIL_MISSING',
        `Catalog image ${imageId} has no thumbnail: it was ingested before thumbnails were kept. ` +
          'Fill them with `npm run thumbnails -- <folder with the original images>` (service stopped, same DATA_DIR)',
      );
    }
    res.set({ ETag: thumbnail.etag, 'Cache-Control': THUMBNAIL_CACHE_CONTROL });
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    res.type(thumbnail.type).send(thumbnail.data);
  }));

  // The page: GET / is index.html, GET /<file> its scripts and styles (src/service/web/ has no folders).
  // Revalidated on every load (ETag), so an upgraded page shows at once. Routes, not app.use, so that
  // the request metrics count them under `/` and `/:file`.
  const page = express.static(WEB_DIR, { index: 'index.html', maxAge: 0 });
  app.get('/', page);
  app.get('/:file', page);
}

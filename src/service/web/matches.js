// One catalog product in a list: its thumbnail, name, id, score and (when the API gives them) the
// match flag and confidence.
import { apiBlob, apiKey } from './api.js';
import { el } from './dom.js';

/**
 * @typedef {object} Match
 * @property {string} productId
 * @property {number} score cosine similarity, -1..1
 * @property {number} imageId the catalog image; its thumbnail is GET /v1/images/{imageId}
 * @property {Record<string, unknown>} [metadata]
 * @property {boolean} [accepted] true: a match; false: only similar
 * @property {number | null} [confidence] 0..1; null when no acceptance model judged the match
 * @property {string} [via] the label of the photo's object this answer entry came from
 * @property {[number, number, number, number]} [objectBox] where that object is in the photo
 * @property {string} [from] how the page names that object, e.g. "2 apple" (set by the search view)
 */

/** The catalog thumbnail of an image, or a placeholder when it has none. @param {number | null} imageId @param {string} productId */
export function thumbnail(imageId, productId) {
  const placeholder = () => el('div', { class: 'thumb missing', text: 'no picture' });
  if (imageId === null || imageId === undefined) return placeholder();
  const path = `/v1/images/${imageId}`;
  const image = /** @type {HTMLImageElement} */ (el('img', { class: 'thumb', alt: `Catalog photo of ${productId}`, width: 256, height: 256 }));
  // Catalogs ingested before thumbnails answer 404 THUMBNAIL_MISSING: show that there is none.
  image.addEventListener('error', () => image.replaceWith(placeholder()), { once: true });
  if (!apiKey.get()) {
    image.loading = 'lazy';
    image.src = path;
    return image;
  }
  // With a key, the service may guard reads too (server.protectReads): fetch with the key, show as blob:.
  apiBlob(path).then(
    (blob) => {
      const url = URL.createObjectURL(blob);
      image.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
      image.src = url;
    },
    () => image.replaceWith(placeholder()),
  );
  return image;
}

/** The product's display name: metadata `name` (or `title`) when given. @param {Match} match */
function nameOf(match) {
  const { name, title } = match.metadata ?? {};
  if (typeof name === 'string' && name.trim()) return name;
  if (typeof title === 'string' && title.trim()) return title;
  return undefined;
}

/** @param {Match} match @param {{ best?: boolean }} [options] */
export function matchItem(match, options = {}) {
  const name = nameOf(match);
  const facts = [
    name ? el('span', { text: match.productId }) : null,
    el('span', { text: `score ${match.score.toFixed(2)}` }),
  ];
  // The verdict, where there is one: a service without a learned acceptance model accepts every match
  // and gives no confidence (null), and then a "match" badge would claim a judgement nobody made.
  const judged = typeof match.confidence === 'number' || match.accepted === false;
  if (typeof match.accepted === 'boolean' && judged) {
    facts.push(el('span', { class: `badge ${match.accepted ? 'match' : 'similar'}`, text: match.accepted ? 'match' : 'similar' }));
  }
  if (typeof match.confidence === 'number') facts.push(el('span', { text: `confidence ${Math.round(match.confidence * 100)}%` }));
  if (match.from ?? match.via) facts.push(el('span', { text: match.via === 'image' ? 'from the whole photo' : `from ${match.from ?? `the ${match.via}`}` }));
  return el('li', { class: `match${options.best ? ' best' : ''}`, 'data-product': match.productId }, [
    thumbnail(match.imageId, match.productId),
    el('div', {}, [el('p', { class: 'match-name', text: name ?? match.productId }), el('p', { class: 'match-meta' }, facts)]),
  ]);
}

/** Replaces the list's items. @param {HTMLElement} list @param {Match[]} matches @param {{ best?: boolean }} [options] */
export function fillMatches(list, matches, options = {}) {
  list.replaceChildren(...matches.map((match, i) => matchItem(match, { best: options.best && i === 0 })));
}

// The search view: a photo comes in (file, camera, drop or paste), goes to POST /v1/search, and its
// answer is shown: the photo with its regions, the merged answer, each object's matches, timings.
import { api } from './api.js';
import { byId, el, hideError, showError } from './dom.js';
import { fillMatches } from './matches.js';
import { drawRegions, highlightRegion, objectName } from './regions.js';

/** @typedef {import('./regions.js').FoundObject} FoundObject */
/**
 * @typedef {object} SearchAnswer
 * @property {FoundObject[]} objects objects[0] is the whole photo
 * @property {import('./matches.js').Match[]} answer the photo's products (accepted matches), best first
 * @property {import('./matches.js').Match[]} [similar] similar products that are not matches
 * @property {boolean} [judged] whether an acceptance model judged the matches (false: every close product is listed)
 * @property {Record<string, number>} timings stage times in ms
 */

const TIMING_NAMES = { decodeMs: 'decode', detectMs: 'detect', embedMs: 'embed', searchMs: 'search', totalMs: 'total (server)' };

/** The object URL of the photo on show, released when the next one comes. @type {string | undefined} */
let shownPhoto;

/** @type {Promise<boolean> | undefined} */
let similarOffered;

/**
 * Whether POST /v1/search takes `similar` (every match with its verdict, and the similar products),
 * read once from the service's OpenAPI document: a service without it refuses unknown parameters.
 */
function offersSimilar() {
  similarOffered ??= fetch('/openapi.json')
    .then((response) => (response.ok ? response.json() : undefined))
    .then(
      (document) => Boolean(document?.paths?.['/v1/search']?.post?.parameters?.some((/** @type {{ name: string }} */ p) => p.name === 'similar')),
      () => false,
    );
  return similarOffered;
}

/** @param {{ isActive: () => boolean }} view */
export function setUpSearch(view) {
  const drop = byId('drop');
  for (const id of ['photo', 'camera']) {
    const input = /** @type {HTMLInputElement} */ (byId(id));
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      if (file) void search(file);
      input.value = ''; // choosing the same file again searches again
    });
  }
  // A photo dropped anywhere on the search view is searched; elsewhere the browser must not open it.
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    if (view.isActive()) drop.classList.add('dragging');
  });
  document.addEventListener('dragleave', (event) => {
    if (!event.relatedTarget) drop.classList.remove('dragging');
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('dragging');
    const file = event.dataTransfer?.files[0];
    if (file && view.isActive()) void search(file);
  });
  document.addEventListener('paste', (event) => {
    if (!view.isActive()) return;
    const file = [...(event.clipboardData?.files ?? [])].find((item) => item.type.startsWith('image/'));
    if (!file) return;
    event.preventDefault();
    void search(file);
  });
}

/** @param {File} file */
async function search(file) {
  const drop = byId('drop');
  const name = file.name && file.name !== 'image.png' ? file.name : 'the pasted image';
  hideError();
  drop.classList.add('busy');
  drop.setAttribute('aria-busy', 'true');
  byId('status').textContent = `Searching with ${name}…`;
  const form = new FormData();
  form.append('image', file, file.name || 'pasted-image');
  const query = new URLSearchParams();
  const k = /** @type {HTMLInputElement} */ (byId('k')).value;
  const index = /** @type {HTMLSelectElement} */ (byId('index')).value;
  if (k) query.set('k', k);
  if (index) query.set('index', index);
  if (await offersSimilar()) query.set('similar', 'true');
  const minScore = /** @type {HTMLInputElement} */ (byId('min-score')).value;
  if (minScore) query.set('minScore', minScore);
  try {
    const answer = /** @type {SearchAnswer} */ (await api(`/v1/search?${query}`, { method: 'POST', body: form }));
    show(file, name, answer);
    byId('status').textContent = `Searched with ${name}: ${answer.answer.length ? `best match ${answer.answer[0]?.productId}` : 'no match'}.`;
  } catch (error) {
    byId('status').textContent = `Searching with ${name} failed.`;
    showError(`Searching with ${name}`, error);
  } finally {
    drop.classList.remove('busy');
    drop.removeAttribute('aria-busy');
  }
}

/** @param {File} file @param {string} name @param {SearchAnswer} answer */
function show(file, name, answer) {
  const [whole] = answer.objects;
  const width = whole ? whole.bbox[2] : 1;
  const height = whole ? whole.bbox[3] : 1;
  const image = /** @type {HTMLImageElement} */ (byId('photo-image'));
  if (shownPhoto) URL.revokeObjectURL(shownPhoto);
  shownPhoto = URL.createObjectURL(file);
  image.src = shownPhoto;
  // The frame keeps the photo's shape even where the browser cannot show the file (the regions still can).
  /** @type {HTMLElement} */ (image.parentElement).style.aspectRatio = `${width} / ${height}`;
  image.alt = `Your photo, ${name}`;
  const layer = /** @type {SVGSVGElement} */ (/** @type {unknown} */ (byId('regions')));
  drawRegions(layer, answer.objects, width, height, (i) => select(answer.objects, i));
  const detections = answer.objects.length - 1;
  byId('photo-caption').textContent = `${name}, ${width} × ${height}: ${detections} object${detections === 1 ? '' : 's'} detected, and the whole photo.`;

  byId('unjudged').hidden = answer.judged !== false;
  const noMatch = byId('no-match');
  noMatch.hidden = answer.answer.length > 0;
  noMatch.textContent = 'No match in the catalog: none of its products looks enough like this photo.';
  // Each answer entry names the object it came from, as the photo and the Objects list do.
  const named = (/** @type {import('./matches.js').Match} */ match) => {
    const box = match.objectBox?.join();
    const index = box === undefined ? -1 : answer.objects.findIndex((object) => object.bbox.join() === box);
    const object = answer.objects[index];
    return object ? { ...match, from: objectName(object, index) } : match;
  };
  fillMatches(byId('answer'), answer.answer.map(named), { best: true });
  const similar = (Array.isArray(answer.similar) ? answer.similar : []).map(named);
  byId('similar-block').hidden = similar.length === 0;
  fillMatches(byId('similar'), similar);

  byId('objects').replaceChildren(
    ...answer.objects.map((object, i) => {
      const button = el('button', { type: 'button', 'aria-pressed': 'false', 'data-index': i, text: objectName(object, i) });
      button.addEventListener('click', () => select(answer.objects, i));
      return el('li', {}, [button]);
    }),
  );
  select(answer.objects, 0);

  byId('timings').replaceChildren(
    ...Object.entries(answer.timings ?? {}).flatMap(([key, ms]) => [
      el('dt', { text: TIMING_NAMES[/** @type {keyof typeof TIMING_NAMES} */ (key)] ?? key }),
      el('dd', { text: `${Number(ms).toFixed(1)} ms` }),
    ]),
  );
  const results = byId('results');
  results.hidden = false;
  results.scrollIntoView({ block: 'nearest' });
}

/** Highlights object `index` on the photo and in the list, and shows its matches. @param {FoundObject[]} objects @param {number} index */
function select(objects, index) {
  const object = objects[index];
  if (!object) return;
  highlightRegion(/** @type {SVGSVGElement} */ (/** @type {unknown} */ (byId('regions'))), index);
  for (const button of byId('objects').querySelectorAll('button')) {
    button.setAttribute('aria-pressed', String(Number(button.getAttribute('data-index')) === index));
  }
  const heading = byId('object-matches-heading');
  heading.textContent = object.matches.length
    ? `Matches for ${objectName(object, index)}`
    : `No catalog product resembles ${objectName(object, index)}`;
  fillMatches(byId('object-matches'), object.matches);
}

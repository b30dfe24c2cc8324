// The catalog view: its products a page at a time with thumbnails, a form to add a product photo,
// and a delete button per product.
import { api } from './api.js';
import { byId, el, hideError, showError } from './dom.js';
import { thumbnail } from './matches.js';

const PAGE_SIZE = 24;
let offset = 0;
/** Called after a product was added or deleted. */
let changed = () => {};

/**
 * @typedef {object} ProductPage
 * @property {number} total @property {number} offset @property {number} limit
 * @property {Array<{ id: string, metadata: Record<string, unknown>, images: number, imageId: number | null }>} products
 */

/** @param {{ onChange: () => void }} hooks onChange: called after a product was added or deleted */
export function setUpCatalog(hooks) {
  changed = hooks.onChange;
  const form = /** @type {HTMLFormElement} */ (byId('add-form'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void addProduct(form);
  });
  byId('page-prev').addEventListener('click', () => void loadCatalog(Math.max(0, offset - PAGE_SIZE)));
  byId('page-next').addEventListener('click', () => void loadCatalog(offset + PAGE_SIZE));
}

/** Shows the page of products starting at `from` (default: the page on show). @param {number} [from] */
export async function loadCatalog(from = offset) {
  let page;
  try {
    page = /** @type {ProductPage} */ (await api(`/v1/products?offset=${from}&limit=${PAGE_SIZE}`));
  } catch (error) {
    showError('Loading the catalog', error);
    return;
  }
  if (page.products.length === 0 && page.total > 0 && from > 0) {
    await loadCatalog(Math.max(0, Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE)); // the last page emptied
    return;
  }
  offset = from;
  byId('page-info').textContent =
    page.total === 0 ? 'The catalog is empty.' : `Products ${from + 1}–${from + page.products.length} of ${page.total}`;
  /** @type {HTMLButtonElement} */ (byId('page-prev')).disabled = from === 0;
  /** @type {HTMLButtonElement} */ (byId('page-next')).disabled = from + page.products.length >= page.total;
  byId('products').replaceChildren(...page.products.map(productCard));
}

/** @param {ProductPage['products'][number]} product */
function productCard(product) {
  const name = typeof product.metadata?.name === 'string' ? product.metadata.name : undefined;
  const remove = el('button', { type: 'button', class: 'button danger', 'aria-label': `Delete ${product.id}`, text: 'Delete' });
  remove.addEventListener('click', () => void deleteProduct(product.id, product.images));
  return el('li', { class: 'product', 'data-product': product.id }, [
    thumbnail(product.imageId, product.id),
    el('p', { class: 'id', text: product.id }),
    name ? el('p', { text: name }) : null,
    el('p', { class: 'hint', text: `${product.images} photo${product.images === 1 ? '' : 's'}` }),
    remove,
  ]);
}

/** @param {HTMLFormElement} form */
async function addProduct(form) {
  hideError();
  const result = byId('add-result');
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  const data = new FormData(form);
  const id = String(data.get('id'));
  if (!String(data.get('metadata') ?? '').trim()) data.delete('metadata');
  button.disabled = true;
  result.textContent = `Adding a photo to ${id}…`;
  try {
    const added = /** @type {{ id: string, imageId: number, objects: unknown[] }} */ (await api('/v1/products', { method: 'POST', body: data }));
    result.textContent = `Added photo ${added.imageId} to ${added.id} (${added.objects.length} objects stored).`;
    form.reset();
    changed();
    await loadCatalog();
  } catch (error) {
    result.textContent = '';
    showError(`Adding a photo to ${id}`, error);
  } finally {
    button.disabled = false;
  }
}

/** @param {string} id @param {number} images */
async function deleteProduct(id, images) {
  if (!window.confirm(`Delete product ${id} and its ${images} photo${images === 1 ? '' : 's'} from the catalog?`)) return;
  hideError();
  try {
    await api(`/v1/products/${encodeURIComponent(id)}`, { method: 'DELETE' });
    byId('add-result').textContent = `Deleted ${id}.`;
    changed();
  } catch (error) {
    showError(`Deleting ${id}`, error);
  }
  await loadCatalog();
}

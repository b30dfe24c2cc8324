// Building DOM nodes without innerHTML (product ids and metadata are text, never markup), and the
// page's one error banner.
import { ApiError, explain } from './api.js';

/**
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined>} [attributes] class, text and any attribute
 * @param {Array<Node | string | null | undefined | false>} [children]
 * @returns {HTMLElement}
 */
export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  for (const child of children) if (child) node.append(child);
  return node;
}

/**
 * An SVG element (same arguments as el).
 * @param {string} tag @param {Record<string, string | number | boolean | undefined>} [attributes]
 * @param {Array<Node | string | null | undefined | false>} [children]
 * @returns {SVGElement}
 */
export function svg(tag, attributes = {}, children = []) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttributes(node, attributes);
  for (const child of children) if (child) node.append(child);
  return node;
}

/** @param {Element} node @param {Record<string, string | number | boolean | undefined>} attributes */
function setAttributes(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
}

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

const banner = () => byId('error');

/**
 * Shows an error in the banner: what failed, what it means, and the API's own words.
 * @param {string} what e.g. "Searching with photo.pdf" @param {unknown} error
 */
export function showError(what, error) {
  const known = error instanceof ApiError ? error : new ApiError(0, 'CLIENT', error instanceof Error ? error.message : String(error));
  const node = banner();
  /** @type {HTMLElement} */ (node.querySelector('.error-title')).textContent =
    `${what} failed${known.status ? ` (HTTP ${known.status} ${known.code})` : ''}`;
  /** @type {HTMLElement} */ (node.querySelector('.error-explanation')).textContent = explain(known);
  /** @type {HTMLElement} */ (node.querySelector('.error-detail')).textContent = known.message;
  node.hidden = false;
  node.scrollIntoView({ block: 'nearest' });
}

export function hideError() {
  banner().hidden = true;
}

// Talking to the findthis API from the page: one fetch wrapper that adds the API key, and the
// explanations shown with each error the API can answer.

const KEY_STORAGE = 'findthis.apiKey';

/** An API answer that was not 2xx (or no answer at all: status 0). */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The key typed in the page, kept in sessionStorage (this tab only), never in localStorage. */
export const apiKey = {
  get() {
    return sessionStorage.getItem(KEY_STORAGE) ?? '';
  },
  /** @param {string} key */
  set(key) {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  },
};

/**
 * fetch() with `Authorization: Bearer` when a key is set; ApiError NETWORK when nothing answers.
 * @param {string} path @param {RequestInit} [init] @returns {Promise<Response>}
 */
async function send(path, init = {}) {
  const headers = new Headers(init.headers);
  const key = apiKey.get();
  if (key) headers.set('Authorization', `Bearer ${key}`);
  try {
    return await fetch(path, { ...init, headers });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `The request did not reach findthis (${error instanceof Error ? error.message : error})`);
  }
}

/**
 * A binary answer (a thumbnail) fetched with the API key: what an <img src> cannot send when the
 * service guards its reads with keys too.
 * @param {string} path @returns {Promise<Blob>}
 */
export async function apiBlob(path) {
  const response = await send(path);
  if (!response.ok) throw new ApiError(response.status, `HTTP_${response.status}`, response.statusText);
  return response.blob();
}

/**
 * fetch() against the API: adds `Authorization: Bearer` when a key is set, returns the parsed JSON
 * (undefined for 204), throws ApiError with the API's code and message otherwise.
 * @param {string} path @param {RequestInit} [init]
 */
export async function api(path, init = {}) {
  const response = await send(path, init);
  if (response.status === 204) return undefined;
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const code = body?.error?.code ?? `HTTP_${response.status}`;
    const message = body?.error?.message ?? (text.slice(0, 200) || response.statusText);
    throw new ApiError(response.status, code, message);
  }
  return body;
}

/** What each error means for the person at the page, and what to do about it. */
const EXPLANATIONS = {
  INVALID_IMAGE: 'findthis could not read this file as a photo: it is no image format it knows, or the photo is cut short or damaged.',
  UNSUPPORTED_FORMAT: 'findthis takes photos only (JPEG, PNG, WebP, AVIF, GIF or TIFF): a PDF, an SVG drawing or another document is refused, even when it shows a picture.',
  DECODE_TIMEOUT: 'Reading this image took too long; it may be huge or deliberately malformed. Try another photo, or a smaller copy.',
  EMPTY_IMAGE: 'The file is empty, or the image in it has no pixels.',
  IMAGE_TOO_LARGE: 'The image has more pixels than this service accepts. Send a smaller photo.',
  FILE_TOO_LARGE: 'The file is larger than this service accepts (its upload limit). Send a smaller or more compressed photo.',
  INVALID_FIELD: 'The service did not accept a field of the request; the message says which and why.',
  MISSING_FILE: 'The request carried no image file.',
  NOT_FOUND: 'There is no such product or image (it may have been deleted meanwhile).',
  THUMBNAIL_MISSING: 'This catalog image was ingested before findthis kept thumbnails; run `npm run thumbnails -- <folder of the original images>` to fill them.',
  NOT_READY: 'The service is still loading its models and indexes. Try again in a few seconds.',
  OVERLOADED: 'The service is busy with other photos and its queue is full. Try again in a few seconds.',
  BUDGET_EXCEEDED: 'The service is too busy to answer in time. Try again in a few seconds.',
  CLIENT_TIMEOUT: 'The upload reached the service too slowly. Check the connection and try again.',
  NETWORK: 'The service could not be reached: is it running, and is this page served by it?',
};

/** @param {ApiError} error @returns {string} */
export function explain(error) {
  if (error.code in EXPLANATIONS) return EXPLANATIONS[/** @type {keyof typeof EXPLANATIONS} */ (error.code)];
  if (error.status === 401) return 'This service asks for an API key: open "API key" at the top of the page and enter yours.';
  if (error.status === 403) return 'Your API key is not allowed to do this.';
  if (error.status === 413) return EXPLANATIONS.FILE_TOO_LARGE;
  if (error.status === 415) return EXPLANATIONS.INVALID_IMAGE;
  if (error.status === 429 || error.status === 503) return EXPLANATIONS.OVERLOADED;
  if (error.status >= 500) return 'The service failed unexpectedly; its log says more.';
  return 'The service refused the request.';
}

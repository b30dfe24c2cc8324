// The page's entry point: the two views (search, catalog), the service's status line, the API key
// field and the error banner's dismiss button.
import { api, apiKey } from './api.js';
import { byId, hideError } from './dom.js';
import { loadCatalog, setUpCatalog } from './catalog.js';
import { setUpSearch } from './search.js';

const VIEWS = ['search', 'catalog'];

function currentView() {
  const wanted = location.hash.slice(1);
  return VIEWS.includes(wanted) ? wanted : 'search';
}

function showView() {
  const view = currentView();
  for (const name of VIEWS) {
    byId(name).hidden = name !== view;
    const tab = byId(`tab-${name}`);
    if (name === view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (view === 'catalog') void loadCatalog();
}

/** The status line: loading, or ready with the catalog's size; polls /healthz while loading. */
async function refreshStatus() {
  const status = byId('status');
  let health;
  try {
    health = await fetch('/healthz').then((response) => response.json());
  } catch {
    status.textContent = 'The service does not answer. Is it running?';
    setTimeout(() => void refreshStatus(), 2000);
    return;
  }
  if (health?.status !== 'ok') {
    status.textContent = 'The service is loading its models and indexes…';
    setTimeout(() => void refreshStatus(), 1000);
    return;
  }
  try {
    const { total } = /** @type {{ total: number }} */ (await api('/v1/products?limit=1'));
    status.textContent = `Ready: ${total} product${total === 1 ? '' : 's'} in the catalog.`;
    byId('empty-catalog').hidden = total > 0;
  } catch {
    status.textContent = 'Ready.';
  }
}

for (const name of VIEWS) {
  byId(`tab-${name}`).addEventListener('click', () => {
    if (currentView() !== name) location.hash = name === 'search' ? '' : name;
    if (name === 'search') history.replaceState(null, '', location.pathname); // no bare '#' in the address
    showView();
  });
}
window.addEventListener('hashchange', showView);

const keyField = /** @type {HTMLInputElement} */ (byId('api-key'));
keyField.value = apiKey.get();
keyField.addEventListener('input', () => apiKey.set(keyField.value.trim()));
byId('key-form').addEventListener('submit', (event) => event.preventDefault());
byId('error').querySelector('.error-close')?.addEventListener('click', hideError);

setUpSearch({ isActive: () => currentView() === 'search' });
setUpCatalog({ onChange: () => void refreshStatus() });
showView();
void refreshStatus();

// Choosing a provider and connecting it: the searchable grid, the way in ("Use my credentials
// (recommended)" or "Use my API key or access token") with "I am an admin" and the terms, the
// API-key form labelled from the provider's own fields, and "Open Window": the provider's sign-in
// in a popup, or its embedded widget (Merge Link) where the sign-in answers a link token; or, for
// a spreadsheet, the file; or, for an identity provider, the SCIM endpoint it pushes to.

import { gql, subscribe } from './api.js';
import { busy, debounced, go, h, here, latestOnly, onLeave, screen, showError } from './dom.js';
import { connectScim } from './scim.js';
import { uploadSpreadsheet } from './upload.js';

const PROVIDERS = `query($search: String, $category: ProviderCategory) { providers(search: $search, category: $category) {
  id name category authMethods subdomainLabel apiKeyInstructions readPermissions termsUrl credentialFields { key label secret help } } }`;

const initials = (name) => name.split(/\s+/).map((w) => w[0]).join('').slice(0, 2).toUpperCase();

async function find(id) {
  const { providers } = await gql(PROVIDERS, {});
  return providers.find((x) => x.id === id);
}

export async function providers(query) {
  const preset = new URLSearchParams(query ?? '').get('category') ?? '';
  const grid = h('ul', { class: 'cards', 'aria-label': 'Providers' });
  const search = h('input', { type: 'search', id: 'search', name: 'search', autocomplete: 'off' });
  const category = h('select', { id: 'category', name: 'category' },
    ['', 'HRIS', 'ATS', 'IDENTITY'].map((c) => h('option', { value: c, selected: c === preset }, c || 'All')));
  const ask = latestOnly(() => gql(PROVIDERS, { search: search.value || null, category: category.value || null }));
  const refresh = async () => {
    const found = await ask();
    if (!found) return;
    const { providers } = found;
    grid.replaceChildren(...providers.map((p) => h('li', {},
      h('button', { type: 'button', class: 'provider', onclick: () => go(`#/providers/${p.id}`) },
        h('span', { class: 'icon', 'aria-hidden': 'true' }, initials(p.name)),
        h('span', {}, h('strong', {}, p.name), h('br'), h('span', { class: 'muted' }, p.category))))));
    if (providers.length === 0) {
      const none = search.value ? 'No provider matches.' : `No ${category.value || ''} provider is available on this server yet.`.replace('  ', ' ');
      grid.replaceChildren(h('li', { class: 'muted' }, none));
    }
  };
  search.addEventListener('input', debounced(refresh));
  category.addEventListener('change', refresh);
  screen('Choose your system',
    h('div', { class: 'card' },
      h('label', { for: 'search' }, 'Search'), search,
      h('label', { for: 'category' }, 'Category'), category),
    grid);
  await refresh();
}

export async function provider(id) {
  const p = await find(id);
  if (!p) return screen('Provider not found', h('p', {}, h('a', { href: '#/providers' }, 'Choose another')));
  const methods = p.authMethods;
  const choice = (value, text) => h('label', { class: 'inline' },
    h('input', { type: 'radio', name: 'method', value, checked: value === methods[0] }), text);
  const form = h('form', { class: 'card', onsubmit: (event) => {
    event.preventDefault();
    const method = form.elements.method.value;
    if (!form.elements.admin.checked) return showError(form, { message: 'Confirm that you are an admin of this system.', field: 'admin' });
    if (!form.elements.terms.checked) return showError(form, { message: 'Accept the terms to go on.', field: 'terms' });
    const next = { API_KEY: 'api-key', CREDENTIALS: 'sign-in', UPLOAD: 'upload', PUSH: 'scim' }[method];
    go(`#/providers/${p.id}/${next}`);
  } },
  h('fieldset', {}, h('legend', {}, 'How do you want to connect?'),
    methods.includes('CREDENTIALS') ? choice('CREDENTIALS', 'Use my credentials (recommended)') : null,
    methods.includes('API_KEY') ? choice('API_KEY', 'Use my API key or access token') : null,
    methods.includes('UPLOAD') ? choice('UPLOAD', 'Upload a spreadsheet (CSV or Excel)') : null,
    methods.includes('PUSH') ? choice('PUSH', 'Let my identity provider push people here (SCIM)') : null),
  h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'admin', id: 'admin' }), 'I am an admin'),
  h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'terms', id: 'terms' }),
    'I accept the ', p.termsUrl ? h('a', { href: p.termsUrl, target: '_blank', rel: 'noopener' }, 'terms of the integration') : 'terms of the integration'),
  h('p', { class: 'muted' }, permissions(p)),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Next')));
  screen(p.name, form);
}

/** What the connection reads, in the words of how it gets it. */
function permissions(p) {
  const what = p.readPermissions.join(', ');
  if (p.authMethods.includes('UPLOAD')) return `Read from the file: ${what}.`;
  if (p.authMethods.includes('PUSH')) return `Sent by your identity provider: ${what}.`;
  return `${p.name} will be asked to read: ${what}.`;
}

export async function scim(id) {
  await connectScim(await find(id));
}

export async function upload(id) {
  const p = await find(id);
  await uploadSpreadsheet({ title: 'Upload a spreadsheet', instructions: p.apiKeyInstructions });
}

/** Fields a form may leave empty: a second secret some providers do without, and a refresh
 * token given only with an API client. */
const OPTIONAL = ['apiSecret', 'refreshToken'];

function fieldsOf(p) {
  const fields = p.credentialFields.slice();
  if (p.subdomainLabel && !fields.some((f) => f.key === 'subdomain')) {
    fields.unshift({ key: 'subdomain', label: p.subdomainLabel, secret: false, help: null });
  }
  return fields;
}

export async function apiKey(id) {
  const p = await find(id);
  const form = h('form', { class: 'card', onsubmit: async (event) => {
    event.preventDefault();
    const input = { providerId: p.id, adminConfirmed: true, termsAccepted: true };
    for (const f of fieldsOf(p)) input[f.key] = form.elements[f.key].value.trim() || null;
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const { connectWithApiKey } = await gql(`mutation($input: ConnectWithApiKeyInput!) {
        connectWithApiKey(input: $input) { id status } }`, { input });
      go(`#/connections/${connectWithApiKey.id}/data`);
    } catch (error) {
      showError(form, error);
    } finally {
      button.disabled = false;
    }
  } },
  h('p', { class: 'muted' }, p.apiKeyInstructions),
  fieldsOf(p).map((f) => [
    h('label', { for: `f-${f.key}` }, f.label),
    h('input', { id: `f-${f.key}`, name: f.key, type: f.secret ? 'password' : 'text', autocomplete: 'off', required: !OPTIONAL.includes(f.key) }),
    f.help ? h('p', { class: 'muted' }, f.help) : null,
  ]),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Next')));
  screen(`Connect ${p.name}`, form);
}

/** The provider's widget script, loaded once: it defines `window.MergeLink`. */
function loadWidget(src) {
  return new Promise((resolve, reject) => {
    if (window.MergeLink) return resolve(window.MergeLink);
    const script = h('script', { src });
    script.addEventListener('load', () => resolve(window.MergeLink));
    script.addEventListener('error', () => reject(new Error('The sign-in window could not be loaded. Try again in a minute.')));
    document.head.append(script);
  });
}

/** Merge Link: opened with the link token; the public token it hands back finishes the sign-in. */
async function openWidget(begun, form) {
  const link = await loadWidget(begun.widgetScriptUrl);
  link.initialize({
    linkToken: begun.linkToken,
    onReady: () => link.openLink(),
    onSuccess: async (publicToken) => {
      try {
        await gql('mutation($id: ID!, $token: String!) { completeCredentialConnection(connectionId: $id, publicToken: $token) { id status } }',
          { id: begun.connection.id, token: publicToken });
      } catch (error) {
        showError(form, error);
      }
    },
    onExit: () => showError(form, { message: 'Merge Link was closed before an account was linked. Open Window to try again.' }),
  });
}

export async function credentialSignIn(id) {
  const p = await find(id);
  const needsSubdomain = Boolean(p.subdomainLabel);
  const follow = h('p', { class: 'muted', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', onsubmit: (event) => {
    event.preventDefault();
    busy(form.querySelector('button[type=submit]'), () => openWindow());
  } },
  needsSubdomain ? [h('label', { for: 'f-subdomain' }, p.subdomainLabel), h('input', { id: 'f-subdomain', name: 'subdomain', type: 'text', required: true })] : null,
  h('p', {}, `A window opens where you sign in to ${p.name} and allow read access.`),
  follow,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Open Window')));
  const openWindow = async () => {
    const screenShown = here();
    // A popup is opened at once, in the click, so the browser does not block it; it is pointed
    // at the provider next, or closed where the provider's widget opens in the page instead.
    const popup = window.open('', 'directory-sync-sign-in', 'width=520,height=680');
    try {
      const input = { providerId: p.id, adminConfirmed: true, termsAccepted: true, subdomain: needsSubdomain ? form.elements.subdomain.value.trim() : null };
      const { beginCredentialConnection: begun } = await gql(`mutation($input: BeginCredentialConnectionInput!) {
        beginCredentialConnection(input: $input) { authorizationUrl linkToken widgetScriptUrl connection { id status } } }`, { input });
      // Followed while this screen is shown: an admin who went elsewhere is not pulled back.
      onLeave(subscribe('subscription($id: ID!) { connectionStatus(connectionId: $id) { id status statusMessage } }',
        { id: begun.connection.id },
        ({ connectionStatus: c }) => {
          if (c.status === 'CONNECTED') go(`#/connections/${c.id}/data`);
          if (c.status === 'FAILED') showError(form, { message: c.statusMessage ?? 'The sign-in failed.' });
        },
        (error) => showError(form, error)), screenShown);
      if (begun.linkToken && begun.widgetScriptUrl) {
        popup?.close();
        follow.textContent = `Finish connecting ${p.name} in the window on this page.`;
        await openWidget(begun, form);
      } else if (!popup) {
        showError(form, { message: 'The browser blocked the sign-in window. Allow pop-ups for this page, then Open Window again.' });
      } else {
        popup.location = begun.authorizationUrl;
        follow.textContent = `Finish signing in to ${p.name} in the window that opened.`;
      }
    } catch (error) {
      popup?.close();
      showError(form, error);
    }
  };
  screen(`Sign in to ${p.name}`, form);
}

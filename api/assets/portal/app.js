// The admin portal: the seed's walk-through (Integrations → provider → sign-in or API key →
// accessible data → mapping → sync → User Directory) on the public GraphQL API alone, over
// HTTP and graphql-transport-ws, with a bearer token. Plain DOM, no framework: every text that
// comes from the server is set as text, never parsed as HTML.

const main = document.getElementById('main');
const statusLine = document.getElementById('status');

// ---- session -----------------------------------------------------------------------------

const TOKEN_KEY = 'directory-sync-token';

function takeTokenFromUrl() {
  const match = location.hash.match(/^#token=(.+)$/);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, '', '#/integrations');
  }
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

// ---- GraphQL -----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.extensions?.code;
    this.field = error.extensions?.field;
  }
}

async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) {
    const error = new ApiError(body.errors[0]);
    if (error.code === 'UNAUTHENTICATED') {
      sessionStorage.removeItem(TOKEN_KEY);
      go('#/sign-in');
    }
    throw error;
  }
  return body.data;
}

let socket;
function subscriptions() {
  if (!socket) {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
    socket = window.graphqlWs.createClient({ url, connectionParams: () => ({ authorization: `Bearer ${token()}` }) });
  }
  return socket;
}

/** Calls `onData` with each event of `query` until the returned function is called. */
function subscribe(query, variables, onData, onError) {
  return subscriptions().subscribe(
    { query, variables },
    { next: (message) => (message.errors ? onError(new ApiError(message.errors[0])) : onData(message.data)), error: (e) => onError(e instanceof Error ? e : new Error('the connection to the server was lost')), complete: () => {} },
  );
}

// ---- DOM ---------------------------------------------------------------------------------

/** An element with attributes (`on…` as listeners) and children (strings become text). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child != null && child !== false) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

let leaving = [];
/** Shows a screen: `title` as its heading, focused for screen readers and keyboards. */
function screen(title, ...content) {
  leaving.forEach((stop) => stop());
  leaving = [];
  statusLine.textContent = '';
  document.title = `${title} · directory-sync`;
  main.replaceChildren(h('h1', {}, title), ...content.flat(Infinity).filter((c) => c != null && c !== false));
  main.focus();
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

const WORDS = {
  INVALID_SUBDOMAIN: 'That subdomain was not found at the provider. Check the address you use to sign in.',
  INVALID_CREDENTIALS: 'The provider did not accept this key. Check it, or create a new one.',
  THIRD_PARTY_ACCESS_DISABLED: 'API access is switched off for this account at the provider.',
  PROVIDER_UNREACHABLE: 'The provider cannot be reached right now. Try again in a minute.',
  RATE_LIMITED: 'Too many requests at once. Wait a moment and try again.',
  FORBIDDEN: 'Only workspace admins can do this.',
  PAID_PLAN_REQUIRED: 'Integrations need a paid plan.',
  SYNC_ALREADY_RUNNING: 'A sync is already running for this connection.',
  MAPPING_INVALID: 'The mapping has a problem.',
};

/** The error in words, next to the field it concerns when the form has one, else on top. */
function showError(form, error) {
  form.querySelectorAll('.field-error, .alert').forEach((e) => e.remove());
  const words = `${WORDS[error.code] ?? ''} ${error.message}`.trim();
  const name = (error.field ?? '').replace(/^input\./, '');
  const input = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
  if (input) {
    const id = `${input.id}-error`;
    input.after(h('p', { class: 'field-error', id, role: 'alert' }, words));
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.focus();
  } else {
    form.prepend(h('p', { class: 'alert', role: 'alert' }, words));
  }
}

/** `load` made safe to call on every keystroke: only the answer to the latest call is shown. */
function latestOnly(load) {
  let asked = 0;
  return async (...args) => {
    const mine = ++asked;
    const answer = await load(...args);
    return mine === asked ? answer : undefined;
  };
}

const initials = (name) => name.split(/\s+/).map((w) => w[0]).join('').slice(0, 2).toUpperCase();

// ---- screens -----------------------------------------------------------------------------

function signIn() {
  const form = h('form', { class: 'card', onsubmit: (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, form.elements.token.value.trim());
    go('#/integrations');
  } },
  h('label', { for: 'token' }, 'Access token'),
  h('textarea', { id: 'token', name: 'token', rows: 4, required: true }),
  h('p', { class: 'muted' }, 'Paste a bearer token of your workspace (`directory-sync token` prints one).'),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')));
  screen('Sign in', form);
}

const CONNECTIONS = `{ connections { id status statusMessage provider { id name category }
  lastSync { id status finishedAt processed } resyncRequired } }`;

async function integrations() {
  const { connections } = await gql(CONNECTIONS);
  const section = (category, title) => {
    const mine = connections.filter((c) => c.provider.category === category);
    return h('section', { class: 'card', 'aria-labelledby': `section-${category}` },
      h('h2', { id: `section-${category}` }, title),
      mine.length === 0 ? h('p', { class: 'muted' }, 'Nothing connected yet.') : h('ul', { class: 'cards' }, mine.map((c) =>
        h('li', { class: 'card' },
          h('h3', {}, c.provider.name),
          h('p', {}, 'Status: ', c.status, c.statusMessage ? ` (${c.statusMessage})` : ''),
          h('p', {}, 'Last sync: ', c.lastSync ? `${c.lastSync.status}${c.lastSync.finishedAt ? `, ${new Date(c.lastSync.finishedAt).toLocaleString()}` : ''}` : 'never'),
          c.resyncRequired ? h('p', { class: 'critical' }, 'Re-sync required') : null,
          h('div', { class: 'actions' },
            h('a', { href: `#/connections/${c.id}/mapping` }, 'Field mapping'),
            h('a', { href: `#/connections/${c.id}/sync` }, 'Sync'))))),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go('#/connect') }, 'Get Started')));
  };
  screen('Integrations', section('HRIS', 'HRIS Integration'), section('ATS', 'ATS Integration'));
}

function connect() {
  screen('Connect your HR system',
    h('div', { class: 'card' },
      h('p', {}, 'Bring your employees into the User Directory from your HR system, and keep them up to date.'),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go('#/providers') }, 'Connect Now'))));
}

const PROVIDERS = `query($search: String, $category: ProviderCategory) { providers(search: $search, category: $category) {
  id name category authMethods subdomainLabel apiKeyInstructions readPermissions termsUrl credentialFields { key label secret help } } }`;

async function providers() {
  const grid = h('ul', { class: 'cards', 'aria-label': 'Providers' });
  const search = h('input', { type: 'search', id: 'search', name: 'search', autocomplete: 'off' });
  const category = h('select', { id: 'category', name: 'category' },
    h('option', { value: '' }, 'All'), h('option', { value: 'HRIS' }, 'HRIS'), h('option', { value: 'ATS' }, 'ATS'));
  const find = latestOnly(() => gql(PROVIDERS, { search: search.value || null, category: category.value || null }));
  const refresh = async () => {
    const found = await find();
    if (!found) return;
    const { providers } = found;
    grid.replaceChildren(...providers.map((p) => h('li', {},
      h('button', { type: 'button', class: 'provider', onclick: () => go(`#/providers/${p.id}`) },
        h('span', { class: 'icon', 'aria-hidden': 'true' }, initials(p.name)),
        h('span', {}, h('strong', {}, p.name), h('br'), h('span', { class: 'muted' }, p.category))))));
    if (providers.length === 0) grid.replaceChildren(h('li', { class: 'muted' }, 'No provider matches.'));
  };
  search.addEventListener('input', refresh);
  category.addEventListener('change', refresh);
  screen('Choose your system',
    h('div', { class: 'card' },
      h('label', { for: 'search' }, 'Search'), search,
      h('label', { for: 'category' }, 'Category'), category),
    grid);
  await refresh();
}

async function provider(id) {
  const { providers } = await gql(PROVIDERS, {});
  const p = providers.find((x) => x.id === id);
  if (!p) return screen('Provider not found', h('p', {}, h('a', { href: '#/providers' }, 'Choose another')));
  const methods = p.authMethods;
  const choice = (value, text) => h('label', { class: 'inline' },
    h('input', { type: 'radio', name: 'method', value, checked: value === methods[0] }), text);
  const form = h('form', { class: 'card', onsubmit: async (event) => {
    event.preventDefault();
    const method = form.elements.method.value;
    if (!form.elements.admin.checked) return showError(form, { message: 'Confirm that you are an admin of this system.', field: 'admin' });
    if (!form.elements.terms.checked) return showError(form, { message: 'Accept the terms to go on.', field: 'terms' });
    go(method === 'API_KEY' ? `#/providers/${p.id}/api-key` : `#/providers/${p.id}/sign-in`);
  } },
  h('fieldset', {}, h('legend', {}, 'How do you want to connect?'),
    methods.includes('CREDENTIALS') ? choice('CREDENTIALS', 'Use my credentials (recommended)') : null,
    methods.includes('API_KEY') ? choice('API_KEY', 'Use my API key or access token') : null),
  h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'admin', id: 'admin' }), 'I am an admin'),
  h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'terms', id: 'terms' }),
    'I accept the ', h('a', { href: p.termsUrl, target: '_blank', rel: 'noopener' }, 'terms of the integration')),
  h('p', { class: 'muted' }, `${p.name} will be asked to read: ${p.readPermissions.join(', ')}.`),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Next')));
  screen(p.name, form);
  return p;
}

function fieldsOf(p) {
  const fields = p.credentialFields.slice();
  if (p.subdomainLabel && !fields.some((f) => f.key === 'subdomain')) {
    fields.unshift({ key: 'subdomain', label: p.subdomainLabel, secret: false, help: null });
  }
  return fields;
}

async function apiKey(id) {
  const { providers } = await gql(PROVIDERS, {});
  const p = providers.find((x) => x.id === id);
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
    h('input', { id: `f-${f.key}`, name: f.key, type: f.secret ? 'password' : 'text', autocomplete: 'off', required: f.key !== 'apiSecret' }),
    f.help ? h('p', { class: 'muted' }, f.help) : null,
  ]),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Connect')));
  screen(`Connect ${p.name}`, form);
}

async function credentialSignIn(id) {
  const { providers } = await gql(PROVIDERS, {});
  const p = providers.find((x) => x.id === id);
  const needsSubdomain = Boolean(p.subdomainLabel);
  const follow = h('p', { class: 'muted' });
  const form = h('form', { class: 'card', onsubmit: async (event) => {
    event.preventDefault();
    // Opened at once, in the click, so the browser does not block it; pointed at the provider next.
    const popup = window.open('', 'directory-sync-sign-in', 'width=520,height=680');
    try {
      const input = { providerId: p.id, adminConfirmed: true, termsAccepted: true, subdomain: needsSubdomain ? form.elements.subdomain.value.trim() : null };
      const { beginCredentialConnection: begun } = await gql(`mutation($input: BeginCredentialConnectionInput!) {
        beginCredentialConnection(input: $input) { authorizationUrl linkToken connection { id status } } }`, { input });
      if (begun.authorizationUrl) popup.location = begun.authorizationUrl;
      follow.textContent = `Finish signing in to ${p.name} in the window that opened.`;
      const stop = subscribe('subscription($id: ID!) { connectionStatus(connectionId: $id) { id status statusMessage } }',
        { id: begun.connection.id },
        ({ connectionStatus: c }) => {
          if (c.status === 'CONNECTED') go(`#/connections/${c.id}/data`);
          if (c.status === 'FAILED') showError(form, { message: c.statusMessage ?? 'The sign-in failed.' });
        },
        (error) => showError(form, error));
      leaving.push(stop);
    } catch (error) {
      popup?.close();
      showError(form, error);
    }
  } },
  needsSubdomain ? [h('label', { for: 'f-subdomain' }, p.subdomainLabel), h('input', { id: 'f-subdomain', name: 'subdomain', type: 'text', required: true })] : null,
  h('p', {}, `A window opens where you sign in to ${p.name} and allow read access.`),
  follow,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Open Window')));
  screen(`Sign in to ${p.name}`, form);
}

const CONNECTION = `query($id: ID!) { connection(id: $id) { id status resyncRequired provider { name }
  accessibleData { name fields { key label type } }
  fieldMapping { version status entries { internalField externalField acceptAnyType } }
  lastSync { id status percent processed total } } }`;

async function accessibleData(id) {
  const { connection } = await gql(CONNECTION, { id });
  const groups = h('div', { hidden: true, id: 'groups' }, connection.accessibleData.map((group) =>
    h('details', { class: 'card' }, h('summary', {}, `${group.name} (${group.fields.length} fields)`),
      h('ul', {}, group.fields.map((f) => h('li', {}, `${f.label} `, h('span', { class: 'muted' }, `(${f.type})`)))))));
  const view = h('button', { type: 'button', class: 'secondary', 'aria-controls': 'groups', 'aria-expanded': 'false', onclick: () => {
    groups.hidden = !groups.hidden;
    view.setAttribute('aria-expanded', String(!groups.hidden));
  } }, 'View accessible data');
  screen('Review accessible data',
    h('p', {}, `Connected to ${connection.provider.name}. This is what the connection can read.`),
    view, groups,
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go(`#/connections/${id}/mapping`) }, 'Finish')));
}

async function mapping(id) {
  const [{ connection }, { internalFields }] = await Promise.all([
    gql(CONNECTION, { id }),
    gql('{ internalFields { key label required description } }'),
  ]);
  const external = connection.accessibleData.flatMap((g) => g.fields);
  const entries = new Map((connection.fieldMapping?.entries ?? []).map((e) => [e.internalField, e]));
  const rows = internalFields.map((f) => {
    const current = entries.get(f.key)?.externalField ?? '';
    const select = h('select', { id: `map-${f.key}`, name: f.key },
      h('option', { value: '' }, f.required ? 'Choose a field' : 'Not mapped'),
      external.map((x) => h('option', { value: x.key, selected: x.key === current }, `${x.label} (${x.key})`)));
    return h('tr', {},
      h('th', { scope: 'row' }, h('label', { for: `map-${f.key}` }, f.label),
        f.key === 'email' ? h('p', { class: 'critical' }, 'Critical: this becomes each user\'s login and invitation address.') : null,
        h('p', { class: 'muted' }, f.description)),
      h('td', {}, select));
  });
  const preview = h('div', { 'aria-live': 'polite' });
  const form = h('form', { onsubmit: async (event) => {
    event.preventDefault();
    try {
      const { saveFieldMapping: saved } = await gql(`mutation($id: ID!, $entries: [FieldMappingEntryInput!]!) {
        saveFieldMapping(connectionId: $id, entries: $entries) { version status } }`, { id, entries: chosen() });
      confirmDialog(saved.version);
    } catch (error) {
      showError(form, error);
    }
  } });
  const chosen = () => internalFields.map((f) => ({
    internalField: f.key,
    externalField: form.elements[f.key].value || null,
    acceptAnyType: entries.get(f.key)?.acceptAnyType ?? false,
  }));
  const refreshPreview = async () => {
    try {
      const { previewFieldMapping } = await gql(`query($id: ID!, $entries: [FieldMappingEntryInput!]) {
        previewFieldMapping(connectionId: $id, entries: $entries, limit: 5) { remoteId values problems } }`, { id, entries: chosen() });
      preview.replaceChildren(h('h2', {}, 'Preview'), h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Record'), h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Problems'))),
        h('tbody', {}, previewFieldMapping.map((r) => h('tr', {},
          h('td', {}, r.remoteId), h('td', {}, r.values?.email ?? ''), h('td', {}, r.values?.displayName ?? [r.values?.firstName, r.values?.lastName].filter(Boolean).join(' ')),
          h('td', { class: r.problems.length ? 'critical' : '' }, r.problems.join('; ') || 'none'))))));
    } catch (error) {
      preview.replaceChildren(h('p', { class: 'alert', role: 'alert' }, error.message));
    }
  };
  form.addEventListener('change', refreshPreview);
  const dialog = h('dialog', { 'aria-labelledby': 'confirm-title' });
  const confirmDialog = (version) => {
    dialog.replaceChildren(
      h('h2', { id: 'confirm-title' }, 'Confirm the mapping'),
      h('p', {}, 'Users are created with the email mapped above as their login. Nobody is emailed by a sync.'),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: async () => {
          await gql('mutation($id: ID!, $version: Int!) { confirmFieldMapping(connectionId: $id, version: $version) { version } }', { id, version });
          dialog.close();
          go(`#/connections/${id}/sync`);
        } }, 'Confirm and Save'),
        h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Back')));
    dialog.showModal();
  };
  form.append(
    h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Directory field'), h('th', { scope: 'col' }, `${connection.provider.name} field`))), h('tbody', {}, rows)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save Mapping')));
  screen('Map fields', connection.resyncRequired ? h('p', { class: 'critical' }, 'Re-sync required: the mapping changed since the last full sync.') : null, form, preview, dialog);
  refreshPreview();
}

const RUN = 'id status phase percent processed total created updated deactivated error';

async function sync(id) {
  const { connection } = await gql(CONNECTION, { id });
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-label': 'Merging Data', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 }, h('div'));
  const words = h('p', { 'aria-live': 'polite' });
  const progress = h('section', { class: 'card', hidden: true }, h('h2', {}, 'Merging Data'), bar, words);
  const actions = h('div', { class: 'actions' });
  const done = h('button', { type: 'button', hidden: true, onclick: () => go('#/directory') }, 'Done');
  const start = h('button', { type: 'button', onclick: async () => {
    start.disabled = true;
    done.hidden = true;
    try {
      const { startSync } = await gql(`mutation($id: ID!) { startSync(connectionId: $id) { ${RUN} } }`, { id });
      follow(startSync);
    } catch (error) {
      start.disabled = false;
      actions.after(h('p', { class: 'alert', role: 'alert' }, `${WORDS[error.code] ?? ''} ${error.message}`));
    }
  } }, 'Start Sync');
  actions.append(start, done);
  const show = (run) => {
    progress.hidden = false;
    bar.setAttribute('aria-valuenow', String(Math.floor(run.percent)));
    bar.firstChild.style.width = `${run.percent}%`;
    words.textContent = `${Math.floor(run.percent)}% · ${run.processed}${run.total ? ` of ${run.total}` : ''} records · ${run.status}`;
    const finished = ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status);
    start.disabled = !finished;
    done.hidden = run.status !== 'SUCCEEDED';
    if (run.status === 'SUCCEEDED') {
      words.textContent += ` · ${run.created} added, ${run.updated} updated, ${run.deactivated} deactivated`;
    } else if (finished && run.error) {
      words.textContent += ` · ${run.error}`;
    }
  };
  const follow = (run) => {
    show(run);
    leaving.push(subscribe(`subscription($id: ID!) { syncProgress(runId: $id) { run { ${RUN} } } }`, { id: run.id },
      ({ syncProgress }) => show(syncProgress.run),
      (error) => { words.textContent = error.message; }));
  };
  screen(`Sync ${connection.provider.name}`,
    connection.resyncRequired ? h('p', { class: 'critical' }, 'Re-sync required: start a sync to apply the new mapping to everyone.') : null,
    actions, progress);
  // Coming back: the bar shows the last sync where it is, and follows it while it runs.
  const last = connection.lastSync;
  if (last) {
    const { syncRun } = await gql(`query($id: ID!) { syncRun(id: $id) { ${RUN} } }`, { id: last.id });
    if (['RUNNING', 'QUEUED'].includes(syncRun.status)) follow(syncRun);
    else show(syncRun);
  }
}

async function directory(view) {
  const tabs = h('div', { role: 'tablist', 'aria-label': 'Views' },
    h('button', { type: 'button', role: 'tab', 'aria-selected': String(view !== 'org'), onclick: () => go('#/directory') }, 'List'),
    h('button', { type: 'button', role: 'tab', 'aria-selected': String(view === 'org'), onclick: () => go('#/directory/org') }, 'Org Chart'));
  const panel = h('div', { role: 'tabpanel' });
  screen('User Directory', tabs, panel);
  if (view === 'org') return orgChart(panel);
  const search = h('input', { type: 'search', id: 'people-search', name: 'search' });
  const table = h('tbody');
  const count = h('p', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Next page');
  let after = null;
  const page = latestOnly((append) => gql(`query($after: String, $filter: UserFilter) { users(first: 50, after: $after, filter: $filter) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id displayName email jobTitle department employmentStatus } } } }`,
  { after: append ? after : null, filter: search.value ? { search: search.value } : null }));
  const load = async (append) => {
    const found = await page(append);
    if (!found) return;
    const { users } = found;
    const rows = users.edges.map(({ node: u }) => h('tr', {}, h('td', {}, u.displayName), h('td', {}, u.email), h('td', {}, u.jobTitle ?? ''), h('td', {}, u.department ?? ''), h('td', {}, u.employmentStatus)));
    if (append) table.append(...rows); else table.replaceChildren(...rows);
    count.textContent = `${users.totalCount} people`;
    after = users.pageInfo.endCursor;
    more.hidden = !users.pageInfo.hasNextPage;
  };
  more.addEventListener('click', () => load(true));
  search.addEventListener('input', () => load(false));
  panel.append(h('label', { for: 'people-search' }, 'Search'), search, count,
    h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Email', 'Title', 'Department', 'Status'].map((c) => h('th', { scope: 'col' }, c)))), table), more);
  await load(false);
}

// A person, and how many report to them (their reports are loaded when opened).
const NODE = 'user { id displayName jobTitle } reports { user { id } }';

async function orgChart(panel) {
  const { orgChart } = await gql(`{ orgChart(depth: 2) { ${NODE} } }`);
  const node = (n) => {
    const li = h('li', {}, h('span', {}, n.user.displayName), ' ', h('span', { class: 'muted' }, n.user.jobTitle ?? ''));
    if (n.reports.length) {
      const toggle = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false' }, `Show ${n.reports.length} reports`);
      toggle.addEventListener('click', async () => {
        const open = toggle.getAttribute('aria-expanded') === 'true';
        li.querySelector(':scope > ul')?.remove();
        toggle.setAttribute('aria-expanded', String(!open));
        toggle.textContent = open ? `Show ${n.reports.length} reports` : 'Hide reports';
        if (!open) {
          // Loaded as it is opened, so a deep tree costs only what is looked at.
          const { orgChart: below } = await gql(`query($id: ID!) { orgChart(rootUserId: $id, depth: 3) { user { id } reports { ${NODE} } } }`, { id: n.user.id });
          li.append(h('ul', {}, (below[0]?.reports ?? []).map(node)));
        }
      });
      li.append(' ', toggle);
    }
    return li;
  };
  panel.append(h('div', { class: 'tree' }, h('ul', {}, orgChart.map(node))));
}

// ---- routing -----------------------------------------------------------------------------

const ROUTES = [
  [/^#\/sign-in$/, signIn],
  [/^#\/integrations$/, integrations],
  [/^#\/connect$/, connect],
  [/^#\/providers$/, providers],
  [/^#\/providers\/([^/]+)$/, provider],
  [/^#\/providers\/([^/]+)\/api-key$/, apiKey],
  [/^#\/providers\/([^/]+)\/sign-in$/, credentialSignIn],
  [/^#\/connections\/([^/]+)\/data$/, accessibleData],
  [/^#\/connections\/([^/]+)\/mapping$/, mapping],
  [/^#\/connections\/([^/]+)\/sync$/, sync],
  [/^#\/directory$/, () => directory('list')],
  [/^#\/directory\/org$/, () => directory('org')],
];

async function route() {
  if (!token()) {
    if (location.hash !== '#/sign-in') return go('#/sign-in');
    return signIn();
  }
  const hash = location.hash || '#/integrations';
  const found = ROUTES.find(([pattern]) => pattern.test(hash));
  if (!found) return go('#/integrations');
  const [pattern, show] = found;
  try {
    await show(...hash.match(pattern).slice(1));
  } catch (error) {
    screen('Something went wrong', h('p', { class: 'alert', role: 'alert' }, `${WORDS[error.code] ?? ''} ${error.message}`));
  }
}

takeTokenFromUrl();
window.addEventListener('hashchange', route);
route();

// The User Directory: the List (search, department and status filters, paged with the API's
// cursors), the Org Chart (a branch's reports loaded as it is opened), and each person's profile
// with where their data comes from and what changed it.

import { gql } from './api.js';
import { alertIn, debounced, go, h, latestOnly, screen, when } from './dom.js';

let focusTab = null;

const person = (u) => h('a', { href: `#/people/${u.id}` }, u.displayName);

function views(current) {
  const tab = (name, hash, selected) => h('button', { type: 'button', role: 'tab', 'aria-selected': String(selected), tabindex: selected ? '0' : '-1', onclick: () => go(hash) }, name);
  const tabs = h('div', { role: 'tablist', 'aria-label': 'Views' },
    tab('List', '#/directory', current === 'list'), tab('Org Chart', '#/directory/org', current === 'org'));
  // Arrow keys move between the tabs, as the ARIA tabs pattern has it; the focus stays on the
  // tab chosen when its view is shown.
  tabs.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const other = [...tabs.children].find((t) => t !== document.activeElement);
    focusTab = other.textContent;
    other.click();
  });
  if (focusTab) {
    const chosen = [...tabs.children].find((t) => t.textContent === focusTab);
    focusTab = null;
    queueMicrotask(() => chosen?.focus());
  }
  return tabs;
}

const PAGE = `query($after: String, $filter: UserFilter) { users(first: 50, after: $after, filter: $filter) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id displayName email jobTitle department employmentStatus } } } }`;

export async function list() {
  const panel = h('div', { role: 'tabpanel', 'aria-label': 'List' });
  screen('User Directory', views('list'), panel);
  const { departments } = await gql('{ departments }');
  const search = h('input', { type: 'search', id: 'people-search', name: 'search' });
  const department = h('select', { id: 'people-department', name: 'department' },
    h('option', { value: '' }, 'All departments'), departments.map((d) => h('option', { value: d }, d)));
  const status = h('select', { id: 'people-status', name: 'status' },
    h('option', { value: '' }, 'Everyone'), h('option', { value: 'ACTIVE' }, 'Active'), h('option', { value: 'PRE_START' }, 'Not started yet'), h('option', { value: 'INACTIVE' }, 'Inactive'));
  const table = h('tbody');
  const count = h('p', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more');
  let after = null;
  const filter = () => {
    const f = { search: search.value || null, department: department.value || null, status: status.value || null };
    return Object.values(f).some(Boolean) ? f : null;
  };
  const page = latestOnly((append) => gql(PAGE, { after: append ? after : null, filter: filter() }));
  const problem = h('div');
  const load = async (append) => {
    let found;
    try {
      found = await page(append);
    } catch (error) {
      return alertIn(problem, error);
    }
    problem.replaceChildren();
    if (!found) return;
    const { users } = found;
    const rows = users.edges.map(({ node: u }) => h('tr', {}, h('td', {}, person(u)), h('td', {}, u.email), h('td', {}, u.jobTitle ?? ''), h('td', {}, u.department ?? ''), h('td', {}, u.employmentStatus)));
    if (append) table.append(...rows); else table.replaceChildren(...rows);
    count.textContent = `${users.totalCount} people`;
    after = users.pageInfo.endCursor;
    more.hidden = !users.pageInfo.hasNextPage;
  };
  more.addEventListener('click', () => load(true));
  search.addEventListener('input', debounced(() => load(false)));
  department.addEventListener('change', () => load(false));
  status.addEventListener('change', () => load(false));
  panel.append(
    h('div', { class: 'filters' },
      h('div', {}, h('label', { for: 'people-search' }, 'Search'), search),
      h('div', {}, h('label', { for: 'people-department' }, 'Department'), department),
      h('div', {}, h('label', { for: 'people-status' }, 'Status'), status)),
    problem, count,
    h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Email', 'Title', 'Department', 'Status'].map((c) => h('th', { scope: 'col' }, c)))), table), more);
  await load(false);
}

// A person, and how many report to them (their reports are loaded when opened).
const NODE = 'user { id displayName jobTitle } reports { user { id } }';

export async function orgChart() {
  const panel = h('div', { role: 'tabpanel', 'aria-label': 'Org Chart' });
  screen('User Directory', views('org'), panel);
  const { orgChart: roots } = await gql(`{ orgChart(depth: 2) { ${NODE} } }`);
  const node = (n) => {
    const li = h('li', {}, person(n.user), ' ', h('span', { class: 'muted' }, n.user.jobTitle ?? ''));
    if (n.reports.length) {
      const shown = () => `Show ${n.reports.length} reports`;
      const toggle = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-label': `${shown()} of ${n.user.displayName}` }, shown());
      toggle.addEventListener('click', async () => {
        const open = toggle.getAttribute('aria-expanded') === 'true';
        li.querySelector(':scope > ul')?.remove();
        toggle.setAttribute('aria-expanded', String(!open));
        toggle.textContent = open ? shown() : 'Hide reports';
        toggle.setAttribute('aria-label', `${toggle.textContent} of ${n.user.displayName}`);
        if (!open) {
          // Loaded as it is opened, so a deep tree costs only what is looked at.
          const { orgChart: below } = await gql(`query($id: ID!) { orgChart(rootUserId: $id, depth: 2) { user { id } reports { ${NODE} } } }`, { id: n.user.id });
          li.append(h('ul', {}, (below[0]?.reports ?? []).map(node)));
        }
      });
      li.append(' ', toggle);
    }
    return li;
  };
  panel.append(h('div', { class: 'tree' }, h('ul', {}, roots.map(node))));
}

const PROFILE = `query($id: ID!) { user(id: $id) { id displayName email firstName lastName jobTitle department location
  employmentStatus startDate invitationStatus invitedAt manager { id displayName } directReports(first: 100) { id displayName }
  sources { remoteId lastSyncedAt connection { id provider { name } } }
  history(first: 20) { id at field oldValue newValue by } } }`;

export async function profile(id) {
  const { user: u } = await gql(PROFILE, { id });
  if (!u) return screen('Person not found', h('p', {}, h('a', { href: '#/directory' }, 'Back to the User Directory')));
  const row = (term, value) => [h('dt', {}, term), h('dd', {}, value ?? '')];
  // Every source that brings the person in: an HR system and an applicant tracking system, say.
  const source = u.sources.length
    ? h('ul', {}, u.sources.map((s) => h('li', {}, `${s.connection ? s.connection.provider.name : 'An integration'}, record ${s.remoteId}, last synced ${when(s.lastSyncedAt)}`)))
    : h('p', {}, 'Added by hand');
  screen(u.displayName,
    h('p', {}, h('a', { href: '#/directory' }, 'Back to the User Directory')),
    h('section', { class: 'card', 'aria-labelledby': 'details-title' }, h('h2', { id: 'details-title' }, 'Details'),
      h('dl', { class: 'facts' },
        row('Email', u.email), row('Job title', u.jobTitle), row('Department', u.department), row('Location', u.location),
        row('Start date', u.startDate), row('Status', u.employmentStatus),
        row('Invitation', `${u.invitationStatus}${u.invitedAt ? `, ${when(u.invitedAt)}` : ''}`),
        row('Manager', u.manager ? person(u.manager) : 'None'),
        row('Direct reports', u.directReports.length ? u.directReports.map((r, i) => [i ? ', ' : '', person(r)]) : 'None'))),
    h('section', { class: 'card', 'aria-labelledby': 'source-title' }, h('h2', { id: 'source-title' }, 'Where this comes from'),
      source),
    h('section', { class: 'card', 'aria-labelledby': 'history-title' }, h('h2', { id: 'history-title' }, 'Changes'),
      u.history.length === 0 ? h('p', { class: 'muted' }, 'No changes recorded.') : h('table', {},
        h('thead', {}, h('tr', {}, ['When', 'Field', 'From', 'To', 'By'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, u.history.map((c) => h('tr', {}, h('td', {}, when(c.at)), h('td', {}, c.field), h('td', {}, c.oldValue ?? ''), h('td', {}, c.newValue ?? ''), h('td', {}, c.by)))))));
}

// Settings → Integrations: the HRIS, ATS and identity provider sections with each connection's
// card (status, last sync or, for SCIM, its requests; "Re-sync required"), and the way in to a
// new one ("Get Started", "Connect Now").

import { gql } from './api.js';
import { ask, go, h, say, screen, when } from './dom.js';
import { scimFacts } from './scim.js';

const CONNECTIONS = `{ connections { id status statusMessage linkedSystem authMethod provider { id name category }
  lastSync { id status finishedAt processed } resyncRequired schedule { enabled intervalMinutes }
  scim { baseUrl heldDeactivations lastRequestAt lastError activity { day requests changes errors } } } }`;

const SYSTEMS = { HRIS: 'HR system', ATS: 'applicant tracking system', IDENTITY: 'identity provider' };

/** "Disconnect", asked first: the credentials are forgotten, the people it synced stay. */
function disconnectButton(c, dialog) {
  return h('button', { type: 'button', class: 'secondary', onclick: () => ask(dialog, {
    question: `Disconnect ${c.provider.name}?`,
    consequence: 'Its credentials are forgotten and it syncs no more. The people it brought in stay in the User Directory.',
    yes: 'Disconnect',
    act: () => gql('mutation($id: ID!) { disconnect(connectionId: $id) { id status } }', { id: c.id }),
    after: async () => {
      await integrations();
      say(`${c.provider.name} disconnected.`);
    },
  }) }, 'Disconnect');
}

export async function integrations() {
  const { connections } = await gql(CONNECTIONS);
  const dialog = h('dialog');
  const card = (c) => h('li', { class: 'card' },
    h('h3', {}, c.provider.name, c.linkedSystem ? ` (${c.linkedSystem})` : ''),
    h('p', {}, 'Status: ', c.status, c.statusMessage ? ` (${c.statusMessage})` : ''),
    c.scim ? scimFacts(c, dialog, integrations) : [
      h('p', {}, 'Last sync: ', c.lastSync ? `${c.lastSync.status}${c.lastSync.finishedAt ? `, ${when(c.lastSync.finishedAt)}` : ''}` : 'never'),
      h('p', {}, 'Scheduled sync: ', c.schedule.enabled ? `every ${c.schedule.intervalMinutes} minutes` : 'off'),
    ],
    c.resyncRequired ? h('p', { class: 'critical' }, 'Re-sync required') : null,
    h('div', { class: 'actions' },
      c.authMethod === 'UPLOAD' ? h('a', { href: `#/connections/${c.id}/upload` }, 'Upload a newer file') : null,
      h('a', { href: `#/connections/${c.id}/mapping` }, 'Field mapping'),
      h('a', { href: `#/connections/${c.id}/sync` }, 'Sync'),
      h('a', { href: `#/connections/${c.id}/history` }, 'Sync history'),
      c.status === 'DISCONNECTED' ? null : disconnectButton(c, dialog)));
  const section = (category, title) => {
    const mine = connections.filter((c) => c.provider.category === category);
    return h('section', { class: 'card', 'aria-labelledby': `section-${category}` },
      h('h2', { id: `section-${category}` }, title),
      mine.length === 0 ? h('p', { class: 'muted' }, 'Nothing connected yet.') : h('ul', { class: 'cards' }, mine.map(card)),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go(`#/connect/${category}`) }, 'Get Started')));
  };
  screen('Integrations', section('HRIS', 'HRIS Integration'), section('ATS', 'ATS Integration'),
    section('IDENTITY', 'Identity Provider (SCIM)'), dialog);
}

export function connect(category) {
  const system = SYSTEMS[category];
  screen(`Connect your ${system}`,
    h('div', { class: 'card' },
      h('p', {}, `Bring your people into the User Directory from your ${system}, and keep them up to date.`),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go(`#/providers?category=${category}`) }, 'Connect Now'))));
}

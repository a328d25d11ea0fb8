// An identity provider as the source (SCIM): the endpoint made and its token shown once, with
// what to paste where in Okta and in Entra ID; and, on the connection's card, what the provider
// has sent (its requests per day, the last error), the deactivations the guard holds, and a new
// token when the old one leaked.

import { gql } from './api.js';
import { ask, busy, go, h, say, screen, showError, when } from './dom.js';

const CONNECT = `mutation { connectScim(adminConfirmed: true, termsAccepted: true) { baseUrl token connection { id } } }`;
const ROTATE = `mutation($id: ID!) { rotateScimToken(connectionId: $id) { baseUrl token } }`;
const CONFIRM = `mutation($id: ID!) { confirmScimDeactivations(connectionId: $id) { id scim { heldDeactivations } } }`;

/** The base URL and token, each in a read-only field to copy from. */
function credentials({ baseUrl, token }) {
  const field = (id, label, value) => [
    h('label', { for: id }, label),
    h('input', { id, type: 'text', readonly: true, value, onfocus: (event) => event.target.select() }),
  ];
  return h('div', { class: 'card' },
    field('scim-base-url', 'SCIM base URL', baseUrl),
    field('scim-token', 'Secret token (shown only now)', token),
    h('p', { class: 'critical' }, 'Copy the token now: it is kept only as a hash and cannot be shown again. If it leaks, rotate it from the connection’s card.'));
}

/** "Connect": the endpoint is made at the admin's word, then its URL and token are shown. */
export async function connectScim(p) {
  const start = h('button', { type: 'submit' }, 'Create the SCIM endpoint');
  const form = h('form', { class: 'card', onsubmit: (event) => {
    event.preventDefault();
    busy(start, async () => {
      try {
        const { connectScim: made } = await gql(CONNECT);
        screen(`Connect ${p.name}`, credentials(made),
          h('p', { class: 'muted' }, p.apiKeyInstructions),
          h('p', {}, 'Next, review the data it sends and how it maps. People it pushes before the mapping is confirmed are brought in by the first sync.'),
          h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go(`#/connections/${made.connection.id}/data`) }, 'Next')));
      } catch (error) {
        showError(form, error);
      }
    });
  } },
  h('p', { class: 'muted' }, p.apiKeyInstructions),
  h('div', { class: 'actions' }, start));
  screen(`Connect ${p.name}`, form);
}

/** What a SCIM connection's card shows in place of runs, with its two actions. */
export function scimFacts(c, dialog, refresh) {
  const scim = c.scim;
  const today = scim.activity[0];
  const rotate = h('button', { type: 'button', class: 'secondary', onclick: () => ask(dialog, {
    question: `Rotate the token of ${c.provider.name}?`,
    consequence: 'The current token stops working at once: paste the new one into your identity provider right away.',
    yes: 'Rotate token',
    act: () => gql(ROTATE, { id: c.id }),
    after: ({ rotateScimToken }) => {
      screen('New SCIM token', credentials(rotateScimToken),
        h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go('#/integrations') }, 'Done')));
      say('Token rotated.');
    },
  }) }, 'Rotate token');
  const confirm = scim.heldDeactivations > 0 ? h('button', { type: 'button', onclick: () => ask(dialog, {
    question: `Deactivate ${scim.heldDeactivations} people?`,
    consequence: `${c.provider.name} deactivated more people within an hour than a source may deactivate unasked, so they were kept active. Confirm that they left.`,
    yes: 'Deactivate them',
    act: () => gql(CONFIRM, { id: c.id }),
    after: async () => {
      await refresh();
      say('Held deactivations confirmed.');
    },
  }) }, 'Confirm deactivations') : null;
  return [
    h('p', {}, 'SCIM base URL: ', h('code', {}, scim.baseUrl)),
    h('p', {}, 'Last request: ', scim.lastRequestAt ? when(scim.lastRequestAt) : 'none yet'),
    today ? h('p', {}, `${today.day}: ${today.requests} requests, ${today.changes} changes, ${today.errors} errors`) : null,
    scim.lastError ? h('p', { class: 'critical' }, 'Last problem: ', scim.lastError) : null,
    scim.heldDeactivations > 0 ? h('p', { class: 'critical' }, `${scim.heldDeactivations} deactivations held for your confirmation`) : null,
    h('div', { class: 'actions' }, confirm, rotate),
  ];
}

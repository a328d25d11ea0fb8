// Signing in: paste a bearer token, or, on a service in embedded mode seen from this computer,
// "Sign in on this computer", which asks the service to mint an admin token for its data
// directory's workspace (the service refuses it in production mode and from other computers).

import { endedBecause, signInWith } from './api.js';
import { go, h, screen, showError } from './dom.js';

const LOCAL = '/portal/local-sign-in';

export async function signIn() {
  const form = h('form', { class: 'card', onsubmit: (event) => {
    event.preventDefault();
    signInWith(form.elements.token.value.trim());
    go('#/integrations');
  } },
  h('label', { for: 'token' }, 'Access token'),
  h('textarea', { id: 'token', name: 'token', rows: 4, required: true }),
  h('p', { class: 'muted' }, 'Paste a bearer token of your workspace (`directory-sync token` prints one).'),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')));
  const local = h('div', { class: 'card', hidden: true },
    h('p', {}, 'This service keeps its data on this computer. You can sign in as its admin without a token.'),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: async () => {
      try {
        const answer = await fetch(LOCAL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        const body = await answer.json();
        if (!answer.ok) return showError(local, { message: body.error });
        signInWith(body.token);
        go('#/integrations');
      } catch {
        showError(local, { message: 'The service cannot be reached. Is it still running?' });
      }
    } }, 'Sign in on this computer')));
  const ended = endedBecause();
  screen('Sign in', ended ? h('p', { class: 'alert', role: 'alert' }, ended) : null, local, form);
  const offered = await fetch(LOCAL).then((r) => r.json()).catch(() => ({ available: false }));
  local.hidden = !offered.available;
}

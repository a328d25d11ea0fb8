// The admin portal: the seed's walk-through (Integrations → provider → sign-in or API key →
// accessible data → mapping → sync → User Directory) on the public GraphQL API alone, over HTTP
// and graphql-transport-ws, with a bearer token. Plain ES modules, no framework; this one routes
// the address's `#/…` to the screen that shows it.

import { gql, signOut, takeTokenFromUrl, token } from './api.js';
import { go, h, inWords, screen } from './dom.js';
import { list, orgChart, profile } from './directory.js';
import { connect, integrations } from './integrations.js';
import { accessibleData, mapping } from './mapping.js';
import { apiKey, credentialSignIn, provider, providers, scim, upload } from './providers.js';
import { signIn } from './session.js';
import { history, sync } from './sync.js';
import { uploadNewer } from './upload.js';

const ROUTES = [
  [/^#\/sign-in$/, signIn],
  [/^#\/integrations$/, integrations],
  [/^#\/connect\/(HRIS|ATS|IDENTITY)$/, connect],
  [/^#\/providers(?:\?(.*))?$/, providers],
  [/^#\/providers\/([^/?]+)$/, provider],
  [/^#\/providers\/([^/]+)\/api-key$/, apiKey],
  [/^#\/providers\/([^/]+)\/sign-in$/, credentialSignIn],
  [/^#\/providers\/([^/]+)\/upload$/, upload],
  [/^#\/providers\/([^/]+)\/scim$/, scim],
  [/^#\/connections\/([^/]+)\/upload$/, uploadNewer],
  [/^#\/connections\/([^/]+)\/data$/, accessibleData],
  [/^#\/connections\/([^/]+)\/mapping$/, mapping],
  [/^#\/connections\/([^/]+)\/sync$/, sync],
  [/^#\/connections\/([^/]+)\/history$/, history],
  [/^#\/directory$/, list],
  [/^#\/directory\/org$/, orgChart],
  [/^#\/people\/([^/]+)$/, profile],
];

// Who is signed in, with a way out, in the header.
const who = document.getElementById('who');
let shownFor = null;
async function showWho() {
  if (shownFor === token()) return;
  shownFor = token();
  who.replaceChildren();
  if (!shownFor) return;
  const { viewer } = await gql('{ viewer { subject workspaceId role } }');
  who.replaceChildren(h('span', { class: 'muted' }, `${viewer.subject} · workspace ${viewer.workspaceId}`), ' ',
    h('button', { type: 'button', class: 'secondary', onclick: () => { shownFor = null; who.replaceChildren(); signOut(); } }, 'Sign out'));
}

async function render() {
  takeTokenFromUrl();
  if (!token()) {
    who.replaceChildren();
    shownFor = null;
    if (location.hash !== '#/sign-in') return go('#/sign-in');
    return signIn();
  }
  showWho().catch(() => { shownFor = null; });
  const hash = location.hash || '#/integrations';
  const found = ROUTES.find(([pattern]) => pattern.test(hash));
  if (!found) return go('#/integrations');
  const [pattern, show] = found;
  try {
    await show(...hash.match(pattern).slice(1));
  } catch (error) {
    screen('Something went wrong', h('p', { class: 'alert', role: 'alert' }, inWords(error)));
  }
}

// One screen at a time: a screen still loading when the address changes finishes first, so
// the screen shown is always the address's, and each screen's subscriptions end with it.
let rendering = Promise.resolve();
function route() {
  rendering = rendering.then(render, render);
}

// A failure no screen caught (a lost connection while searching, say) is still said.
window.addEventListener('unhandledrejection', (event) => {
  const alert = document.getElementById('problem');
  alert.replaceChildren(h('p', { class: 'alert', role: 'alert' }, inWords(event.reason ?? new Error('Something went wrong.'))));
});
window.addEventListener('hashchange', () => document.getElementById('problem').replaceChildren());

window.addEventListener('hashchange', route);
route();

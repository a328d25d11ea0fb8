// Building screens: elements from plain values (every text from the server is set as text, never
// parsed as HTML), one screen at a time with its heading focused, errors in words.

const main = document.getElementById('main');
const statusLine = document.getElementById('status');

/** A short confirmation ("Schedule saved"), announced politely, until the next screen. */
export function say(text) {
  statusLine.textContent = text;
}

/** An element with attributes (`on…` as listeners) and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
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
let shown = 0;

/** Which screen is shown now: pass it to `onLeave` from code that ran after an `await`. */
export const here = () => shown;

/** Runs `stop` (ending a subscription, say) when the screen `of` (this one) is left, or at once
 * when it already was. */
export function onLeave(stop, of = shown) {
  if (of === shown) leaving.push(stop);
  else stop();
}

/** Shows a screen: `title` as its heading, focused for screen readers and keyboards. */
export function screen(title, ...content) {
  leaving.forEach((stop) => stop());
  leaving = [];
  shown += 1;
  statusLine.textContent = '';
  document.title = `${title} · directory-sync`;
  main.replaceChildren(h('h1', {}, title), ...content.flat(Infinity).filter((c) => c != null && c !== false));
  main.focus();
}

export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

const WORDS = {
  INVALID_SUBDOMAIN: 'Check the subdomain, or the address, the provider gives you.',
  INVALID_CREDENTIALS: 'The provider did not accept this key. Check it, or create a new one.',
  THIRD_PARTY_ACCESS_DISABLED: 'API access is switched off for this account at the provider.',
  PROVIDER_UNREACHABLE: 'The provider cannot be reached right now. Try again in a minute.',
  RATE_LIMITED: 'Too many requests at once. Wait a moment and try again.',
  FORBIDDEN: 'Only workspace admins can do this.',
  PAID_PLAN_REQUIRED: 'Integrations need a paid plan.',
  SYNC_ALREADY_RUNNING: 'A sync is already running for this connection.',
  MAPPING_INVALID: 'The mapping has a problem.',
};

/** An API error in words: what its code means here, then the server's own message. */
export const inWords = (error) => `${WORDS[error.code] ?? ''} ${error.message}`.trim();

/** An alert that replaces the one `holder` shows, if any. */
export function alertIn(holder, error) {
  holder.replaceChildren(h('p', { class: 'alert', role: 'alert' }, inWords(error)));
}

/** Takes away the errors `showError` put in `form`. */
export function clearErrors(form) {
  form.querySelectorAll('.field-error, .alert').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}

/** The error in words, next to the field it concerns when the form has one, else on top. */
export function showError(form, error) {
  clearErrors(form);
  const name = (error.field ?? '').replace(/^input\./, '');
  const input = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
  if (input) {
    const id = `${input.id}-error`;
    input.after(h('p', { class: 'field-error', id, role: 'alert' }, inWords(error)));
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.focus();
  } else {
    form.prepend(h('p', { class: 'alert', role: 'alert' }, inWords(error)));
  }
}

/** `load` made safe to call on every keystroke: only the answer to the latest call is shown. */
export function latestOnly(load) {
  let asked = 0;
  return async (...args) => {
    const mine = ++asked;
    const answer = await load(...args);
    return mine === asked ? answer : undefined;
  };
}

/** `f`, called once the calls to it pause for `ms` (a search box's keystrokes). */
export function debounced(f, ms = 250) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => f(...args), ms);
  };
}

/** Runs `work` with `button` disabled, so a second click does not send it twice. */
export async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}

let asked = 0;
/**
 * Asks before an action, in `dialog` (an empty `<dialog>` on the screen): `question` as its
 * heading, `consequence`, then `yes` and "Back". `act()` runs with `yes` disabled; once it
 * succeeds the dialog closes and `after(act's answer)` runs. A failure of either is shown in
 * the dialog.
 */
export function ask(dialog, { question, consequence, yes, act, after = () => {} }) {
  const id = `ask-${++asked}`;
  const problem = h('div');
  dialog.setAttribute('aria-labelledby', id);
  dialog.replaceChildren(
    h('h2', { id }, question),
    h('p', {}, consequence),
    problem,
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: (event) => busy(event.currentTarget, async () => {
        try {
          const answer = await act();
          dialog.close();
          await after(answer);
        } catch (error) {
          showError(problem, error);
        }
      }) }, yes),
      h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Back')));
  dialog.showModal();
}

export const when = (moment) => (moment ? new Date(moment).toLocaleString() : '');

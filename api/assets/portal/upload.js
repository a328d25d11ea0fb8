// A spreadsheet as the source: the file chosen and uploaded (a new connection's first file, or a
// newer one for a connection), then what reading it found: its rows, its columns, which column
// tells people apart, and the cells worth a look, before going on to the accessible data.

import { gqlUpload } from './api.js';
import { busy, go, h, here, screen, showError } from './dom.js';

const UPLOAD = `mutation($connectionId: ID, $file: Upload!) {
  uploadSpreadsheet(connectionId: $connectionId, file: $file, adminConfirmed: true, termsAccepted: true) {
    fileName rows columns keyColumn findings connection { id } } }`;

function found(upload) {
  return h('div', { class: 'card' },
    h('h2', {}, `Read ${upload.fileName}`),
    h('dl', { class: 'facts' },
      h('dt', {}, 'People'), h('dd', {}, String(upload.rows)),
      h('dt', {}, 'Columns'), h('dd', {}, upload.columns.join(', ')),
      h('dt', {}, 'Told apart by'), h('dd', {}, upload.keyColumn)),
    upload.findings.length === 0
      ? h('p', { class: 'muted' }, 'Nothing in the file needs a look.')
      : [h('h3', {}, 'Worth a look'), h('ul', { 'aria-label': 'Worth a look' }, upload.findings.map((f) => h('li', {}, f)))]);
}

/** Uploads a file: a new connection's first (without `connectionId`), or a newer one. */
export async function uploadSpreadsheet({ connectionId = null, title, instructions }) {
  const file = h('input', { id: 'f-file', name: 'file', type: 'file', required: true, accept: '.csv,.tsv,.txt,.xlsx,text/csv' });
  const form = h('form', { class: 'card', onsubmit: (event) => {
    event.preventDefault();
    busy(form.querySelector('button[type=submit]'), async () => {
      const shown = here();
      try {
        const { uploadSpreadsheet: upload } = await gqlUpload(UPLOAD, { connectionId }, file.files[0]);
        // An admin who went elsewhere while a large file uploaded stays where they went.
        if (here() !== shown) return;
        const next = connectionId ? `#/connections/${upload.connection.id}/sync` : `#/connections/${upload.connection.id}/data`;
        screen(title, found(upload),
          h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go(next) }, 'Next')));
      } catch (error) {
        showError(form, error);
      }
    });
  } },
  instructions ? h('p', { class: 'muted' }, instructions) : null,
  h('label', { for: 'f-file' }, 'Spreadsheet (CSV or Excel)'), file,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Upload')));
  screen(title, form);
}

export async function uploadNewer(connectionId) {
  await uploadSpreadsheet({
    connectionId,
    title: 'Upload a newer file',
    instructions: 'The same columns as before. Anyone missing from this file is marked inactive when it is synced.',
  });
}

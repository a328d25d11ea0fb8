// After connecting: what the connection can read ("View accessible data", "Finish"), then the
// mapping table (each directory field, a drop-down of the provider's fields, the email row marked
// critical, for an ATS whether its hiring team are people too, a live preview with each record's
// problems), "Save Mapping" and "Confirm and Save".

import { gql } from './api.js';
import { ask, go, h, latestOnly, screen, showError } from './dom.js';

const CONNECTION = `query($id: ID!) { connection(id: $id) { id resyncRequired linkedSystem provider { name }
  accessibleData { name fields { key label type } }
  fieldMapping { version status hiringTeam entries { internalField externalField acceptAnyType } } } }`;

export async function accessibleData(id) {
  const { connection } = await gql(CONNECTION, { id });
  const groups = h('div', { hidden: true, id: 'groups' }, connection.accessibleData.map((group) =>
    h('details', { class: 'card' }, h('summary', {}, `${group.name} (${group.fields.length} fields)`),
      h('ul', {}, group.fields.map((f) => h('li', {}, `${f.label} `, h('span', { class: 'muted' }, `(${f.type})`)))))));
  const view = h('button', { type: 'button', class: 'secondary', 'aria-controls': 'groups', 'aria-expanded': 'false', onclick: () => {
    groups.hidden = !groups.hidden;
    view.setAttribute('aria-expanded', String(!groups.hidden));
  } }, 'View accessible data');
  screen('Review accessible data',
    h('p', {}, `Connected to ${connection.provider.name}${connection.linkedSystem ? `, linked to ${connection.linkedSystem}` : ''}. This is what the connection can read.`),
    view, groups,
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go(`#/connections/${id}/mapping`) }, 'Finish')));
}

function previewTable(records) {
  const name = (v) => v?.displayName ?? [v?.firstName, v?.lastName].filter(Boolean).join(' ');
  return h('table', {},
    h('thead', {}, h('tr', {}, ['Record', 'Email', 'Name', 'Problems'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, records.map((r) => h('tr', {},
      h('td', {}, r.remoteId), h('td', {}, r.values?.email ?? ''), h('td', {}, name(r.values)),
      h('td', { class: r.problems.length ? 'critical' : '' }, r.problems.join('; ') || 'none')))));
}

export async function mapping(id) {
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
  // Only an applicant tracking system has a hiring team (hiringTeam is null for others).
  const hiringTeam = connection.fieldMapping?.hiringTeam;
  const team = hiringTeam == null ? null : h('p', {},
    h('label', {}, h('input', { type: 'checkbox', name: 'hiringTeam', checked: hiringTeam }),
      ` Include the hiring team: ${connection.provider.name}'s users (recruiters, interviewers, hiring managers) become people too`));
  const preview = h('div', { 'aria-live': 'polite' });
  const chosen = () => internalFields.map((f) => ({
    internalField: f.key,
    externalField: form.elements[f.key].value || null,
    acceptAnyType: entries.get(f.key)?.acceptAnyType ?? false,
  }));
  const dialog = h('dialog');
  const confirm = (version) => ask(dialog, {
    question: 'Confirm the mapping',
    consequence: 'Users are created with the email mapped above as their login. Nobody is emailed by a sync.',
    yes: 'Confirm and Save',
    act: () => gql('mutation($id: ID!, $version: Int!) { confirmFieldMapping(connectionId: $id, version: $version) { version } }', { id, version }),
    after: () => go(`#/connections/${id}/sync`),
  });
  const form = h('form', { onsubmit: async (event) => {
    event.preventDefault();
    try {
      const { saveFieldMapping: saved } = await gql(`mutation($id: ID!, $entries: [FieldMappingEntryInput!]!, $team: Boolean) {
        saveFieldMapping(connectionId: $id, entries: $entries, hiringTeam: $team) { version status } }`,
      { id, entries: chosen(), team: team ? form.elements.hiringTeam.checked : null });
      confirm(saved.version);
    } catch (error) {
      showError(form, error);
    }
  } },
  h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Directory field'), h('th', { scope: 'col' }, `${connection.provider.name} field`))), h('tbody', {}, rows)),
  team,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save Mapping')));
  // A live read at the provider: only the answer for the latest choice is shown.
  const read = latestOnly(() => gql(`query($id: ID!, $entries: [FieldMappingEntryInput!]) {
    previewFieldMapping(connectionId: $id, entries: $entries, limit: 5) { remoteId values problems } }`, { id, entries: chosen() }));
  const refreshPreview = async () => {
    try {
      const answer = await read();
      if (!answer) return;
      const { previewFieldMapping } = answer;
      preview.replaceChildren(h('h2', {}, 'Preview'), previewTable(previewFieldMapping));
    } catch (error) {
      preview.replaceChildren(h('p', { class: 'alert', role: 'alert' }, error.message));
    }
  };
  form.addEventListener('change', refreshPreview);
  screen('Map fields', connection.resyncRequired ? h('p', { class: 'critical' }, 'Re-sync required: the mapping changed since the last full sync.') : null, form, preview, dialog);
  refreshPreview();
}

// Syncing a connection: "Start Sync" with the live "Merging Data" bar (fed by `syncProgress`;
// come back later and it shows the run where it is), the schedule, and the sync history with
// each run's counts and the records it could not import.

import { gql, subscribe } from './api.js';
import { alertIn, ask, busy, clearErrors, go, h, here, inWords, onLeave, say, screen, showError, when } from './dom.js';

const RUN = 'id status phase percent processed total created updated deactivated deactivationsHeld error';

const CONNECTION = `query($id: ID!) { connection(id: $id) { id resyncRequired authMethod provider { name }
  schedule { enabled intervalMinutes nextRunAt } lastSync { id } } }`;

const FINISHED = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

const INTERVALS = [[15, 'Every 15 minutes'], [60, 'Every hour'], [360, 'Every 6 hours'], [720, 'Every 12 hours'], [1440, 'Every day'], [10080, 'Every week']];

function scheduleForm(id, schedule) {
  const intervals = INTERVALS.some(([m]) => m === schedule.intervalMinutes) ? INTERVALS : [...INTERVALS, [schedule.intervalMinutes, `Every ${schedule.intervalMinutes} minutes`]];
  const next = h('p', { class: 'muted' });
  const showNext = (s) => { next.textContent = s.enabled && s.nextRunAt ? `Next scheduled sync: ${when(s.nextRunAt)}` : 'No scheduled sync.'; };
  showNext(schedule);
  const form = h('form', { class: 'card', 'aria-labelledby': 'schedule-title', onsubmit: async (event) => {
    event.preventDefault();
    try {
      const { setSyncSchedule: saved } = await gql('mutation($id: ID!, $enabled: Boolean!, $minutes: Int) { setSyncSchedule(connectionId: $id, enabled: $enabled, intervalMinutes: $minutes) { enabled intervalMinutes nextRunAt } }',
        { id, enabled: form.elements.enabled.checked, minutes: Number(form.elements.intervalMinutes.value) });
      clearErrors(form);
      showNext(saved);
      say('Schedule saved.');
    } catch (error) {
      showError(form, error);
    }
  } },
  h('h2', { id: 'schedule-title' }, 'Schedule'),
  h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: 'enabled', name: 'enabled', checked: schedule.enabled }), 'Sync on a schedule'),
  h('label', { for: 'intervalMinutes' }, 'How often'),
  h('select', { id: 'intervalMinutes', name: 'intervalMinutes' },
    intervals.map(([minutes, words]) => h('option', { value: minutes, selected: minutes === schedule.intervalMinutes }, words))),
  next,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save Schedule')));
  return form;
}

export async function sync(id) {
  const { connection } = await gql(CONNECTION, { id });
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-label': 'Merging Data', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 }, h('div'));
  const words = h('p', { 'aria-live': 'polite' });
  const progress = h('section', { class: 'card', hidden: true, 'aria-labelledby': 'merging-title' }, h('h2', { id: 'merging-title' }, 'Merging Data'), bar, words);
  const problem = h('div');
  const done = h('button', { type: 'button', hidden: true, onclick: () => go('#/directory') }, 'Done');
  let current = null;
  // A cancelled run stops at its next page and deactivates nobody.
  const cancel = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: async () => {
    cancel.disabled = true;
    try {
      const { cancelSync } = await gql(`mutation($id: ID!) { cancelSync(runId: $id) { ${RUN} } }`, { id: current.id });
      show(cancelSync);
    } catch (error) {
      alertIn(problem, error);
    } finally {
      cancel.disabled = false;
    }
  } }, 'Cancel Sync');
  const start = h('button', { type: 'button', onclick: async () => {
    start.disabled = true;
    done.hidden = true;
    problem.replaceChildren();
    try {
      const { startSync } = await gql(`mutation($id: ID!) { startSync(connectionId: $id) { ${RUN} } }`, { id });
      follow(startSync);
    } catch (error) {
      start.disabled = false;
      alertIn(problem, error);
    }
  } }, 'Start Sync');
  const show = (run) => {
    current = run;
    progress.hidden = false;
    bar.setAttribute('aria-valuenow', String(Math.floor(run.percent)));
    bar.firstChild.style.width = `${run.percent}%`;
    words.textContent = `${Math.floor(run.percent)}% · ${run.processed}${run.total ? ` of ${run.total}` : ''} records · ${run.status}`;
    const finished = FINISHED.includes(run.status);
    start.disabled = !finished;
    cancel.hidden = finished;
    done.hidden = run.status !== 'SUCCEEDED';
    if (run.status === 'SUCCEEDED') {
      words.textContent += ` · ${run.created} added, ${run.updated} updated, ${run.deactivated} deactivated`;
      if (run.deactivationsHeld) words.textContent += ` · ${run.deactivationsHeld} deactivations held back: see Sync history`;
    } else if (finished && run.error) {
      words.textContent += ` · ${run.error}`;
    }
  };
  const follow = (run, of = here()) => {
    show(run);
    onLeave(subscribe(`subscription($id: ID!) { syncProgress(runId: $id) { run { ${RUN} } } }`, { id: run.id },
      ({ syncProgress }) => show(syncProgress.run),
      (error) => { words.textContent = inWords(error); }), of);
  };
  screen(`Sync ${connection.provider.name}`,
    connection.resyncRequired ? h('p', { class: 'critical' }, 'Re-sync required: start a sync to apply the new mapping to everyone.') : null,
    h('div', { class: 'actions' }, start, cancel, done, h('a', { href: `#/connections/${id}/history` }, 'Sync history')),
    problem, progress,
    // A spreadsheet syncs the file it was given: no schedule, a newer file instead.
    connection.authMethod === 'UPLOAD'
      ? h('p', {}, h('a', { href: `#/connections/${id}/upload` }, 'Upload a newer file'), ' to sync your people again.')
      : scheduleForm(id, connection.schedule));
  // Coming back: the bar shows the last sync where it is, and follows it while it runs.
  const last = connection.lastSync;
  if (last) {
    const shownNow = here();
    const { syncRun } = await gql(`query($id: ID!) { syncRun(id: $id) { ${RUN} } }`, { id: last.id });
    if (FINISHED.includes(syncRun.status)) show(syncRun);
    else follow(syncRun, shownNow);
  }
}

const HISTORY = `query($id: ID!) { connection(id: $id) { id provider { name } syncRuns(first: 20) {
  id mode status triggeredBy startedAt finishedAt processed total created updated unchanged deactivated deactivationsHeld skipped error } } }`;

const ISSUES = `query($id: ID!) { syncRun(id: $id) { issues(first: 50) {
  id remoteId kind message dismissed people { id displayName email } } } }`;

/** Two people who may be one: "Join" keeps the first (the one the run met already there). */
function lookAlike(issue, reload) {
  if (issue.dismissed) return h('p', { class: 'muted' }, 'Marked as two people.');
  if (issue.people.length < 2) return h('p', { class: 'muted' }, 'Joined.');
  const [created, existing] = issue.people;
  const join = (event) => busy(event.currentTarget, async () => {
    await gql('mutation($into: ID!, $other: ID!) { joinPeople(into: $into, other: $other) { id } }', { into: existing.id, other: created.id });
    say(`${existing.displayName} and ${created.email} are one person now.`);
    await reload();
  });
  const dismiss = (event) => busy(event.currentTarget, async () => {
    await gql('mutation($id: ID!) { dismissSyncIssue(id: $id) { dismissed } }', { id: issue.id });
    say('Kept as two people.');
    await reload();
  });
  return h('div', { class: 'actions' },
    h('button', { type: 'button', onclick: join }, 'Join'),
    h('button', { type: 'button', onclick: dismiss }, 'Not the same person'));
}

function issuesOf(run) {
  const list = h('div');
  const details = h('details', {}, h('summary', {}, 'Records not imported and other issues'), list);
  const load = async () => {
    const { syncRun } = await gql(ISSUES, { id: run.id });
    list.replaceChildren(syncRun.issues.length === 0 ? h('p', { class: 'muted' }, 'No issues.')
      : h('ul', {}, syncRun.issues.map((i) => h('li', {}, h('strong', {}, i.kind),
        i.remoteId ? ` (record ${i.remoteId}): ${i.message}` : `: ${i.message}`,
        i.kind === 'POSSIBLE_DUPLICATE' ? lookAlike(i, load) : null))));
  };
  details.addEventListener('toggle', () => {
    if (details.open && !list.childElementCount) load();
  });
  return details;
}

/** A run's held-back deactivations, and "Confirm deactivations", asked first. */
function heldBack(run, reload) {
  const dialog = h('dialog');
  const confirm = () => ask(dialog, {
    question: `Deactivate ${run.deactivationsHeld} people?`,
    consequence: 'This sync would have deactivated more of the connection\'s people than a sync may unasked, so it deactivated nobody. Confirm only if they really left.',
    yes: 'Deactivate them',
    act: () => gql('mutation($id: ID!) { confirmDeactivations(runId: $id) { deactivated } }', { id: run.id }),
    after: async ({ confirmDeactivations: applied }) => {
      await reload();
      say(`${applied.deactivated} people deactivated.`);
    },
  });
  return h('div', { class: 'card' },
    h('p', { class: 'critical' }, `${run.deactivationsHeld} deactivations held back for an admin to confirm.`),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: confirm }, 'Confirm deactivations')),
    dialog);
}

export async function history(id) {
  const { connection } = await gql(HISTORY, { id });
  const runs = connection.syncRuns;
  const latestFinished = runs.find((r) => FINISHED.includes(r.status));
  const counts = (r) => `${r.processed}${r.total != null ? ` of ${r.total}` : ''} records: ${r.created} added, ${r.updated} updated, ${r.unchanged} unchanged, ${r.deactivated} deactivated, ${r.skipped} skipped`;
  screen(`Sync history: ${connection.provider.name}`,
    h('p', {}, h('a', { href: `#/connections/${id}/sync` }, 'Back to Sync')),
    runs.length === 0 ? h('p', { class: 'muted' }, 'No sync has run yet.') : h('ol', { class: 'runs', 'aria-label': 'Sync runs, newest first' }, runs.map((r) =>
      h('li', { class: 'card' },
        h('h2', {}, `${r.status}: ${r.mode === 'FULL' ? 'full' : 'incremental'} sync, ${when(r.startedAt) || 'not started'}`),
        h('p', {}, counts(r)),
        // Only the latest finished run's can be confirmed; a later sync decides afresh.
        r.deactivationsHeld && r === latestFinished ? heldBack(r, () => history(id)) : null,
        r.error ? h('p', { class: 'alert' }, r.error) : null,
        h('p', { class: 'muted' }, `Started by ${r.triggeredBy}${r.finishedAt ? `, finished ${when(r.finishedAt)}` : ''}`),
        issuesOf(r)))));
}

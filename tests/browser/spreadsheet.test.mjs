// A spreadsheet in a real browser (see harness.mjs): picked from the catalogue, its file chosen
// and uploaded, what reading it found (a formula-like cell among it), the suggested mapping, a
// sync; then a newer file from Integrations, in which someone is missing, synced too, after
// which a sync without a new file is refused in words. SANDBOX holds { file, newer, people,
// inactive, leaver }: the two files' text, how many people the first brings in, how many of them
// are inactive after the second, and the email of the person it leaves out.

import assert from 'node:assert/strict';
import { sandbox, url, token, walk } from './harness.mjs';

await walk(async ({ page, check, heading, button, listed, mapAndSync }) => {
  await page.goto(`${url}/#token=${encodeURIComponent(token)}`);
  await heading('Integrations').waitFor();
  await page.getByRole('region', { name: 'HRIS Integration' }).getByRole('button', { name: 'Get Started' }).click();
  await button('Connect Now').click();
  await heading('Choose your system').waitFor();
  await page.getByLabel('Search').fill('spreadsheet');
  await page.getByRole('button', { name: /Spreadsheet/ }).click();
  await heading('Spreadsheet (CSV or Excel)').waitFor();
  assert.ok(await page.getByLabel('Upload a spreadsheet (CSV or Excel)').isChecked(), 'the only way in is chosen');
  await page.getByLabel('I am an admin').check();
  await page.getByLabel(/I accept the/).check();
  await button('Next').click();

  await heading('Upload a spreadsheet').waitFor();
  await check('upload-form');
  const chosen = (name, text) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8') });
  await page.getByLabel('Spreadsheet (CSV or Excel)').setInputFiles(chosen('people.csv', sandbox.file));
  await button('Upload').click();
  await page.getByRole('heading', { level: 2, name: 'Read people.csv' }).waitFor();
  assert.match(await page.getByRole('list', { name: 'Worth a look' }).innerText(), /row \d+, column 'Job title'/);
  await check('upload-read');
  await button('Next').click();

  await mapAndSync();
  await page.goto(`${url}/#/directory`);
  await listed(sandbox.people);
  await check('synced');

  // A newer file, from the connection's card: the person it leaves out is inactive once synced.
  await page.goto(`${url}/#/integrations`);
  await page.getByRole('link', { name: 'Upload a newer file' }).click();
  await heading('Upload a newer file').waitFor();
  await page.getByLabel('Spreadsheet (CSV or Excel)').setInputFiles(chosen('people (2).csv', sandbox.newer));
  await button('Upload').click();
  await page.getByRole('heading', { level: 2, name: 'Read people (2).csv' }).waitFor();
  await button('Next').click();
  await page.getByRole('heading', { level: 1, name: /^Sync / }).waitFor();
  await button('Start Sync').click();
  // The bar shows the first sync's end until this one's first event: its own counts say it is done.
  await page.getByText(/SUCCEEDED · 0 added, 0 updated, 1 deactivated/).waitFor({ timeout: 60_000 });
  await page.goto(`${url}/#/directory`);
  await page.getByLabel('Status').selectOption({ label: 'Inactive' });
  await listed(sandbox.inactive);
  await page.getByLabel('Search').fill(sandbox.leaver);
  await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
  await check('newer-synced');

  // The file was read and forgotten: a sync needs a new one, and says so.
  await page.goto(`${url}/#/integrations`);
  await page.getByRole('link', { name: 'Sync', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: /^Sync / }).waitFor();
  await button('Start Sync').click();
  await page.getByRole('alert').getByText(/upload/i).waitFor();
  assert.equal(await page.getByText('Sync on a schedule').count(), 0, 'a spreadsheet has no schedule');
  await page.getByRole('link', { name: 'Upload a newer file' }).waitFor();
  await check('needs-a-file');
});

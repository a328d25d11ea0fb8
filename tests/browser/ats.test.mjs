// An applicant tracking system in a real browser (see harness.mjs): the ATS section of
// Integrations, Greenhouse's client credentials, the mapping and a sync; then the history's
// POSSIBLE_DUPLICATE issue (a hire the ATS knows under a personal email, the HR system under the
// work one) and "Join", after which the person's profile shows both sources. SANDBOX holds
// { clientId, clientSecret, twin: { workEmail, email } }, with a BambooHR connection synced already.

import assert from 'node:assert/strict';
import { sandbox, url, token, walk } from './harness.mjs';

await walk(async ({ page, check, heading, button, mapAndSync }) => {
  await page.goto(`${url}/#token=${encodeURIComponent(token)}`);
  await heading('Integrations').waitFor();

  // The ATS section's Get Started leads to the applicant tracking systems.
  await page.getByRole('region', { name: 'ATS Integration' }).getByRole('button', { name: 'Get Started' }).click();
  await button('Connect Now').click();
  await heading('Choose your system').waitFor();
  await page.getByRole('button', { name: /Greenhouse/ }).click();
  await heading('Greenhouse').waitFor();
  await page.getByLabel('Use my API key or access token').check();
  await page.getByLabel('I am an admin').check();
  await page.getByLabel(/I accept the/).check();
  await button('Next').click();
  await heading('Connect Greenhouse').waitFor();
  await page.getByLabel('Client ID').fill(sandbox.clientId);
  await page.getByLabel('Client secret').fill(sandbox.clientSecret);
  await check('greenhouse-credentials');
  await button('Next').click();

  await mapAndSync();
  await check('greenhouse-synced');

  // The history names the two people who may be one; the admin joins them.
  await page.getByRole('link', { name: 'Sync history' }).click();
  await heading(/^Sync history/).waitFor();
  await page.getByText('Records not imported and other issues').first().click();
  const issue = page.locator('details li').filter({ hasText: 'POSSIBLE_DUPLICATE' });
  await issue.waitFor();
  assert.match(await issue.innerText(), new RegExp(sandbox.twin.email.replace(/[.]/g, '\\.')));
  await check('possible-duplicate');
  await issue.getByRole('button', { name: 'Join', exact: true }).click();
  await page.getByRole('status').getByText(/are one person now/).waitFor();
  await issue.getByText('Joined.').waitFor();

  // One person, from both systems.
  await page.goto(`${url}/#/directory`);
  await page.getByLabel('Search').fill(sandbox.twin.workEmail);
  await page.locator('tbody tr').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
  await page.locator('tbody tr td:first-child a').first().click();
  await page.getByText(/^BambooHR, record \S+, last synced/).waitFor();
  await page.getByText(/^Greenhouse, record \S+, last synced/).waitFor();
  assert.equal(await page.getByRole('cell', { name: 'joined', exact: true }).count(), 1, 'the history shows the join');
  await check('joined-profile');
});

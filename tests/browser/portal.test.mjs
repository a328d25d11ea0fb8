// The seed's walk-through in a real browser (see harness.mjs): sign-in, Integrations, the provider
// grid, an API key with a wrong subdomain and a wrong key, accessible data, the mapping, the sync,
// the User Directory, a mapping edit's re-sync, the history and the schedule; then "Open Window"
// by keyboard alone, and Merge Link on through to the directory. SANDBOX holds
// { providerId, subdomain, apiKey, employees } of a BambooHR tenant, and mergeEmployees: the size
// of the Merge linked account there is too.

import assert from 'node:assert/strict';
import { sandbox, url, token, walk } from './harness.mjs';

await walk(async ({ page, check, tabTo, heading, button, listed, barFull }) => {
  // 0. On a service in embedded mode, a person at this computer signs in without a token.
  await page.goto(url);
  await heading('Sign in').waitFor();
  await button('Sign in on this computer').waitFor();
  await check('sign-in');
  await button('Sign in on this computer').click();
  await heading('Integrations').waitFor();
  await page.getByText('local-admin · workspace local').waitFor();
  await button('Sign out').click();
  await heading('Sign in').waitFor();

  // 1. Integrations, signed in by a link that carries the token.
  await page.goto(`${url}/#token=${encodeURIComponent(token)}`);
  await heading('Integrations').waitFor();
  await page.getByRole('heading', { name: 'HRIS Integration' }).waitFor();
  await check('integrations');

  // 2. Get Started → Connect Now → the provider grid, searched.
  await button('Get Started').first().click();
  await button('Connect Now').click();
  await heading('Choose your system').waitFor();
  await page.getByLabel('Search', { exact: true }).fill('bamboo');
  const bamboo = page.getByRole('button', { name: /BambooHR/ });
  await bamboo.waitFor();
  // The grid first shows every provider; the search narrows it to one.
  await page.waitForFunction(() => document.querySelectorAll('[aria-label=Providers] button').length === 1);
  await page.waitForTimeout(300);
  assert.equal(await page.getByRole('list', { name: 'Providers' }).getByRole('button').count(), 1, 'the search narrows the grid');
  await check('providers');
  await bamboo.click();

  // 3. The API key, an admin's confirmation and the terms.
  await heading('BambooHR').waitFor();
  await page.getByLabel('Use my API key or access token').check();
  await button('Next').click();
  await page.getByText('Confirm that you are an admin').waitFor();
  await page.getByLabel('I am an admin').check();
  await page.getByLabel(/I accept the/).check();
  await check('auth-choice');
  await button('Next').click();
  await heading('Connect BambooHR').waitFor();
  const form = page.locator('form');
  const subdomain = form.getByRole('textbox').first();
  const key = form.locator('input[name=apiKey]');

  // A wrong subdomain, then a wrong key: each message under its own field.
  await subdomain.fill('no-such-company');
  await key.fill(sandbox.apiKey);
  await button('Next').click();
  await page.locator('#f-subdomain-error').waitFor();
  assert.match(await page.locator('#f-subdomain-error').innerText(), /subdomain/i);
  await check('wrong-subdomain');
  await subdomain.fill(sandbox.subdomain);
  await key.fill('not-the-key');
  await button('Next').click();
  await page.locator('#f-apiKey-error').waitFor();
  assert.match(await page.locator('#f-apiKey-error').innerText(), /key/i);
  await check('wrong-key');
  await key.fill(sandbox.apiKey);
  await button('Next').click();

  // 4. What the connection can read.
  await heading('Review accessible data').waitFor();
  await button('View accessible data').click();
  await page.locator('details').first().waitFor();
  await page.locator('details summary').first().click();
  await check('accessible-data');
  await button('Finish').click();

  // 5. The mapping, the email row marked critical, saved and confirmed.
  await heading('Map fields').waitFor();
  await page.getByText('Critical: this becomes').waitFor();
  await page.getByRole('heading', { name: 'Preview' }).waitFor();
  await check('mapping');
  await button('Save Mapping').click();
  await button('Confirm and Save').waitFor();
  await check('confirm-mapping');
  await button('Confirm and Save').click();

  // 6. Start Sync: the Merging Data bar, live, to 100%; it survives leaving and coming back.
  await page.getByRole('heading', { level: 1, name: /^Sync / }).waitFor();
  const syncUrl = page.url();
  await button('Start Sync').click();
  const bar = page.getByRole('progressbar', { name: 'Merging Data' });
  await bar.waitFor();
  await page.goto(`${url}/#/integrations`);
  await heading('Integrations').waitFor();
  await page.goto(syncUrl);
  await bar.waitFor();
  await barFull();
  await button('Done').waitFor();
  await check('sync-done');
  await button('Done').click();

  // 7. The User Directory: list and org chart.
  await heading('User Directory').waitFor();
  await page.getByText(/\d+ people/).waitFor();
  const people = Number((await page.getByText(/\d+ people/).innerText()).match(/\d+/)[0]);
  assert.ok(people >= sandbox.employees - 5 && people <= sandbox.employees, `${people} people listed of ${sandbox.employees}`);
  assert.ok((await page.locator('tbody tr').count()) >= Math.min(people, 50) - 0, 'the first page of the list');
  await check('directory-list');
  // The department filter: everyone listed is in the department chosen.
  const departments = await page.getByLabel('Department').locator('option').allInnerTexts();
  await page.getByLabel('Department').selectOption({ label: departments[1] });
  await page.waitForFunction((d) => [...document.querySelectorAll('tbody tr td:nth-child(4)')].every((td) => td.innerText === d), departments[1]);
  const inDepartment = Number((await page.getByText(/\d+ people/).innerText()).match(/\d+/)[0]);
  assert.ok(inDepartment > 0 && inDepartment < people, `${inDepartment} of ${people} people in ${departments[1]}`);
  const answered = page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('"status":"ACTIVE"'));
  await page.getByLabel('Status').selectOption({ label: 'Active' });
  await answered;
  await page.waitForFunction(() => [...document.querySelectorAll('tbody tr td:nth-child(5)')].every((td) => td.innerText === 'ACTIVE'));
  // A person's profile says where their data comes from and what changed it.
  const first = page.locator('tbody tr td:first-child a').first();
  const name = await first.innerText();
  await first.click();
  await heading(name).waitFor();
  await page.getByText(/^BambooHR, record \S+, last synced/).waitFor();
  await page.getByRole('cell', { name: 'created', exact: true }).waitFor();
  await check('person-profile');
  await page.getByRole('link', { name: 'Back to the User Directory' }).click();
  await heading('User Directory').waitFor();
  await page.getByLabel('Search', { exact: true }).fill('zzzz-nobody');
  await listed(0);
  await page.getByRole('tab', { name: 'Org Chart' }).click();
  await page.locator('.tree li').first().waitFor();
  const expand = page.getByRole('button', { name: /^Show \d+ reports of / }).first();
  await expand.click();
  await page.locator('.tree li ul li').first().waitFor();
  await check('org-chart');

  // 8. A mapping edit calls for a re-sync, and a full re-sync clears it.
  const connectionId = syncUrl.match(/connections\/([^/]+)\/sync/)[1];
  await page.goto(`${url}/#/connections/${connectionId}/mapping`);
  await heading('Map fields').waitFor();
  const location = page.getByLabel('Location');
  const options = await location.locator('option').allInnerTexts();
  await location.selectOption({ index: options.length > 2 ? 0 : 1 });
  await button('Save Mapping').click();
  await button('Confirm and Save').click();
  await page.getByText('Re-sync required').waitFor();
  await check('resync-required');
  await button('Start Sync').click();
  await button('Done').waitFor({ timeout: 60_000 });
  await page.goto(`${url}/#/integrations`);
  await heading('Integrations').waitFor();
  assert.equal(await page.getByText('Re-sync required').count(), 0, 'the full re-sync cleared it');
  await page.getByText('Last sync: SUCCEEDED').first().waitFor();

  // The sync history: both runs, newest first, with their counts and issues.
  await page.getByRole('link', { name: 'Sync history' }).first().click();
  await heading(/^Sync history/).waitFor();
  const runs = page.getByRole('list', { name: 'Sync runs, newest first' }).locator(':scope > li');
  assert.equal(await runs.count(), 2, 'two runs in the history');
  await runs.first().getByText(/^SUCCEEDED: full sync/).waitFor();
  await runs.last().getByText(new RegExp(`^${sandbox.employees} of ${sandbox.employees} records: ${people} added`)).waitFor();
  await runs.last().getByText('Records not imported and other issues').click();
  await runs.last().locator('details li, details p').first().waitFor();
  await check('sync-history');

  // The schedule: on, every hour, and the Integrations card says so.
  await page.getByRole('link', { name: 'Back to Sync' }).click();
  await button('Save Schedule').waitFor();
  await page.getByLabel('Sync on a schedule').check();
  await page.getByLabel('How often').selectOption({ label: 'Every hour' });
  await button('Save Schedule').click();
  await page.getByRole('status').getByText('Schedule saved.').waitFor();
  await page.getByText(/^Next scheduled sync: /).waitFor();
  await check('schedule');
  await page.goto(`${url}/#/integrations`);
  await page.getByText('Scheduled sync: every 60 minutes').waitFor();
  await check('integrations-connected');

  // 9. "Open Window", by keyboard alone: the provider's sign-in in a popup; the page follows
  // connectionStatus.
  await page.goto(`${url}/#/integrations`);
  await heading('Integrations').waitFor();
  await tabTo('Get Started');
  await page.keyboard.press('Enter');
  await tabTo('Connect Now');
  await page.keyboard.press('Enter');
  await heading('Choose your system').waitFor();
  await tabTo('Search');
  await page.keyboard.type('bamboo');
  await page.waitForFunction(() => document.querySelectorAll('[aria-label=Providers] button').length === 1);
  await tabTo(/BambooHR/);
  await page.keyboard.press('Enter');
  await heading('BambooHR').waitFor();
  await tabTo('Use my credentials (recommended)');
  assert.ok(await page.getByLabel('Use my credentials (recommended)').isChecked(), 'credentials are the first choice');
  await tabTo('I am an admin');
  await page.keyboard.press('Space');
  await tabTo(/I accept the/);
  await page.keyboard.press('Space');
  await tabTo('Next');
  await page.keyboard.press('Enter');
  await heading('Sign in to BambooHR').waitFor();
  await tabTo(/Company domain/);
  await page.keyboard.type(sandbox.subdomain);
  await check('open-window');
  const popup = page.waitForEvent('popup');
  await tabTo('Open Window');
  await page.keyboard.press('Enter');
  await (await popup).waitForLoadState();
  await heading('Review accessible data').waitFor();
  await check('signed-in');

  // 10. Merge: "Open Window" opens Merge Link in the page; its public token finishes the sign-in.
  await page.goto(`${url}/#/providers/merge`);
  await heading('Merge').waitFor();
  await page.getByLabel('Use my credentials (recommended)').check();
  await page.getByLabel('I am an admin').check();
  await page.getByLabel(/I accept the/).check();
  await button('Next').click();
  await heading('Sign in to Merge').waitFor();
  await button('Open Window').click();
  const link = page.frameLocator('iframe[title="Merge Link"]');
  await link.getByRole('button', { name: 'Link account' }).click();
  await heading('Review accessible data').waitFor();
  // The system behind Merge's linked account, as Merge's account details name it.
  await page.getByText(/^Connected to Merge .*, linked to BambooHR\./).waitFor();
  await check('merge-link');
  // …and on through the rest of the seed's steps: mapping, sync, the directory.
  await button('Finish').click();
  await heading('Map fields').waitFor();
  await page.getByRole('heading', { name: 'Preview' }).waitFor();
  await button('Save Mapping').click();
  await button('Confirm and Save').click();
  await heading('Sync Merge (200+ HR systems)').waitFor();
  await button('Start Sync').click();
  await barFull();
  const added = Number((await page.getByText(/ added, /).innerText()).match(/(\d+) added/)[1]);
  assert.ok(added >= sandbox.mergeEmployees - 5 && added <= sandbox.mergeEmployees, `${added} of Merge's ${sandbox.mergeEmployees} added`);
  await button('Done').click();
  await heading('User Directory').waitFor();
  await listed(people + added);

  // 11. Disconnect, asked first: the people stay.
  await page.goto(`${url}/#/integrations`);
  const mergeCard = page.locator('li.card', { has: page.getByRole('heading', { name: /^Merge/ }) });
  await mergeCard.getByRole('button', { name: 'Disconnect' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Disconnect' }).click();
  await page.getByRole('status').getByText(/disconnected\.$/).waitFor();
  await mergeCard.getByText('Status: DISCONNECTED').waitFor();
  await check('disconnected');
  await page.goto(`${url}/#/directory`);
  await listed(people + added);

});

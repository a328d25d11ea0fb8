// The seed's walk-through in a real browser: Debian's Chromium, headless, driven by
// playwright-core (which downloads no browser of its own), against a running service with the
// sandbox providers. Started by tests/e2e/portal.rs, which passes:
//   PORTAL_URL   the service's base URL
//   PORTAL_TOKEN an admin's bearer token on the paid plan
//   SANDBOX      JSON: { providerId, subdomain, apiKey, employees } of a BambooHR tenant (a Merge
//                linked account is there too, for Merge Link)
//   SCREENSHOTS  the folder each step's screenshot is written to
// Every screen is checked with axe-core: no serious or critical violation.

import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const { PORTAL_URL: url, PORTAL_TOKEN: token, SCREENSHOTS: shots } = process.env;
const sandbox = JSON.parse(process.env.SANDBOX);
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
// axe is evaluated into the page by the test, past the portal's CSP (which allows only its own scripts).
const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1200, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(20_000);
const problems = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));

let step = 0;
/** Screenshot and accessibility check of the screen as it is now. */
async function check(name) {
  step += 1;
  await page.screenshot({ path: `${shots}/${String(step).padStart(2, '0')}-${name}.png`, fullPage: true });
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `axe on ${name}`);
  console.log(`ok ${step} ${name}`);
}

const heading = (name) => page.getByRole('heading', { level: 1, name });
const button = (name) => page.getByRole('button', { name, exact: true });

/** Presses Tab until the control named `name` has the focus (at most `presses` times). */
async function tabTo(name, presses = 25) {
  for (let i = 0; i < presses; i += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const e = document.activeElement;
      const label = e?.labels?.[0]?.innerText ?? '';
      return `${e?.getAttribute('aria-label') ?? ''}|${label}|${e?.innerText ?? ''}`;
    });
    if (focused.split('|').some((text) => text.trim() === name || (name instanceof RegExp && name.test(text)))) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

try {
  // 0. On a service in embedded mode, a person at this computer signs in without a token.
  {
    const local = await context.newPage();
    await local.goto(url);
    await local.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await local.getByRole('button', { name: 'Sign in on this computer' }).click();
    await local.getByRole('heading', { level: 1, name: 'Integrations' }).waitFor();
    await local.getByText('local-admin · workspace local').waitFor();
    await local.getByRole('button', { name: 'Sign out' }).click();
    await local.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await local.close();
  }

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
  await button('Connect').click();
  await page.locator('#f-subdomain-error').waitFor();
  assert.match(await page.locator('#f-subdomain-error').innerText(), /subdomain/i);
  await check('wrong-subdomain');
  await subdomain.fill(sandbox.subdomain);
  await key.fill('not-the-key');
  await button('Connect').click();
  await page.locator('#f-apiKey-error').waitFor();
  assert.match(await page.locator('#f-apiKey-error').innerText(), /key/i);
  await check('wrong-key');
  await key.fill(sandbox.apiKey);
  await button('Connect').click();

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
  await page.waitForFunction(() => document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') === '100');
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
  await page.getByLabel('Status').selectOption({ label: 'Active' });
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
  await page.getByText('0 people').waitFor();
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

  assert.deepEqual(problems, [], 'no script errors');
  console.log(`all ${step} steps passed; screenshots in ${shots}`);
} catch (error) {
  await page.screenshot({ path: `${shots}/failure.png`, fullPage: true }).catch(() => {});
  console.error(await page.locator('main').innerHTML().catch(() => ''));
  console.error(`failed after step ${step}: ${error.stack ?? error}`);
  console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}

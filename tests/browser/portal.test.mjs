// The seed's walk-through in a real browser: Debian's Chromium, headless, driven by
// playwright-core (which downloads no browser of its own), against a running service with the
// sandbox providers. Started by tests/e2e/portal.rs, which passes:
//   PORTAL_URL   the service's base URL
//   PORTAL_TOKEN an admin's bearer token on the paid plan
//   SANDBOX      JSON: { providerId, subdomain, apiKey, employees }
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

try {
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
  await page.getByLabel('Search', { exact: true }).fill('zzzz-nobody');
  await page.getByText('0 people').waitFor();
  await page.getByRole('tab', { name: 'Org Chart' }).click();
  await page.locator('.tree li').first().waitFor();
  const expand = page.getByRole('button', { name: /^Show \d+ reports$/ }).first();
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

  // 9. "Open Window": the provider's sign-in in a popup; the page follows connectionStatus.
  await page.goto(`${url}/#/providers/${sandbox.providerId}`);
  await page.getByLabel('Use my credentials (recommended)').check();
  await page.getByLabel('I am an admin').check();
  await page.getByLabel(/I accept the/).check();
  await button('Next').click();
  await heading('Sign in to BambooHR').waitFor();
  await page.getByLabel(/Company domain/).fill(sandbox.subdomain);
  await check('open-window');
  const popup = page.waitForEvent('popup');
  await button('Open Window').click();
  await (await popup).waitForLoadState();
  await heading('Review accessible data').waitFor();
  await check('signed-in');

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

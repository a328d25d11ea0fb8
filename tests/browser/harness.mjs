// What every browser test here shares: Debian's Chromium, headless, driven by playwright-core
// (which downloads no browser of its own), one page, a screenshot and an axe-core check of each
// screen (no serious or critical violation), and no script error on the page. Each test is
// started by tests/e2e/portal.rs, which passes:
//   PORTAL_URL   the service's base URL
//   PORTAL_TOKEN an admin's bearer token on the paid plan
//   SANDBOX      JSON: what the test's sandbox tenants are (each test says what it reads)
//   SCREENSHOTS  the folder each step's screenshot is written to

import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const { PORTAL_URL: url, PORTAL_TOKEN: token } = process.env;
export const sandbox = JSON.parse(process.env.SANDBOX ?? '{}');

/** Runs `steps` with a fresh browser page and the helpers below; exits non-zero on a failure. */
export async function walk(steps) {
  const shots = process.env.SCREENSHOTS;
  // Only this run's screenshots: an earlier run's may be numbered otherwise.
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  // Under the portal's own Content-Security-Policy: what it refuses is a console error, and fails
  // the test. (axe is evaluated into the page by the test's own channel, which the policy allows.)
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
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

  const heading = (name) => page.getByRole('heading', { level: 1, name });
  const button = (name) => page.getByRole('button', { name, exact: true });
  /** Waits for the Merging Data bar to reach 100%. */
  const barFull = () => page.waitForFunction(() => document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') === '100', null, { timeout: 60_000 });
  const helpers = {
    page,
    context,
    check,
    tabTo,
    heading,
    button,
    barFull,
    /** Waits for the directory to say exactly "`count` people". */
    listed: (count) => page.getByText(`${count} people`, { exact: true }).waitFor(),
    /** From "Review accessible data" of a new connection: the suggested mapping saved and
     * confirmed, and its first sync started and followed to the end. */
    mapAndSync: async () => {
      await heading('Review accessible data').waitFor();
      await button('Finish').click();
      await heading('Map fields').waitFor();
      await button('Save Mapping').click();
      await button('Confirm and Save').click();
      await heading(/^Sync /).waitFor();
      await button('Start Sync').click();
      await barFull();
    },
  };
  try {
    await steps(helpers);
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
}

// The sync's safety nets in the browser (see harness.mjs): a sync that held back deactivations
// says so in the history until an admin confirms them, and a running sync can be cancelled.
// SANDBOX holds { connectionId, held }: a connection whose last sync held back `held`
// deactivations, at a provider that now answers slowly (each request takes seconds).

import assert from 'node:assert/strict';
import { sandbox, url, token, walk } from './harness.mjs';

await walk(async ({ page, check, heading, button, listed }) => {
  await page.goto(`${url}/#token=${encodeURIComponent(token)}`);
  await heading('Integrations').waitFor();

  // Held back, shown, and applied only when the admin confirms.
  await page.goto(`${url}/#/connections/${sandbox.connectionId}/history`);
  await heading(/^Sync history/).waitFor();
  await page.getByText(`${sandbox.held} deactivations held back for an admin to confirm.`).waitFor();
  await check('held-back');
  await button('Confirm deactivations').click();
  await page.getByRole('dialog').getByRole('button', { name: 'Deactivate them' }).click();
  await page.getByRole('status').getByText(`${sandbox.held} people deactivated.`).waitFor();
  assert.equal(await page.getByText(/deactivations held back/).count(), 0, 'nothing is held back any more');
  await page.goto(`${url}/#/directory`);
  await page.getByLabel('Status').selectOption({ label: 'Active' });
  await listed(0);

  // A running sync, cancelled: the bar says so and Start Sync is offered again.
  await page.goto(`${url}/#/connections/${sandbox.connectionId}/sync`);
  await button('Start Sync').click();
  await button('Cancel Sync').click();
  await page.getByText(/· CANCELLED/).waitFor({ timeout: 60_000 });
  assert.ok(await button('Start Sync').isEnabled(), 'Start Sync is offered again');
  assert.ok(await button('Done').isHidden(), 'a cancelled sync is not done');
  await check('cancelled');
});

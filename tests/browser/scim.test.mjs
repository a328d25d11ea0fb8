// An identity provider in a real browser (see harness.mjs): "SCIM (Okta, Entra ID, …)" picked
// from the catalogue, its endpoint made and its base URL and token shown once; this script then
// pushes users as Okta does, with the token the page showed; the suggested mapping and a first
// sync bring them in; the connection's card shows the requests; a mass deactivation is held and
// confirmed from the card; and a rotated token replaces the old one at once. SANDBOX holds
// { people }: how many users to push.

import assert from 'node:assert/strict';
import { sandbox, url, token, walk } from './harness.mjs';

/** A SCIM request as an identity provider sends it. */
async function scim(base, bearer, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/scim+json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

await walk(async ({ page, check, heading, button, listed, mapAndSync }) => {
  await page.goto(`${url}/#token=${encodeURIComponent(token)}`);
  await heading('Integrations').waitFor();
  await page.getByRole('region', { name: 'Identity Provider (SCIM)' }).getByRole('button', { name: 'Get Started' }).click();
  await button('Connect Now').click();
  await heading('Choose your system').waitFor();
  assert.equal(await page.getByLabel('Category').inputValue(), 'IDENTITY');
  await page.getByRole('button', { name: /SCIM/ }).click();
  await heading(/^SCIM/).waitFor();
  assert.ok(await page.getByLabel('Let my identity provider push people here (SCIM)').isChecked(), 'the only way in is chosen');
  await page.getByLabel('I am an admin').check();
  await page.getByLabel(/I accept the/).check();
  await button('Next').click();

  await heading(/^Connect SCIM/).waitFor();
  assert.match(await page.locator('main').innerText(), /Okta[\s\S]*Entra ID/, 'what to paste where');
  await button('Create the SCIM endpoint').click();
  const base = await page.getByLabel('SCIM base URL').inputValue();
  const secret = await page.getByLabel('Secret token (shown only now)').inputValue();
  assert.match(base, /\/scim\/v2\/[0-9a-f-]{36}$/);
  await check('endpoint-made');

  // The identity provider pushes its users before the mapping is confirmed.
  const ids = [];
  for (let n = 0; n < sandbox.people; n += 1) {
    const made = await scim(base, secret, 'POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `person${n}@idp.test`,
      name: { givenName: `Person${n}`, familyName: 'Pushed' },
      active: true,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    ids.push(made.body.id);
  }
  await button('Next').click();
  await mapAndSync();
  await page.goto(`${url}/#/directory`);
  await listed(sandbox.people);
  await check('pushed-people');

  // Okta unassigns everyone: most deactivations are held, and confirmed from the card.
  for (const id of ids) {
    const off = await scim(base, secret, 'PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    assert.equal(off.status, 200);
  }
  await page.goto(`${url}/#/integrations`);
  const card = page.getByRole('region', { name: 'Identity Provider (SCIM)' });
  await card.getByText(/deactivations held for your confirmation/).waitFor();
  assert.match(await card.innerText(), /requests, \d+ changes, 0 errors/);
  await check('held');
  await card.getByRole('button', { name: 'Confirm deactivations' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Deactivate them' }).click();
  await page.getByText('Held deactivations confirmed.').waitFor();
  await page.goto(`${url}/#/directory`);
  await page.getByLabel('Status').selectOption({ label: 'Inactive' });
  await listed(sandbox.people);

  // A new token: the old one stops at once.
  await page.goto(`${url}/#/integrations`);
  await page.getByRole('region', { name: 'Identity Provider (SCIM)' }).getByRole('button', { name: 'Rotate token' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate token' }).click();
  await heading('New SCIM token').waitFor();
  const rotated = await page.getByLabel('Secret token (shown only now)').inputValue();
  assert.notEqual(rotated, secret);
  assert.equal((await scim(base, secret, 'GET', '/Users')).status, 401);
  assert.equal((await scim(base, rotated, 'GET', '/Users')).status, 200);
  await check('rotated');
});

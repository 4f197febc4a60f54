// Site branding and signed identity in the widget, against the real server: the admin's
// corner and picture reach the embedded widget; a page that calls Kefu.identify with a valid
// HMAC signature (computed here as a customer's server would) makes the visitor that
// customer in the agent's view, and a forged signature leaves the visitor anonymous.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, setupKnowledge, hostilePage, launchBrowser } from '../lib/harness.mjs';

let kefu;
let host;
let browser;

before(async () => {
  kefu = await startKefu();
  await setupKnowledge(kefu);
  host = await hostilePage(kefu);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.close();
  await kefu?.stop();
});

/** Opens the widget on the host page, sends `text`, and returns the conversation id. */
async function chat(page, text) {
  await page.locator('kefu-widget .launcher').click();
  const input = page.locator('kefu-widget #kf-input');
  await input.fill(text);
  await input.press('Enter');
  await page.locator('kefu-widget .msg.visitor[data-state="sent"]').last().waitFor({ timeout: 15000 });
  return page.evaluate((site) => JSON.parse(localStorage.getItem(`kefu:${site}:conv`)), kefu.siteId);
}

test('the corner and picture set in the console reach the widget', async () => {
  const site = await kefu.agent('GET', `/sites/${kefu.siteId}`);
  await kefu.agent('PATCH', `/sites/${kefu.siteId}`, {
    settings: { ...site.settings, widget_position: 'left', widget_avatar_url: 'https://shop.example/logo.png' },
  });
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  await page.goto(host.url);
  await page.locator('kefu-widget .launcher').click();
  const panel = page.locator('kefu-widget .panel');
  await panel.waitFor();
  const launcherBox = await page.locator('kefu-widget .launcher').boundingBox();
  const panelBox = await panel.boundingBox();
  assert.ok(launcherBox.x < 100, `launcher on the left (x=${launcherBox.x})`);
  assert.ok(panelBox.x < 100, `panel on the left (x=${panelBox.x})`);
  const avatar = page.locator('kefu-widget header img.avatar');
  assert.equal(await avatar.getAttribute('src'), 'https://shop.example/logo.png');
  assert.equal(await avatar.getAttribute('alt'), '', 'decorative: the title names the widget');
  await context.close();
  await kefu.agent('PATCH', `/sites/${kefu.siteId}`, { settings: { ...site.settings } });
});

test('a signed identify call makes the visitor that customer; a forged one does not', async () => {
  const { secret } = await kefu.agent('POST', `/sites/${kefu.siteId}/identity-secret`, {});
  const sign = (id) => createHmac('sha256', secret).update(id).digest('hex');

  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(host.url);
  await page.evaluate((user) => window.Kefu.identify(user), { id: 'cust-42', name: 'Mei Chen', email: 'mei@example.com', signature: sign('cust-42') });
  const conv = await chat(page, 'where is my order?');
  const detail = await kefu.agent('GET', `/conversations/${conv}`);
  assert.equal(detail.visitor.external_id, 'cust-42');
  assert.equal(detail.visitor.name, 'Mei Chen');
  await context.close();

  const forgedContext = await browser.newContext({ locale: 'en-US' });
  const forgedPage = await forgedContext.newPage();
  await forgedPage.goto(host.url);
  await forgedPage.evaluate((user) => window.Kefu.identify(user), { id: 'cust-43', name: 'Mallory', signature: sign('cust-42') });
  const forgedConv = await chat(forgedPage, 'hello');
  const forged = await kefu.agent('GET', `/conversations/${forgedConv}`);
  assert.equal(forged.visitor.external_id ?? null, null);
  assert.equal(forged.visitor.name ?? null, null);
  await forgedContext.close();
  await kefu.agent('DELETE', `/sites/${kefu.siteId}/identity-secret`);
});

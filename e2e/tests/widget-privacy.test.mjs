// Data-subject rights in the browser, against the real server: a visitor downloads their data
// from the widget's menu (a JSON file holding their message) and deletes it (after a confirm
// step), which clears the widget and leaves the server without the conversation; an admin finds
// a visitor by e-mail on Settings → Privacy, downloads and erases them, and reads both in the
// audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startKefu, setupKnowledge, hostilePage, launchBrowser, SHOTS } from '../lib/harness.mjs';
import { newVisitor, signIn, watchPage } from '../lib/console.mjs';

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

/** The agent API's status for a path (the harness helper throws on errors). */
async function status(path) {
  try {
    await kefu.agent('GET', path);
    return 200;
  } catch (e) {
    return Number(/: (\d{3}) /.exec(e.message)?.[1]);
  }
}

test('a visitor downloads their data, then deletes it from the widget menu', async () => {
  const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(host.url);
  await page.locator('kefu-widget .launcher').click();
  const input = page.locator('kefu-widget #kf-input');
  await input.fill('Can I return my order for a refund? ref 5521');
  await input.press('Enter');
  await page.locator('kefu-widget .msg.bot:not(.welcome):not(.streaming)').last().waitFor({ timeout: 15000 });
  const conv = await page.evaluate((site) => JSON.parse(localStorage.getItem(`kefu:${site}:conv`)), kefu.siteId);
  assert.equal(await status(`/conversations/${conv}`), 200);

  const widget = page.locator('kefu-widget');
  await widget.getByRole('button', { name: 'Settings' }).click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    widget.getByRole('button', { name: 'Download my data' }).click(),
  ]);
  const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(doc.format, 'kefu.visitor-export.v1');
  assert.equal(doc.conversations[0].conversation.id, conv);
  const texts = doc.conversations[0].messages.map((m) => m.text);
  assert.ok(texts.includes('Can I return my order for a refund? ref 5521'), JSON.stringify(texts));

  // Deleting asks first; Cancel keeps everything.
  await widget.getByRole('button', { name: 'Delete my data' }).click();
  await widget.getByText('This cannot be undone.', { exact: false }).waitFor();
  await widget.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await status(`/conversations/${conv}`), 200);
  await widget.getByRole('button', { name: 'Delete my data' }).click();
  await widget.getByRole('button', { name: 'Delete', exact: true }).click();
  await widget.getByText('Your data was deleted.').waitFor({ timeout: 10000 });
  await page.screenshot({ path: join(SHOTS, 'widget-privacy-deleted.png') });

  // The widget is cleared, forgets the visitor, and the server no longer has the conversation.
  assert.equal(await widget.locator('.msg.visitor').count(), 0);
  assert.equal(await widget.getByText('ref 5521').count(), 0);
  const stored = await page.evaluate((site) => [localStorage.getItem(`kefu:${site}:token`), localStorage.getItem(`kefu:${site}:conv`)], kefu.siteId);
  assert.deepEqual(stored, ['null', 'null']);
  assert.equal(await status(`/conversations/${conv}`), 404);
  const visitors = await kefu.agent('GET', `/sites/${kefu.siteId}/audit?action=visitor.erase`);
  assert.equal(visitors.events[0].actor_kind, 'visitor');

  // Writing again starts a fresh, anonymous conversation.
  await input.fill('hello again');
  await input.press('Enter');
  await widget.locator('.msg.visitor').getByText('hello again').waitFor({ timeout: 15000 });
  await page.waitForFunction((site) => JSON.parse(localStorage.getItem(`kefu:${site}:conv`)), kefu.siteId);
  const fresh = await page.evaluate((site) => JSON.parse(localStorage.getItem(`kefu:${site}:conv`)), kefu.siteId);
  assert.notEqual(fresh, conv);
  await context.close();
});

test('an admin handles a request on Settings → Privacy and sees it in the audit log', async () => {
  const visitor = await newVisitor(kefu);
  const opened = await visitor.api('POST', '/conversations', { message: { client_id: crypto.randomUUID(), text: 'please forget me 8080' } });
  await visitor.api('POST', `/conversations/${opened.conversation.id}/contact`, { email: 'forget.me@mail.example' });

  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const watch = watchPage(page);
  await signIn(page, kefu);
  await page.goto(`${kefu.url}/console/settings/privacy`);
  await page.getByRole('heading', { name: 'Data requests' }).waitFor();

  await page.getByLabel('E-mail', { exact: true }).fill('FORGET.me@mail.example');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  const row = page.locator('tr', { hasText: 'forget.me@mail.example' });
  await row.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Download data' }).click()]);
  const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(doc.visitor.id, visitor.id);
  assert.ok(JSON.stringify(doc).includes('please forget me 8080'));

  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: 'Erase' }).click();
  await page.getByText('No visitor matches.').waitFor({ timeout: 10000 });
  assert.equal(await status(`/conversations/${opened.conversation.id}`), 404);

  // The audit log lists the export and the erasure; the filter narrows it.
  await page.getByLabel('Action', { exact: true }).fill('visitor');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  const log = page.locator('.audit-table tbody');
  await log.locator('tr[data-action="visitor.erase"]').first().waitFor();
  await log.locator('tr[data-action="visitor.export"]').first().waitFor();
  assert.equal(await log.locator('tr:not([data-action^="visitor."])').count(), 0);
  assert.ok(!(await log.textContent()).includes('forget.me@mail.example'), 'no personal data in the log');
  await page.locator('section[aria-labelledby="audit-h"]').screenshot({ path: join(SHOTS, 'console-privacy-audit.png') });
  await page.getByLabel('Action', { exact: true }).fill('');
  await page.getByLabel('Events', { exact: true }).selectOption('instance');
  await log.locator('tr[data-action="auth.login.success"]').first().waitFor();
  watch.check();
  await context.close();
});

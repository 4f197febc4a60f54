// Settings → Quality against the real kefu binary: an admin uploads a question suite (JSONL)
// through the page, the run goes through the server's answer engine in the background, and
// the table shows its figures when it is done (the FAQ question is found and answered, the
// off-topic one handed off); opening the run shows its threshold sweep. Agents don't get the tab.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, setupKnowledge, launchBrowser } from '../lib/harness.mjs';
import { signIn, watchPage } from '../lib/console.mjs';

let kefu;
let browser;

before(async () => {
  kefu = await startKefu();
  await setupKnowledge(kefu);
  await kefu.agent('POST', '/agents', { email: 'ann@example.com', name: 'Ann', password: 'ann-password-12', role: 'agent', site_ids: [kefu.siteId] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

test('an admin runs an evaluation from the console and reads its figures', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  const watch = watchPage(page);
  await signIn(page, kefu);
  const { items } = await kefu.agent('GET', `/sites/${kefu.siteId}/kb/entries`);
  const refund = items[0].id;
  const suite = [
    { question: 'can I return my order for a refund', expected_entry_ids: [refund] },
    { question: 'what is the weather on mars tomorrow', should_handoff: true },
  ].map((r) => JSON.stringify(r)).join('\n');

  await page.goto(`${kefu.url}/console/settings/quality`);
  await page.getByLabel('Name', { exact: true }).fill('baseline');
  await page.getByLabel('Question file (.jsonl or .csv)').setInputFiles({ name: 'suite.jsonl', mimeType: 'application/json', buffer: Buffer.from(suite) });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const row = page.locator('.eval-table tbody tr').first();
  await row.locator('td', { hasText: 'Done' }).waitFor({ timeout: 30000 });
  assert.equal((await row.locator('[data-stat="hit1"]').innerText()).trim(), '100%');
  assert.match(await row.innerText(), /baseline/);

  await row.getByRole('button', { name: 'baseline' }).click();
  await page.getByRole('heading', { name: 'Confidence threshold sweep' }).waitFor();
  assert.ok(await page.locator('.eval-detail table tbody tr').count() > 0);
  watch.check();
  await context.close();
});

test('agents do not see the Quality tab', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, kefu, { email: 'ann@example.com', password: 'ann-password-12' });
  await page.goto(`${kefu.url}/console/settings/site`);
  await page.getByRole('navigation', { name: 'Settings' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Quality' }).count(), 0);
  await context.close();
});

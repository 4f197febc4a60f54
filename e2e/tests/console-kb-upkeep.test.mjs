// The knowledge base's Upkeep panel against the real kefu binary: an editor sees entries whose
// review is overdue (linked to the editor), entries never used, and the unanswered count, in
// English and Chinese; an agent is not offered the panel (the report API is for editors).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, launchBrowser } from '../lib/harness.mjs';
import { watchPage, signIn } from '../lib/console.mjs';

let kefu;
let browser;
let overdueId;

before(async () => {
  kefu = await startKefu();
  const entry = await kefu.agent('POST', `/sites/${kefu.siteId}/kb/entries`, {
    category: 'policy', title: 'Old card policy', body: 'We accept Visa and Mastercard.',
    visibility: 'public', status: 'published', review_due: '2020-01-01T00:00:00Z',
  });
  overdueId = entry.id;
  await kefu.agent('POST', `/sites/${kefu.siteId}/kb/entries`, {
    category: 'policy', title: 'Shipping times', body: 'Parcels ship in two days.',
    visibility: 'public', status: 'published',
  });
  await kefu.agent('POST', '/agents', { email: 'li@example.com', name: 'Li', password: 'li-password-12', role: 'agent', site_ids: [kefu.siteId] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

test('editors see overdue and unused entries with links; agents get no upkeep tab', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const watch = watchPage(page);
  await signIn(page, kefu);
  await page.goto(`${kefu.url}/console/kb`);
  await page.getByRole('link', { name: 'Upkeep' }).click();
  const overdue = page.locator('section[aria-labelledby="upkeep-overdue"]');
  await overdue.getByRole('link', { name: 'Old card policy' }).waitFor();
  assert.equal(await overdue.locator('.badge').textContent(), '1');
  await page.getByText('Unanswered questions waiting: 0').waitFor();
  // Entries made moments ago are within the 30-day grace, so none is "never used" yet.
  const never = page.locator('section[aria-labelledby="upkeep-never"]');
  assert.equal(await never.locator('.badge').textContent(), '0');
  await overdue.getByRole('link', { name: 'Old card policy' }).click();
  await page.waitForURL(`**/console/kb/entries/${overdueId}`);
  watch.check();
  await context.close();

  const zh = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } });
  const zhPage = await zh.newPage();
  await signIn(zhPage, kefu, { signInLabel: '登录', emailLabel: '邮箱', passwordLabel: '密码' });
  await zhPage.goto(`${kefu.url}/console/kb/upkeep`);
  await zhPage.getByRole('heading', { name: '审核已逾期' }).waitFor();
  await zh.close();

  const agentContext = await browser.newContext({ locale: 'en-US' });
  const agentPage = await agentContext.newPage();
  await signIn(agentPage, kefu, { email: 'li@example.com', password: 'li-password-12' });
  await agentPage.goto(`${kefu.url}/console/kb`);
  await agentPage.getByRole('link', { name: 'Unanswered questions' }).waitFor();
  assert.equal(await agentPage.getByRole('link', { name: 'Upkeep' }).count(), 0);
  await agentContext.close();
});

// Feedback from the widget against the real server: thumbs up on an assistant answer moves the
// cited entry's totals, and once an agent resolves the conversation the visitor rates it 1-5,
// which the agent API and the site's CSAT figures show; a thumbs down takes a one-tap reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

test('thumbs up on an answer, then a CSAT rating after the agent resolves', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(host.url);
  await page.locator('kefu-widget .launcher').click();
  const input = page.locator('kefu-widget #kf-input');
  await input.fill('How do I get a refund?');
  await input.press('Enter');
  const answer = page.locator('kefu-widget .msg.bot:not(.welcome):not(.streaming)').last();
  await answer.locator('.body').getByText('30 days', { exact: false }).waitFor({ timeout: 15000 });

  const up = answer.getByRole('button', { name: 'Helpful', exact: true });
  await up.click();
  await answer.locator('.thumb[aria-pressed="true"]').waitFor();
  const entries = await kefu.agent('GET', `/sites/${kefu.siteId}/kb/entries`);
  const refund = entries.items.find((e) => e.content?.title === 'How do I get a refund?' || e.title === 'How do I get a refund?');
  const entry = await kefu.agent('GET', `/kb/entries/${refund.id}`);
  assert.equal(entry.thumbs_up, 1);

  const conv = await page.evaluate((site) => JSON.parse(localStorage.getItem(`kefu:${site}:conv`)), kefu.siteId);
  await kefu.agent('POST', `/conversations/${conv}/resolve`, {});
  const stars = page.locator('kefu-widget .csat');
  await stars.waitFor({ timeout: 15000 });
  await stars.getByRole('button', { name: '4 of 5' }).click();
  await stars.locator('.star[aria-pressed="true"]').waitFor();
  const detail = await kefu.agent('GET', `/conversations/${conv}`);
  assert.equal(detail.rating.rating, 4);
  const csat = await kefu.agent('GET', `/sites/${kefu.siteId}/csat`);
  assert.equal(csat.ratings, 1);
  assert.equal(csat.average, 4);

  // Changing to thumbs down offers a one-tap reason, which the site's analytics count.
  await answer.getByRole('button', { name: 'Not helpful', exact: true }).click();
  const why = answer.getByRole('group', { name: 'What was wrong?' });
  await why.getByRole('button', { name: 'Hard to understand' }).click();
  await why.locator('button[aria-pressed="true"]').waitFor();
  const figures = await kefu.agent('GET', `/sites/${kefu.siteId}/analytics`);
  assert.deepEqual(figures.thumbs_down_reasons, [{ key: 'unclear', count: 1 }]);
  assert.equal(figures.totals.thumbs_down, 1);
  await context.close();
});

test('a site requiring consent shows its notice and privacy link; the composer waits for Accept', async () => {
  const site = await kefu.agent('GET', `/sites/${kefu.siteId}`);
  await kefu.agent('PATCH', `/sites/${kefu.siteId}`, {
    settings: { ...site.settings, consent_required: true, consent_version: 'v2', consent_notice: 'We keep chats for 90 days.', privacy_policy_url: 'https://shop.example/privacy' },
  });
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(host.url);
  await page.locator('kefu-widget .launcher').click();
  const notice = page.locator('kefu-widget .consent');
  await notice.getByText('We keep chats for 90 days.').waitFor({ timeout: 15000 });
  assert.equal(await notice.getByRole('link', { name: 'Privacy policy' }).getAttribute('href'), 'https://shop.example/privacy');
  const input = page.locator('kefu-widget #kf-input');
  assert.ok(await input.isDisabled(), 'no typing before consent');
  await notice.getByRole('button', { name: 'Accept and continue' }).click();
  await page.waitForFunction(() => !document.querySelector('kefu-widget').shadowRoot.querySelector('#kf-input').disabled);
  await input.fill('How do I get a refund?');
  await input.press('Enter');
  await page.locator('kefu-widget .msg.bot:not(.welcome)').last().locator('.body').getByText('30 days', { exact: false }).waitFor({ timeout: 15000 });
  // The policy link stays; the notice does not come back on reload.
  await page.reload();
  // The panel remembers being open across reloads; open it only if it is not.
  await page.locator('kefu-widget .launcher').waitFor();
  await page.waitForTimeout(500);
  if (!(await page.locator('kefu-widget .panel').isVisible())) await page.locator('kefu-widget .launcher').click();
  await page.locator('kefu-widget .consent .privacy a').waitFor();
  assert.ok(!(await input.isDisabled()));
  await context.close();
});

// Analytics against the real kefu binary: conversations seeded through the visitor and agent
// APIs (two the assistant settles, one handed to a person who answers, resolves and is
// rated), then the page shows the figures as tiles and SVG charts, the CSV link downloads the
// daily rows, and a period with no activity says so. Screenshot: docs/screenshots/console-analytics.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKefu, setupKnowledge, launchBrowser, SHOTS } from '../lib/harness.mjs';
import { signIn, watchPage, newVisitor } from '../lib/console.mjs';

let kefu;
let browser;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Sends a visitor message and waits until an entry after it satisfies `pred`. */
async function say(v, conversation, text, pred) {
  const sent = await v.api('POST', `/conversations/${conversation}/messages`, { client_id: crypto.randomUUID(), text });
  for (let i = 0; i < 200; i++) {
    const log = await v.api('GET', `/conversations/${conversation}/messages?after_seq=${sent.seq}`);
    const hit = log.items.find(pred);
    if (hit) return hit;
    await sleep(50);
  }
  throw new Error(`nothing answered ${text}`);
}

before(async () => {
  kefu = await startKefu();
  await setupKnowledge(kefu);
  // Two conversations the assistant settles, one rated helpful.
  for (const [i, q] of ['How do I get a refund?', 'refund policy'].entries()) {
    const v = await newVisitor(kefu);
    const { conversation } = await v.api('POST', '/conversations', {});
    const answer = await say(v, conversation.id, q, (m) => m.author_kind === 'bot');
    assert.equal(answer.answer.kind, 'answer');
    if (i === 0) await v.api('POST', `/conversations/${conversation.id}/messages/${answer.id}/feedback`, { rating: 'up' });
  }
  // One handed to a person, answered, resolved and rated 5.
  const v = await newVisitor(kefu);
  const { conversation } = await v.api('POST', '/conversations', {});
  await v.api('POST', `/conversations/${conversation.id}/handoff`, {});
  await v.api('POST', `/conversations/${conversation.id}/messages`, { client_id: crypto.randomUUID(), text: 'my parcel never arrived' });
  await kefu.agent('POST', `/conversations/${conversation.id}/messages`, { client_id: crypto.randomUUID(), text: 'Sorry! A new one ships today.' });
  await kefu.agent('POST', `/conversations/${conversation.id}/resolve`, {});
  await v.api('POST', `/conversations/${conversation.id}/csat`, { rating: 5 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

test('the analytics page renders charts from seeded conversations and exports CSV', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 1400 }, acceptDownloads: true });
  const page = await context.newPage();
  const watch = watchPage(page);
  await signIn(page, kefu);
  await page.getByRole('link', { name: 'Analytics' }).click();
  await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor();
  const tile = (key) => page.locator(`[data-stat="${key}"] dd`).first();
  await tile('conversations').filter({ hasText: '3' }).waitFor();
  assert.equal((await tile('automationRate').innerText()).trim(), '66.7%');
  assert.equal((await tile('handedOff').innerText()).trim(), '1');
  assert.equal((await tile('csat').innerText()).trim(), '5 of 5');
  assert.equal((await tile('thumbsUp').innerText()).trim(), '100%');

  // Conversations per day: 30 bars, today's holding all three (two by the assistant).
  const perDay = page.locator('svg[data-chart="per-day"]');
  assert.equal(await perDay.locator('g[data-bar]').count(), 30);
  assert.equal(await perDay.locator('g[data-bar="29"]').getAttribute('data-value'), '3');
  assert.match(await perDay.getAttribute('aria-label'), /3 conversations over 30 days, 2 settled by the assistant/);
  // Hand-off reasons name the visitor's request; hours count the three visitor messages.
  const reasons = page.locator('svg[data-chart="reasons"]');
  assert.match(await reasons.innerHTML(), /visitor asked for a person/);
  const hours = await page.locator('svg[data-chart="hours"] g[data-bar]').evaluateAll((gs) => gs.map((g) => Number(g.dataset.value)));
  assert.equal(hours.length, 24);
  assert.equal(hours.reduce((a, b) => a + b, 0), 3);
  assert.equal(await page.locator('svg[data-chart="csat"] g[data-bar="0"]').getAttribute('data-value'), '1');
  await page.screenshot({ path: join(SHOTS, 'console-analytics.png'), fullPage: true });

  // The numbers behind the chart, as a table.
  await page.getByText('Show the numbers').first().click();
  assert.ok(await page.locator('.chart-data table tbody tr').first().isVisible());

  // CSV of the same period.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(lines.length, 31);
  assert.match(lines[0], /^day,conversations,automated,handed_off,resolved/);
  assert.match(lines[30], /,3,2,1,1,/);

  // A quiet period: the range goes into the URL and the page says there was nothing.
  await page.getByLabel('From', { exact: true }).fill('2020-01-01');
  await page.getByLabel('To', { exact: true }).fill('2020-01-07');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('No hand-offs in this period.').waitFor();
  assert.equal((await tile('conversations').innerText()).trim(), '0');
  assert.match(page.url(), /from=2020-01-01&to=2020-01-07/);
  assert.equal(await page.locator('svg[data-chart="per-day"] g[data-bar]').count(), 7);
  watch.check();
  await context.close();
});

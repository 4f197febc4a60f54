// The widget with a language model configured (a local OpenAI-wire server, real kefu binary):
// the answer grows on screen token by token as a draft bubble, then the committed message
// replaces it with its source link; what the provider received had the visitor's e-mail
// redacted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKefu, setupKnowledge, hostilePage, launchBrowser, SHOTS } from '../lib/harness.mjs';
import { startOpenAiWire } from '../lib/openai-wire.mjs';

let kefu;
let host;
let browser;
let llm;

before(async () => {
  kefu = await startKefu();
  await setupKnowledge(kefu);
  llm = await startOpenAiWire({
    chunks: ['You can ', 'ask for ', 'a **refund** ', 'within ', '30 days ', 'of delivery [1].'],
    delayMs: 250,
  });
  await kefu.agent('PUT', `/sites/${kefu.siteId}/ai/providers`, {
    providers: [{ name: 'local', base_url: llm.baseUrl, model: 'e2e-model', api_key: 'sk-e2e' }],
  });
  host = await hostilePage(kefu);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.close();
  await llm?.close();
  await kefu?.stop();
});

test('an AI answer streams in token by token, then commits with its source link', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(host.url);
  await page.locator('kefu-widget .launcher').click();
  const input = page.locator('kefu-widget #kf-input');
  await input.fill('How do I get a refund? My e-mail is jane@example.com');
  await input.press('Enter');

  // A draft bubble appears with part of the answer, before the whole of it.
  const draft = page.locator('kefu-widget .msg.bot.streaming');
  await draft.waitFor({ timeout: 15000 });
  const partial = await draft.locator('.body').textContent();
  assert.ok(partial.length > 0 && !partial.includes('of delivery'), `partial: ${partial}`);
  assert.equal(await draft.getAttribute('aria-busy'), 'true');
  await page.screenshot({ path: join(SHOTS, 'widget-streaming.png') });

  // Then the committed message: markers gone, Markdown rendered, the source linked.
  const answer = page.locator('kefu-widget .msg.bot:not(.welcome):not(.streaming)').last();
  await answer.locator('.body').getByText('of delivery', { exact: false }).waitFor({ timeout: 15000 });
  assert.equal(await page.locator('kefu-widget .msg.bot.streaming').count(), 0);
  const text = await answer.locator('.body').textContent();
  assert.ok(!text.includes('[1]'), text);
  assert.equal(await answer.locator('.body strong').first().textContent(), 'refund');
  assert.equal(await answer.locator('.src a').getAttribute('href'), 'https://help.example/refunds');

  const sent = JSON.stringify(llm.requests.at(-1).messages);
  assert.ok(!sent.includes('jane@example.com'), 'the provider never sees the e-mail');
  assert.ok(sent.includes('[EMAIL]'));
  await context.close();
});

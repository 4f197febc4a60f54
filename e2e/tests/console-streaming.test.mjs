// The agent console with a language model configured (a local OpenAI-wire server, real kefu
// binary): an agent watching a conversation sees the assistant's answer grow as it streams
// (answer_delta frames), then the committed message replaces the draft, marked as an AI answer
// with the model that wrote it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, setupKnowledge, launchBrowser } from '../lib/harness.mjs';
import { startOpenAiWire } from '../lib/openai-wire.mjs';
import { newVisitor, signIn, watchPage } from '../lib/console.mjs';

let kefu;
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
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await llm?.close();
  await kefu?.stop();
});

test('the console shows an AI answer streaming in, then the committed answer with its model', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page);
  await signIn(page, kefu);

  const visitor = await newVisitor(kefu);
  const { conversation } = await visitor.api('POST', '/conversations', {});
  const row = page.locator(`.conv-row[data-id="${conversation.id}"]`);
  await row.waitFor({ timeout: 10000 });
  await row.locator('a').click();
  await page.locator('.conv-status .chip', { hasText: 'Assistant' }).waitFor();
  // Subscribed once the (empty) history is shown.
  await page.locator('.log:not([aria-busy])').waitFor();

  await visitor.api('POST', `/conversations/${conversation.id}/messages`, { client_id: 's-1', text: 'How do I get a refund?' });
  const draft = page.locator('.log li.msg.bot.streaming');
  await draft.waitFor({ timeout: 15000 });
  assert.equal(await draft.getAttribute('aria-busy'), 'true');
  const partial = await draft.locator('.body').textContent();
  assert.ok(partial.length > 0 && !partial.includes('of delivery'), `partial: ${partial}`);

  const answer = page.locator('.log li.msg.bot:not(.streaming)').last();
  await answer.locator('.body').getByText('of delivery', { exact: false }).waitFor({ timeout: 15000 });
  assert.equal(await draft.count(), 0, 'the draft is replaced by the committed message');
  await answer.locator('.chip.ai', { hasText: 'AI answer' }).waitFor();
  assert.equal(await answer.locator('.body strong').first().textContent(), 'refund');
  await answer.locator('.generation', { hasText: 'e2e-model' }).waitFor();
  watch.check();
  await context.close();
});

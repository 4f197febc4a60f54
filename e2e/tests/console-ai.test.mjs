// The console's assistant pages against the real kefu binary, with a local OpenAI-wire server
// as the language-model provider (nothing mocked in the browser): an admin sets up the provider
// chain through the UI (write-only API key, edit, reorder, enable/disable, remove key, remove,
// API validation errors) and the assistant's settings; a visitor's question gets a streamed AI
// answer whose model and context budget the agent sees; Summarise shows the model's summary as
// text; after resolving, the visitor's CSAT rating shows on the conversation and in Insights;
// AI usage counts the calls. Also: what an editor (not admin) sees, and zh-CN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKefu, setupKnowledge, launchBrowser, SHOTS } from '../lib/harness.mjs';
import { startOpenAiWire } from '../lib/openai-wire.mjs';
import { newVisitor, signIn, watchPage } from '../lib/console.mjs';

const KEY = 'sk-e2e-very-secret-4242';
const BACKUP_KEY = 'sk-backup-secret-7777';
const CHUNKS = ['You can ', 'ask for ', 'a **refund** ', 'within ', '30 days ', 'of delivery [1].'];

let kefu;
let browser;
let llm;
let conversationId;

before(async () => {
  kefu = await startKefu();
  await setupKnowledge(kefu);
  llm = await startOpenAiWire({ chunks: CHUNKS, delayMs: 80 });
  await kefu.agent('POST', '/agents', { email: 'li@example.com', name: 'Li', password: 'li-password-12', role: 'editor', site_ids: [kefu.siteId] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await llm?.close();
  await kefu?.stop();
});

async function open(options = {}) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 1000 }, ...options });
  const page = await context.newPage();
  const watch = watchPage(page);
  page.on('dialog', (d) => d.accept());
  return { context, page, watch };
}

const providers = () => kefu.agent('GET', `/sites/${kefu.siteId}/ai/providers`);
const row = (page, name) => page.locator(`.providers-table tbody tr[data-name="${name}"]`);

async function eventually(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

test('an admin sets up the provider chain and the assistant settings through the console', async () => {
  const { context, page, watch } = await open();
  await signIn(page, kefu);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Assistant' }).click();
  await page.getByRole('heading', { name: 'Language-model providers' }).waitFor();
  await page.getByText('No providers: the assistant answers offline').waitFor();

  // Add the provider, key included.
  await page.getByLabel('Name', { exact: true }).fill('local');
  await page.getByLabel('Base URL').fill(llm.baseUrl);
  await page.getByLabel('Model', { exact: true }).fill('e2e-model');
  await page.getByLabel('API key').fill(KEY);
  await page.getByLabel('Input price').fill('0.27');
  await page.getByLabel('Output price').fill('1.1');
  await page.getByRole('button', { name: 'Add provider' }).click();
  await row(page, 'local').getByText('key stored').waitFor();
  let chain = await providers();
  assert.equal(chain.length, 1);
  assert.deepEqual(
    { name: chain[0].name, base_url: chain[0].base_url, model: chain[0].model, has_api_key: chain[0].has_api_key, input: chain[0].input_per_million, output: chain[0].output_per_million, enabled: chain[0].enabled },
    { name: 'local', base_url: llm.baseUrl, model: 'e2e-model', has_api_key: true, input: 0.27, output: 1.1, enabled: true },
  );
  assert.equal(await page.getByLabel('API key').inputValue(), '', 'the key field is emptied after saving');
  assert.ok(!(await page.content()).includes(KEY), 'the key is nowhere in the page');

  // Editing with the key field left empty keeps the stored key (api_key omitted).
  await page.getByRole('button', { name: 'Edit local' }).click();
  await page.getByRole('heading', { name: 'Edit local' }).waitFor();
  assert.equal(await page.getByLabel('API key').inputValue(), '', 'a stored key is never filled in');
  await page.locator('.provider-form .key-state', { hasText: 'key stored' }).waitFor();
  await page.getByLabel('Most output tokens').fill('800');
  await page.getByRole('button', { name: 'Save provider' }).click();
  await row(page, 'local').getByText('800').waitFor();
  chain = await providers();
  assert.equal(chain[0].max_output_tokens, 800);
  assert.equal(chain[0].has_api_key, true, 'the key was kept');

  // The API's validation errors show next to the form: a second provider with the same name.
  await page.getByLabel('Name', { exact: true }).fill('local');
  await page.getByLabel('Base URL').fill('http://127.0.0.1:9/v1');
  await page.getByLabel('Model', { exact: true }).fill('backup-model');
  await page.getByRole('button', { name: 'Add provider' }).click();
  await page.locator('.provider-form .error-box', { hasText: 'A field is not valid (provider name local is used twice)' }).waitFor();
  assert.equal((await providers()).length, 1, 'nothing stored by a refused request');

  // A second, disabled provider with its own key.
  await page.getByLabel('Name', { exact: true }).fill('backup');
  await page.getByLabel('API key').fill(BACKUP_KEY);
  await page.getByLabel('Enabled', { exact: true }).uncheck();
  await page.getByRole('button', { name: 'Add provider' }).click();
  await row(page, 'backup').getByText('Disabled').waitFor();
  await page.locator('.provider-form .error-box').waitFor({ state: 'hidden' });
  chain = await providers();
  assert.deepEqual(chain.map((p) => [p.name, p.enabled, p.has_api_key]), [['local', true, true], ['backup', false, true]]);

  // Reorder with the keyboard: focus stays on the moved provider's buttons.
  await page.getByRole('button', { name: 'Move backup up' }).focus();
  await page.keyboard.press('Enter');
  await eventually(async () => (await providers())[0].name === 'backup', 'backup first');
  await page.waitForFunction(() => document.activeElement?.closest('tr')?.dataset.name === 'backup');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'down', 'focus moves to the usable button');
  await page.keyboard.press('Enter');
  await eventually(async () => (await providers())[0].name === 'local', 'local first again');
  assert.deepEqual((await providers()).map((p) => p.has_api_key), [true, true], 'reordering keeps the keys');

  // The whole page (the console scrolls inside <main>, so a taller window rather than
  // fullPage), without the transient "Saved" toasts.
  await page.setViewportSize({ width: 1440, height: 1650 });
  await page.locator('.toast').first().waitFor({ state: 'detached', timeout: 10000 }).catch(() => {});
  await page.locator('.toast').evaluateAll((els) => els.forEach((el) => el.remove()));
  await page.screenshot({ path: join(SHOTS, 'console-assistant.png') });
  await page.setViewportSize({ width: 1440, height: 1000 });

  // Enable/disable, remove a key (api_key: null), remove a provider.
  await page.getByRole('button', { name: 'Enable backup' }).click();
  await eventually(async () => (await providers())[1].enabled, 'backup enabled');
  await page.getByRole('button', { name: 'Remove the stored key of backup' }).click();
  await row(page, 'backup').getByText('no key').waitFor();
  chain = await providers();
  assert.deepEqual(chain.map((p) => [p.name, p.has_api_key]), [['local', true], ['backup', false]]);
  await page.getByRole('button', { name: 'Remove provider backup' }).click();
  await row(page, 'backup').waitFor({ state: 'detached' });
  chain = await providers();
  assert.deepEqual(chain.map((p) => [p.name, p.has_api_key]), [['local', true]]);
  const html = await page.content();
  assert.ok(!html.includes(KEY) && !html.includes(BACKUP_KEY), 'no key is ever in the page');

  // The assistant's settings are grouped here (the same controls as the Site page).
  await page.getByRole('heading', { name: 'How the assistant behaves' }).waitFor();
  assert.equal(await page.getByLabel('Assistant answers first').isChecked(), true);
  await page.getByLabel('Topics for people only').fill('lawsuit\nchargeback');
  await page.getByLabel('Conversation context (tokens)').fill('50');
  await page.getByRole('button', { name: 'Save assistant settings' }).click();
  await page.locator('.assistant-settings .error-box', { hasText: 'context_budget_tokens' }).waitFor();
  await page.getByLabel('Conversation context (tokens)').fill('1500');
  await page.getByRole('button', { name: 'Save assistant settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).first().waitFor();
  await page.locator('.assistant-settings .error-box').waitFor({ state: 'hidden' });
  const site = await kefu.agent('GET', `/sites/${kefu.siteId}`);
  assert.equal(site.settings.context_budget_tokens, 1500);
  assert.deepEqual(site.settings.forbidden_topics, ['lawsuit', 'chargeback']);
  assert.equal(site.settings.widget_title, 'Acme Support', 'settings from the Site page are kept');

  // The Site page no longer repeats them but points here.
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Site' }).click();
  await page.getByLabel('Widget title').waitFor();
  assert.equal(await page.getByLabel('Assistant instructions').count(), 0);
  await page.locator('.settings-form a[href="/console/settings/assistant"]').waitFor();
  watch.check();
  await context.close();
});

test('a visitor gets a streamed AI answer; the agent sees the model and context, summarises, and after resolving sees the rating', async () => {
  const { context, page, watch } = await open();
  await signIn(page, kefu);
  const visitor = await newVisitor(kefu);
  const { conversation } = await visitor.api('POST', '/conversations', {});
  conversationId = conversation.id;
  const convRow = page.locator(`.conv-row[data-id="${conversation.id}"]`);
  await convRow.waitFor({ timeout: 10000 });
  await convRow.locator('a').click();
  await page.locator('.log:not([aria-busy])').waitFor();

  await visitor.api('POST', `/conversations/${conversation.id}/messages`, { client_id: 'ai-1', text: 'How do I get a refund?' });
  await page.locator('.log li.msg.bot.streaming').waitFor({ timeout: 15000 });
  const answer = page.locator('.log li.msg.bot:not(.streaming)').last();
  await answer.locator('.body').getByText('of delivery', { exact: false }).waitFor({ timeout: 15000 });
  await answer.locator('.generation', { hasText: 'e2e-model (local)' }).waitFor();
  const msgs = await visitor.api('GET', `/conversations/${conversation.id}/messages?limit=50`);
  const gen = msgs.items.find((m) => m.author_kind === 'bot' && m.answer?.generation)?.answer.generation;
  assert.ok(gen, 'the answer carries its generation');
  assert.equal(gen.context_budget_tokens, 1500, 'the budget set on the Assistant page was used');
  const ctxLine = await answer.locator('.generation-context').textContent();
  assert.equal(ctxLine, `Context: ${gen.context_tokens} of 1500 tokens · ${gen.context_dropped_messages ? `${gen.context_dropped_messages} earlier messages left out` : 'nothing left out'}`);

  // Summarise: the model's text, shown as text (its Markdown stays literal), with its source.
  const calls = llm.requests.length;
  await page.getByRole('button', { name: 'Summarise' }).click();
  const summary = page.locator('.summary-text');
  await summary.waitFor();
  assert.equal(await summary.textContent(), CHUNKS.join('').trim());
  assert.equal(await summary.locator('*').count(), 0, 'no markup in the summary');
  await page.locator('.summary-source', { hasText: 'Written by e2e-model (local)' }).waitFor();
  assert.ok(llm.requests.length > calls, 'the summary came from the provider');
  assert.match(JSON.stringify(llm.requests.at(-1).messages), /summarise customer-service conversations/);

  // Resolve; the visitor rates; the conversation shows the rating.
  await page.getByRole('group', { name: 'Conversation actions' }).getByRole('button', { name: 'Resolve' }).click();
  await page.locator('.conv-status .chip', { hasText: 'Resolved' }).waitFor();
  await visitor.api('POST', `/conversations/${conversation.id}/csat`, { rating: 4, comment: 'Quick, thanks' });
  await page.reload();
  const rating = page.locator('.csat-panel');
  await rating.getByRole('heading', { name: 'Visitor’s rating' }).waitFor();
  assert.equal(await rating.locator('.rating-value').textContent(), '4 of 5');
  assert.equal(await rating.locator('.rating-comment').textContent(), 'Quick, thanks');
  watch.check();
  await context.close();
});

test('insights show the rating and the visitor message; AI usage counts the calls', async () => {
  assert.ok(conversationId, 'runs after the conversation test');
  const { context, page, watch } = await open();
  await signIn(page, kefu);
  await page.goto(`${kefu.url}/console/settings/insights`);
  await page.getByRole('heading', { name: 'Customer satisfaction' }).waitFor();
  await page.locator('[data-stat="ratings"]', { hasText: '1' }).waitFor();
  assert.equal(await page.locator('[data-stat="average"]').textContent(), '4 of 5');
  assert.equal(await page.locator('[data-stat="satisfied"]').textContent(), '100%');
  const four = page.locator('.dist-table tr[data-rating="4"]');
  assert.equal(await four.locator('td.num').textContent(), '1');
  const faq = page.locator('.intents-table tbody tr[data-intent="faq"]');
  await faq.waitFor();
  assert.equal(await faq.locator('th').textContent(), 'FAQ');
  assert.ok(Number(await faq.locator('td.num').nth(3).textContent()) >= 1, 'the question was counted');
  // The period selector reloads the figures and stays in the URL.
  await page.getByLabel('Period').selectOption('7');
  await page.waitForURL(/\?days=7$/);
  await page.locator('.dist-table caption', { hasText: 'last 7 days' }).waitFor();

  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'AI usage' }).click();
  const usage = page.locator('.usage-table');
  await usage.waitFor();
  const local = usage.locator('tbody tr', { hasText: 'e2e-model' }).first();
  await local.waitFor();
  assert.equal(await local.locator('td').nth(1).textContent(), 'local');
  assert.ok(Number(await usage.locator('tfoot td.num').first().textContent()) >= 1, 'at least one request in the totals');
  const report = await kefu.agent('GET', `/sites/${kefu.siteId}/ai/usage?days=30`);
  assert.ok(report.totals.requests >= 1);
  const cost = (report.totals.cost_micros / 1e6).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 6 });
  assert.equal(await usage.locator('tfoot td.num').last().textContent(), cost);
  await page.getByLabel('Period').selectOption('90');
  await page.locator('.usage-table caption', { hasText: 'last 90 days' }).waitFor();
  watch.check();
  await context.close();
});

test('an editor sees insights but neither the provider chain nor AI usage; zh-CN strings', async () => {
  const { context, page, watch } = await open({ locale: 'zh-CN' });
  await signIn(page, kefu, { email: 'li@example.com', password: 'li-password-12', signInLabel: '登录', emailLabel: '邮箱', passwordLabel: '密码' });
  await page.goto(`${kefu.url}/console/settings/assistant`);
  await page.getByRole('heading', { name: '大语言模型服务' }).waitFor();
  await page.getByText('只有管理员可以查看和修改大语言模型服务。').waitFor();
  assert.equal(await page.getByLabel('智能助手先接待').isDisabled(), true, 'read-only for non-admins');
  const tabs = page.getByRole('navigation', { name: '设置' });
  assert.equal(await tabs.getByRole('link', { name: 'AI 用量' }).count(), 0);
  await tabs.getByRole('link', { name: '数据洞察' }).click();
  await page.getByRole('heading', { name: '客户满意度' }).waitFor();
  await page.locator('[data-stat="average"]', { hasText: '4 / 5 分' }).waitFor();
  await page.getByRole('columnheader', { name: '中性' }).waitFor();
  watch.check();
  await context.close();
});

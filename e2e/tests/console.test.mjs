// Browser tests of the agent console against the real kefu binary (nothing mocked except the
// browser's Notification constructor, which headless Chromium cannot show): serving and CSP,
// sign-in, a visitor's conversation arriving live with the assistant's answer, taking over,
// replying, private notes, canned replies, the copilot, typing, resolve/reopen, notifications
// and unread counts, the knowledge-base editor with history, diff and rollback, the retrieval
// test, imports with per-file errors, the unanswered queue, settings, API tokens, password
// change and sign-out everywhere, zh-CN, and the console screenshots in docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKefu, setupKnowledge, launchBrowser, agentSession, SHOTS, ROOT } from '../lib/harness.mjs';
import { newVisitor, watchPage, signIn } from '../lib/console.mjs';

let kefu;
let browser;

before(async () => {
  kefu = await startKefu();
  await setupKnowledge(kefu);
  await kefu.agent('POST', `/sites/${kefu.siteId}/canned-replies`, {
    shortcut: 'thanks',
    title: 'Thanks for waiting',
    text: 'Thank you for waiting! Is there anything else I can help with?',
  });
  await kefu.agent('POST', '/agents', { email: 'wang@example.com', name: 'Wang', password: 'wang-password-1', role: 'editor', site_ids: [kefu.siteId] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

async function open(options = {}) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 }, ...options });
  const page = await context.newPage();
  const watch = watchPage(page);
  page.on('dialog', (d) => d.accept());
  return { context, page, watch };
}

const log = (page) => page.locator('.log');
const composer = (page) => page.locator('#composer-text');

async function visitorMessages(visitor, convId) {
  return (await visitor.api('GET', `/conversations/${convId}/messages?limit=100`)).items;
}

async function eventually(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

test('serves the console: its own URLs fall back to the app, strict CSP, no CORS, missing files are 404', async () => {
  for (const path of ['/console', '/console/', '/console/conversations/0190', '/console/kb/entries/x']) {
    const r = await fetch(`${kefu.url}${path}`);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get('access-control-allow-origin'), null, 'console files are same-origin only');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.match(await r.text(), /<script type="module" src="\/console\/app\.js"><\/script>/);
  }
  const js = await fetch(`${kefu.url}/console/app.js`);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'no-cache');
  assert.equal((await fetch(`${kefu.url}/console/app.js`, { headers: { 'if-none-match': js.headers.get('etag') } })).status, 304);
  assert.equal((await fetch(`${kefu.url}/console/missing.js`)).status, 404);
  assert.equal((await fetch(`${kefu.url}/console/..%2F..%2FCargo.toml`)).status, 404);
});

test('the English and Chinese dictionaries have the same keys', async () => {
  const { KEYS } = await import(join(ROOT, 'web', 'console', 'i18n.js'));
  assert.deepEqual([...KEYS['zh-CN']].sort(), [...KEYS.en].sort());
});

test('a visitor conversation arrives live; the agent sees the AI answer, takes over, replies, notes, uses canned replies and the copilot, and resolves', async () => {
  const { context, page, watch } = await open();
  await signIn(page, kefu);
  await page.getByRole('heading', { name: 'Inbox' }).waitFor();

  const visitor = await newVisitor(kefu);
  const { conversation } = await visitor.api('POST', '/conversations', { message: { client_id: 'v-1', text: 'How do I get a refund?' } });
  const id = conversation.id;
  // Live: no reload, the row appears from the socket.
  const row = page.locator(`.conv-row[data-id="${id}"]`);
  await row.waitFor({ timeout: 10000 });
  await row.locator('a').click();
  await page.waitForURL(`**/console/conversations/${id}`);

  // The assistant's answer is marked, with confidence and the cited revision.
  const bot = log(page).locator('li.msg.bot').first();
  await bot.waitFor({ timeout: 15000 });
  await bot.locator('.chip.ai', { hasText: 'AI answer' }).waitFor();
  assert.match(await bot.locator('.confidence').textContent(), /Confidence \d+%/);
  const cite = bot.locator('.citations a').first();
  assert.equal(await cite.textContent(), 'How do I get a refund?');
  assert.match(await cite.getAttribute('href'), /^\/console\/kb\/entries\/[\w-]+\?revision=1$/);
  // Visitor details from the session.
  const facts = page.locator('.facts');
  await facts.getByText('https://shop.example/pricing').waitFor();
  await facts.getByText('en-GB').waitFor();
  // The copilot suggests the FAQ answer for the visitor's question.
  await page.locator('.suggestion').first().getByText('30 days', { exact: false }).waitFor({ timeout: 10000 });

  // Take over from the assistant.
  await page.getByRole('button', { name: 'Take over' }).click();
  await page.locator('.conv-status').getByText('Assigned to you').waitFor();
  await log(page).locator('li.msg.system', { hasText: 'Admin took the conversation' }).waitFor();

  // The visitor's typing shows.
  await visitor.api('POST', `/conversations/${id}/typing`, { typing: true });
  await page.locator('.typing', { hasText: 'is typing' }).waitFor();

  // The visitor's side of the socket, as the widget sees it (its own browser context: no
  // agent cookie), to watch the agent's typing signal and what reaches the visitor live.
  const spyContext = await browser.newContext();
  const spy = await spyContext.newPage();
  await spy.goto(`${kefu.url}/healthz`);
  const { last_seq: afterSeq } = await visitor.api('GET', `/conversations/${id}`);
  await spy.evaluate(({ token, conv, afterSeq }) => new Promise((resolve, reject) => {
    window.frames_ = [];
    const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/api/v1/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token }));
    ws.onerror = reject;
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      window.frames_.push(f);
      if (f.type === 'ready') ws.send(JSON.stringify({ type: 'subscribe', conversation_id: conv, after_seq: afterSeq }));
      if (f.type === 'synced') resolve();
    };
  }), { token: visitor.session.token, conv: id, afterSeq });
  const spyFrames = () => spy.evaluate(() => window.frames_);

  // Reply with the keyboard (Enter sends) and see it reach the visitor's API.
  await composer(page).pressSequentially('Hello');
  await spy.waitForFunction(() => window.frames_.some((f) => f.type === 'typing' && f.author_kind === 'agent' && f.typing));
  await composer(page).fill('Hello from the console, I can help with that.');
  await composer(page).press('Enter');
  await log(page).locator('li.msg.agent:not(.pending)', { hasText: 'Hello from the console' }).waitFor();
  await eventually(async () => (await visitorMessages(visitor, id)).some((m) => m.text.startsWith('Hello from the console')), 'the reply at the visitor');

  // Canned reply by shortcut: "/tha" offers /thanks; Enter inserts it.
  await composer(page).fill('');
  await composer(page).pressSequentially('/tha');
  const option = page.getByRole('option', { name: /\/thanks/ });
  await option.waitFor();
  assert.equal(await composer(page).getAttribute('aria-expanded'), 'true');
  await composer(page).press('Enter');
  assert.equal(await composer(page).inputValue(), 'Thank you for waiting! Is there anything else I can help with?');
  await composer(page).press('Enter');
  await eventually(async () => (await visitorMessages(visitor, id)).some((m) => m.text.startsWith('Thank you for waiting!')), 'the canned reply at the visitor');

  // A private note: shown to agents, never to the visitor, and typing it signals nothing.
  await page.getByLabel('Private note', { exact: true }).check();
  const typingBefore = (await spyFrames()).filter((f) => f.type === 'typing' && f.typing).length;
  await composer(page).pressSequentially('Internal: ');
  await composer(page).fill('Internal: order 123 was delayed by the carrier.');
  await page.getByRole('button', { name: 'Add note' }).click();
  const note = log(page).locator('li.msg.private:not(.pending)', { hasText: 'order 123' });
  await note.waitFor();
  await note.locator('.chip.note', { hasText: 'Private note' }).waitFor();
  const seen = await visitorMessages(visitor, id);
  assert.ok(!seen.some((m) => m.text.includes('order 123')), 'the note never reaches the visitor');
  const frames = await spyFrames();
  assert.ok(frames.some((f) => f.type === 'message' && f.message.text.startsWith('Hello from the console')), 'the reply reached the visitor live');
  assert.ok(!JSON.stringify(frames).includes('order 123'), 'the note never reaches the visitor socket');
  assert.equal(frames.filter((f) => f.type === 'typing' && f.typing).length, typingBefore, 'no typing signal for notes');
  await spyContext.close();

  // The copilot's suggestion goes into the composer to edit, then out.
  await page.getByLabel('Reply', { exact: true }).first().check();
  await page.locator('.suggestion button', { hasText: 'Insert' }).first().click();
  assert.match(await composer(page).inputValue(), /30 days/);
  await composer(page).press('End');
  await composer(page).pressSequentially(' Regards, Admin');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await eventually(async () => (await visitorMessages(visitor, id)).some((m) => m.text.includes('30 days') && m.text.endsWith('Regards, Admin') && m.author_kind === 'agent'), 'the edited suggestion at the visitor');

  await page.screenshot({ path: join(SHOTS, 'console-conversation.png') });

  // Tags, and the inbox filtered by one.
  await page.getByLabel('Tags (comma separated)').fill('VIP, refund');
  await page.getByRole('button', { name: 'Save tags' }).click();
  await page.locator('.conv-side .chip.tag', { hasText: '#vip' }).waitFor();
  assert.deepEqual((await kefu.agent('GET', `/conversations/${id}`)).conversation.tags, ['refund', 'vip']);

  // Visitor text arrives live and stays text, whatever it contains.
  await visitor.api('POST', `/conversations/${id}/messages`, { client_id: 'v-2', text: 'Thanks! <img src=x onerror="window.pwned=1"> **not bold**' });
  const latest = log(page).locator('li.msg.visitor').last();
  await latest.getByText('Thanks! <img', { exact: false }).waitFor();
  assert.equal(await log(page).locator('img').count(), 0);
  assert.equal(await latest.locator('.body strong').count(), 0, 'visitor text is not Markdown-rendered');
  assert.equal(await page.evaluate(() => window.pwned), undefined);

  // Resolve, then reopen.
  await page.getByRole('button', { name: 'Resolve' }).click();
  await page.locator('.conv-status .chip', { hasText: 'Resolved' }).waitFor();
  await log(page).locator('li.msg.system', { hasText: 'Resolved by Admin' }).waitFor();
  assert.equal((await kefu.agent('GET', `/conversations/${id}`)).conversation.status, 'resolved');
  await page.getByRole('button', { name: 'Reopen' }).click();
  await page.locator('.conv-status .chip', { hasText: 'Assigned' }).waitFor();

  // Transfer to a colleague, take it back, hand it to the assistant.
  await page.getByLabel('Transfer to').selectOption({ label: 'Wang · Offline' });
  await page.getByRole('button', { name: 'Transfer', exact: true }).click();
  await page.locator('.conv-status').getByText('Assigned to Wang').waitFor();
  await log(page).locator('li.msg.system', { hasText: 'Admin assigned it to Wang' }).waitFor();
  await page.getByRole('button', { name: 'Take over' }).click();
  await page.locator('.conv-status').getByText('Assigned to you').waitFor();
  await page.getByRole('button', { name: 'Hand back to assistant' }).click();
  await page.locator('.conv-status .chip', { hasText: 'Assistant' }).waitFor();
  await log(page).locator('li.msg.system', { hasText: 'Handed back to the assistant' }).waitFor();
  await page.getByRole('button', { name: 'Take over' }).click();
  await page.locator('.conv-status').getByText('Assigned to you').waitFor();

  await page.getByLabel('Tag', { exact: true }).selectOption('vip');
  await page.waitForURL(/tag=vip/);
  await page.locator(`.conv-row[data-id="${id}"]`).waitFor();

  // Filters: it is in "Mine" and not in "Resolved".
  await page.getByRole('link', { name: 'Mine', exact: true }).click();
  await page.locator(`.conv-row[data-id="${id}"]`).waitFor();
  await page.getByRole('link', { name: 'Resolved', exact: true }).click();
  await page.locator('.list-status', { hasText: 'No conversations here.' }).waitFor();
  watch.check();
  await context.close();
});

test('hand-offs and visitor messages raise a notification (permission asked on click) and the unread badge while the agent is elsewhere', async () => {
  const { context, page, watch } = await open();
  // Headless Chromium shows no notifications: record what the console would show instead.
  await context.addInitScript(() => {
    window.__notes = [];
    window.__asked = 0;
    class FakeNotification {
      static permission = 'default';
      static requestPermission() {
        window.__asked++;
        FakeNotification.permission = 'granted';
        return Promise.resolve('granted');
      }
      constructor(title, options) {
        window.__notes.push({ title, body: options?.body });
      }
      close() {}
    }
    window.Notification = FakeNotification;
  });
  await signIn(page, kefu);
  assert.equal(await page.evaluate(() => window.__asked), 0, 'no permission prompt on load');
  await page.getByRole('button', { name: 'Enable notifications' }).click();
  await page.getByRole('button', { name: 'Enable notifications' }).waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => window.__asked), 1);
  // The agent works in the knowledge base meanwhile.
  await page.getByRole('link', { name: 'Knowledge base' }).click();
  await page.getByRole('heading', { name: 'Knowledge base' }).waitFor();

  const visitor = await newVisitor(kefu);
  const { conversation } = await visitor.api('POST', '/conversations', { message: { client_id: 'h-1', text: 'I want to talk to a human, please' } });
  await page.waitForFunction(() => window.__notes.length > 0, null, { timeout: 15000 });
  const first = await page.evaluate(() => window.__notes[0]);
  assert.match(first.title, /assigned to you|needs a person/);
  const badge = page.locator('#nav-unread');
  await badge.waitFor({ state: 'visible' });
  assert.ok(Number(await badge.textContent()) >= 1);
  assert.match(await page.title(), /^\(\d+\) Kefu console$/);

  await visitor.api('POST', `/conversations/${conversation.id}/messages`, { client_id: 'h-2', text: 'Are you there?' });
  await page.waitForFunction(() => window.__notes.some((n) => n.title === 'New message' && n.body === 'Are you there?'), null, { timeout: 10000 });

  // Opening the conversation reads it: the badge goes.
  await page.getByRole('link', { name: /^Inbox/ }).click();
  await page.locator(`.conv-row[data-id="${conversation.id}"] a`).click();
  await log(page).locator('li.msg.visitor', { hasText: 'Are you there?' }).waitFor();
  await eventually(async () => !(await badge.isVisible()) || (await badge.textContent()) === '0', 'the badge to clear');
  watch.check();
  await context.close();
});

test('knowledge base: create an FAQ with preview, edit it, compare revisions, roll back; the retrieval test finds it', async () => {
  const { context, page, watch } = await open();
  await signIn(page, kefu);
  await page.getByRole('link', { name: 'Knowledge base' }).click();
  await page.getByRole('link', { name: 'New entry' }).click();
  await page.getByLabel('Title', { exact: true }).fill('Shipping times');
  await page.getByLabel('Question', { exact: true }).fill('How long does shipping take?');
  await page.getByLabel('Other phrasings').fill('When will my order arrive?\ndelivery time');
  await page.getByLabel('Answer', { exact: true }).fill('Orders ship in **2 days** from our warehouse.');
  const preview = page.getByRole('region', { name: 'Preview: Answer' });
  await preview.locator('strong', { hasText: '2 days' }).waitFor();
  await page.getByLabel('Change note').fill('first version');
  await page.getByRole('button', { name: 'Create entry' }).click();
  await page.waitForURL(/\/console\/kb\/entries\/[\w-]+$/);
  const entryId = page.url().split('/').pop();
  await page.getByRole('heading', { name: 'Shipping times (rev. 1)' }).waitFor();

  await page.getByLabel('Answer', { exact: true }).fill('Orders ship in **3 days** from our warehouse.');
  await page.getByLabel('Change note').fill('slower carrier');
  await page.getByRole('button', { name: 'Save as new revision' }).click();
  await page.getByRole('heading', { name: 'Shipping times (rev. 2)' }).waitFor();
  const revs = page.locator('.rev-list > li');
  await eventually(async () => (await revs.count()) === 2, 'two revisions in the history');
  await page.locator('.rev-list').getByText('slower carrier', { exact: false }).waitFor();
  await page.getByRole('button', { name: 'Changes made in revision 2' }).click();
  const diff = page.locator('pre.diff');
  await diff.waitFor();
  assert.match(await diff.locator('.dl.del').allTextContents().then((x) => x.join('\n')), /2 days/);
  assert.match(await diff.locator('.dl.add').allTextContents().then((x) => x.join('\n')), /3 days/);
  await page.screenshot({ path: join(SHOTS, 'console-kb-history.png'), fullPage: true });

  await page.getByRole('button', { name: 'Restore revision 1' }).click();
  await page.getByRole('heading', { name: 'Shipping times (rev. 3)' }).waitFor();
  assert.match(await page.getByLabel('Answer', { exact: true }).inputValue(), /2 days/);
  const entry = await kefu.agent('GET', `/kb/entries/${entryId}`);
  assert.equal(entry.revision, 3);
  assert.match(entry.faq.answer, /2 days/);

  // A citation link opens the exact revision it used.
  await page.goto(`${kefu.url}/console/kb/entries/${entryId}?revision=2`);
  await page.locator('.hist-out .notice', { hasText: 'revision 2' }).waitFor();
  await page.locator('.hist-out .content-view').getByText('3 days', { exact: false }).waitFor();

  await page.getByRole('link', { name: 'Retrieval test' }).click();
  await page.getByLabel('Question', { exact: true }).fill('when will my order arrive');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const hit = page.locator('.result').filter({ hasText: 'Shipping times' }).first();
  await hit.waitFor();
  assert.ok((await hit.locator('mark').count()) > 0, 'matched terms are highlighted');
  await page.screenshot({ path: join(SHOTS, 'console-kb-retrieval.png') });

  // The list groups entries by category.
  await page.getByRole('link', { name: 'Entries' }).click();
  const faqGroup = page.locator('section.entry-group').filter({ has: page.getByRole('heading', { name: /^FAQ/ }) });
  await faqGroup.getByRole('link', { name: 'Shipping times' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'console-kb-entries.png') });
  watch.check();
  await context.close();
});

test('knowledge base: imports show live progress and per-file errors; unanswered questions can be answered or dismissed', async () => {
  const { context, page, watch } = await open();
  await signIn(page, kefu);
  await page.goto(`${kefu.url}/console/kb/import`);
  await page.getByLabel('Files').setInputFiles([
    { name: 'shop-faq.csv', mimeType: 'text/csv', buffer: Buffer.from('question,answer\nDo you ship abroad?,Yes: to 30 countries.\nCan I pay by invoice?,Yes for business customers.\n') },
    { name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03]) },
  ]);
  await page.getByRole('button', { name: 'Start import' }).click();
  await page.locator('.import-progress [role="status"]', { hasText: 'Finished' }).waitFor({ timeout: 20000 });
  assert.match(page.url(), /\/console\/kb\/import\?job=[\w-]+$/);
  const ok = page.locator('.import-progress tr', { hasText: 'shop-faq.csv' });
  await ok.getByText('2 created', { exact: false }).waitFor();
  const bad = page.locator('.import-progress tr', { hasText: 'tool.exe' });
  await bad.getByText('Failed').waitFor();
  await bad.getByText('Unsupported file type', { exact: false }).waitFor();
  assert.equal(await page.locator('.import-progress progress').getAttribute('value'), '2');
  await page.locator('.import-progress [role="status"]', { hasText: '2 of 2 files processed, 1 failed' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'console-kb-import.png') });
  // A reload keeps following the job from the URL.
  await page.reload();
  await page.locator('.import-progress tr', { hasText: 'tool.exe' }).waitFor();

  const visitor = await newVisitor(kefu);
  await visitor.api('POST', '/conversations', { message: { client_id: 'u-1', text: 'Do you sell dragon saddles?' } });
  await eventually(async () => (await kefu.agent('GET', `/sites/${kefu.siteId}/kb/unanswered`)).length > 0, 'an unanswered question');
  await page.goto(`${kefu.url}/console/kb/unanswered`);
  const row = page.locator('tr', { hasText: 'dragon saddles' });
  await row.waitFor();
  assert.match(await row.getByRole('link', { name: 'Write answer' }).getAttribute('href'), /\/console\/kb\/new\?question=/);
  await row.getByRole('button', { name: /^Dismiss/ }).click();
  await page.getByText('No unanswered questions.', { exact: false }).waitFor();
  watch.check();
  await context.close();
});

test('settings: site settings, canned replies and API tokens (secret shown once) work against the API', async () => {
  const { context, page, watch } = await open();
  await signIn(page, kefu);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Widget title').fill('Acme Help');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).first().waitFor();
  const site = await kefu.agent('GET', `/sites/${kefu.siteId}`);
  assert.equal(site.settings.widget_title, 'Acme Help');
  assert.equal(site.settings.bot_enabled, true, 'other settings are kept');
  await page.screenshot({ path: join(SHOTS, 'console-settings.png') });

  await page.getByRole('link', { name: 'Canned replies' }).click();
  await page.getByLabel('Shortcut').fill('bye');
  await page.getByLabel('Text', { exact: true }).fill('Goodbye and have a nice day!');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('table code', { hasText: '/bye' }).waitFor();
  // Errors from the API are shown as they come: a duplicate shortcut.
  await page.getByLabel('Shortcut').fill('bye');
  await page.getByLabel('Text', { exact: true }).fill('again');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('.error-box', { hasText: 'That already exists' }).waitFor();

  await page.getByRole('link', { name: 'API tokens' }).click();
  await page.getByLabel('Name', { exact: true }).fill('CRM sync');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.getByLabel('Token “CRM sync”');
  await secret.waitFor();
  assert.match(await secret.inputValue(), /^kefu_at_/);
  const tokens = await kefu.agent('GET', '/api-tokens');
  assert.ok(tokens.some((t) => t.name === 'CRM sync'));
  assert.ok(!JSON.stringify(tokens).includes(await secret.inputValue()), 'the list never carries the secret');
  await page.getByRole('button', { name: 'Revoke CRM sync' }).click();
  await page.getByText('No tokens.').waitFor();
  watch.check();
  await context.close();
});

test('zh-CN strings follow the browser language, and the language can be switched', async () => {
  const { context, page, watch } = await open({ locale: 'zh-CN' });
  await page.goto(`${kefu.url}/console`);
  await page.getByRole('button', { name: '登录' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  await page.screenshot({ path: join(SHOTS, 'console-login-zh-CN.png') });
  await signIn(page, kefu, { signInLabel: '登录', emailLabel: '邮箱', passwordLabel: '密码' });
  const nav = page.getByRole('navigation', { name: '主导航' });
  await nav.getByRole('link', { name: '会话' }).waitFor();
  await nav.getByRole('link', { name: '知识库' }).waitFor();
  await nav.getByRole('link', { name: '设置' }).waitFor();
  await page.getByRole('link', { name: '我的', exact: true }).waitFor();
  const first = page.locator('.conv-row a').first();
  await first.click();
  await page.locator('.conv-status .chip').first().waitFor();
  await page.getByRole('heading', { name: '推荐回复' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'console-zh-CN.png') });

  await page.getByLabel('语言', { exact: true }).selectOption('en');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.reload();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Knowledge base' }).waitFor();
  watch.check();
  await context.close();
});

test('keyboard: skip link, sign in with Enter, and a conversation opened and answered without the mouse', async () => {
  const { context, page, watch } = await open();
  await page.goto(`${kefu.url}/console`);
  await page.getByLabel('E-mail').focus();
  await page.keyboard.type(kefu.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(kefu.password);
  await page.keyboard.press('Enter');
  await page.locator('#conn[data-state="online"]').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  // In-app navigation moves focus to the new view's heading.
  await page.getByRole('link', { name: 'Settings' }).press('Enter');
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === 'Settings');
  await page.getByRole('link', { name: /^Inbox/ }).press('Enter');
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');

  const visitor = await newVisitor(kefu);
  const { conversation } = await visitor.api('POST', '/conversations', { message: { client_id: 'k-1', text: 'keyboard question' } });
  const link = page.locator(`.conv-row[data-id="${conversation.id}"] a`);
  await link.waitFor();
  let onRow = false;
  for (let i = 0; i < 40 && !onRow; i++) {
    await page.keyboard.press('Tab');
    onRow = await link.evaluate((a) => a === document.activeElement);
  }
  assert.ok(onRow, 'the conversation row is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/console/conversations/${conversation.id}`);
  let inComposer = false;
  for (let i = 0; i < 40 && !inComposer; i++) {
    await page.keyboard.press('Tab');
    inComposer = await page.evaluate(() => document.activeElement?.id === 'composer-text');
  }
  assert.ok(inComposer, 'the composer is reachable with Tab');
  await page.keyboard.type('answered with the keyboard');
  await page.keyboard.press('Enter');
  await eventually(async () => (await visitorMessages(visitor, conversation.id)).some((m) => m.text === 'answered with the keyboard'), 'the keyboard reply');
  watch.check();
  await context.close();
});

test('password change ends every session; sign out everywhere ends the others', async () => {
  await kefu.agent('POST', '/agents', { email: 'li@example.com', name: 'Li', password: 'first-password-1', role: 'agent', site_ids: [kefu.siteId] });
  const a = await open();
  const b = await open();
  await signIn(a.page, kefu, { email: 'li@example.com', password: 'first-password-1' });
  await signIn(b.page, kefu, { email: 'li@example.com', password: 'first-password-1' });

  // Agents (not editors) see the knowledge base read-only: no editing controls.
  await a.page.goto(`${kefu.url}/console/kb`);
  await a.page.getByRole('heading', { name: 'Knowledge base' }).waitFor();
  assert.equal(await a.page.getByRole('link', { name: 'New entry' }).count(), 0);

  await a.page.getByRole('button', { name: /^Li/ }).click();
  await a.page.getByRole('link', { name: 'Account' }).click();
  await a.page.getByLabel('Current password').fill('wrong-password-0');
  await a.page.getByLabel('New password', { exact: true }).fill('second-password-2');
  await a.page.getByLabel('New password again').fill('second-password-2');
  await a.page.getByRole('button', { name: 'Change password' }).click();
  await a.page.locator('.error-box', { hasText: 'Wrong e-mail or password' }).waitFor();
  await a.page.getByLabel('Current password').fill('first-password-1');
  await a.page.getByRole('button', { name: 'Change password' }).click();
  await a.page.getByText('Password changed. Sign in with your new password.').waitFor();
  await assert.rejects(agentSession(kefu.url, 'li@example.com', 'first-password-1'));

  // The other browser's session ended too: its next request lands on the sign-in page.
  await b.page.reload();
  await b.page.getByRole('button', { name: 'Sign in' }).waitFor();

  await signIn(a.page, kefu, { email: 'li@example.com', password: 'second-password-2' });
  await signIn(b.page, kefu, { email: 'li@example.com', password: 'second-password-2' });
  await a.page.getByRole('button', { name: /^Li/ }).click();
  await a.page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await a.page.getByText('You are signed out on every device.').waitFor();
  // The other browser is told at once: the server closes its socket (4001), no click needed.
  await b.page.getByRole('button', { name: 'Sign in' }).waitFor();
  await b.page.getByText('Your session ended. Please sign in again.').waitFor();
  a.watch.check();
  b.watch.check();
  await a.context.close();
  await b.context.close();
});

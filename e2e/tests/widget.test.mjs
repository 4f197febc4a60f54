// Browser tests of the visitor widget against the real kefu binary (nothing mocked): embed on a
// hostile page, an FAQ answer with its source, hand-off to a human and an agent's reply,
// history after reload, the offline outbox, persisted settings, zh-CN strings, keyboard-only
// use, and the README screenshots (light, dark, mobile).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKefu, setupKnowledge, hostilePage, launchBrowser, SHOTS } from '../lib/harness.mjs';

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

/** A fresh visitor (own storage) on the hostile page. */
async function visit(options = {}) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(host.url);
  return { context, page };
}

const launcher = (page) => page.locator('kefu-widget .launcher');
const input = (page) => page.locator('kefu-widget #kf-input');
const shadowActive = (page) =>
  page.evaluate(() => {
    const a = document.querySelector('kefu-widget').shadowRoot.activeElement;
    return a && { id: a.id, cls: a.className, inPanel: !!a.closest('.panel') };
  });
const convId = (page) => page.evaluate((site) => JSON.parse(localStorage.getItem(`kefu:${site}:conv`)), kefu.siteId);

async function openPanel(page) {
  await launcher(page).click();
  await page.locator('kefu-widget .panel').waitFor({ state: 'visible' });
}

async function send(page, text) {
  await input(page).fill(text);
  await input(page).press('Enter');
}

test('embeds on a page with hostile CSS, and the assistant answers an FAQ with its source link', async () => {
  const { context, page } = await visit();
  const btn = launcher(page);
  await btn.waitFor({ state: 'visible' });
  const box = await btn.boundingBox();
  // 56 px round button 20 px from the bottom-right corner, whatever the page's CSS says.
  assert.equal(Math.round(box.width), 56);
  assert.equal(Math.round(box.x + box.width), 1280 - 20);
  assert.equal(Math.round(box.y + box.height), 800 - 20);
  await openPanel(page);
  // Branding from the session answer.
  await page.locator('kefu-widget #kf-title', { hasText: 'Acme Support' }).waitFor();
  await page.locator('kefu-widget .msg.welcome').getByText('Hello! Ask us anything.').waitFor();
  const font = await input(page).evaluate((e) => getComputedStyle(e).fontSize);
  assert.equal(font, '16px', 'the page font-size must not leak in');

  await send(page, 'How do I get a refund?');
  const answer = page.locator('kefu-widget .msg.bot:not(.welcome)').last();
  await answer.locator('.body').getByText('30 days', { exact: false }).waitFor({ timeout: 15000 });
  // Markdown: bold and a numbered list, built as elements.
  assert.equal(await answer.locator('.body strong').first().textContent(), 'refund');
  assert.equal(await answer.locator('.body ol li').count(), 2);
  const source = answer.locator('.src a');
  assert.equal(await source.textContent(), 'How do I get a refund?');
  assert.equal(await source.getAttribute('href'), 'https://help.example/refunds');
  assert.match(await source.getAttribute('rel'), /noopener/);
  // The page's `button { display: none !important }` did not reach the widget.
  assert.ok(await page.locator('kefu-widget .send').isVisible());
  await page.screenshot({ path: join(SHOTS, 'widget-light.png') });
  await context.close();
});

test('talk to a human: contact form while nobody is online, then an agent joins and replies; history survives reload', async () => {
  const { context, page } = await visit();
  await openPanel(page);
  await page.locator('kefu-widget .human').click();
  await page.locator('kefu-widget .note').getByText('You asked for a person').waitFor();
  const contact = page.locator('kefu-widget .contact');
  await contact.waitFor({ state: 'visible' });
  await contact.locator('input').fill('visitor@example.com');
  await contact.locator('button').click();
  await page.locator('kefu-widget .note').getByText('We will reply to visitor@example.com').waitFor();
  assert.ok(await contact.isHidden());

  const id = await convId(page);
  assert.ok(id, 'the widget remembers its conversation');
  // Closed panel: the agent's reply shows as an unread badge on the launcher.
  await page.locator('kefu-widget header button').last().click();
  await page.locator('kefu-widget .panel').waitFor({ state: 'hidden' });
  await kefu.agent('POST', `/conversations/${id}/messages`, {
    client_id: 'agent-reply-1',
    text: 'Hi, I am **here** to help. <img src=x onerror="window.pwned=1"> [bad](javascript:window.pwned=1)',
  });
  const badge = page.locator('kefu-widget .badge');
  await badge.waitFor({ state: 'visible' });
  assert.equal(await badge.textContent(), '1');
  assert.match(await launcher(page).getAttribute('aria-label'), /1 unread/);
  await openPanel(page);
  await badge.waitFor({ state: 'hidden' });
  const reply = page.locator('kefu-widget .msg.agent').last();
  await reply.getByText('here', { exact: true }).waitFor();
  assert.equal(await reply.locator('.who').textContent(), 'Admin');
  await page.locator('kefu-widget .note').getByText('Admin joined the conversation').waitFor();
  // Untrusted text stays text: no image element, no javascript: link, nothing ran.
  assert.equal(await reply.locator('img').count(), 0);
  assert.equal(await reply.locator('a').count(), 0);
  assert.match(await reply.locator('.body').textContent(), /<img src=x/);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  // Announced to screen readers.
  await page.waitForFunction(() =>
    /Admin: Hi/.test(document.querySelector('kefu-widget').shadowRoot.querySelector('[aria-live]').textContent),
  );

  await page.reload();
  // The panel reopens on reload and the history comes back from the server.
  await page.locator('kefu-widget .msg.agent').getByText('here', { exact: true }).waitFor();
  await page.locator('kefu-widget .note').getByText('Admin joined the conversation').waitFor();
  assert.equal(await page.locator('kefu-widget .note').getByText('You asked for a person').count(), 1);
  assert.equal(await convId(page), id);
  await context.close();
});

test('messages typed offline are delivered once, in order, after reconnecting', async () => {
  const { context, page } = await visit();
  await openPanel(page);
  await send(page, 'hello before going offline');
  await page.locator('kefu-widget .msg.visitor[data-state="sent"]').first().waitFor();
  const id = await convId(page);

  await context.setOffline(true);
  await page.locator('kefu-widget .status').getByText('Offline').waitFor();
  await send(page, 'typed offline one');
  await send(page, 'typed offline two');
  const pending = page.locator('kefu-widget .msg.visitor[data-state="pending"]');
  assert.equal(await pending.count(), 2);
  await page.waitForTimeout(500);
  assert.equal(await pending.count(), 2, 'nothing leaves while offline');

  await context.setOffline(false);
  await pending.first().waitFor({ state: 'detached', timeout: 15000 });
  await page.waitForFunction(
    () => !document.querySelector('kefu-widget').shadowRoot.querySelector('.msg[data-state="pending"]'),
  );
  for (const text of ['typed offline one', 'typed offline two']) {
    assert.equal(await page.locator('kefu-widget .msg.visitor').getByText(text, { exact: true }).count(), 1);
  }
  const log = await kefu.agent('GET', `/conversations/${id}/messages?limit=100`);
  const one = log.items.filter((m) => m.text === 'typed offline one');
  const two = log.items.filter((m) => m.text === 'typed offline two');
  assert.equal(one.length, 1, 'delivered exactly once');
  assert.equal(two.length, 1, 'delivered exactly once');
  assert.ok(one[0].seq < two[0].seq, 'in the order typed');
  await context.close();
});

test('dark theme and larger text are kept across reloads', async () => {
  const { context, page } = await visit();
  await openPanel(page);
  await send(page, 'How do I get a refund?');
  await page.locator('kefu-widget .msg.bot .src a').waitFor({ timeout: 15000 });
  await page.locator('kefu-widget button[aria-controls="kf-settings"]').click();
  await page.locator('kefu-widget #kf-theme').selectOption('dark');
  await page.locator('kefu-widget #kf-font').selectOption('l');
  await page.locator('kefu-widget button[aria-controls="kf-settings"]').click();
  await page.screenshot({ path: join(SHOTS, 'widget-dark.png') });

  await page.reload();
  const root = page.locator('kefu-widget .kf');
  await page.locator('kefu-widget .panel').waitFor({ state: 'visible' });
  assert.equal(await root.getAttribute('data-theme'), 'dark');
  assert.equal(await root.getAttribute('data-font'), 'l');
  assert.equal(await root.evaluate((e) => getComputedStyle(e).fontSize), '19px');
  const bg = await page.locator('kefu-widget .panel').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(bg, 'rgb(17, 24, 39)');
  await context.close();
});

test('shows zh-CN strings for a Chinese browser', async () => {
  const { context, page } = await visit({ locale: 'zh-CN' });
  await page.getByRole('button', { name: '打开在线客服' }).click();
  assert.equal(await input(page).getAttribute('placeholder'), '输入消息');
  await page.getByRole('button', { name: '转人工客服' }).waitFor();
  await page.getByRole('button', { name: '发送' }).waitFor();
  assert.equal(await page.locator('kefu-widget .kf').getAttribute('lang'), 'zh-CN');
  await context.close();
});

test('works with the keyboard alone: open, send, focus stays in the panel, Escape closes', async () => {
  const { context, page } = await visit();
  await launcher(page).waitFor();
  let onLauncher = false;
  for (let i = 0; i < 10 && !onLauncher; i++) {
    await page.keyboard.press('Tab');
    onLauncher = (await shadowActive(page))?.cls === 'launcher';
  }
  assert.ok(onLauncher, 'the launcher is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.locator('kefu-widget .panel').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelector('kefu-widget').shadowRoot.activeElement?.id === 'kf-input');
  await page.keyboard.type('sent with the keyboard');
  await page.keyboard.down('Shift');
  await page.keyboard.press('Enter');
  await page.keyboard.up('Shift');
  await page.keyboard.type('second line');
  await page.keyboard.press('Enter');
  const mine = page.locator('kefu-widget .msg.visitor[data-state="sent"] .body');
  await mine.first().waitFor();
  assert.equal(await mine.first().textContent(), 'sent with the keyboard\nsecond line');
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press(i % 5 === 4 ? 'Shift+Tab' : 'Tab');
    assert.ok((await shadowActive(page))?.inPanel, 'focus stays inside the open panel');
  }
  await page.keyboard.press('Escape');
  await page.locator('kefu-widget .panel').waitFor({ state: 'hidden' });
  assert.equal((await shadowActive(page))?.cls, 'launcher');
  await context.close();
});

test('fills a phone screen (390×844)', async () => {
  const { context, page } = await visit({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await launcher(page).waitFor();
  await launcher(page).tap();
  const panel = page.locator('kefu-widget .panel');
  await panel.waitFor({ state: 'visible' });
  await send(page, 'How do I get a refund?');
  await page.locator('kefu-widget .msg.bot .src a').waitFor({ timeout: 15000 });
  const box = await panel.boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height].map(Math.round), [0, 0, 390, 844]);
  await page.screenshot({ path: join(SHOTS, 'widget-mobile.png') });
  await context.close();
});

test('emoji picker inserts at the cursor and closes with Escape', async () => {
  const { context, page } = await visit();
  await openPanel(page);
  await input(page).fill('thanks ');
  const toggle = page.locator('kefu-widget button[aria-controls="kf-emoji"]');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await page.locator('kefu-widget #kf-emoji button', { hasText: '👍' }).click();
  assert.equal(await input(page).inputValue(), 'thanks 👍');
  assert.ok(await page.locator('kefu-widget #kf-emoji').isHidden());
  await toggle.click();
  await page.keyboard.press('Escape');
  assert.ok(await page.locator('kefu-widget #kf-emoji').isHidden());
  assert.ok(await page.locator('kefu-widget .panel').isVisible(), 'Escape closed only the picker');
  await context.close();
});

test('serves the widget files with types, caching, nosniff and CORS, and a demo page', async () => {
  const loader = await fetch(`${kefu.url}/widget.js`);
  assert.equal(loader.status, 200);
  assert.equal(loader.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(loader.headers.get('access-control-allow-origin'), '*');
  assert.equal(loader.headers.get('x-content-type-options'), 'nosniff');
  assert.match(loader.headers.get('cache-control'), /max-age=\d+/);
  const etag = loader.headers.get('etag');
  assert.ok(etag);
  assert.equal((await fetch(`${kefu.url}/widget.js`, { headers: { 'if-none-match': etag } })).status, 304);
  const css = await fetch(`${kefu.url}/widget/styles.css`);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.equal((await fetch(`${kefu.url}/widget/nope.js`)).status, 404);
  assert.equal((await fetch(`${kefu.url}/widget/..%2FCargo.toml`)).status, 404);
  const demo = await (await fetch(`${kefu.url}/demo?site=${kefu.siteId}`)).text();
  assert.ok(demo.includes(`<script src="/widget.js" data-site="${kefu.siteId}" async></script>`));
  const evil = await (await fetch(`${kefu.url}/demo?site=%22%3E%3Cscript%3Ealert(1)%3C/script%3E`)).text();
  assert.ok(!evil.includes('<script>alert'));
});

// Browser tests of the web hardening: the widget works under strict Content Security Policies
// — the server's own demo page (its policy comes from the security-headers layer) and a
// customer page whose policy forbids inline styles — with no policy violation at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startKefu, setupKnowledge, launchBrowser } from '../lib/harness.mjs';

let kefu;
let browser;

before(async () => {
  kefu = await startKefu();
  await setupKnowledge(kefu);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

/** Opens `url`, recording every CSP violation the page reports. */
async function openRecording(url) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.violations_ = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.violations_.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const errors = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  await page.goto(url);
  return { context, page, errors };
}

/** Opens the widget, asks the FAQ, and waits for the assistant's answer over the socket. */
async function askRefund(page) {
  const launcher = page.locator('kefu-widget .launcher');
  await launcher.waitFor({ state: 'visible' });
  const box = await launcher.boundingBox();
  assert.equal(Math.round(box.x + box.width), 1280 - 20, 'the host element is placed by its own style');
  await launcher.click();
  const input = page.locator('kefu-widget #kf-input');
  await input.fill('How do I get a refund?');
  await input.press('Enter');
  await page.locator('kefu-widget .msg.bot:not(.welcome)').last().locator('.body')
    .getByText('30 days', { exact: false }).waitFor({ timeout: 15000 });
}

test('the demo page runs the widget under its strict policy without a violation', async () => {
  const { context, page, errors } = await openRecording(`${kefu.url}/demo?site=${kefu.siteId}`);
  const res = await fetch(`${kefu.url}/demo?site=${kefu.siteId}`);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  await askRefund(page);
  assert.deepEqual(await page.evaluate(() => window.violations_), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a customer page whose CSP forbids inline styles still shows the widget', async () => {
  const origin = kefu.url;
  const ws = origin.replace(/^http/, 'ws');
  const policy = `default-src 'none'; script-src ${origin}; style-src ${origin}; connect-src ${origin} ${ws}; img-src ${origin} data:`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': policy });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Strict shop</title></head>
<body><h1>Strict shop</h1><script src="${origin}/widget.js" data-site="${kefu.siteId}" async></script></body></html>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    // "localhost" vs the server's 127.0.0.1: another origin, as a customer's site is.
    const { context, page, errors } = await openRecording(`http://localhost:${server.address().port}/`);
    await askRefund(page);
    assert.deepEqual(await page.evaluate(() => window.violations_), []);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await new Promise((r) => server.close(r));
  }
});

// Browser test of attachments end to end against the real kefu binary: a visitor attaches an
// image in the widget (preview and upload in the tray), sends it, and sees it inline; a file
// that only pretends to be an image is refused with a clear message; the agent console shows
// the image inline, and the agent's reply with a PDF reaches the widget as a download chip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, crc32 } from 'node:zlib';
import { startKefu, hostilePage, launchBrowser } from '../lib/harness.mjs';
import { watchPage, signIn } from '../lib/console.mjs';

let kefu;
let host;
let browser;

before(async () => {
  kefu = await startKefu();
  host = await hostilePage(kefu);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.close();
  await kefu?.stop();
});

/** A real w×h RGB PNG of one colour, made here so the test ships no binary fixture. */
function png(w, h, [r, g, b]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3).map((_, i) => [r, g, b][i % 3])]);
  const pixels = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

test('a visitor attaches an image, previews and sends it; the agent sees it and replies with a file', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(host.url);
  const w = (sel) => page.locator(`kefu-widget ${sel}`);
  await w('.launcher').click();
  // The paperclip appears once the session says the site takes files.
  const clip = w('.clip button');
  await clip.waitFor();
  assert.equal(await clip.getAttribute('aria-label'), 'Attach a file');
  assert.match(await w('.clip input[type=file]').getAttribute('accept'), /\.png/);

  // Pick an image: previewed in the tray and uploaded at once.
  const image = png(40, 30, [220, 38, 38]);
  await w('.clip input[type=file]').setInputFiles({ name: 'red square.png', mimeType: 'image/png', buffer: image });
  await w('.tray img').waitFor();
  await w('.tray li[data-state="ready"]').waitFor({ timeout: 10000 });
  assert.match(await w('.tray li').textContent(), /red square\.png · 1 KB|red square\.png · \d+ B/);

  // A page calling itself a PNG is refused by its content, with the translated message.
  await w('.clip input[type=file]').setInputFiles({ name: 'evil.png', mimeType: 'image/png', buffer: Buffer.from('<!DOCTYPE html><script>alert(1)</script>') });
  const refused = w('.tray li[data-state="error"]');
  await refused.waitFor({ timeout: 10000 });
  assert.equal(await refused.locator('[role=alert]').textContent(), 'This kind of file cannot be sent.');
  await refused.getByRole('button', { name: 'Remove evil.png' }).click();

  await w('#kf-input').fill('Here is the damaged item');
  await w('#kf-input').press('Enter');
  const sent = w('.msg.visitor').last();
  const thumb = sent.locator('.files img');
  await thumb.waitFor();
  // Shown from the fetched bytes (the token cannot ride on an <img src>) and actually decoded.
  await page.waitForFunction(() => {
    const img = document.querySelector('kefu-widget').shadowRoot.querySelector('.msg.visitor .files img');
    return img && img.src.startsWith('blob:') && img.naturalWidth === 40;
  }, null, { timeout: 10000 });
  assert.equal(await w('.tray li').count(), 0, 'the tray empties once sent');

  // The server has it on the message, typed by its content.
  const conv = await page.evaluate((site) => JSON.parse(localStorage.getItem(`kefu:${site}:conv`)), kefu.siteId);
  const log = await kefu.agent('GET', `/conversations/${conv}/messages?limit=100`);
  const msg = log.items.find((m) => m.text === 'Here is the damaged item');
  assert.equal(msg.attachments.length, 1);
  assert.equal(msg.attachments[0].name, 'red square.png');
  assert.equal(msg.attachments[0].content_type, 'image/png');
  assert.equal(msg.attachments[0].size, image.length);

  // The agent's console shows the image inline and attaches a PDF to the reply.
  const agentCtx = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 } });
  const console_ = await agentCtx.newPage();
  const watch = watchPage(console_);
  await signIn(console_, kefu);
  await console_.goto(`${kefu.url}/console/conversations/${conv}`);
  const agentImg = console_.locator('.log li.msg.visitor .attachments img');
  await agentImg.waitFor();
  await console_.waitForFunction(() => document.querySelector('.log .attachments img')?.naturalWidth === 40, null, { timeout: 10000 });
  assert.equal(await agentImg.getAttribute('alt'), 'red square.png');
  await console_.locator('.composer input[type=file]').setInputFiles({ name: 'return-label.pdf', mimeType: 'application/pdf', buffer: PDF });
  await console_.locator('.attach-tray li[data-state="ready"]').waitFor({ timeout: 10000 });
  await console_.locator('#composer-text').fill('Please print this return label.');
  await console_.getByRole('button', { name: 'Send', exact: true }).click();
  await console_.locator('.log li.msg.agent .file-chip', { hasText: 'return-label.pdf' }).waitFor({ timeout: 10000 });
  watch.check();

  // The visitor gets it live as a download chip with name and size.
  const chip = w('.msg.agent .file');
  await chip.waitFor({ timeout: 10000 });
  assert.equal(await chip.textContent(), `📎 return-label.pdf · ${PDF.length} B`);
  const download = page.waitForEvent('download');
  await chip.click();
  assert.equal((await download).suggestedFilename(), 'return-label.pdf');

  assert.deepEqual(errors, []);
  await agentCtx.close();
  await context.close();
});

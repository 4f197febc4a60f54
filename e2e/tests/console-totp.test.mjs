// Two-factor sign-in through the console against the real kefu binary: an agent turns TOTP on
// from the account page (QR code and key shown, confirmed with a code computed here from the
// key, recovery codes shown once), signs out, and signs in again with a code (a replayed code
// is refused) and with a recovery code; then turns it off. Also: the sign-in page's message
// when too many failed attempts lock an account. TOTP is computed with node's crypto (RFC
// 6238: HMAC-SHA-1, 30 s, 6 digits), independently of the server's implementation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, launchBrowser } from '../lib/harness.mjs';
import { watchPage, signIn } from '../lib/console.mjs';

const EMAIL = 'zhao@example.com';
const PASSWORD = 'zhao-password-1';

let kefu;
let browser;

before(async () => {
  kefu = await startKefu();
  await kefu.agent('POST', '/agents', { email: EMAIL, name: 'Zhao', password: PASSWORD, role: 'agent', site_ids: [kefu.siteId] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

/** RFC 4648 base32 (no padding) to bytes. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/\s|=/g, '').toUpperCase()) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The TOTP code of a time step (RFC 6238 with SHA-1, 6 digits). */
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

/** Signs out from the account menu. */
async function signOut(page) {
  await page.getByRole('button', { name: /^Zhao/ }).click();
  await page.locator('#account-menu').getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

const stepNow = () => Math.floor(Date.now() / 1000 / 30);

test('the TOTP of RFC 6238 appendix B', () => {
  const secret = Buffer.from('12345678901234567890');
  assert.equal(totp(secret, Math.floor(59 / 30)), '287082');
  assert.equal(totp(secret, Math.floor(1111111109 / 30)), '081804');
  assert.equal(totp(secret, Math.floor(2000000000 / 30)), '279037');
  assert.equal(base32('GEZDGNBVGY3TQOJQ').toString(), '1234567890');
});

test('an agent turns on two-factor sign-in, signs in with a code and with a recovery code, and turns it off', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page);
  await signIn(page, kefu, { email: EMAIL, password: PASSWORD });

  // Account page → Security.
  await page.getByRole('button', { name: /^Zhao/ }).click();
  await page.getByRole('link', { name: 'Account' }).click();
  const security = page.locator('#security');
  await security.getByRole('heading', { name: 'Security' }).waitFor();
  await security.getByText('Two-factor sign-in is off.').waitFor();
  await security.getByRole('button', { name: 'Set up two-factor sign-in' }).click();

  // The QR code is an image (SVG in a data: URL, allowed by the CSP), with the key beside it.
  const qr = security.getByRole('img', { name: 'QR code to scan with your authenticator app' });
  await qr.waitFor();
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;base64,/);
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code image renders');
  const key = (await security.locator('.totp-secret').textContent()).replace(/\s/g, '');
  assert.match(key, /^[A-Z2-7]{32}$/);
  const secret = base32(key);

  // A wrong code is refused; the right one turns it on and shows ten recovery codes once.
  const codeInput = security.getByLabel('Authentication code');
  const step = stepNow();
  const wrong = ['000000', '111111', '222222'].find((c) => ![-1, 0, 1].some((d) => totp(secret, step + d) === c));
  await codeInput.fill(wrong);
  await security.getByRole('button', { name: 'Turn on' }).click();
  await security.locator('.error-box', { hasText: 'Wrong or already used code' }).waitFor();
  const confirmStep = stepNow();
  await codeInput.fill(totp(secret, confirmStep));
  await security.getByRole('button', { name: 'Turn on' }).click();
  await security.getByText('Two-factor sign-in is now on.').waitFor();
  const recovery = await security.locator('.recovery-codes li').allTextContents();
  assert.equal(recovery.length, 10);
  for (const c of recovery) assert.match(c, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
  await security.getByRole('button', { name: 'I have saved these codes' }).click();
  await security.locator('.totp-status[data-enabled="true"]').waitFor();
  // Shown once: reloading the page shows the state, not the codes.
  await page.reload();
  await page.locator('#security .totp-status[data-enabled="true"]').waitFor();
  assert.equal(await page.locator('.recovery-codes').count(), 0);

  // Sign out; the password alone now leads to the second step.
  await signOut(page);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Two-factor sign-in' }).waitFor();
  // The code that confirmed the setup was spent; the next one (within the ±1 step the server
  // allows for clock drift) signs in.
  const code = page.getByLabel('Authentication code');
  await code.fill(totp(secret, confirmStep));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('.error-box', { hasText: 'Wrong or already used code' }).waitFor();
  await code.fill(totp(secret, confirmStep + 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('#conn[data-state="online"]').waitFor({ timeout: 15000 });
  await page.getByRole('heading', { name: 'Inbox' }).waitFor();

  // Again with a recovery code.
  await signOut(page);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
  await page.getByLabel('Recovery code').fill(recovery[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('#conn[data-state="online"]').waitFor({ timeout: 15000 });

  // Turn it off with the password and another recovery code.
  await page.goto(`${kefu.url}/console/account`);
  const sec = page.locator('#security');
  await sec.locator('.totp-status[data-enabled="true"]').waitFor();
  await sec.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await sec.getByLabel('Code or recovery code').fill(recovery[0]);
  await sec.getByRole('button', { name: 'Turn off two-factor sign-in' }).click();
  await sec.locator('.error-box', { hasText: 'Wrong password or code' }).waitFor();
  await sec.getByLabel('Code or recovery code').fill(recovery[1]);
  await sec.getByRole('button', { name: 'Turn off two-factor sign-in' }).click();
  await sec.getByText('Two-factor sign-in is off.').waitFor();
  const me = await (await page.request.get(`${kefu.url}/api/v1/auth/me`)).json();
  assert.equal(me.totp_enabled, false);

  watch.check();
  await context.close();
});

test('the sign-in page says how long to wait when an account is locked', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const watch = watchPage(page);
  await page.goto(`${kefu.url}/console`);
  const email = page.getByLabel('E-mail', { exact: true });
  const password = page.getByLabel('Password', { exact: true });
  const submit = page.getByRole('button', { name: 'Sign in' });
  await email.fill('nobody@example.com');
  // Five failures (the default limit), then the account is locked.
  for (let i = 0; i < 5; i++) {
    await password.fill(`wrong password ${i}`);
    await submit.click();
    await page.locator('.error-box', { hasText: 'Wrong e-mail or password' }).waitFor();
    await page.waitForFunction(() => !document.querySelector('form.login button[type=submit]').disabled);
  }
  await password.fill('wrong password again');
  await submit.click();
  const box = page.locator('.error-box', { hasText: 'Too many failed sign-ins' });
  await box.waitFor();
  assert.match(await box.textContent(), /try again in \d+ (seconds|minutes)/);
  // The button stays off while the lock lasts.
  await page.waitForFunction(() => document.querySelector('form.login button[type=submit]').disabled);

  // The same in Chinese.
  await page.getByLabel('Language').selectOption('zh-CN');
  await page.getByLabel('邮箱', { exact: true }).fill('nobody@example.com');
  await page.getByLabel('密码', { exact: true }).fill('wrong password again');
  await page.locator('form.login button[type=submit]').evaluate((b) => (b.disabled = false));
  await page.locator('form.login button[type=submit]').click();
  await page.locator('.error-box', { hasText: '登录失败次数过多' }).waitFor();
  watch.check();
  await context.close();
});

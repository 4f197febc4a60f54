// Helpers for the agent console's browser tests: a visitor that talks to the real server over
// the visitor REST API (as the widget would, without a browser), signing in through the
// console's own form, and a watch on the page that fails the test on script errors and on
// Content-Security-Policy violations (the console must need no inline code or style).
import assert from 'node:assert/strict';

/** A new anonymous visitor of the site; `api(method, path, body)` calls /api/v1/visitor. */
export async function newVisitor(kefu, extra = {}) {
  const res = await fetch(`${kefu.url}/api/v1/visitor/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      site_id: kefu.siteId,
      page_url: 'https://shop.example/pricing',
      referrer: 'https://search.example/?q=refund',
      language: 'en-GB',
      ...extra,
    }),
  });
  if (!res.ok) throw new Error(`visitor session: ${res.status} ${await res.text()}`);
  const session = await res.json();
  const api = async (method, path, body) => {
    const r = await fetch(`${kefu.url}/api/v1/visitor${path}`, {
      method,
      headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return { session, api, id: session.visitor.id };
}

/** Collects page errors and CSP violations; `check()` asserts there were none. */
export function watchPage(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to (execute|apply|load)/i.test(text)) problems.push(`CSP: ${text}`);
  });
  return {
    problems,
    check() {
      assert.deepEqual(problems, [], 'no script errors or CSP violations');
    },
  };
}

/** Opens the console and signs in through its form. */
export async function signIn(page, kefu, { email = kefu.email, password = kefu.password, signInLabel = 'Sign in', emailLabel = 'E-mail', passwordLabel = 'Password' } = {}) {
  await page.goto(`${kefu.url}/console`);
  await page.getByLabel(emailLabel, { exact: true }).fill(email);
  await page.getByLabel(passwordLabel, { exact: true }).fill(password);
  await page.getByRole('button', { name: signInLabel }).click();
  await page.locator('#conn[data-state="online"]').waitFor({ timeout: 15000 });
}

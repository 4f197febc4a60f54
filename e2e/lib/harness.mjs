// Test harness for the widget's browser tests: starts the real `kefu` binary on a free port
// with a temporary data folder (parsing the one-time admin credential and site id it prints on
// first start), talks to its agent API like the console would (cookie + CSRF header), serves a
// host page with hostile CSS from another origin, and launches Debian's Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOTS = join(ROOT, 'docs', 'screenshots');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts kefu; resolves once /healthz answers and the first-start credential was printed. */
export async function startKefu() {
  const bin = process.env.KEFU_BIN || join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'debug', 'kefu');
  const dir = mkdtempSync(join(tmpdir(), 'kefu-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Run in the temp folder so no kefu.toml from the checkout is picked up.
  const proc = spawn(bin, ['serve', '--bind', `127.0.0.1:${port}`], {
    cwd: dir,
    env: { ...process.env, KEFU_DATA_DIR: dir, KEFU_LOG: process.env.KEFU_LOG || 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => proc.on('exit', r));
  for (let i = 0; ; i++) {
    if (proc.exitCode != null) throw new Error(`kefu exited: ${err}`);
    if (/id: \S+/.test(out)) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        /* not listening yet */
      }
    }
    if (i > 300) throw new Error(`kefu did not start:\n${out}\n${err}`);
    await sleep(100);
  }
  const email = /e-mail:\s+(\S+)/.exec(out)[1];
  const password = /password:\s+(\S+)/.exec(out)[1];
  const siteId = /Site "[^"]*" id: (\S+)/.exec(out)[1];
  const kefu = { url, email, password, siteId, log: () => err };
  kefu.agent = await agentSession(url, email, password);
  kefu.stop = async () => {
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    rmSync(dir, { recursive: true, force: true });
  };
  return kefu;
}

/** Signs in as an agent; returns api(method, path, body) that sends the cookie and CSRF token. */
export async function agentSession(url, email, password) {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const { csrf_token } = await res.json();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return async (method, path, body) => {
    const r = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { cookie, 'x-csrf-token': csrf_token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const data = text ? JSON.parse(text) : null;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return data;
  };
}

/** One FAQ the assistant can answer from, and the assistant switched on. */
export async function setupKnowledge(kefu) {
  const api = kefu.agent;
  await api('POST', `/sites/${kefu.siteId}/kb/entries`, {
    category: 'faq',
    title: 'How do I get a refund?',
    body: 'Refunds are possible within 30 days of delivery.',
    language: 'en',
    source: 'https://help.example/refunds',
    visibility: 'public',
    status: 'published',
    faq: {
      question: 'How do I get a refund?',
      alternatives: ['Can I return my order for a refund?', 'refund policy'],
      answer: 'You can request a **refund** within 30 days of delivery:\n\n1. Open *My orders*\n2. Choose `Request refund`',
    },
  });
  await api('PATCH', `/sites/${kefu.siteId}`, {
    settings: { bot_enabled: true, welcome_message: 'Hello! Ask us anything.', widget_title: 'Acme Support' },
  });
}

/** A customer page on another origin whose own CSS tries hard to break embedded widgets. */
export async function hostilePage(kefu) {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Hostile shop</title>
<style>
  * { all: unset; }
  head, style, script, title { display: none !important; }
  html, body { display: block; font: 30px/3 "Comic Sans MS", cursive !important; color: #f0f !important; background: #ffe !important; }
  button { display: none !important; }
  div, section, ol, li, textarea, form { display: inline !important; color: red !important; font-size: 40px !important; }
  kefu-widget { display: none !important; opacity: 0 !important; }
  h1, p { display: block; padding: 1em; }
</style></head>
<body><h1>Acme shop</h1><p>Our page styles everything, including things that are not ours.</p>
<p><a href="#top">A link on the page</a></p>
<script src="${kefu.url}/widget.js" data-site="${kefu.siteId}" async></script>
</body></html>`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  // "localhost" vs the server's 127.0.0.1: a different origin, as on a customer's site.
  return { url: `http://localhost:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

export function launchBrowser() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

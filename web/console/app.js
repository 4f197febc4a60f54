// The agent console's entry point: signs in (or resumes the cookie session), builds the shell
// (navigation, site switcher, presence, language, notifications, account menu, connection
// state), and routes /console/… URLs to the views. Views are modules exporting
// `mount(ctx, main, params)` that return `{unmount, update?}`; `update` lets the inbox switch
// conversations without rebuilding its list.
//
// `ctx` is what every view gets: the REST client, the live socket, the inbox store, who is
// signed in, the current site, the translator and navigation.

import { Api, ApiError } from './api.js';
import { Live } from './ws.js';
import { Notifier } from './notify.js';
import { h, replace, errorBox, busy, saved, field, announce, focusHeading } from './dom.js';
import { pickLang, translator, LANGS } from './i18n.js';
import { InboxStore } from './inbox.js';

const ROOT = '/console';

const ctx = {
  api: new Api(),
  live: null,
  notifier: null,
  inbox: null,
  me: null,
  sites: [],
  siteId: null,
  lang: pickLang(saved.get('lang')),
  t: null,
  agentsBySite: new Map(),
};
ctx.t = translator(ctx.lang);

/** The current site object. */
ctx.site = () => ctx.sites.find((s) => s.id === ctx.siteId) || ctx.sites[0] || null;

/** Whether the signed-in agent has at least `role` (admin ⊃ editor ⊃ agent). */
ctx.can = (role) => {
  const rank = { agent: 1, editor: 2, admin: 3 };
  return (rank[ctx.me?.role] || 0) >= rank[role];
};

/** The members of a site (cached; `fresh` reloads). Presence is kept current from the socket. */
ctx.agents = async (siteId, fresh = false) => {
  if (!fresh && ctx.agentsBySite.has(siteId)) return ctx.agentsBySite.get(siteId);
  const list = await ctx.api.siteAgents(siteId);
  ctx.agentsBySite.set(siteId, list);
  return list;
};

/** An agent's display name from any cached site list, or null. */
ctx.agentName = (id) => {
  if (!id) return null;
  if (id === ctx.me?.id) return ctx.me.name;
  for (const list of ctx.agentsBySite.values()) {
    const a = list.find((x) => x.id === id);
    if (a) return a.name;
  }
  return null;
};

/** Goes to a console path (pushState), or replaces the current entry. */
ctx.navigate = (path, { replace: rep = false } = {}) => {
  if (rep) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
};

/** Reloads the agent's sites (after creating or renaming one). */
ctx.refreshSites = async () => {
  const before = ctx.sites.map((s) => s.id).join();
  ctx.sites = await ctx.api.sites();
  if (ctx.sites.map((s) => s.id).join() !== before) ctx.live?.reconnect();
  if (!ctx.sites.some((s) => s.id === ctx.siteId)) ctx.siteId = ctx.sites[0]?.id || null;
  renderHeader();
};

let shell = null; // {header, main}
ctx.renderHeader = () => renderHeader();
let current = null; // {key, view}

// --- boot ----------------------------------------------------------------------------------

async function boot() {
  document.documentElement.lang = ctx.lang;
  ctx.api.onUnauthenticated = () => sessionEnded('sessionEnded');
  try {
    const me = await ctx.api.me();
    await startSession(me);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return showLogin();
    renderFatal(e);
  }
}

function renderFatal(e) {
  const app = document.getElementById('app');
  app.className = '';
  replace(
    app,
    h('main', { class: 'center-card' }, h('h1', {}, ctx.t('appName')), h('p', { role: 'alert' }, ctx.t('loadFailed'), ' ', e?.message || String(e)),
      h('button', { type: 'button', on: { click: () => location.reload() } }, ctx.t('retry'))),
  );
}

async function startSession(me) {
  ctx.me = me.agent;
  ctx.sites = me.sites;
  const wanted = saved.get('site');
  ctx.siteId = me.sites.some((s) => s.id === wanted) ? wanted : me.sites[0]?.id || null;
  ctx.live = new Live();
  ctx.notifier ||= new Notifier();
  ctx.inbox = new InboxStore(ctx);
  ctx.live.addEventListener('signed-out', () => verifySession());
  ctx.live.addEventListener('presence', (e) => {
    const { agent_id, presence } = e.detail;
    if (agent_id === ctx.me.id) {
      ctx.me.presence = presence;
      renderHeader();
    }
    for (const list of ctx.agentsBySite.values()) {
      const a = list.find((x) => x.id === agent_id);
      if (a) a.presence = presence;
    }
  });
  ctx.live.addEventListener('state', () => renderConnection());
  ctx.inbox.addEventListener('unread', () => {
    renderUnread();
  });
  buildShell();
  navigated = false;
  ctx.live.start();
  // Names for assignees and authors in the inbox.
  await Promise.all(ctx.sites.map((s) => ctx.agents(s.id).catch(() => [])));
  if (location.pathname === `${ROOT}/login` || !location.pathname.startsWith(ROOT)) history.replaceState(null, '', `${ROOT}/inbox`);
  route();
}

/** The socket was refused: ask REST whether the session is really gone. */
async function verifySession() {
  try {
    await ctx.api.me();
    ctx.live.connect();
  } catch {
    /* onUnauthenticated already showed the sign-in page */
  }
}

function endSession() {
  current?.view?.unmount?.();
  current = null;
  ctx.live?.stop();
  ctx.inbox?.stop();
  ctx.live = null;
  ctx.inbox = null;
  ctx.me = null;
  ctx.agentsBySite.clear();
  ctx.api.csrf = null;
  shell = null;
  document.title = ctx.t('appName');
}

/** The server no longer knows our session: back to the sign-in page with a reason. */
function sessionEnded(reasonKey) {
  if (!ctx.me) return;
  endSession();
  showLogin(reasonKey);
}

ctx.signOut = async (everywhere = false) => {
  try {
    await (everywhere ? ctx.api.logoutAll() : ctx.api.logout());
  } catch {
    /* the session may already be gone; signing out locally is what matters */
  }
  endSession();
  history.pushState(null, '', `${ROOT}/login`);
  showLogin(everywhere ? 'signedOutEverywhere' : 'signedOut');
};

/** After a password change every session ends, this one included. */
ctx.passwordChanged = () => {
  endSession();
  history.pushState(null, '', `${ROOT}/login`);
  showLogin('passwordChanged');
};

ctx.setLang = (lang) => {
  ctx.lang = lang;
  ctx.t = translator(lang);
  saved.set('lang', lang);
  document.documentElement.lang = lang;
  if (ctx.me) {
    buildShell();
    current = null;
    route();
  } else {
    showLogin();
  }
};

ctx.setSite = (id) => {
  ctx.siteId = id;
  saved.set('site', id);
  renderHeader();
  current?.view?.unmount?.();
  current = null;
  route();
};

// --- sign-in -----------------------------------------------------------------------------------

function langSelect() {
  const sel = h(
    'select',
    { on: { change: () => ctx.setLang(sel.value) } },
    Object.entries(LANGS).map(([code, name]) => h('option', { value: code, selected: code === ctx.lang, lang: code }, name)),
  );
  return field(ctx.t('language'), sel).wrap;
}

function showLogin(reasonKey) {
  const { t } = ctx;
  const app = document.getElementById('app');
  app.className = 'login-page';
  const err = errorBox();
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, value: saved.get('email', '') });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('signIn'));
  const form = h(
    'form',
    {
      class: 'card login',
      'aria-labelledby': 'login-title',
      on: {
        submit: (e) => {
          e.preventDefault();
          err.clear();
          busy(submit, async () => {
            try {
              const me = await ctx.api.login(email.value.trim(), password.value);
              saved.set('email', email.value.trim());
              if (me.mfa_required) return showSecondFactor(me.challenge);
              await signedIn(me);
            } catch (e2) {
              if (e2.code === 'too_many_attempts') showLocked(err, submit, e2);
              else err.show(e2, t);
              password.select();
            }
          });
        },
      },
    },
    h('h1', { id: 'login-title' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), t('appName')),
    reasonKey ? h('p', { class: 'notice', role: 'status' }, t(reasonKey)) : null,
    err.el,
    field(t('email'), email).wrap,
    field(t('password'), password).wrap,
    submit,
    langSelect(),
  );
  replace(app, h('main', { id: 'main' }, form));
  // Come back to where the agent was going after signing in.
  if (location.pathname.startsWith(`${ROOT}/`) && location.pathname !== `${ROOT}/login`) {
    saved.set('next', location.pathname + location.search);
    history.replaceState(null, '', `${ROOT}/login`);
  }
  document.title = `${t('signIn')} · ${t('appName')}`;
  (email.value ? password : email).focus();
}

/** After a successful sign-in: back to where the agent was going, and start. */
async function signedIn(me) {
  const next = saved.get('next');
  saved.set('next', null);
  history.replaceState(null, '', next && next.startsWith(`${ROOT}/`) && next !== `${ROOT}/login` ? next : `${ROOT}/inbox`);
  await startSession(me);
}

/** "Try again in 5 minutes": the wait of a 429, rounded up to whole minutes past one. */
function waitText(t, secs) {
  const s = Math.max(1, Number(secs) || 60);
  return s < 90 ? t('waitSeconds', { n: s }) : t('waitMinutes', { n: Math.ceil(s / 60) });
}

/** A locked sign-in: says how long to wait and keeps the button off until then. */
function showLocked(err, button, e) {
  const { t } = ctx;
  err.show({ code: 'too_many_attempts', message: t('loginLocked', { wait: waitText(t, e.retryAfter) }) }, null);
  const wait = Math.max(1, Number(e.retryAfter) || 60);
  // busy() re-enables the button when the request ends; this runs after it.
  setTimeout(() => {
    button.disabled = true;
    setTimeout(() => (button.disabled = false), wait * 1000);
  }, 0);
}

/** The password was right and the account has TOTP on: ask for the code (or a recovery code). */
function showSecondFactor(challenge) {
  const { t } = ctx;
  const app = document.getElementById('app');
  const err = errorBox();
  let recovery = false;
  const code = h('input', {
    type: 'text', name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric',
    pattern: '[0-9 ]{6,7}', maxlength: '7', required: true, spellcheck: 'false',
  });
  const codeField = field(t('totpCode'), code, t('totpCodeHint'));
  const submit = h('button', { type: 'submit', class: 'primary' }, t('verify'));
  const switcher = h('button', {
    type: 'button', class: 'ghost',
    on: {
      click: () => {
        recovery = !recovery;
        // One input serves both: a recovery code is letters and a dash, not six digits.
        codeField.wrap.querySelector('label').textContent = t(recovery ? 'recoveryCode' : 'totpCode');
        codeField.wrap.querySelector('.hint').textContent = t(recovery ? 'recoveryCodeHint' : 'totpCodeHint');
        code.value = '';
        if (recovery) {
          code.removeAttribute('pattern');
          code.setAttribute('inputmode', 'text');
          code.setAttribute('autocomplete', 'off');
          code.setAttribute('maxlength', '20');
        } else {
          code.setAttribute('pattern', '[0-9 ]{6,7}');
          code.setAttribute('inputmode', 'numeric');
          code.setAttribute('autocomplete', 'one-time-code');
          code.setAttribute('maxlength', '7');
        }
        switcher.textContent = t(recovery ? 'useAuthenticatorCode' : 'useRecoveryCode');
        code.focus();
      },
    },
  }, t('useRecoveryCode'));
  const form = h('form', {
    class: 'card login', 'aria-labelledby': 'login-title',
    on: {
      submit: (e) => {
        e.preventDefault();
        err.clear();
        busy(submit, async () => {
          try {
            const value = code.value.trim();
            const me = await ctx.api.loginTotp(challenge, recovery ? { recovery_code: value } : { code: value.replace(/\s/g, '') });
            await signedIn(me);
          } catch (e2) {
            if (e2.code === 'invalid_challenge') return showLogin('signInExpired');
            if (e2.code === 'too_many_attempts') showLocked(err, submit, e2);
            else err.show(e2, t);
            code.select();
          }
        });
      },
    },
  },
  h('h1', { id: 'login-title' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), t('appName')),
  h('h2', {}, t('twoFactorTitle')),
  h('p', { class: 'muted' }, t('twoFactorPrompt')),
  err.el,
  codeField.wrap,
  submit,
  h('div', { class: 'form-actions' }, switcher,
    h('button', { type: 'button', class: 'ghost', on: { click: () => showLogin() } }, t('backToSignIn'))));
  replace(app, h('main', { id: 'main' }, form));
  document.title = `${t('twoFactorTitle')} · ${t('appName')}`;
  code.focus();
}

// --- shell ---------------------------------------------------------------------------------------

function buildShell() {
  const app = document.getElementById('app');
  app.className = 'shell';
  const header = h('header', { class: 'topbar' });
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(
    app,
    h('a', { class: 'skip', href: '#main', on: { click: (e) => { e.preventDefault(); main.focus(); } } }, ctx.t('skipToContent')),
    header,
    main,
    h('div', { id: 'announcer', class: 'sr-only', 'aria-live': 'polite' }),
    h('div', { id: 'toasts', class: 'toasts' }),
  );
  shell = { header, main };
  renderHeader();
}

function navLink(path, label, extra) {
  const active = location.pathname === path || location.pathname.startsWith(`${path}/`) || (path === `${ROOT}/inbox` && location.pathname.startsWith(`${ROOT}/conversations`));
  return h('li', {}, h('a', { href: path, 'aria-current': active ? 'page' : null, class: active ? 'active' : null }, label, extra));
}

function renderHeader() {
  if (!shell || !ctx.me) return;
  const { t } = ctx;
  const unread = h('span', { class: 'badge', id: 'nav-unread', hidden: true });
  const site = ctx.sites.length > 1
    ? (() => {
        const sel = h('select', { id: 'site-select', on: { change: () => ctx.setSite(sel.value) } },
          ctx.sites.map((s) => h('option', { value: s.id, selected: s.id === ctx.siteId }, s.name)));
        return h('div', { class: 'inline-field' }, h('label', { for: 'site-select' }, t('site')), sel);
      })()
    : null;
  const presence = h('select', {
    id: 'presence-select',
    on: {
      change: async () => {
        try {
          const a = await ctx.api.setPresence(presence.value);
          ctx.me.presence = a.presence;
          announce(t(`presence.${a.presence}`));
        } catch (e) {
          alertError(e);
          presence.value = ctx.me.presence;
        }
      },
    },
  }, ['online', 'away', 'offline'].map((p) => h('option', { value: p, selected: ctx.me.presence === p }, t(`presence.${p}`))));
  const lang = h('select', { id: 'lang-select', on: { change: () => ctx.setLang(lang.value) } },
    Object.entries(LANGS).map(([code, name]) => h('option', { value: code, selected: code === ctx.lang, lang: code }, name)));

  const notifyBtn = ctx.notifier.permission === 'default'
    ? h('button', {
        type: 'button',
        class: 'ghost',
        id: 'enable-notifications',
        on: {
          click: async () => {
            const p = await ctx.notifier.request();
            ctx.notifier.unlockAudio();
            announce(t(p === 'granted' ? 'notificationsOn' : 'notificationsOff'));
            renderHeader();
          },
        },
      }, t('enableNotifications'))
    : null;
  const sound = h('button', {
    type: 'button',
    class: 'ghost',
    id: 'sound-toggle',
    'aria-pressed': String(ctx.notifier.soundOn),
    on: {
      click: () => {
        ctx.notifier.setSound(!ctx.notifier.soundOn);
        sound.setAttribute('aria-pressed', String(ctx.notifier.soundOn));
      },
    },
  }, t('sound'));

  // Account menu: a disclosure, so it needs no roving focus; Escape closes it.
  const menuId = 'account-menu';
  const menu = h('ul', { id: menuId, class: 'menu', hidden: true },
    h('li', {}, h('a', { href: `${ROOT}/account` }, t('account'))),
    h('li', {}, h('button', { type: 'button', on: { click: () => ctx.signOut(false) } }, t('signOut'))),
    h('li', {}, h('button', { type: 'button', on: { click: () => ctx.signOut(true) } }, t('signOutEverywhere'))),
  );
  const toggle = h('button', {
    type: 'button',
    class: 'ghost',
    'aria-expanded': 'false',
    'aria-controls': menuId,
    on: {
      click: () => {
        const open = menu.hidden;
        menu.hidden = !open;
        toggle.setAttribute('aria-expanded', String(open));
        if (open) menu.querySelector('a,button')?.focus();
      },
    },
  }, ctx.me.name, h('span', { 'aria-hidden': 'true' }, ' ▾'));
  const account = h('div', {
    class: 'account',
    on: {
      keydown: (e) => {
        if (e.key === 'Escape' && !menu.hidden) {
          menu.hidden = true;
          toggle.setAttribute('aria-expanded', 'false');
          toggle.focus();
        }
      },
      focusout: (e) => {
        if (!account.contains(e.relatedTarget)) {
          menu.hidden = true;
          toggle.setAttribute('aria-expanded', 'false');
        }
      },
      click: (e) => {
        if (e.target.closest('a')) {
          menu.hidden = true;
          toggle.setAttribute('aria-expanded', 'false');
        }
      },
    },
  }, toggle, menu);

  replace(
    shell.header,
    h('a', { class: 'brand', href: `${ROOT}/inbox` }, h('span', { class: 'logo', 'aria-hidden': 'true' }), t('appName')),
    h('nav', { class: 'mainnav', 'aria-label': t('mainNavigation') },
      h('ul', {}, navLink(`${ROOT}/inbox`, t('inbox'), unread), navLink(`${ROOT}/kb`, t('knowledgeBase')), navLink(`${ROOT}/analytics`, t('analytics')), navLink(`${ROOT}/settings`, t('settings')))),
    h('div', { class: 'tools' },
      site,
      h('div', { class: 'inline-field' }, h('label', { for: 'presence-select' }, t('presence')), presence),
      h('div', { class: 'inline-field' }, h('label', { for: 'lang-select' }, t('language')), lang),
      notifyBtn,
      sound,
      h('span', { id: 'conn', class: 'conn', role: 'status' }),
      account),
  );
  renderConnection();
  renderUnread();
}

function renderConnection() {
  const el = document.getElementById('conn');
  if (!el || !ctx.live) return;
  el.dataset.state = ctx.live.state;
  el.textContent = ctx.t(`conn.${ctx.live.state}`);
}

function renderUnread() {
  if (!ctx.inbox) return;
  const n = ctx.inbox.unreadConversations();
  const el = document.getElementById('nav-unread');
  if (el) {
    el.hidden = !n;
    el.textContent = String(n);
    el.setAttribute('aria-label', ctx.t('unreadConversations', { n }));
  }
  document.title = (n ? `(${n}) ` : '') + ctx.t('appName');
}

/** Shows an API error in the toast area (for actions outside any form). */
function alertError(e) {
  const host = document.getElementById('toasts');
  const msg = ctx.t('actionFailed', { message: e?.code ? `${translateCode(e)}` : String(e) });
  if (!host) return;
  const el = h('div', { class: 'toast error', role: 'alert' }, msg);
  host.append(el);
  setTimeout(() => el.remove(), 8000);
}

function translateCode(e) {
  const k = `err.${e.code}`;
  const tr = ctx.t(k);
  return tr !== k ? `${tr} (${e.message})` : e.message;
}
ctx.alertError = alertError;

// --- routing -------------------------------------------------------------------------------------

const ROUTES = [
  { re: /^\/console\/?$/, redirect: `${ROOT}/inbox` },
  { re: /^\/console\/inbox\/?$/, key: 'inbox', load: () => import('./inbox.js'), params: () => ({ conversation: null }) },
  { re: /^\/console\/conversations\/([\w-]+)\/?$/, key: 'inbox', load: () => import('./inbox.js'), params: (m) => ({ conversation: m[1] }) },
  { re: /^\/console\/kb(?:\/(.*))?$/, key: 'kb', load: () => import('./kb.js'), params: (m) => ({ path: (m[1] || '').replace(/\/$/, '') }) },
  { re: /^\/console\/analytics\/?$/, key: 'analytics', load: () => import('./analytics.js'), params: () => ({}) },
  { re: /^\/console\/settings(?:\/([\w-]+))?\/?$/, key: 'settings', load: () => import('./settings.js'), params: (m) => ({ tab: m[1] || 'site' }) },
  { re: /^\/console\/account\/?$/, key: 'account', load: () => import('./settings.js'), params: () => ({ tab: 'account' }) },
];

let routing = 0;
let navigated = false;
async function route() {
  if (!ctx.me || !shell) return;
  const path = location.pathname;
  const r = ROUTES.find((x) => x.re.test(path));
  renderHeader();
  if (!r) {
    current?.view?.unmount?.();
    current = null;
    replace(shell.main, h('h1', {}, ctx.t('notFound')), h('p', {}, h('a', { href: `${ROOT}/inbox` }, ctx.t('inbox'))));
    return;
  }
  if (r.redirect) return ctx.navigate(r.redirect, { replace: true });
  const params = r.params(r.re.exec(path));
  params.query = new URLSearchParams(location.search);
  const key = r.key;
  if (current?.key === key && current.view?.update) {
    current.view.update(params);
    return;
  }
  const n = ++routing;
  const mod = await r.load();
  if (n !== routing || !shell) return; // a later navigation won, or the session ended
  current?.view?.unmount?.();
  const main = shell.main;
  replace(main);
  const view = await mod.mount(ctx, main, params);
  if (n !== routing || shell?.main !== main) {
    view?.unmount?.();
    return;
  }
  current = { key, view };
  // On in-app navigation focus moves to the new view's heading; on the first view after a
  // page load or sign-in it stays at the top, where Tab reaches the skip link first.
  if (navigated) focusHeading(main);
  navigated = true;
}

// Same-origin console links navigate in place (history API); modified clicks open new tabs.
document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target && a.target !== '_self') return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(`${ROOT}/`) || !ctx.me) return;
  e.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) ctx.navigate(url.pathname + url.search);
});
addEventListener('popstate', () => route());

boot();

// Settings for what the API exposes: the site (name, allowed origins, its widget and
// conversation settings, the embed snippet), the assistant (provider chain and the assistant's
// settings), AI usage and insights (assistant.js), privacy (privacy.js: retention, data
// requests, the audit log), its agents (create, role, disable, add or
// remove members), canned replies, tags, the agent's own API tokens; and the account page
// (name, password change, two-factor sign-in, sign out here or everywhere, language).
//
// Site settings are rendered from the settings object the server returns (settings-fields.js),
// so a setting added on the server appears here without a console change. The assistant's keys
// are grouped on the Assistant page instead; either page's PATCH sends the whole object back,
// as the API replaces settings as a whole.

import { h, replace, field, errorBox, timeEl, busy, uid, toast, describeError } from './dom.js';
import { settingsFields, ASSISTANT_KEYS } from './settings-fields.js';
import { assistantTab, usageTab, insightsTab } from './assistant.js';
import { privacyTab, PRIVACY_KEYS } from './privacy.js';
import { qualityTab } from './quality.js';

const TABS = ['site', 'assistant', 'usage', 'insights', 'quality', 'privacy', 'agents', 'canned', 'tags', 'tokens'];
/** Tabs only admins can use (the API refuses the rest). */
const ADMIN_TABS = new Set(['usage', 'privacy']);
/** Tabs for editors and admins (their APIs refuse agents). */
const EDITOR_TABS = new Set(['quality']);

export async function mount(ctx, main, params) {
  const { t } = ctx;
  if (params.tab === 'account') {
    account(ctx, main);
    return {};
  }
  const tabs = TABS.filter((x) => (!ADMIN_TABS.has(x) || ctx.can('admin')) && (!EDITOR_TABS.has(x) || ctx.can('editor')));
  const tab = tabs.includes(params.tab) ? params.tab : 'site';
  const site = ctx.site();
  const body = h('div', { class: 'settings-body' });
  replace(main,
    h('div', { class: 'page settings' },
      h('div', { class: 'page-head' }, h('h1', {}, t('settings'), site && ctx.sites.length > 1 ? h('span', { class: 'muted' }, ` · ${site.name}`) : null)),
      h('nav', { class: 'tabs', 'aria-label': t('settings') }, h('ul', {}, tabs.map((x) => {
        const cur = x === tab;
        return h('li', {}, h('a', { href: `/console/settings/${x}`, 'aria-current': cur ? 'page' : null, class: cur ? 'active' : null }, t(`settingsTab.${x}`)));
      }))),
      body));
  if (!site && tab !== 'tokens') {
    replace(body, h('p', {}, t('noSite')), ctx.can('admin') ? newSiteForm(ctx) : null);
    return {};
  }
  if (tab === 'site' || tab === 'assistant' || tab === 'privacy') {
    // Read the site again: another admin may have changed it since sign-in.
    try {
      Object.assign(site, await ctx.api.site(site.id));
    } catch (e) {
      replace(body, h('p', { class: 'error-box', role: 'alert' }, describeError(e, t)));
      return {};
    }
  }
  const views = { site: siteSettings, assistant: assistantTab, usage: usageTab, insights: insightsTab, quality: qualityTab, privacy: privacyTab, agents, canned, tags, tokens };
  const view = views[tab](ctx, body, site, params);
  return { unmount: () => view?.unmount?.() };
}

// --- site ----------------------------------------------------------------------------------------

function siteSettings(ctx, body, site) {
  const { t, api } = ctx;
  const admin = ctx.can('admin');
  const err = errorBox();
  const name = h('input', { type: 'text', value: site.name, required: true, maxlength: '100' });
  const origins = h('textarea', { rows: '3' });
  origins.value = site.allowed_origins.join('\n');
  const shown = Object.keys(site.settings).filter((k) => !ASSISTANT_KEYS.includes(k) && !PRIVACY_KEYS.includes(k));
  const settingsForm = settingsFields(t, site.settings, shown, { disabled: !admin });
  const save = h('button', { type: 'submit', class: 'primary' }, t('save'));
  const snippet = `<script src="${location.origin}/widget.js" data-site="${site.id}" async></script>`;
  const code = h('textarea', { readonly: true, rows: '2', class: 'code', id: uid('embed') });
  code.value = snippet;
  const copy = h('button', { type: 'button', class: 'small', on: { click: async () => {
    try {
      await navigator.clipboard.writeText(snippet);
      toast(t('copied'));
    } catch {
      code.select();
    }
  } } }, t('copy'));

  const form = h('form', { class: 'settings-form', on: { submit: (e) => { e.preventDefault(); busy(save, submit); } } },
    err.el,
    h('h2', {}, t('siteTitle')),
    field(t('siteName'), name).wrap,
    field(t('allowedOrigins'), origins, t('allowedOriginsHint')).wrap,
    h('p', { class: 'muted' }, t('siteId'), ' ', h('code', {}, site.id)),
    h('h2', {}, t('siteBehaviour')),
    h('p', { class: 'muted' }, t('assistantSettingsMoved'), ' ', h('a', { href: '/console/settings/assistant' }, t('settingsTab.assistant'))),
    h('div', { class: 'settings-grid' }, settingsForm.fields),
    admin ? save : h('p', { class: 'muted' }, t('adminOnly')));
  for (const el of form.querySelectorAll('input, textarea, select')) if (!admin) el.disabled = true;
  replace(body, form,
    h('section', { class: 'panel', 'aria-labelledby': 'embed-h' },
      h('h2', { id: 'embed-h' }, t('embedCode')), h('label', { for: code.id }, t('embedHint')), code, copy,
      ' ', h('a', { href: `/demo?site=${site.id}`, target: '_blank', rel: 'noopener' }, t('openDemo'))),
    admin ? newSiteForm(ctx) : null);

  async function submit() {
    err.clear();
    // Unknown keys keep their values: the object goes back whole.
    const settings = { ...site.settings, ...settingsForm.read() };
    try {
      const updated = await api.patch(`/sites/${site.id}`, {
        name: name.value.trim(),
        allowed_origins: origins.value.split('\n').map((x) => x.trim()).filter(Boolean),
        settings,
      });
      Object.assign(site, updated);
      origins.value = updated.allowed_origins.join('\n');
      await ctx.refreshSites();
      toast(t('saved'));
    } catch (e) {
      err.show(e, t);
    }
  }
}

function newSiteForm(ctx) {
  const { t, api } = ctx;
  const err = errorBox();
  const name = h('input', { type: 'text', required: true, maxlength: '100' });
  const origins = h('textarea', { rows: '2' });
  const create = h('button', { type: 'submit' }, t('createSite'));
  return h('form', { class: 'panel', 'aria-labelledby': 'newsite-h', on: { submit: (e) => { e.preventDefault(); busy(create, async () => {
    err.clear();
    try {
      const s = await api.post('/sites', { name: name.value.trim(), allowed_origins: origins.value.split('\n').map((x) => x.trim()).filter(Boolean) });
      await ctx.refreshSites();
      ctx.setSite(s.id);
      toast(t('siteCreated'));
    } catch (e2) {
      err.show(e2, t);
    }
  }); } } },
  h('h2', { id: 'newsite-h' }, t('newSite')), err.el,
  field(t('siteName'), name).wrap,
  field(t('allowedOrigins'), origins, t('allowedOriginsHint')).wrap,
  create);
}

// --- agents ----------------------------------------------------------------------------------------

function agents(ctx, body, site) {
  const { t, api } = ctx;
  const admin = ctx.can('admin');
  const err = errorBox();
  const table = h('div', { 'aria-live': 'polite' });
  replace(body, h('h2', {}, t('settingsTab.agents')), err.el, table, admin ? newAgentForm() : null, admin ? addMemberForm() : null);

  async function load() {
    try {
      const list = await ctx.agents(site.id, true);
      replace(table, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, [t('name'), t('email'), t('role'), t('presence'), t('accountState'), admin ? t('actions') : null].filter(Boolean).map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, list.map((a) => agentRow(a)))));
    } catch (e) {
      err.show(e, t);
    }
  }

  function agentRow(a) {
    const self = a.id === ctx.me.id;
    const cells = [
      h('td', {}, a.name, self ? h('span', { class: 'muted' }, ` (${t('you')})`) : null),
      h('td', {}, a.email),
    ];
    if (admin && !self) {
      const role = h('select', { 'aria-label': t('roleOf', { name: a.name }) }, ['agent', 'editor', 'admin'].map((r) => h('option', { value: r, selected: r === a.role }, t(`role.${r}`))));
      role.addEventListener('change', () => patch(a, { role: role.value }));
      cells.push(h('td', {}, role));
    } else cells.push(h('td', {}, t(`role.${a.role}`)));
    cells.push(h('td', {}, h('span', { class: `presence p-${a.presence}` }, t(`presence.${a.presence}`))));
    cells.push(h('td', {}, a.disabled ? t('disabled') : t('active')));
    if (admin) {
      const acts = [];
      if (!self) {
        const toggle = h('button', { type: 'button', class: 'small ghost' }, a.disabled ? t('enable') : t('disable'));
        toggle.setAttribute('aria-label', `${a.disabled ? t('enable') : t('disable')} ${a.name}`);
        toggle.addEventListener('click', () => busy(toggle, () => patch(a, { disabled: !a.disabled })));
        const remove = h('button', { type: 'button', class: 'small ghost' }, t('removeFromSite'));
        remove.setAttribute('aria-label', t('removeNamed', { name: a.name }));
        remove.addEventListener('click', () => busy(remove, async () => {
          if (!confirm(t('confirmRemove', { name: a.name }))) return;
          try {
            await api.del(`/sites/${site.id}/members/${a.id}`);
            toast(t('removed'));
            load();
          } catch (e) {
            err.show(e, t);
          }
        }));
        acts.push(toggle, remove);
      }
      cells.push(h('td', { class: 'row-actions' }, acts));
    }
    return h('tr', {}, cells);
  }

  async function patch(a, change) {
    err.clear();
    try {
      await api.patch(`/agents/${a.id}`, change);
      toast(t('saved'));
    } catch (e) {
      err.show(e, t);
    }
    load();
  }

  function newAgentForm() {
    const ferr = errorBox();
    const email = h('input', { type: 'email', required: true, autocomplete: 'off' });
    const name = h('input', { type: 'text', required: true, maxlength: '100' });
    const password = h('input', { type: 'password', required: true, minlength: '10', autocomplete: 'new-password' });
    const role = h('select', {}, ['agent', 'editor', 'admin'].map((r) => h('option', { value: r }, t(`role.${r}`))));
    const create = h('button', { type: 'submit' }, t('createAgent'));
    const form = h('form', { class: 'panel', 'aria-labelledby': 'newagent-h', on: { submit: (e) => { e.preventDefault(); busy(create, async () => {
      ferr.clear();
      try {
        await api.post('/agents', { email: email.value.trim(), name: name.value.trim(), password: password.value, role: role.value, site_ids: [site.id] });
        form.reset();
        toast(t('agentCreated'));
        load();
      } catch (e2) {
        ferr.show(e2, t);
      }
    }); } } },
    h('h3', { id: 'newagent-h' }, t('newAgent')), ferr.el,
    h('div', { class: 'grid2' }, field(t('email'), email).wrap, field(t('name'), name).wrap, field(t('initialPassword'), password, t('passwordRule')).wrap, field(t('role'), role).wrap),
    create);
    return form;
  }

  /** Adds someone who works on another of the admin's sites (the API lists no other agents). */
  function addMemberForm() {
    const ferr = errorBox();
    const sel = h('select', {});
    const add = h('button', { type: 'submit' }, t('addToSite'));
    const form = h('form', { class: 'panel', 'aria-labelledby': 'addmember-h', hidden: true, on: { submit: (e) => { e.preventDefault(); busy(add, async () => {
      ferr.clear();
      try {
        await api.post(`/sites/${site.id}/members`, { agent_id: sel.value });
        toast(t('added'));
        load();
        fillCandidates();
      } catch (e2) {
        ferr.show(e2, t);
      }
    }); } } },
    h('h3', { id: 'addmember-h' }, t('addExisting')), ferr.el, field(t('agent'), sel, t('addExistingHint')).wrap, add);
    async function fillCandidates() {
      const members = new Set((await ctx.agents(site.id, true)).map((a) => a.id));
      const seen = new Map();
      for (const s of ctx.sites) {
        if (s.id === site.id) continue;
        try {
          for (const a of await ctx.agents(s.id)) if (!members.has(a.id)) seen.set(a.id, a);
        } catch {
          /* a site we cannot read adds nobody */
        }
      }
      replace(sel, [...seen.values()].map((a) => h('option', { value: a.id }, `${a.name} <${a.email}>`)));
      form.hidden = !seen.size;
    }
    fillCandidates();
    return form;
  }
  load();
}

// --- canned replies ----------------------------------------------------------------------------------

function canned(ctx, body, site) {
  const { t, api } = ctx;
  const editor = ctx.can('editor');
  const err = errorBox();
  const list = h('div', { 'aria-live': 'polite' });
  const shortcut = h('input', { type: 'text', required: true, maxlength: '33', pattern: '/?[\\p{L}\\p{N}_\\-]{1,32}', autocomplete: 'off' });
  const title = h('input', { type: 'text', maxlength: '100' });
  const text = h('textarea', { rows: '4', required: true });
  const save = h('button', { type: 'submit', class: 'primary' }, t('create'));
  const cancel = h('button', { type: 'button', class: 'ghost', hidden: true }, t('cancel'));
  const formTitle = h('h3', { id: 'canned-form-h' }, t('newCanned'));
  let editing = null;
  const reset = () => {
    editing = null;
    form.reset();
    formTitle.textContent = t('newCanned');
    save.textContent = t('create');
    cancel.hidden = true;
  };
  cancel.addEventListener('click', reset);
  const form = h('form', { class: 'panel', 'aria-labelledby': 'canned-form-h', on: { submit: (e) => { e.preventDefault(); busy(save, async () => {
    err.clear();
    const payload = { shortcut: shortcut.value.trim(), title: title.value.trim() || null, text: text.value };
    try {
      if (editing) await api.patch(`/canned-replies/${editing}`, payload);
      else await api.post(`/sites/${site.id}/canned-replies`, payload);
      toast(t('saved'));
      reset();
      load();
    } catch (e2) {
      err.show(e2, t);
    }
  }); } } },
  formTitle,
  h('div', { class: 'grid2' }, field(t('shortcut'), shortcut, t('shortcutHint')).wrap, field(t('title'), title).wrap),
  field(t('text'), text).wrap, h('div', { class: 'form-actions' }, save, cancel));
  replace(body, h('h2', {}, t('settingsTab.canned')), h('p', { class: 'muted' }, t('cannedIntro')), err.el, list, editor ? form : null);

  async function load() {
    try {
      const items = await api.cannedReplies(site.id);
      replace(list, items.length
        ? h('table', { class: 'table' },
            h('thead', {}, h('tr', {}, [t('shortcut'), t('title'), t('text'), editor ? t('actions') : null].filter(Boolean).map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, items.map((c) => {
              const acts = [];
              if (editor) {
                const edit = h('button', { type: 'button', class: 'small ghost' }, t('edit'));
                edit.setAttribute('aria-label', t('editNamed', { name: `/${c.shortcut}` }));
                edit.addEventListener('click', () => {
                  editing = c.id;
                  shortcut.value = c.shortcut;
                  title.value = c.title;
                  text.value = c.text;
                  formTitle.textContent = t('editCanned', { name: `/${c.shortcut}` });
                  save.textContent = t('save');
                  cancel.hidden = false;
                  shortcut.focus();
                });
                const del = h('button', { type: 'button', class: 'small ghost' }, t('delete'));
                del.setAttribute('aria-label', t('deleteNamed', { name: `/${c.shortcut}` }));
                del.addEventListener('click', () => busy(del, async () => {
                  if (!confirm(t('confirmDelete', { name: `/${c.shortcut}` }))) return;
                  try {
                    await api.del(`/canned-replies/${c.id}`);
                    toast(t('deleted'));
                    load();
                  } catch (e) {
                    err.show(e, t);
                  }
                }));
                acts.push(edit, del);
              }
              return h('tr', {}, h('td', {}, h('code', {}, `/${c.shortcut}`)), h('td', {}, c.title), h('td', { class: 'pre' }, c.text),
                editor ? h('td', { class: 'row-actions' }, acts) : null);
            })))
        : h('p', { class: 'muted' }, t('noCanned')));
    } catch (e) {
      err.show(e, t);
    }
  }
  load();
}

// --- tags ---------------------------------------------------------------------------------------------

function tags(ctx, body, site) {
  const { t, api } = ctx;
  const admin = ctx.can('admin');
  const err = errorBox();
  const list = h('ul', { class: 'tag-admin', 'aria-live': 'polite' });
  replace(body, h('h2', {}, t('settingsTab.tags')), h('p', { class: 'muted' }, t('tagsIntro')), err.el, list);
  async function load() {
    try {
      const items = await api.tags(site.id);
      replace(list, items.length
        ? items.map((x) => {
            const del = admin ? h('button', { type: 'button', class: 'small ghost' }, t('delete')) : null;
            del?.setAttribute('aria-label', t('deleteNamed', { name: `#${x.name}` }));
            del?.addEventListener('click', () => busy(del, async () => {
              if (!confirm(t('confirmDeleteTag', { name: x.name }))) return;
              try {
                await api.del(`/sites/${site.id}/tags/${x.id}`);
                toast(t('deleted'));
                load();
              } catch (e) {
                err.show(e, t);
              }
            }));
            return h('li', {}, h('a', { href: `/console/inbox?filter=all&tag=${encodeURIComponent(x.name)}` }, `#${x.name}`), ' ', timeEl(x.created_at, ctx.lang), ' ', del);
          })
        : h('li', { class: 'muted' }, t('noTagsYet')));
    } catch (e) {
      err.show(e, t);
    }
  }
  load();
}

// --- API tokens ----------------------------------------------------------------------------------------

function tokens(ctx, body) {
  const { t, api } = ctx;
  const err = errorBox();
  const list = h('div', { 'aria-live': 'polite' });
  const name = h('input', { type: 'text', required: true, maxlength: '100' });
  const create = h('button', { type: 'submit', class: 'primary' }, t('createToken'));
  const secretBox = h('div', { class: 'secret', hidden: true });
  const form = h('form', { class: 'panel', 'aria-labelledby': 'tok-h', on: { submit: (e) => { e.preventDefault(); busy(create, async () => {
    err.clear();
    try {
      const tok = await api.post('/api-tokens', { name: name.value.trim() });
      form.reset();
      const out = h('input', { type: 'text', readonly: true, value: tok.secret, id: uid('secret'), class: 'code' });
      replace(secretBox,
        h('p', { role: 'alert' }, t('tokenOnce')),
        h('label', { for: out.id }, t('tokenSecret', { name: tok.name })), out,
        h('button', { type: 'button', class: 'small', on: { click: async () => {
          try {
            await navigator.clipboard.writeText(tok.secret);
            toast(t('copied'));
          } catch {
            out.select();
          }
        } } }, t('copy')));
      secretBox.hidden = false;
      out.select();
      load();
    } catch (e2) {
      err.show(e2, t);
    }
  }); } } },
  h('h3', { id: 'tok-h' }, t('newToken')), field(t('tokenName'), name, t('tokenHint')).wrap, create);
  replace(body, h('h2', {}, t('settingsTab.tokens')), h('p', { class: 'muted' }, t('tokensIntro')), err.el, secretBox, list, form);

  async function load() {
    try {
      const items = await api.get('/api-tokens');
      replace(list, items.length
        ? h('table', { class: 'table' },
            h('thead', {}, h('tr', {}, [t('name'), t('created'), t('lastUsed'), t('actions')].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, items.map((x) => {
              const revoke = h('button', { type: 'button', class: 'small ghost' }, t('revoke'));
              revoke.setAttribute('aria-label', t('revokeNamed', { name: x.name }));
              revoke.addEventListener('click', () => busy(revoke, async () => {
                if (!confirm(t('confirmRevoke', { name: x.name }))) return;
                try {
                  await api.del(`/api-tokens/${x.id}`);
                  toast(t('revoked'));
                  load();
                } catch (e) {
                  err.show(e, t);
                }
              }));
              return h('tr', {}, h('td', {}, x.name), h('td', {}, timeEl(x.created_at, ctx.lang)), h('td', {}, x.last_used_at ? timeEl(x.last_used_at, ctx.lang) : t('never')), h('td', {}, revoke));
            })))
        : h('p', { class: 'muted' }, t('noTokens')));
    } catch (e) {
      err.show(e, t);
    }
  }
  load();
}

// --- account -------------------------------------------------------------------------------------------

function account(ctx, main) {
  const { t, api } = ctx;
  const nameErr = errorBox();
  const name = h('input', { type: 'text', value: ctx.me.name, required: true, maxlength: '100', autocomplete: 'name' });
  const saveName = h('button', { type: 'submit' }, t('save'));
  const pwErr = errorBox();
  const current = h('input', { type: 'password', required: true, autocomplete: 'current-password' });
  const next = h('input', { type: 'password', required: true, minlength: '10', autocomplete: 'new-password' });
  const again = h('input', { type: 'password', required: true, minlength: '10', autocomplete: 'new-password' });
  const change = h('button', { type: 'submit', class: 'primary' }, t('changePassword'));
  const out = h('button', { type: 'button', on: { click: () => ctx.signOut(false) } }, t('signOut'));
  const outAll = h('button', { type: 'button', on: { click: () => ctx.signOut(true) } }, t('signOutEverywhere'));

  replace(main, h('div', { class: 'page account-page' },
    h('h1', {}, t('account')),
    h('p', {}, ctx.me.email, ' · ', t(`role.${ctx.me.role}`)),
    h('form', { class: 'panel', 'aria-labelledby': 'name-h', on: { submit: (e) => { e.preventDefault(); busy(saveName, async () => {
      nameErr.clear();
      try {
        const a = await api.patch(`/agents/${ctx.me.id}`, { name: name.value.trim() });
        ctx.me.name = a.name;
        ctx.renderHeader();
        toast(t('saved'));
      } catch (e2) {
        nameErr.show(e2, t);
      }
    }); } } }, h('h2', { id: 'name-h' }, t('displayName')), nameErr.el, field(t('name'), name, t('nameHint')).wrap, saveName),
    h('form', { class: 'panel', 'aria-labelledby': 'pw-h', on: { submit: (e) => { e.preventDefault(); busy(change, async () => {
      pwErr.clear();
      if (next.value !== again.value) {
        pwErr.show({ code: 'mismatch', message: t('passwordsDiffer') }, t);
        again.focus();
        return;
      }
      try {
        await api.changePassword(current.value, next.value);
        ctx.passwordChanged();
      } catch (e2) {
        pwErr.show(e2, t);
      }
    }); } } },
    h('h2', { id: 'pw-h' }, t('changePassword')), h('p', { class: 'muted' }, t('passwordChangeNote')), pwErr.el,
    field(t('currentPassword'), current).wrap,
    field(t('newPassword'), next, t('passwordRule')).wrap,
    field(t('repeatPassword'), again).wrap,
    change),
    securityPanel(ctx),
    h('section', { class: 'panel', 'aria-labelledby': 'sess-h' }, h('h2', { id: 'sess-h' }, t('sessions')), h('p', { class: 'muted' }, t('sessionsNote')), h('div', { class: 'form-actions' }, out, outAll))));
}

// --- security: TOTP second factor ------------------------------------------------------------------

/**
 * The Security panel: two-factor sign-in with an authenticator app. Off: set up (QR code and
 * secret, confirm with a first code), then the recovery codes are shown once. On: turn off
 * with the password and a code. The QR code comes from the server as SVG and is shown as an
 * image (a data: URL), never inserted as markup.
 */
function securityPanel(ctx) {
  const { t } = ctx;
  const panel = h('section', { class: 'panel security', id: 'security', 'aria-labelledby': 'sec-h' });
  const head = () => h('h2', { id: 'sec-h' }, t('security'));
  replace(panel, head(), h('p', { class: 'muted' }, t('loading')));
  ctx.api.me().then((me) => render(me.totp_enabled), (e) => replace(panel, head(), h('p', { class: 'error-box', role: 'alert' }, describeError(e, t))));
  return panel;

  function render(enabled) {
    replace(panel, head(),
      h('p', { class: 'totp-status', dataset: { enabled: String(enabled) } }, t(enabled ? 'totpOn' : 'totpOff')),
      enabled ? disableForm() : startButton());
  }

  function startButton() {
    const err = errorBox();
    const start = h('button', { type: 'button', class: 'primary', on: { click: () => busy(start, async () => {
      err.clear();
      try {
        setupForm(await ctx.api.totpSetup());
      } catch (e) {
        err.show(e, t);
      }
    }) } }, t('totpSetUp'));
    return h('div', {}, h('p', { class: 'muted' }, t('totpIntro')), err.el, start);
  }

  function setupForm(setup) {
    const err = errorBox();
    const qr = h('img', {
      class: 'totp-qr', width: '200', height: '200', alt: t('totpQrAlt'),
      src: `data:image/svg+xml;base64,${btoa(setup.qr_svg)}`,
    });
    const secret = h('code', { class: 'totp-secret' }, setup.secret.replace(/(.{4})/g, '$1 ').trim());
    const copy = h('button', { type: 'button', class: 'small', on: { click: () => copyText(setup.secret) } }, t('copy'));
    const code = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9 ]{6,7}', maxlength: '7', required: true });
    const confirm = h('button', { type: 'submit', class: 'primary' }, t('totpTurnOn'));
    const cancel = h('button', { type: 'button', on: { click: () => render(false) } }, t('cancel'));
    const form = h('form', { class: 'totp-setup', on: { submit: (e) => { e.preventDefault(); busy(confirm, async () => {
      err.clear();
      try {
        const { recovery_codes } = await ctx.api.totpConfirm(code.value.replace(/\s/g, ''));
        showRecoveryCodes(recovery_codes);
      } catch (e2) {
        err.show(e2, t);
        code.select();
      }
    }); } } },
    h('ol', { class: 'steps' },
      h('li', {}, t('totpStepScan'), h('div', {}, qr)),
      h('li', {}, t('totpStepSecret'), ' ', secret, ' ', copy),
      h('li', {}, t('totpStepConfirm'))),
    err.el,
    field(t('totpCode'), code, t('totpCodeHint')).wrap,
    h('div', { class: 'form-actions' }, confirm, cancel));
    replace(panel, head(), form);
    code.focus();
  }

  function showRecoveryCodes(codes) {
    const list = h('ul', { class: 'recovery-codes code' }, codes.map((c) => h('li', {}, c)));
    const copy = h('button', { type: 'button', on: { click: () => copyText(codes.join('\n')) } }, t('copyRecoveryCodes'));
    const done = h('button', { type: 'button', class: 'primary', on: { click: () => render(true) } }, t('recoveryCodesSaved'));
    replace(panel, head(),
      h('p', { class: 'notice', role: 'status' }, t('totpNowOn')),
      h('h3', {}, t('recoveryCodes')),
      h('p', {}, t('recoveryCodesNote')),
      list,
      h('div', { class: 'form-actions' }, copy, done));
    done.focus();
  }

  function disableForm() {
    const err = errorBox();
    const password = h('input', { type: 'password', required: true, autocomplete: 'current-password' });
    const code = h('input', { type: 'text', required: true, autocomplete: 'one-time-code', maxlength: '20', spellcheck: 'false' });
    const off = h('button', { type: 'submit' }, t('totpTurnOff'));
    return h('form', { class: 'totp-disable', on: { submit: (e) => { e.preventDefault(); busy(off, async () => {
      err.clear();
      // Six digits are an app code; anything else is taken as a recovery code.
      const value = code.value.trim();
      const digits = value.replace(/\s/g, '');
      const factor = /^\d{6}$/.test(digits) ? { code: digits } : { recovery_code: value };
      try {
        await ctx.api.totpDisable(password.value, factor);
        toast(t('totpTurnedOff'));
        render(false);
      } catch (e2) {
        err.show(e2, t);
      }
    }); } } },
    h('p', { class: 'muted' }, t('totpDisableNote')),
    err.el,
    field(t('password'), password).wrap,
    field(t('totpCodeOrRecovery'), code).wrap,
    off);
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      toast(t('copied'));
    } catch {
      toast(t('copyFailed'));
    }
  }
}

// Settings → Privacy (admins only): how long the site keeps conversations and audit events
// (and a sweep on demand), data-subject requests (find a visitor by e-mail or the customer's
// user id, download everything about them, erase them), and the audit log with filters.
//
// The audit log shows this site's events, or the instance's (sign-ins, agent accounts, API
// tokens), which every admin may read. Details are shown as the server stored them: counts,
// ids and field names, never secrets or message text.

import { h, replace, field, errorBox, timeEl, busy, toast } from './dom.js';

/** Keys of `site.settings` this page edits (the Site page leaves them out). */
export const PRIVACY_KEYS = ['retention_days', 'audit_retention_days'];

export function privacyTab(ctx, body, site) {
  const { t } = ctx;
  if (!ctx.can('admin')) {
    replace(body, h('p', { class: 'muted' }, t('adminOnly')));
    return {};
  }
  replace(body,
    h('h2', {}, t('settingsTab.privacy')),
    retention(ctx, site),
    requests(ctx, site),
    auditLog(ctx, site));
  return {};
}

// --- retention --------------------------------------------------------------------------------

function retention(ctx, site) {
  const { t, api } = ctx;
  const err = errorBox();
  const days = (key) => h('input', { type: 'number', min: '1', max: '3650', step: '1', name: key, value: site.settings[key] ?? '' });
  const conv = days('retention_days');
  const audit = days('audit_retention_days');
  const save = h('button', { type: 'submit', class: 'primary' }, t('save'));
  const run = h('button', { type: 'button' }, t('retentionRun'));
  const result = h('p', { class: 'muted', 'aria-live': 'polite' });
  const read = (input) => (input.value.trim() === '' ? null : Number(input.value));
  run.addEventListener('click', () => busy(run, async () => {
    err.clear();
    try {
      let job = await api.post(`/sites/${site.id}/retention/runs`);
      for (let i = 0; i < 120 && (job.status === 'queued' || job.status === 'running'); i++) {
        await new Promise((r) => setTimeout(r, 500));
        job = await api.get(`/sites/${site.id}/retention/runs/${job.id}`);
      }
      const res = job.params?.result;
      result.textContent = res
        ? t('retentionResult', { conversations: res.deleted.conversations, events: res.audit_events_deleted })
        : t('retentionPending');
    } catch (e) {
      err.show(e, t);
    }
  }));
  return h('form', { class: 'panel', 'aria-labelledby': 'retention-h', on: { submit: (e) => { e.preventDefault(); busy(save, async () => {
    err.clear();
    try {
      // The API replaces settings as a whole: send everything back with the two changed.
      const fresh = await api.site(site.id);
      const settings = { ...fresh.settings, retention_days: read(conv), audit_retention_days: read(audit) };
      Object.assign(site, await api.patch(`/sites/${site.id}`, { settings }));
      toast(t('saved'));
    } catch (e2) {
      err.show(e2, t);
    }
  }); } } },
  h('h3', { id: 'retention-h' }, t('retentionTitle')),
  h('p', { class: 'muted' }, t('retentionIntro')),
  err.el,
  h('div', { class: 'settings-grid' },
    field(t('setting.retention_days'), conv, t('settingHint.retention_days')).wrap,
    field(t('setting.audit_retention_days'), audit, t('settingHint.audit_retention_days')).wrap),
  save, ' ', run, result);
}

// --- data-subject requests ----------------------------------------------------------------------

function requests(ctx, site) {
  const { t, api } = ctx;
  const err = errorBox();
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'off' });
  const external = h('input', { type: 'text', name: 'external_id', autocomplete: 'off' });
  const find = h('button', { type: 'submit' }, t('findVisitor'));
  const out = h('div', { 'aria-live': 'polite' });

  async function search() {
    err.clear();
    try {
      const list = await api.get(`/sites/${site.id}/visitors`, { email: email.value.trim(), external_id: external.value.trim() });
      replace(out, list.length
        ? h('table', { class: 'table' },
            h('thead', {}, h('tr', {}, [t('visitorName'), t('email'), t('externalId'), t('lastSeen'), ''].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, list.map((v) => row(v))))
        : h('p', { class: 'muted' }, t('noVisitorFound')));
    } catch (e) {
      replace(out);
      err.show(e, t);
    }
  }

  function row(v) {
    const exportBtn = h('button', { type: 'button', class: 'small' }, t('downloadData'));
    const eraseBtn = h('button', { type: 'button', class: 'small danger-button' }, t('eraseVisitor'));
    exportBtn.addEventListener('click', () => busy(exportBtn, async () => {
      try {
        const doc = await api.get(`/sites/${site.id}/visitors/${v.id}/export`);
        download(`kefu-visitor-${v.id}.json`, doc);
      } catch (e) {
        err.show(e, t);
      }
    }));
    eraseBtn.addEventListener('click', () => {
      if (!confirm(t('confirmErase', { name: v.email || v.name || v.id }))) return;
      busy(eraseBtn, async () => {
        try {
          const r = await api.del(`/sites/${site.id}/visitors/${v.id}`);
          toast(t('visitorErased', { conversations: r.deleted.conversations, messages: r.deleted.messages }));
          await search();
        } catch (e) {
          err.show(e, t);
        }
      });
    });
    return h('tr', {},
      h('td', {}, v.name || h('span', { class: 'muted' }, '—')),
      h('td', {}, v.email || '—'),
      h('td', {}, v.external_id ? h('code', {}, v.external_id) : '—'),
      h('td', {}, timeEl(v.last_seen_at, ctx.lang)),
      h('td', {}, exportBtn, ' ', eraseBtn));
  }

  return h('form', { class: 'panel', 'aria-labelledby': 'dsr-h', on: { submit: (e) => { e.preventDefault(); busy(find, search); } } },
    h('h3', { id: 'dsr-h' }, t('dataRequestsTitle')),
    h('p', { class: 'muted' }, t('dataRequestsIntro')),
    err.el,
    h('div', { class: 'settings-grid' }, field(t('email'), email).wrap, field(t('externalId'), external).wrap),
    find, out);
}

/** Offers a JSON document as a file download. */
function download(name, doc) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// --- audit log ------------------------------------------------------------------------------------

function auditLog(ctx, site) {
  const { t, api } = ctx;
  const err = errorBox();
  const scope = h('select', { name: 'scope' },
    h('option', { value: 'site' }, t('auditScopeSite')),
    h('option', { value: 'instance' }, t('auditScopeInstance')));
  const action = h('input', { type: 'text', name: 'action', placeholder: 'kb.entry' });
  const actor = h('input', { type: 'text', name: 'actor' });
  const apply = h('button', { type: 'submit' }, t('filter'));
  const rows = h('tbody', {});
  const more = h('button', { type: 'button', hidden: true }, t('olderEvents'));
  const empty = h('p', { class: 'muted', hidden: true }, t('noAuditEvents'));
  let next = null;

  async function load(reset) {
    err.clear();
    if (reset) {
      rows.replaceChildren();
      next = null;
    }
    const path = scope.value === 'instance' ? '/audit' : `/sites/${site.id}/audit`;
    try {
      const page = await api.get(path, { action: action.value.trim(), actor: actor.value.trim(), before: next, limit: 50 });
      for (const e of page.events) rows.append(eventRow(ctx, e));
      next = page.next_before ?? null;
      more.hidden = next == null;
      empty.hidden = rows.children.length > 0;
    } catch (e) {
      err.show(e, t);
    }
  }
  more.addEventListener('click', () => busy(more, () => load(false)));
  scope.addEventListener('change', () => load(true));
  load(true);

  return h('section', { class: 'panel', 'aria-labelledby': 'audit-h' },
    h('h3', { id: 'audit-h' }, t('auditTitle')),
    h('p', { class: 'muted' }, t('auditIntro')),
    h('form', { class: 'settings-grid audit-filters', on: { submit: (e) => { e.preventDefault(); busy(apply, () => load(true)); } } },
      field(t('auditScope'), scope).wrap,
      field(t('auditAction'), action, t('auditActionHint')).wrap,
      field(t('auditActor'), actor, t('auditActorHint')).wrap,
      h('div', {}, apply)),
    err.el,
    h('table', { class: 'table audit-table' },
      h('caption', { class: 'sr-only' }, t('auditTitle')),
      h('thead', {}, h('tr', {}, [t('time'), t('auditAction'), t('auditActor'), t('auditTarget'), t('auditIp'), t('auditDetails')].map((c) => h('th', { scope: 'col' }, c)))),
      rows),
    empty, more);
}

function eventRow(ctx, e) {
  const { t } = ctx;
  const who = e.actor_kind === 'agent' || e.actor_kind === 'api_token' ? ctx.agentName(e.actor_id) : null;
  const details = e.details && Object.keys(e.details).length ? JSON.stringify(e.details) : '';
  return h('tr', { dataset: { action: e.action } },
    h('td', {}, timeEl(e.created_at, ctx.lang)),
    h('td', {}, h('code', {}, e.action)),
    h('td', {}, t(`actorKind.${e.actor_kind}`), e.actor_id ? [' ', h('span', { class: 'muted', title: e.actor_id }, who || e.actor_id.slice(0, 8))] : null),
    h('td', {}, e.target_kind ? [e.target_kind, ' ', h('code', { title: e.target_id || '' }, (e.target_id || '').slice(0, 8))] : '—'),
    h('td', {}, e.client_ip || '—'),
    h('td', {}, details ? h('code', { class: 'audit-details' }, details) : '—'));
}

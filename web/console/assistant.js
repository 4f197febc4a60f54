// The assistant's settings pages (docs/API.md, "The assistant"):
//
// - Assistant (admin): the language-model provider chain — list, add, edit, reorder, enable or
//   disable, remove — and the assistant's site settings (the shared settings-fields.js
//   controls, so they render exactly like the Site page's).
// - AI usage (admin): requests, cache hits, failures, tokens and cost per day, provider and
//   model, with totals, over 7, 30 or 90 days.
// - Insights (any member): customer satisfaction (ratings, average, share of 4s and 5s, the
//   1–5 distribution) and what visitors wrote about (intent × sentiment).
//
// API keys are write-only: the server only ever says `has_api_key`, the key field starts empty
// every time, and a save that leaves it empty omits `api_key` so the stored key is kept (a
// "Remove key" action sends `null`). The chain is saved as a whole (PUT replaces it), right
// after each change, so what the table shows is always what the server holds.

import { h, replace, field, errorBox, busy, uid, toast, announce } from './dom.js';
import { settingsFields, ASSISTANT_KEYS } from './settings-fields.js';

/** Periods the usage and insights pages offer, in days. */
const PERIODS = [7, 30, 90];
const DEFAULT_DAYS = 30;
/** The API refuses longer chains. */
const MAX_PROVIDERS = 5;

// --- Assistant page --------------------------------------------------------------------------

/** Settings → Assistant: the provider chain (admins) and the assistant's settings. */
export function assistantTab(ctx, body, site) {
  const { t } = ctx;
  const admin = ctx.can('admin');
  replace(body,
    admin
      ? providerChain(ctx, site)
      : h('section', { class: 'panel', 'aria-labelledby': 'prov-h' }, h('h2', { id: 'prov-h' }, t('providers')), h('p', { class: 'muted' }, t('providersAdminOnly'))),
    assistantSettings(ctx, site));
}

/** The provider chain editor. Every change is one PUT of the whole chain. */
function providerChain(ctx, site) {
  const { t, api } = ctx;
  /** The chain as the server last returned it (ProviderView: no keys, `has_api_key`). */
  let chain = [];
  /** The name of the provider the form edits, or null when it adds one. */
  let editing = null;

  const err = errorBox();
  const heading = h('h2', { id: 'prov-h', tabindex: '-1' }, t('providers'));
  const list = h('div', { class: 'provider-list' }, h('p', { class: 'muted' }, t('loading')));

  // --- the add/edit form ---
  const ferr = errorBox();
  const formTitle = h('h3', { id: 'prov-form-h' }, t('addProvider'));
  const name = h('input', { type: 'text', name: 'provider-name', required: true, maxlength: '50', autocomplete: 'off', spellcheck: 'false' });
  const baseUrl = h('input', { type: 'url', name: 'base-url', required: true, maxlength: '500', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://api.openai.com/v1' });
  const model = h('input', { type: 'text', name: 'model', required: true, maxlength: '200', autocomplete: 'off', spellcheck: 'false' });
  // Write-only: never filled from the server (it has no key to give), cleared after each save.
  const apiKey = h('input', { type: 'password', name: 'api-key', maxlength: '1000', autocomplete: 'new-password', spellcheck: 'false' });
  const keyField = field(t('apiKey'), apiKey, t('apiKeyHintNew'));
  const keyHint = keyField.wrap.querySelector('.hint');
  const keyState = h('p', { class: 'key-state', id: uid('keystate'), hidden: true });
  keyField.wrap.insertBefore(keyState, apiKey);
  apiKey.setAttribute('aria-describedby', `${keyState.id} ${keyHint.id}`);
  const azure = h('input', { type: 'text', name: 'azure-api-version', maxlength: '40', autocomplete: 'off', spellcheck: 'false', placeholder: '2024-10-21' });
  const inPrice = h('input', { type: 'number', name: 'input-price', min: '0', max: '1000000', step: 'any', value: '0' });
  const outPrice = h('input', { type: 'number', name: 'output-price', min: '0', max: '1000000', step: 'any', value: '0' });
  const maxOut = h('input', { type: 'number', name: 'max-output-tokens', min: '16', max: '32000', step: '1', value: '1024' });
  const enabled = h('input', { type: 'checkbox', id: uid('en'), checked: true });
  // Defaults as attributes too, so form.reset() after a save goes back to them.
  inPrice.defaultValue = outPrice.defaultValue = '0';
  maxOut.defaultValue = '1024';
  enabled.defaultChecked = true;
  const submit = h('button', { type: 'submit', class: 'primary' }, t('addProvider'));
  const cancel = h('button', { type: 'button', class: 'ghost', hidden: true, on: { click: () => stopEditing(true) } }, t('cancel'));
  const fullNote = h('p', { class: 'notice', hidden: true }, t('chainFull', { n: MAX_PROVIDERS }));
  const form = h('form', { class: 'panel provider-form', 'aria-labelledby': 'prov-form-h', on: { submit: (e) => { e.preventDefault(); busy(submit, saveForm); } } },
    formTitle,
    fullNote,
    // API errors (422 invalid_field…) right next to the fields they are about.
    ferr.el,
    h('div', { class: 'grid3' },
      field(t('providerName'), name, t('providerNameHint')).wrap,
      field(t('baseUrl'), baseUrl, t('baseUrlHint')).wrap,
      field(t('model'), model).wrap),
    h('div', { class: 'grid2' }, keyField.wrap, field(t('azureApiVersion'), azure, t('azureApiVersionHint')).wrap),
    h('div', { class: 'grid3' },
      field(t('inputPrice'), inPrice, t('priceHint')).wrap,
      field(t('outputPrice'), outPrice, t('priceHint')).wrap,
      field(t('maxOutputTokens'), maxOut, t('maxOutputTokensHint')).wrap),
    h('div', { class: 'field check' }, enabled, h('label', { for: enabled.id }, t('providerEnabled'))),
    h('div', { class: 'form-actions' }, submit, cancel));

  const section = h('section', { class: 'panel providers', 'aria-labelledby': 'prov-h' },
    heading,
    h('p', { class: 'muted' }, t('providersIntro')),
    err.el,
    list,
    form);

  function showKeyState() {
    const p = editing && chain.find((x) => x.name === editing);
    keyState.hidden = !p;
    keyState.textContent = p ? (p.has_api_key ? t('keyStored') : t('noKey')) : '';
    keyHint.textContent = p?.has_api_key ? t('apiKeyHintKeep') : t('apiKeyHintNew');
  }

  function render() {
    if (!chain.length) {
      replace(list, h('p', { class: 'muted' }, t('noProviders')));
    } else {
      replace(list, h('table', { class: 'table providers-table' },
        h('caption', { class: 'sr-only' }, t('providerChainCaption')),
        h('thead', {}, h('tr', {}, [t('order'), t('providerName'), t('model'), t('apiKey'), t('prices'), t('maxOutputTokens'), t('status'), t('actions')].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, chain.map((p, i) => providerRow(p, i)))));
    }
    const full = chain.length >= MAX_PROVIDERS && editing == null;
    submit.disabled = full;
    fullNote.hidden = !full;
    showKeyState();
  }

  function providerRow(p, i) {
    const act = (action, label, aria, run, disabled = false) => {
      const b = h('button', { type: 'button', class: 'small ghost', dataset: { action }, disabled, 'aria-label': aria }, label);
      b.addEventListener('click', () => busy(b, run));
      return b;
    };
    const n = p.name;
    return h('tr', { dataset: { name: n }, class: p.enabled ? null : 'disabled-row' },
      h('td', {}, String(i + 1)),
      h('th', { scope: 'row' }, n, h('div', { class: 'muted small-text' }, p.base_url), p.azure_api_version ? h('div', { class: 'muted small-text' }, t('azureShort', { v: p.azure_api_version })) : null),
      h('td', {}, h('code', {}, p.model)),
      h('td', {}, p.has_api_key ? h('span', { class: 'chip ai' }, t('keyStored')) : h('span', { class: 'muted' }, t('noKey'))),
      h('td', {}, t('priceLine', { input: fmtNum(ctx, p.input_per_million), output: fmtNum(ctx, p.output_per_million) })),
      h('td', {}, fmtNum(ctx, p.max_output_tokens)),
      h('td', {}, p.enabled ? t('enabledState') : h('span', { class: 'chip warn' }, t('disabledState'))),
      h('td', { class: 'row-actions' },
        act('up', t('moveUp'), t('moveUpNamed', { name: n }), () => move(i, -1), i === 0),
        act('down', t('moveDown'), t('moveDownNamed', { name: n }), () => move(i, 1), i === chain.length - 1),
        act('edit', t('edit'), t('editNamed', { name: n }), async () => startEditing(n)),
        act('toggle', p.enabled ? t('disable') : t('enable'), `${p.enabled ? t('disable') : t('enable')} ${n}`, () => toggle(n)),
        p.has_api_key ? act('remove-key', t('removeKey'), t('removeKeyNamed', { name: n }), () => removeKey(n)) : null,
        act('remove', t('remove'), t('removeProviderNamed', { name: n }), () => remove(n))));
  }

  /** What the PUT needs to keep a provider as it is (no `api_key`: the stored key stays). */
  const asInput = (p) => ({
    name: p.name,
    base_url: p.base_url,
    model: p.model,
    azure_api_version: p.azure_api_version || null,
    input_per_million: p.input_per_million,
    output_per_million: p.output_per_million,
    max_output_tokens: p.max_output_tokens,
    enabled: p.enabled,
  });

  /** PUTs `providers`; on success shows the server's chain. Errors go to `box`. */
  async function put(providers, box = err) {
    box.clear();
    try {
      chain = await api.putAiProviders(site.id, providers);
      render();
      return true;
    } catch (e) {
      box.show(e, t);
      return false;
    }
  }

  /** Keyboard focus back on a row's button after the table was rebuilt. */
  function refocus(name, ...actions) {
    const row = list.querySelector(`tr[data-name="${CSS.escape(name)}"]`);
    for (const a of actions) {
      const b = row?.querySelector(`button[data-action="${a}"]:not([disabled])`);
      if (b) return b.focus();
    }
    heading.focus();
  }

  async function move(i, by) {
    const next = chain.map(asInput);
    const [p] = next.splice(i, 1);
    next.splice(i + by, 0, p);
    if (await put(next)) {
      announce(t('movedTo', { name: p.name, n: i + by + 1 }));
      refocus(p.name, by < 0 ? 'up' : 'down', by < 0 ? 'down' : 'up');
    }
  }

  async function toggle(name) {
    const next = chain.map(asInput);
    const p = next.find((x) => x.name === name);
    p.enabled = !p.enabled;
    if (await put(next)) {
      toast(p.enabled ? t('providerOn', { name }) : t('providerOff', { name }));
      refocus(name, 'toggle');
    }
  }

  async function removeKey(name) {
    if (!confirm(t('confirmRemoveKey', { name }))) return;
    // `null` (not a missing field) is what tells the server to forget the key.
    const next = chain.map((p) => (p.name === name ? { ...asInput(p), api_key: null } : asInput(p)));
    if (await put(next)) {
      toast(t('keyRemoved'));
      refocus(name, 'edit');
    }
  }

  async function remove(name) {
    if (!confirm(t('confirmRemoveProvider', { name }))) return;
    if (await put(chain.filter((p) => p.name !== name).map(asInput))) {
      if (editing === name) stopEditing(false);
      toast(t('removed'));
      heading.focus();
    }
  }

  function startEditing(n) {
    const p = chain.find((x) => x.name === n);
    if (!p) return;
    editing = n;
    ferr.clear();
    name.value = p.name;
    baseUrl.value = p.base_url;
    model.value = p.model;
    apiKey.value = '';
    azure.value = p.azure_api_version || '';
    inPrice.value = String(p.input_per_million);
    outPrice.value = String(p.output_per_million);
    maxOut.value = String(p.max_output_tokens);
    enabled.checked = p.enabled;
    formTitle.textContent = t('editProvider', { name: n });
    submit.textContent = t('saveProvider');
    submit.disabled = false;
    cancel.hidden = false;
    showKeyState();
    form.scrollIntoView({ block: 'nearest' });
    name.focus();
  }

  function stopEditing(refocusRow) {
    const was = editing;
    editing = null;
    form.reset();
    ferr.clear();
    formTitle.textContent = t('addProvider');
    submit.textContent = t('addProvider');
    cancel.hidden = true;
    render();
    if (refocusRow && was) refocus(was, 'edit');
  }

  async function saveForm() {
    const entry = {
      name: name.value.trim(),
      base_url: baseUrl.value.trim(),
      model: model.value.trim(),
      azure_api_version: azure.value.trim() || null,
      input_per_million: inPrice.value === '' ? 0 : Number(inPrice.value),
      output_per_million: outPrice.value === '' ? 0 : Number(outPrice.value),
      enabled: enabled.checked,
    };
    if (maxOut.value !== '') entry.max_output_tokens = Number(maxOut.value);
    // Empty means "keep the stored key": the field is left out of the JSON altogether.
    if (apiKey.value.trim()) entry.api_key = apiKey.value.trim();
    const next = chain.map(asInput);
    const at = editing == null ? -1 : next.findIndex((p) => p.name === editing);
    if (at >= 0) next[at] = entry;
    else next.push(entry);
    const wasEditing = editing;
    if (await put(next, ferr)) {
      apiKey.value = '';
      toast(t('saved'));
      if (wasEditing) stopEditing(false);
      else {
        form.reset();
        render();
      }
      announce(t('providerSaved', { name: entry.name }));
      refocus(entry.name, 'edit');
    } else {
      // The key stays in the field for a retry, but only in the field's live value — never in
      // an attribute of the page.
      ferr.el.scrollIntoView({ block: 'nearest' });
    }
  }

  (async () => {
    try {
      chain = await api.aiProviders(site.id);
      render();
    } catch (e) {
      replace(list);
      err.show(e, t);
    }
  })();
  return section;
}

/** The assistant's site settings: the shared controls, PATCHed with the rest of the object. */
function assistantSettings(ctx, site) {
  const { t, api } = ctx;
  const admin = ctx.can('admin');
  const err = errorBox();
  const controls = settingsFields(t, site.settings, ASSISTANT_KEYS, { disabled: !admin });
  const save = h('button', { type: 'submit', class: 'primary' }, t('saveAssistantSettings'));
  return h('form', { class: 'settings-form assistant-settings', 'aria-labelledby': 'asst-h', on: { submit: (e) => { e.preventDefault(); busy(save, async () => {
    err.clear();
    try {
      // The whole object goes back: the API replaces settings as a whole.
      const updated = await api.patch(`/sites/${site.id}`, { settings: { ...site.settings, ...controls.read() } });
      Object.assign(site, updated);
      await ctx.refreshSites();
      toast(t('saved'));
    } catch (e2) {
      err.show(e2, t);
      err.el.scrollIntoView({ block: 'nearest' });
    }
  }); } } },
  h('h2', { id: 'asst-h' }, t('assistantBehaviour')),
  h('p', { class: 'muted' }, t('assistantBehaviourIntro')),
  err.el,
  h('div', { class: 'settings-grid' }, controls.fields),
  admin ? save : h('p', { class: 'muted' }, t('adminOnly')));
}

// --- shared: period and numbers --------------------------------------------------------------

function fmtNum(ctx, n, opts) {
  return new Intl.NumberFormat(ctx.lang, opts).format(n ?? 0);
}

/** Cost in the site's currency from millionths (`cost_micros`). */
function fmtCost(ctx, micros) {
  return fmtNum(ctx, (micros || 0) / 1e6, { minimumFractionDigits: 2, maximumFractionDigits: 6 });
}

/** 0–1 as a percentage. */
function fmtShare(ctx, x) {
  return fmtNum(ctx, x || 0, { style: 'percent', maximumFractionDigits: 1 });
}

/** The `?days=` of the page, when it is one we offer. */
function pickDays(params) {
  const d = Number(params?.query?.get('days'));
  return PERIODS.includes(d) ? d : DEFAULT_DAYS;
}

/**
 * The period selector. The choice goes into the URL (replaceState, no new history entry) so a
 * reload or a shared link shows the same period; `onChange(days)` reloads the figures.
 */
function periodSelect(ctx, days, onChange) {
  const { t } = ctx;
  const sel = h('select', { id: uid('days'), name: 'days' }, PERIODS.map((d) => h('option', { value: String(d), selected: d === days }, t('lastDays', { n: d }))));
  sel.addEventListener('change', () => {
    const d = Number(sel.value);
    history.replaceState(null, '', `${location.pathname}?days=${d}`);
    onChange(d);
  });
  return h('div', { class: 'inline-field period' }, h('label', { for: sel.id }, t('period')), sel);
}

/** A bar for a share of a whole; decorative, as the number is in the same row. */
function bar(value, max) {
  return h('meter', { class: 'bar', min: '0', max: String(Math.max(max, 1)), value: String(value), 'aria-hidden': 'true' });
}

// --- AI usage --------------------------------------------------------------------------------

/** Settings → AI usage (admins). */
export function usageTab(ctx, body, site, params) {
  const { t, api } = ctx;
  let days = pickDays(params);
  const err = errorBox();
  const out = h('div', { class: 'usage', 'aria-live': 'polite', 'aria-busy': 'true' });
  replace(body,
    h('div', { class: 'section-head' }, h('h2', {}, t('settingsTab.usage')), periodSelect(ctx, days, (d) => { days = d; load(); })),
    h('p', { class: 'muted' }, t('usageIntro')),
    err.el,
    out);

  async function load() {
    err.clear();
    out.setAttribute('aria-busy', 'true');
    try {
      const r = await api.aiUsage(site.id, days);
      const cols = [t('day'), t('provider'), t('model'), t('requests'), t('cacheHits'), t('failures'), t('inputTokens'), t('outputTokens'), t('cost')];
      const nums = (x) => [x.requests, x.cache_hits, x.failures, x.prompt_tokens, x.completion_tokens].map((n) => h('td', { class: 'num' }, fmtNum(ctx, n)));
      replace(out, r.days.length
        ? h('table', { class: 'table usage-table' },
            h('caption', {}, t('usageCaption', { n: days })),
            h('thead', {}, h('tr', {}, cols.map((c, i) => h('th', { scope: 'col', class: i >= 3 ? 'num' : null }, c)))),
            h('tbody', {}, r.days.map((d) => h('tr', {},
              h('td', {}, d.day),
              // Answers served from the cache name no provider.
              h('td', {}, d.provider || h('span', { class: 'muted' }, t('answerCache'))),
              h('td', {}, d.model ? h('code', {}, d.model) : '—'),
              nums(d),
              h('td', { class: 'num' }, fmtCost(ctx, d.cost_micros))))),
            h('tfoot', {}, h('tr', {},
              h('th', { scope: 'row', colspan: '3' }, t('total')),
              nums(r.totals),
              h('td', { class: 'num' }, fmtCost(ctx, r.totals.cost_micros)))))
        : h('p', { class: 'muted' }, t('noUsage', { n: days })));
    } catch (e) {
      replace(out);
      err.show(e, t);
    } finally {
      out.removeAttribute('aria-busy');
    }
  }
  load();
}

// --- insights --------------------------------------------------------------------------------

const SENTIMENTS = ['negative', 'neutral', 'positive'];

/** Settings → Insights (any member): satisfaction and what visitors asked about. */
export function insightsTab(ctx, body, site, params) {
  const { t, api } = ctx;
  let days = pickDays(params);
  const csatErr = errorBox();
  const csatOut = h('div', { 'aria-busy': 'true' });
  const intentErr = errorBox();
  const intentOut = h('div', { 'aria-busy': 'true' });
  replace(body,
    h('div', { class: 'section-head' }, h('h2', {}, t('settingsTab.insights')), periodSelect(ctx, days, (d) => { days = d; load(); })),
    h('section', { class: 'panel', 'aria-labelledby': 'csat-h' },
      h('h3', { id: 'csat-h' }, t('csatTitle')), h('p', { class: 'muted' }, t('csatIntro')), csatErr.el, csatOut),
    h('section', { class: 'panel', 'aria-labelledby': 'intent-h' },
      h('h3', { id: 'intent-h' }, t('intentsTitle')), h('p', { class: 'muted' }, t('intentsIntro')), intentErr.el, intentOut));

  const intentLabel = (x) => {
    const k = x === 'unknown' ? 'intent.unknown' : `cat.${x}`;
    return t(k) === k ? x : t(k);
  };

  async function loadCsat() {
    csatErr.clear();
    csatOut.setAttribute('aria-busy', 'true');
    try {
      const c = await api.csat(site.id, days);
      if (!c.ratings) {
        replace(csatOut, h('p', { class: 'muted' }, t('noRatings', { n: days })));
        return;
      }
      replace(csatOut,
        h('dl', { class: 'stats' },
          h('div', {}, h('dt', {}, t('ratings')), h('dd', { dataset: { stat: 'ratings' } }, fmtNum(ctx, c.ratings))),
          h('div', {}, h('dt', {}, t('averageRating')), h('dd', { dataset: { stat: 'average' } }, t('outOfFive', { n: fmtNum(ctx, c.average, { maximumFractionDigits: 2 }) }))),
          h('div', {}, h('dt', {}, t('satisfiedShare')), h('dd', { dataset: { stat: 'satisfied' } }, fmtShare(ctx, c.satisfied_share)))),
        h('table', { class: 'table dist-table' },
          h('caption', {}, t('distributionCaption', { n: days })),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('rating')), h('th', { scope: 'col', class: 'num' }, t('ratings')), h('th', { scope: 'col' }, t('share')))),
          h('tbody', {}, [5, 4, 3, 2, 1].map((r) => {
            const n = c.distribution[r - 1] || 0;
            return h('tr', { dataset: { rating: r } },
              h('th', { scope: 'row' }, h('span', { 'aria-hidden': 'true', class: 'stars' }, '★'.repeat(r) + '☆'.repeat(5 - r)), ' ', t('outOfFive', { n: r })),
              h('td', { class: 'num' }, fmtNum(ctx, n)),
              h('td', { class: 'bar-cell' }, bar(n, c.ratings), ' ', fmtShare(ctx, n / c.ratings)));
          }))));
    } catch (e) {
      replace(csatOut);
      csatErr.show(e, t);
    } finally {
      csatOut.removeAttribute('aria-busy');
    }
  }

  async function loadIntents() {
    intentErr.clear();
    intentOut.setAttribute('aria-busy', 'true');
    try {
      const rows = await api.classifications(site.id, days);
      const byIntent = new Map();
      for (const r of rows) {
        const x = byIntent.get(r.intent) || { intent: r.intent, negative: 0, neutral: 0, positive: 0, total: 0 };
        x[r.sentiment] = (x[r.sentiment] || 0) + r.messages;
        x.total += r.messages;
        byIntent.set(r.intent, x);
      }
      const list = [...byIntent.values()].sort((a, b) => b.total - a.total || a.intent.localeCompare(b.intent));
      const all = list.reduce((s, x) => s + x.total, 0);
      if (!all) {
        replace(intentOut, h('p', { class: 'muted' }, t('noClassifications', { n: days })));
        return;
      }
      const sum = (k) => list.reduce((s, x) => s + (x[k] || 0), 0);
      replace(intentOut, h('table', { class: 'table intents-table' },
        h('caption', {}, t('intentsCaption', { n: days })),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('intent')),
          SENTIMENTS.map((s) => h('th', { scope: 'col', class: 'num' }, t(`sentiment.${s}`))),
          h('th', { scope: 'col', class: 'num' }, t('total')),
          h('th', { scope: 'col' }, t('share')))),
        h('tbody', {}, list.map((x) => h('tr', { dataset: { intent: x.intent } },
          h('th', { scope: 'row' }, intentLabel(x.intent)),
          SENTIMENTS.map((s) => h('td', { class: ['num', s === 'negative' && x.negative ? 'neg' : null] }, fmtNum(ctx, x[s] || 0))),
          h('td', { class: 'num' }, fmtNum(ctx, x.total)),
          h('td', { class: 'bar-cell' }, bar(x.total, all), ' ', fmtShare(ctx, x.total / all))))),
        h('tfoot', {}, h('tr', {},
          h('th', { scope: 'row' }, t('total')),
          SENTIMENTS.map((s) => h('td', { class: 'num' }, fmtNum(ctx, sum(s)))),
          h('td', { class: 'num' }, fmtNum(ctx, all)),
          h('td', {})))));
    } catch (e) {
      replace(intentOut);
      intentErr.show(e, t);
    } finally {
      intentOut.removeAttribute('aria-busy');
    }
  }

  function load() {
    loadCsat();
    loadIntents();
  }
  load();
}

// Analytics (any member of the site): the period's key figures, conversations per day (settled
// by the assistant or not), hand-off reasons, busiest hours, satisfaction (CSAT and thumbs),
// top intents and sentiment, and model tokens and cost per day; a date range in the URL
// (`?from=&to=`) so a link shows the same view, and a CSV download of the daily rows. The
// figures and their definitions come from the server (`GET /sites/{id}/analytics`).

import { h, replace, errorBox, uid } from './dom.js';
import { columnChart, barList, dataTable } from './charts.js';

const PRESETS = [7, 30, 90];

/** `YYYY-MM-DD` of a local date. */
function isoDay(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function daysAgo(n) {
  const d = new Date();
  d.setDate(d.getDate() - n);
  return isoDay(d);
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export async function mount(ctx, main, params) {
  const { t, api } = ctx;
  const site = ctx.site();
  if (!site) {
    replace(main, h('div', { class: 'page' }, h('h1', {}, t('analytics')), h('p', {}, t('noSite'))));
    return {};
  }
  const q = params.query;
  let to = DAY_RE.test(q.get('to') || '') ? q.get('to') : isoDay(new Date());
  let from = DAY_RE.test(q.get('from') || '') ? q.get('from') : daysAgo(29);
  // The browser's zone: days and hours are the agent's own.
  const offset = -new Date().getTimezoneOffset();
  const num = (n, opts) => new Intl.NumberFormat(ctx.lang, opts).format(n ?? 0);
  const share = (x) => (x == null ? '—' : num(x, { style: 'percent', maximumFractionDigits: 1 }));
  const cost = (micros) => num((micros || 0) / 1e6, { minimumFractionDigits: 2, maximumFractionDigits: 4 });
  const duration = (secs) => {
    if (secs == null) return '—';
    if (secs < 60) return t('durSeconds', { n: secs });
    if (secs < 3600) return t('durMinutes', { n: num(secs / 60, { maximumFractionDigits: 1 }) });
    return t('durHours', { n: num(secs / 3600, { maximumFractionDigits: 1 }) });
  };
  const label = (prefix, key) => {
    const k = `${prefix}.${key}`;
    return t(k) === k ? key : t(k);
  };

  const err = errorBox();
  const out = h('div', { class: 'analytics-body', 'aria-live': 'polite' });
  const fromIn = h('input', { type: 'date', id: uid('from'), value: from, max: to, required: true });
  const toIn = h('input', { type: 'date', id: uid('to'), value: to, required: true });
  const csv = h('a', { class: 'button', id: 'analytics-csv', download: '' }, t('downloadCsv'));
  const form = h('form', { class: 'range-form', on: { submit: (e) => { e.preventDefault(); setRange(fromIn.value, toIn.value); } } },
    h('div', { class: 'inline-field' }, h('label', { for: fromIn.id }, t('from')), fromIn),
    h('div', { class: 'inline-field' }, h('label', { for: toIn.id }, t('to')), toIn),
    h('button', { type: 'submit' }, t('apply')),
    PRESETS.map((n) => h('button', { type: 'button', class: 'ghost', dataset: { preset: n }, on: { click: () => setRange(daysAgo(n - 1), isoDay(new Date())) } }, t('lastDays', { n }))),
    csv);
  replace(main,
    h('div', { class: 'page analytics' },
      h('div', { class: 'page-head' }, h('h1', {}, t('analytics'), ctx.sites.length > 1 ? h('span', { class: 'muted' }, ` · ${site.name}`) : null)),
      form, err.el, out));

  function setRange(f, tt) {
    if (!DAY_RE.test(f) || !DAY_RE.test(tt)) return;
    from = f;
    to = tt;
    fromIn.value = f;
    toIn.value = tt;
    fromIn.max = tt;
    history.replaceState(null, '', `${location.pathname}?from=${f}&to=${tt}`);
    load();
  }

  let loading = 0;
  async function load() {
    const n = ++loading;
    err.clear();
    out.setAttribute('aria-busy', 'true');
    const query = { from, to, offset };
    csv.href = `/api/v1/sites/${encodeURIComponent(site.id)}/analytics?${new URLSearchParams({ ...query, format: 'csv' })}`;
    try {
      const a = await api.analytics(site.id, query);
      if (n !== loading) return;
      render(a);
    } catch (e) {
      if (n !== loading) return;
      replace(out);
      err.show(e, t);
    } finally {
      if (n === loading) out.removeAttribute('aria-busy');
    }
  }

  function tile(key, value, hint) {
    return h('div', { class: 'tile', dataset: { stat: key } },
      h('dt', {}, t(`stat.${key}`)), h('dd', {}, value), hint ? h('dd', { class: 'muted small' }, hint) : null);
  }

  function render(a) {
    const tt = a.totals;
    const shortDay = (d, _i, short) => (short ? d.day.slice(5) : d.day);
    const every = Math.max(1, Math.ceil(a.days.length / 10));
    const thumbs = tt.thumbs_up + tt.thumbs_down;
    const sections = [
      h('dl', { class: 'tiles' },
        tile('conversations', num(tt.conversations)),
        tile('automationRate', share(tt.automation_rate), t('automatedOf', { a: num(tt.automated), b: num(tt.with_visitor_messages) })),
        tile('handedOff', num(tt.handed_off)),
        tile('firstResponse', duration(tt.first_response_median_secs), t('p90', { v: duration(tt.first_response_p90_secs) })),
        tile('resolution', duration(tt.resolution_median_secs), t('p90', { v: duration(tt.resolution_p90_secs) })),
        tile('csat', tt.rating_average == null ? '—' : t('outOfFive', { n: num(tt.rating_average, { maximumFractionDigits: 2 }) }), t('ratingsCount', { n: num(tt.ratings) })),
        tile('thumbsUp', thumbs ? share(tt.thumbs_up / thumbs) : '—', t('thumbsCount', { up: num(tt.thumbs_up), down: num(tt.thumbs_down) })),
        tile('cost', cost(tt.cost_micros), t('tokensCount', { n: num(tt.prompt_tokens + tt.completion_tokens) }))),
      panel('perDay', t('chart.perDay'),
        columnChart({
          name: 'per-day',
          items: a.days.map((d) => ({ ...d, other: d.conversations - d.automated })),
          series: [{ key: 'automated', label: t('series.automated'), cls: 'series-a' }, { key: 'other', label: t('series.other'), cls: 'series-b' }],
          labelOf: shortDay,
          labelEvery: every,
          fmt: (v) => num(v),
          summary: t('chart.perDaySummary', { n: num(tt.conversations), a: num(tt.automated), days: a.days.length }),
        }),
        dataTable(t('showTable'), [t('day'), t('stat.conversations'), t('series.automated'), t('stat.handedOff'), t('status.resolved')],
          a.days.map((d) => [d.day, num(d.conversations), num(d.automated), num(d.handed_off), num(d.resolved)]))),
      h('div', { class: 'chart-grid-2' },
        panel('reasons', t('chart.reasons'), a.handoff_reasons.length
          ? barList({ name: 'reasons', rows: a.handoff_reasons.map((r) => ({ label: label('reason', r.key), value: r.count })), fmt: (v) => num(v), summary: a.handoff_reasons.map((r) => `${label('reason', r.key)} ${r.count}`).join(', ') })
          : h('p', { class: 'muted' }, t('noHandoffs'))),
        panel('hours', t('chart.hours'),
          columnChart({
            name: 'hours',
            items: a.busiest_hours.map((n, hour) => ({ hour, n })),
            series: [{ key: 'n', label: t('visitorMessages'), cls: 'series-a' }],
            labelOf: (x) => String(x.hour),
            labelEvery: 3,
            fmt: (v) => num(v),
            summary: t('chart.hoursSummary', { hour: a.busiest_hours.indexOf(Math.max(...a.busiest_hours)) }),
          }))),
      h('div', { class: 'chart-grid-2' },
        panel('csat', t('chart.csat'), tt.ratings
          ? barList({ name: 'csat', rows: [5, 4, 3, 2, 1].map((r) => ({ label: '★'.repeat(r), value: tt.rating_distribution[r - 1] })), fmt: (v) => num(v), summary: t('chart.csatSummary', { n: num(tt.ratings), avg: num(tt.rating_average, { maximumFractionDigits: 2 }) }) })
          : h('p', { class: 'muted' }, t('noRatingsPeriod')),
          a.thumbs_down_reasons.length
            ? [h('h3', {}, t('chart.downReasons')),
               barList({ name: 'down-reasons', cls: 'series-b', rows: a.thumbs_down_reasons.map((r) => ({ label: label('why', r.key), value: r.count })), fmt: (v) => num(v), summary: a.thumbs_down_reasons.map((r) => `${label('why', r.key)} ${r.count}`).join(', ') })]
            : null),
        panel('intents', t('chart.intents'), a.top_intents.length
          ? [barList({ name: 'intents', rows: a.top_intents.map((r) => ({ label: r.key === 'unknown' ? t('intent.unknown') : label('cat', r.key), value: r.count })), fmt: (v) => num(v), summary: a.top_intents.map((r) => `${r.key} ${r.count}`).join(', ') }),
             barList({ name: 'sentiments', cls: 'series-b', rows: a.sentiments.map((r) => ({ label: label('sentiment', r.key), value: r.count })), fmt: (v) => num(v), summary: a.sentiments.map((r) => `${r.key} ${r.count}`).join(', ') })]
          : h('p', { class: 'muted' }, t('noIntents')))),
      panel('cost', t('chart.cost'),
        columnChart({
          name: 'cost',
          items: a.days,
          series: [{ key: 'cost_micros', label: t('stat.cost'), cls: 'series-c' }],
          labelOf: shortDay,
          labelEvery: every,
          fmt: cost,
          summary: t('chart.costSummary', { cost: cost(tt.cost_micros), n: num(tt.prompt_tokens + tt.completion_tokens) }),
        }),
        dataTable(t('showTable'), [t('day'), t('inputTokens'), t('outputTokens'), t('stat.cost')],
          a.days.map((d) => [d.day, num(d.prompt_tokens), num(d.completion_tokens), cost(d.cost_micros)]))),
    ];
    replace(out, sections);
  }

  function panel(id, title, ...body) {
    const hid = `an-${id}-h`;
    return h('section', { class: 'panel', 'aria-labelledby': hid, dataset: { panel: id } }, h('h2', { id: hid }, title), body);
  }

  load();
  return { unmount: () => { loading++; } };
}

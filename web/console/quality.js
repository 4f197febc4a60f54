// Settings → Quality (editors and admins): evaluation runs of this site's knowledge base and
// assistant (docs/API.md, "Evaluation runs"). Upload a question suite — JSONL or CSV, the
// formats `kefu eval` reads: question, expected_entry_ids, keywords, should_handoff — and it
// runs in the background through the same engine visitors get. Runs are listed newest first
// with their headline figures and the change against the run before, so a knowledge-base edit
// shows up as a change in numbers; a run opens to its threshold sweep and most-confused pairs.

import { h, replace, field, errorBox, busy } from './dom.js';

const POLL_MS = 2000;

const pct = (ctx, x) => (x == null ? '—' : new Intl.NumberFormat(ctx.lang, { style: 'percent', maximumFractionDigits: 1 }).format(x));
const num = (ctx, x, digits = 3) => (x == null ? '—' : new Intl.NumberFormat(ctx.lang, { maximumFractionDigits: digits }).format(x));

/** A small "+1.2 pt" / "−3.0 pt" marker against the previous run's figure. */
function delta(ctx, now, before, higherIsBetter = true) {
  if (now == null || before == null) return null;
  const d = (now - before) * 100;
  if (Math.abs(d) < 0.05) return null;
  const good = higherIsBetter ? d > 0 : d < 0;
  const sign = d > 0 ? '+' : '−';
  return h('span', { class: good ? 'delta good' : 'delta bad', title: ctx.t('vsPrevious') }, ` ${sign}${num(ctx, Math.abs(d), 1)} pt`);
}

export function qualityTab(ctx, body, site) {
  const { t, api } = ctx;
  const err = errorBox();
  const list = h('div', { 'aria-live': 'polite' });
  const detail = h('div');
  let timer = null;
  let stopped = false;

  const name = h('input', { type: 'text', maxlength: 200, value: '' });
  const file = h('input', { type: 'file', accept: '.jsonl,.csv,.txt', required: true });
  const useLlm = h('input', { type: 'checkbox' });
  const formErr = errorBox();
  const submit = h('button', { type: 'submit', class: 'primary' }, t('runEval'));
  const form = h('form', { class: 'panel eval-form', 'aria-labelledby': 'eval-new-h' },
    h('h3', { id: 'eval-new-h' }, t('newEvalRun')),
    h('p', { class: 'muted' }, t('evalSuiteHelp')),
    formErr.el,
    field(t('evalName'), name).wrap,
    field(t('evalSuiteFile'), file).wrap,
    h('label', { class: 'check' }, useLlm, ' ', t('evalUseLlm')),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    formErr.clear();
    const f = file.files?.[0];
    if (!f) return;
    const format = /\.csv$/i.test(f.name) ? 'csv' : 'jsonl';
    await busy(submit, async () => {
      try {
        const suite = await f.text();
        await api.post(`/sites/${site.id}/eval/runs`, { name: name.value.trim() || f.name, format, suite, use_llm: useLlm.checked });
        name.value = '';
        file.value = '';
        await load();
      } catch (e) {
        formErr.show(e, t);
      }
    });
  });

  replace(body,
    h('h2', {}, t('settingsTab.quality')),
    h('p', { class: 'muted' }, t('qualityIntro')),
    form,
    h('section', { class: 'panel', 'aria-labelledby': 'eval-runs-h' }, h('h3', { id: 'eval-runs-h' }, t('evalRuns')), err.el, list),
    detail);

  async function load() {
    clearTimeout(timer);
    err.clear();
    try {
      const runs = await api.get(`/sites/${site.id}/eval/runs`);
      renderList(runs);
      if (!stopped && runs.some((r) => r.status === 'queued' || r.status === 'running')) {
        timer = setTimeout(load, POLL_MS);
      }
    } catch (e) {
      err.show(e, t);
    }
  }

  function renderList(runs) {
    if (!runs.length) {
      replace(list, h('p', { class: 'muted' }, t('noEvalRuns')));
      return;
    }
    const cols = ['evalName', 'status', 'questionsCol', 'hitAt1', 'hitAt5', 'mrr', 'automation', 'wrongRate', 'handoffRecall'];
    replace(list, h('table', { class: 'table eval-table' },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, t(c))))),
      h('tbody', {}, runs.map((r, i) => {
        const m = r.metrics || {};
        const p = runs.slice(i + 1).find((x) => x.metrics)?.metrics || {};
        const open = h('button', { type: 'button', class: 'link' }, r.name);
        open.addEventListener('click', () => showRun(r.id));
        return h('tr', { dataset: { run: r.id, status: r.status } },
          h('th', { scope: 'row' }, open, h('div', { class: 'muted small' }, new Date(r.created_at).toLocaleString(ctx.lang), r.mode === 'llm' ? ` · ${t('evalModeLlm')}` : '')),
          h('td', {}, r.status === 'failed' ? h('span', { class: 'error', title: r.error || '' }, t('evalStatus.failed')) : t(`evalStatus.${r.status}`)),
          h('td', { class: 'num' }, num(ctx, r.questions, 0)),
          h('td', { class: 'num', dataset: { stat: 'hit1' } }, pct(ctx, m.hit_at_1), delta(ctx, m.hit_at_1, p.hit_at_1)),
          h('td', { class: 'num' }, pct(ctx, m.hit_at_5), delta(ctx, m.hit_at_5, p.hit_at_5)),
          h('td', { class: 'num' }, num(ctx, m.mrr_at_10)),
          h('td', { class: 'num' }, pct(ctx, m.automation_rate), delta(ctx, m.automation_rate, p.automation_rate)),
          h('td', { class: 'num' }, pct(ctx, m.wrong_answer_rate), delta(ctx, m.wrong_answer_rate, p.wrong_answer_rate, false)),
          h('td', { class: 'num' }, pct(ctx, m.handoff?.recall)));
      }))));
  }

  async function showRun(id) {
    try {
      const run = await api.get(`/sites/${site.id}/eval/runs/${id}`);
      const r = run.report;
      if (!r) {
        replace(detail, h('section', { class: 'panel' }, h('h3', {}, run.name), h('p', { class: 'muted' }, run.error || t(`evalStatus.${run.status}`))));
        return;
      }
      const lat = r.metrics.latency || {};
      replace(detail, h('section', { class: 'panel eval-detail', 'aria-labelledby': 'eval-detail-h' },
        h('h3', { id: 'eval-detail-h', tabindex: '-1' }, run.name),
        h('p', { class: 'muted' }, r.answerer),
        h('dl', { class: 'stats' },
          h('div', {}, h('dt', {}, t('answerAccuracy')), h('dd', {}, pct(ctx, r.metrics.answer_accuracy))),
          h('div', {}, h('dt', {}, t('wrongAnswers')), h('dd', {}, num(ctx, r.metrics.wrong_answers, 0))),
          h('div', {}, h('dt', {}, t('handoffPrecision')), h('dd', {}, pct(ctx, r.metrics.handoff?.precision))),
          h('div', {}, h('dt', {}, t('latencyP50P99')), h('dd', {}, `${num(ctx, lat.p50_ms, 1)} / ${num(ctx, lat.p99_ms, 1)} ms`))),
        h('h4', {}, t('thresholdSweep')),
        h('table', { class: 'table' },
          h('thead', {}, h('tr', {}, ['threshold', 'automation', 'wrongRate'].map((c) => h('th', { scope: 'col' }, t(c))))),
          h('tbody', {}, (r.sweep || []).map((s) => h('tr', {},
            h('td', { class: 'num' }, num(ctx, s.threshold, 2)),
            h('td', { class: 'num' }, pct(ctx, s.automation_rate)),
            h('td', { class: 'num' }, pct(ctx, s.wrong_answer_rate)))))),
        h('h4', {}, t('mostConfused')),
        (r.confusion || []).length
          ? h('ul', {}, r.confusion.map((c) => h('li', {}, `${c.expected} → ${c.got} (${c.count})`)))
          : h('p', { class: 'muted' }, t('noConfusion'))));
      detail.querySelector('h3')?.focus();
    } catch (e) {
      err.show(e, t);
    }
  }

  load();
  return { unmount: () => { stopped = true; clearTimeout(timer); } };
}

// The knowledge-base editor: entries by category with filters; the entry editor (Markdown with
// live preview, FAQ question and other phrasings, visibility, status, review date, owner,
// change note); version history with diffs between any two revisions, viewing a revision (what
// an answer citing it used) and rollback; imports with live progress and per-file errors; the
// retrieval test (what the assistant would find for a question); the queue of questions the
// assistant could not answer; and, for editors, the upkeep report (reviews overdue, entries
// never used, entries rated down).
//
// Everyone on a site may read (agents need internal entries); editing controls are shown to
// editors and admins only, mirroring the API's roles, so nothing on screen fails by design.
//
// Routes (under /console/kb): '' entries, 'new', 'entries/{id}', 'search', 'import',
// 'unanswered', 'upkeep'.

import { h, replace, field, errorBox, timeEl, busy, uid, describeError, toast, announce, extLink } from './dom.js';
import { renderMarkdown } from './markdown.js';

export const CATEGORIES = ['faq', 'product', 'policy', 'case', 'tech_doc', 'news'];
const STATUSES = ['published', 'draft', 'archived'];
const VISIBILITIES = ['public', 'internal'];
/** The server accepts up to 64 MiB per import request; base64 adds a third. */
const MAX_IMPORT_BASE64 = 60 * 1024 * 1024;
const POLL_MS = 1000;

export async function mount(ctx, main, params) {
  const { t } = ctx;
  const site = ctx.site();
  const path = params.path || '';
  const tabs = [
    ['', t('kb.entries')],
    ['search', t('kb.retrievalTest')],
    ['import', t('kb.import')],
    ['unanswered', t('kb.unanswered')],
    // The report API is for editors and admins; agents are not shown a tab that would fail.
    ...(ctx.can('editor') ? [['upkeep', t('kb.upkeep')]] : []),
  ];
  const section = path.startsWith('entries/') || path === 'new' ? '' : path;
  const body = h('div', { class: 'kb-body' });
  replace(main,
    h('div', { class: 'page kb' },
      h('div', { class: 'page-head' },
        h('h1', {}, t('knowledgeBase'), site && ctx.sites.length > 1 ? h('span', { class: 'muted' }, ` · ${site.name}`) : null)),
      h('nav', { class: 'tabs', 'aria-label': t('knowledgeBase') }, h('ul', {}, tabs.map(([p, label]) => {
        const cur = p === section;
        return h('li', {}, h('a', { href: `/console/kb${p ? `/${p}` : ''}`, 'aria-current': cur ? 'page' : null, class: cur ? 'active' : null }, label));
      }))),
      body));
  if (!site) {
    replace(body, h('p', {}, t('noSite')));
    return {};
  }
  let m;
  if (path === '') return entriesList(ctx, body, site, params.query);
  if (path === 'new') return editor(ctx, body, site, null, params.query);
  if ((m = /^entries\/([\w-]+)$/.exec(path))) return editor(ctx, body, site, m[1], params.query);
  if (path === 'search') return retrievalTest(ctx, body, site);
  if (path === 'import') return importer(ctx, body, site, params.query);
  if (path === 'unanswered') return unanswered(ctx, body, site);
  if (path === 'upkeep') return upkeep(ctx, body, site);
  replace(body, h('p', {}, t('notFound')));
  return {};
}

const catLabel = (t, c) => (CATEGORIES.includes(c) ? t(`cat.${c}`) : c);

function selectOf(values, labelOf, current, props = {}) {
  return h('select', props, values.map(([v, label]) => h('option', { value: v, selected: v === current }, label ?? labelOf(v))));
}

// --- entries list ------------------------------------------------------------------------------

function entriesList(ctx, body, site, query) {
  const { t, api } = ctx;
  const err = errorBox();
  const q = h('input', { type: 'search', value: query.get('q') || '' });
  const wanted = query.get('category') || '';
  const cats = CATEGORIES.includes(wanted) || !wanted ? CATEGORIES : [...CATEGORIES, wanted];
  const category = selectOf([['', t('all')], ...cats.map((c) => [c, catLabel(t, c)])], null, wanted);
  const status = selectOf([['', t('all')], ...STATUSES.map((s) => [s, t(`entryStatus.${s}`)])], null, query.get('status') || '');
  const visibility = selectOf([['', t('all')], ...VISIBILITIES.map((v) => [v, t(`visibility.${v}`)])], null, query.get('visibility') || '');
  const due = h('input', { type: 'checkbox', id: uid('due'), checked: query.get('due') === '1' });
  const results = h('div', { class: 'entry-groups', 'aria-live': 'polite', 'aria-busy': 'true' });
  const more = h('button', { type: 'button', class: 'ghost', hidden: true }, t('loadMore'));
  let cursor = null;
  let items = [];

  const filters = h('form', {
    class: 'filter-bar',
    role: 'search',
    'aria-label': t('kb.filterEntries'),
    on: { submit: (e) => { e.preventDefault(); apply(); } },
  },
    field(t('kb.titleContains'), q).wrap,
    field(t('category'), category).wrap,
    field(t('status'), status).wrap,
    field(t('visibility'), visibility).wrap,
    h('div', { class: 'field check' }, due, h('label', { for: due.id }, t('kb.dueForReview'))),
    h('button', { type: 'submit' }, t('apply')));
  for (const el of [category, status, visibility, due]) el.addEventListener('change', () => apply());

  const newLink = ctx.can('editor') ? h('a', { class: 'button primary', href: '/console/kb/new' }, t('kb.newEntry')) : null;
  replace(body, h('div', { class: 'toolbar' }, newLink), filters, err.el, results, more);

  /** Keeps the filters in the URL (replace, so the back button is not flooded). */
  function apply() {
    const p = new URLSearchParams();
    if (q.value.trim()) p.set('q', q.value.trim());
    if (category.value) p.set('category', category.value);
    if (status.value) p.set('status', status.value);
    if (visibility.value) p.set('visibility', visibility.value);
    if (due.checked) p.set('due', '1');
    const s = p.toString();
    history.replaceState(null, '', `/console/kb${s ? `?${s}` : ''}`);
    load(false);
  }

  function render() {
    // Sites may use their own categories: offer each one seen in the filter too.
    const offered = new Set([...category.options].map((o) => o.value));
    for (const e of items) if (!offered.has(e.category)) {
      category.append(h('option', { value: e.category }, e.category));
      offered.add(e.category);
    }
    const groups = new Map();
    for (const e of items) {
      if (!groups.has(e.category)) groups.set(e.category, []);
      groups.get(e.category).push(e);
    }
    const now = new Date().toISOString();
    replace(results, items.length
      ? [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([cat, list]) => {
          const hid = uid('cat');
          return h('section', { class: 'entry-group', 'aria-labelledby': hid },
            h('h2', { id: hid }, catLabel(t, cat), h('span', { class: 'muted count' }, ` (${list.length})`)),
            h('table', { class: 'table' },
              h('thead', {}, h('tr', {}, [t('title'), t('status'), t('visibility'), t('revision'), t('kb.reviewDue'), t('updated'), t('kb.usage')].map((c) => h('th', { scope: 'col' }, c)))),
              h('tbody', {}, list.map((e) => h('tr', {},
                h('td', {}, h('a', { href: `/console/kb/entries/${e.id}` }, e.title), e.faq ? h('span', { class: 'chip' }, 'FAQ') : null),
                h('td', {}, h('span', { class: `chip entry-${e.status}` }, t(`entryStatus.${e.status}`))),
                h('td', {}, h('span', { class: `chip vis-${e.visibility}` }, t(`visibility.${e.visibility}`))),
                h('td', {}, String(e.revision)),
                h('td', { class: e.review_due && e.review_due < now ? 'overdue' : null }, e.review_due ? [timeEl(e.review_due, ctx.lang), e.review_due < now ? h('span', { class: 'sr-only' }, ` ${t('kb.overdue')}`) : null] : '—'),
                h('td', {}, timeEl(e.updated_at, ctx.lang)),
                h('td', {}, t('kb.usageLine', { hits: e.hit_count, up: e.thumbs_up, down: e.thumbs_down })))))));
        })
      : h('p', { class: 'muted' }, t('kb.noEntries')));
    more.hidden = !cursor;
  }

  async function load(next) {
    results.setAttribute('aria-busy', 'true');
    err.clear();
    try {
      const page = await api.get(`/sites/${site.id}/kb/entries`, {
        q: q.value.trim(),
        category: category.value,
        status: status.value,
        visibility: visibility.value,
        review_due_before: due.checked ? 'now' : '',
        cursor: next ? cursor : '',
        limit: 100,
      });
      items = next ? items.concat(page.items) : page.items;
      cursor = page.next_cursor;
      render();
    } catch (e) {
      err.show(e, t);
    } finally {
      results.removeAttribute('aria-busy');
    }
  }
  more.addEventListener('click', () => busy(more, () => load(true)));
  load(false);
  return {};
}

// --- editor + history --------------------------------------------------------------------------

/** Renders a revision's content read-only: what an answer citing it used. */
function contentView(t, c) {
  return h('div', { class: 'content-view' },
    h('h3', {}, c.title),
    h('p', { class: 'meta-line' },
      h('span', { class: 'chip' }, catLabel(t, c.category)), ' ',
      h('span', { class: `chip entry-${c.status}` }, t(`entryStatus.${c.status}`)), ' ',
      h('span', { class: `chip vis-${c.visibility}` }, t(`visibility.${c.visibility}`)),
      c.language ? ` · ${c.language}` : null,
      c.source ? [' · ', extLink(c.source, c.source)] : null),
    c.faq ? h('div', { class: 'faq-view' },
      h('p', {}, h('strong', {}, t('kb.question')), ' ', c.faq.question),
      c.faq.alternatives?.length ? h('div', {}, h('strong', {}, t('kb.alternatives')), h('ul', {}, c.faq.alternatives.map((a) => h('li', {}, a)))) : null,
      h('div', {}, h('strong', {}, t('kb.answer')), h('div', { class: 'md' }, renderMarkdown(c.faq.answer, { headingOffset: 3 })))) : null,
    c.body ? h('div', { class: 'md' }, renderMarkdown(c.body, { headingOffset: 3 })) : null);
}

/** A unified diff, one line per element, coloured by kind; text only. */
function diffView(t, d) {
  if (!d.unified) return h('p', { class: 'muted' }, t('kb.noDifferences'));
  const lines = d.unified.replace(/\n$/, '').split('\n');
  return h('div', { class: 'diff-wrap' },
    h('p', {}, t('kb.changedFields', { fields: d.changed_fields.map((f) => t(`fieldName.${f}`) === `fieldName.${f}` ? f : t(`fieldName.${f}`)).join(', ') })),
    h('pre', { class: 'diff', 'aria-label': t('kb.diffLabel', { from: d.from, to: d.to }) }, lines.map((l) => {
      const kind = l.startsWith('+++') || l.startsWith('---') ? 'file' : l.startsWith('@@') ? 'hunk' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : 'ctx';
      // Screen readers do not read colour: added and removed lines get a spoken prefix.
      const sr = kind === 'add' ? t('kb.added') : kind === 'del' ? t('kb.removed') : null;
      return h('span', { class: `dl ${kind}` }, sr ? h('span', { class: 'sr-only' }, `${sr}: `) : null, l, '\n');
    })));
}

function editor(ctx, body, site, entryId, query) {
  const { t, api } = ctx;
  const canEdit = ctx.can('editor');
  const err = errorBox();
  let entry = null;
  let revisions = [];

  // Form controls.
  const title = h('input', { type: 'text', required: true, maxlength: '300' });
  const catId = uid('cats');
  const category = h('input', { type: 'text', required: true, list: catId, value: 'faq' });
  const catList = h('datalist', { id: catId }, CATEGORIES.map((c) => h('option', { value: c }, catLabel(t, c))));
  const isFaq = h('input', { type: 'checkbox', id: uid('isfaq'), checked: true });
  const question = h('input', { type: 'text', maxlength: '1000' });
  const alternatives = h('textarea', { rows: '4' });
  const answer = h('textarea', { rows: '6', class: 'md-input' });
  const answerPreview = h('div', { class: 'md-preview', 'aria-live': 'off' });
  const bodyInput = h('textarea', { rows: '12', class: 'md-input' });
  const bodyPreview = h('div', { class: 'md-preview', 'aria-live': 'off' });
  const language = h('input', { type: 'text', maxlength: '35', placeholder: 'zh-CN', autocomplete: 'off' });
  const source = h('input', { type: 'text', maxlength: '2000' });
  const visibility = selectOf(VISIBILITIES.map((v) => [v, t(`visibility.${v}`)]), null, 'public');
  const status = selectOf(STATUSES.map((s) => [s, t(`entryStatus.${s}`)]), null, 'published');
  const reviewDue = h('input', { type: 'date' });
  const owner = h('select', {}, h('option', { value: '' }, t('nobody')));
  const note = h('input', { type: 'text', maxlength: '300' });
  const save = h('button', { type: 'submit', class: 'primary' }, entryId ? t('kb.saveRevision') : t('kb.createEntry'));

  const preview = (src, out) => replace(out, src.trim() ? renderMarkdown(src, { headingOffset: 3 }) : h('p', { class: 'muted' }, t('kb.previewEmpty')));
  let previewTimer;
  const schedulePreview = () => {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(() => {
      preview(answer.value, answerPreview);
      preview(bodyInput.value, bodyPreview);
    }, 150);
  };
  answer.addEventListener('input', schedulePreview);
  bodyInput.addEventListener('input', schedulePreview);

  const mdPair = (label, input, out, hint) => {
    const pid = uid('pv');
    out.id = pid;
    const f = field(label, input, hint);
    // The preview is a labelled region, so screen-reader users can jump to it and read it.
    out.setAttribute('role', 'region');
    out.setAttribute('aria-labelledby', `${pid}-l`);
    return h('div', { class: 'md-pair' }, f.wrap, h('div', { class: 'field' }, h('span', { class: 'label', id: `${pid}-l` }, t('kb.previewOf', { what: label })), out));
  };
  const faqSet = h('fieldset', { class: 'faq-set' },
    h('legend', {}, t('kb.faq')),
    field(t('kb.question'), question).wrap,
    field(t('kb.alternatives'), alternatives, t('kb.alternativesHint')).wrap,
    mdPair(t('kb.answer'), answer, answerPreview, t('kb.markdownHint')));
  const syncFaq = () => {
    faqSet.hidden = !isFaq.checked;
  };
  isFaq.addEventListener('change', syncFaq);

  const form = h('form', { class: 'entry-form', 'aria-labelledby': 'entry-h', on: { submit: (e) => { e.preventDefault(); busy(save, submit); } } },
    err.el,
    h('div', { class: 'grid2' }, field(t('title'), title).wrap, h('div', {}, field(t('category'), category, t('kb.categoryHint')).wrap, catList)),
    h('div', { class: 'field check' }, isFaq, h('label', { for: isFaq.id }, t('kb.isFaq'))),
    faqSet,
    mdPair(t('kb.body'), bodyInput, bodyPreview, t('kb.markdownHint')),
    h('div', { class: 'grid3' },
      field(t('visibility'), visibility, t('kb.visibilityHint')).wrap,
      field(t('status'), status).wrap,
      field(t('kb.reviewDue'), reviewDue).wrap,
      field(t('language'), language).wrap,
      field(t('kb.source'), source).wrap,
      field(t('kb.owner'), owner).wrap),
    canEdit ? field(t('kb.changeNote'), note, t('kb.changeNoteHint')).wrap : null,
    canEdit ? h('div', { class: 'form-actions' }, save, h('a', { href: '/console/kb' }, t('cancel'))) : h('p', { class: 'muted' }, t('kb.readOnly')));

  const historyBox = h('section', { class: 'history panel', 'aria-labelledby': 'hist-h', hidden: !entryId });
  const heading = h('h2', { id: 'entry-h' }, entryId ? t('loading') : t('kb.newEntry'));
  replace(body, h('div', { class: 'editor-layout' }, h('div', { class: 'editor-main' }, heading, form), historyBox));

  for (const el of form.querySelectorAll('input, textarea, select')) if (!canEdit) el.disabled = true;

  function fill(c) {
    title.value = c.title;
    category.value = c.category;
    isFaq.checked = !!c.faq;
    question.value = c.faq?.question || '';
    alternatives.value = (c.faq?.alternatives || []).join('\n');
    answer.value = c.faq?.answer || '';
    bodyInput.value = c.body || '';
    language.value = c.language || '';
    source.value = c.source || '';
    visibility.value = c.visibility;
    status.value = c.status;
    reviewDue.value = c.review_due ? c.review_due.slice(0, 10) : '';
    owner.value = c.owner_id || '';
    note.value = '';
    syncFaq();
    preview(answer.value, answerPreview);
    preview(bodyInput.value, bodyPreview);
  }

  function content() {
    const c = {
      category: category.value.trim(),
      title: title.value.trim(),
      body: bodyInput.value,
      language: language.value.trim() || null,
      source: source.value.trim() || null,
      visibility: visibility.value,
      status: status.value,
      faq: isFaq.checked
        ? { question: question.value.trim(), alternatives: alternatives.value.split('\n').map((x) => x.trim()).filter(Boolean), answer: answer.value }
        : null,
      review_due: reviewDue.value ? `${reviewDue.value}T00:00:00Z` : null,
      owner_id: owner.value || null,
    };
    return c;
  }

  async function submit() {
    err.clear();
    const c = content();
    const n = note.value.trim() || null;
    try {
      if (!entry) {
        const created = await api.post(`/sites/${site.id}/kb/entries`, { ...c, note: n });
        // An entry written for an unanswered question takes it off the queue.
        const qid = query.get('unanswered');
        if (qid) await api.del(`/sites/${site.id}/kb/unanswered/${qid}`).catch(() => {});
        toast(t('kb.created'));
        ctx.navigate(`/console/kb/entries/${created.id}`, { replace: true });
        return;
      }
      entry = await api.put(`/kb/entries/${entry.id}`, { ...c, expected_revision: entry.revision, note: n });
      fill(entry);
      heading.textContent = t('kb.editing', { title: entry.title, n: entry.revision });
      toast(t('kb.savedRevision', { n: entry.revision }));
      await loadHistory();
    } catch (e) {
      err.show(e, t);
      if (e.code === 'revision_conflict') {
        err.el.append(' ', h('button', { type: 'button', class: 'small', on: { click: () => loadEntry() } }, t('kb.loadLatest')));
      }
    }
  }

  // History: compare any two revisions, view one, roll back to one.
  const fromSel = h('select', {});
  const toSel = h('select', {});
  const compare = h('button', { type: 'button' }, t('kb.compare'));
  const histList = h('ol', { class: 'rev-list', reversed: true });
  const histOut = h('div', { class: 'hist-out', 'aria-live': 'polite' });
  compare.addEventListener('click', () => busy(compare, () => showDiff(Number(fromSel.value), Number(toSel.value))));

  async function showDiff(from, to) {
    try {
      const d = await api.get(`/kb/entries/${entry.id}/diff`, { from, to });
      replace(histOut, h('h3', {}, t('kb.diffTitle', { from, to })), diffView(t, d));
    } catch (e) {
      replace(histOut, h('p', { class: 'error-text', role: 'alert' }, describeError(e, t)));
    }
  }

  async function showRevision(n, cited) {
    try {
      const r = await api.get(`/kb/entries/${entry.id}/revisions/${n}`);
      replace(histOut,
        h('h3', {}, t('kb.revisionTitle', { n })),
        cited ? h('p', { class: 'notice' }, t('kb.citedRevision', { n })) : null,
        contentView(t, r.content));
    } catch (e) {
      replace(histOut, h('p', { class: 'error-text', role: 'alert' }, describeError(e, t)));
    }
  }

  async function rollback(n, button) {
    if (!confirm(t('kb.confirmRollback', { n }))) return;
    await busy(button, async () => {
      try {
        entry = await api.post(`/kb/entries/${entry.id}/rollback`, { revision: n });
        fill(entry);
        heading.textContent = t('kb.editing', { title: entry.title, n: entry.revision });
        toast(t('kb.rolledBack', { n, m: entry.revision }));
        await loadHistory();
        await showDiff(n, entry.revision);
      } catch (e) {
        replace(histOut, h('p', { class: 'error-text', role: 'alert' }, describeError(e, t)));
      }
    });
  }

  function renderHistory() {
    const opts = (sel, value) => replace(sel, revisions.map((r) => h('option', { value: String(r.revision), selected: r.revision === value }, t('revisionShort', { n: r.revision }))));
    const newest = revisions[0]?.revision || 1;
    opts(fromSel, Math.max(1, newest - 1));
    opts(toSel, newest);
    compare.disabled = revisions.length < 2;
    replace(histList, revisions.map((r) => {
      const view = h('button', { type: 'button', class: 'small ghost', on: { click: () => showRevision(r.revision) } }, t('view'));
      view.setAttribute('aria-label', t('kb.viewRevision', { n: r.revision }));
      const diffPrev = r.revision > 1 ? h('button', { type: 'button', class: 'small ghost', on: { click: () => showDiff(r.revision - 1, r.revision) } }, t('kb.changes')) : null;
      diffPrev?.setAttribute('aria-label', t('kb.changesIn', { n: r.revision }));
      let restore = null;
      if (canEdit && r.revision !== entry.revision) {
        restore = h('button', { type: 'button', class: 'small' }, t('kb.restore'));
        restore.setAttribute('aria-label', t('kb.restoreRevision', { n: r.revision }));
        restore.addEventListener('click', () => rollback(r.revision, restore));
      }
      return h('li', { value: String(r.revision), class: r.revision === entry.revision ? 'current' : null, dataset: { revision: r.revision } },
        h('div', { class: 'rev-head' },
          h('strong', {}, t('revisionShort', { n: r.revision })),
          r.revision === entry.revision ? h('span', { class: 'chip' }, t('kb.current')) : null,
          ' ', timeEl(r.created_at, ctx.lang)),
        h('div', { class: 'muted' }, (r.author_id && ctx.agentName(r.author_id)) || t('kb.system'), r.note ? ` — ${r.note}` : ''),
        h('div', { class: 'row-actions' }, view, diffPrev, restore));
    }));
  }

  async function loadHistory() {
    revisions = await api.get(`/kb/entries/${entry.id}/revisions`);
    renderHistory();
  }

  async function loadEntry() {
    err.clear();
    try {
      entry = await api.get(`/kb/entries/${entryId}`);
      heading.textContent = t('kb.editing', { title: entry.title, n: entry.revision });
      fill(entry);
      replace(historyBox,
        h('h2', { id: 'hist-h' }, t('kb.history')),
        h('div', { class: 'compare-bar' },
          field(t('kb.from'), fromSel).wrap, field(t('kb.to'), toSel).wrap, compare),
        histList, histOut);
      historyBox.hidden = false;
      await loadHistory();
      const cited = Number(query.get('revision'));
      if (cited) await showRevision(cited, true);
    } catch (e) {
      heading.textContent = t('kb.entry');
      err.show(e, t);
    }
  }

  ctx.agents(site.id).then((list) => {
    for (const a of list) owner.append(h('option', { value: a.id }, a.name));
    // The entry may have loaded first, when its owner had no option yet.
    if (entry?.owner_id) owner.value = entry.owner_id;
  }, () => {});

  if (entryId) loadEntry();
  else {
    const q = query.get('question');
    if (q) {
      question.value = q;
      title.value = q.slice(0, 300);
    }
    syncFaq();
    preview('', answerPreview);
    preview('', bodyPreview);
  }
  return {
    unmount() {
      clearTimeout(previewTimer);
    },
  };
}

// --- retrieval test ---------------------------------------------------------------------------------

/** `text` with every case-insensitive occurrence of `terms` wrapped in <mark>; text nodes only. */
function highlighted(text, terms) {
  const clean = [...new Set(terms.filter((x) => x && x.trim()))].sort((a, b) => b.length - a.length);
  if (!clean.length) return [text];
  const re = new RegExp(clean.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'giu');
  const out = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('mark', {}, m[0]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

function retrievalTest(ctx, body, site) {
  const { t, api } = ctx;
  const err = errorBox();
  const q = h('input', { type: 'search', required: true, maxlength: '1000' });
  const audience = selectOf([['visitor', t('kb.audienceVisitor')], ['agent', t('kb.audienceAgent')]], null, 'visitor');
  const limit = h('input', { type: 'number', min: '1', max: '50', value: '10' });
  const run = h('button', { type: 'submit', class: 'primary' }, t('kb.search'));
  const out = h('div', { class: 'search-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'filter-bar', role: 'search', 'aria-label': t('kb.retrievalTest'), on: { submit: (e) => { e.preventDefault(); busy(run, go); } } },
    h('div', { class: 'grow' }, field(t('kb.testQuestion'), q, t('kb.testHint')).wrap),
    field(t('kb.audience'), audience).wrap,
    field(t('kb.limit'), limit).wrap,
    run);
  replace(body, h('h2', {}, t('kb.retrievalTest')), h('p', { class: 'muted' }, t('kb.retrievalIntro')), form, err.el, out);

  async function go() {
    err.clear();
    try {
      const results = await api.get(`/sites/${site.id}/kb/search`, { q: q.value, audience: audience.value, limit: limit.value });
      replace(out, results.length
        ? [h('p', { role: 'status' }, t('kb.resultCount', { n: results.length })),
            h('ol', { class: 'result-list' }, results.map((r) => h('li', { class: 'result' },
              h('div', { class: 'result-head' },
                h('a', { href: `/console/kb/entries/${r.entry_id}?revision=${r.revision}` }, r.title),
                h('span', { class: 'chip' }, catLabel(t, r.category)),
                h('span', { class: 'muted' }, t('revisionShort', { n: r.revision })),
                h('span', { class: 'score' }, t('kb.score', { s: r.score.toFixed(3) }))),
              r.heading_path.length ? h('p', { class: 'muted crumbs' }, r.heading_path.join(' › ')) : null,
              h('p', { class: 'chunk' }, highlighted(r.text.length > 600 ? `${r.text.slice(0, 600)}…` : r.text, r.matched_terms)),
              r.matched_terms.length ? h('p', { class: 'terms' }, h('span', { class: 'muted' }, t('kb.matchedTerms')), ' ', r.matched_terms.map((x) => h('span', { class: 'chip term' }, x))) : null)))]
        : h('p', { role: 'status' }, t('kb.noResults')));
    } catch (e) {
      err.show(e, t);
    }
  }
  q.focus();
  return {};
}

// --- import -------------------------------------------------------------------------------------------

/** A File's bytes as base64 (without the data: prefix). */
function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

function importer(ctx, body, site, query) {
  const { t, api } = ctx;
  const canEdit = ctx.can('editor');
  const err = errorBox();
  const files = h('input', { type: 'file', multiple: true, required: true, accept: '.md,.markdown,.txt,.html,.htm,.pdf,.docx,.csv,.xlsx' });
  const category = h('input', { type: 'text', value: 'tech_doc', list: uid('icats') });
  const catList = h('datalist', { id: category.getAttribute('list') }, CATEGORIES.map((c) => h('option', { value: c }, catLabel(t, c))));
  const status = selectOf(STATUSES.map((s) => [s, t(`entryStatus.${s}`)]), null, 'published');
  const visibility = selectOf(VISIBILITIES.map((v) => [v, t(`visibility.${v}`)]), null, 'public');
  const start = h('button', { type: 'submit', class: 'primary' }, t('kb.startImport'));
  const progress = h('div', { class: 'import-progress' });
  let timer = null;
  let alive = true;

  const form = canEdit
    ? h('form', { class: 'import-form', on: { submit: (e) => { e.preventDefault(); busy(start, upload); } } },
        field(t('kb.files'), files, t('kb.filesHint')).wrap,
        h('div', { class: 'grid3' }, h('div', {}, field(t('category'), category, t('kb.importCategoryHint')).wrap, catList), field(t('status'), status).wrap, field(t('visibility'), visibility).wrap),
        start)
    : h('p', { class: 'muted' }, t('kb.readOnly'));
  replace(body, h('h2', {}, t('kb.import')), h('p', { class: 'muted' }, t('kb.importIntro')), form, err.el, progress);

  async function upload() {
    err.clear();
    const list = [...files.files];
    if (!list.length) return;
    try {
      const encoded = await Promise.all(list.map(async (f) => ({ name: f.name, content_base64: await fileBase64(f) })));
      const size = encoded.reduce((n, f) => n + f.content_base64.length, 0);
      if (size > MAX_IMPORT_BASE64) {
        err.show({ code: 'body_too_large', message: t('kb.tooBig') }, t);
        return;
      }
      const job = await api.post(`/sites/${site.id}/kb/imports`, {
        files: encoded,
        settings: { category: category.value.trim() || 'tech_doc', status: status.value, visibility: visibility.value },
      });
      // The job id goes in the URL: a reload keeps following it.
      history.replaceState(null, '', `/console/kb/import?job=${job.id}`);
      files.value = '';
      follow(job.id, job);
    } catch (e) {
      err.show(e, t);
    }
  }

  function renderJob(job) {
    // `done` counts every file processed, failed ones included.
    const finished = job.done;
    const pct = job.total ? Math.round((finished / job.total) * 100) : 0;
    const fid = uid('prog');
    replace(progress,
      h('h3', {}, t('kb.importJob')),
      h('p', { role: 'status' }, t(`job.${job.status}`), ' — ', t('kb.progressLine', { done: job.done, failed: job.failed, total: job.total })),
      h('label', { for: fid, class: 'sr-only' }, t('kb.importProgress')),
      h('progress', { id: fid, max: String(job.total || 1), value: String(finished) }, `${pct}%`),
      job.error ? h('p', { class: 'error-text', role: 'alert' }, job.error) : null,
      h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, [t('kb.file'), t('status'), t('kb.outcome')].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, job.files.map((f) => {
          const r = f.result || {};
          const failed = f.status === 'failed' || r.ok === false;
          return h('tr', { class: failed ? 'failed' : null },
            h('td', {}, f.name),
            h('td', {}, h('span', { class: `chip file-${failed ? 'failed' : f.status}` }, t(`fileStatus.${failed ? 'failed' : f.status}`))),
            h('td', {}, failed
              ? h('span', { class: 'error-text' }, t(`importErr.${r.error_code}`) === `importErr.${r.error_code}` ? r.error_code || t('kb.failed') : t(`importErr.${r.error_code}`), r.error ? ` — ${r.error}` : '')
              : f.status === 'done'
                ? [t('kb.outcomeLine', { created: r.created?.length || 0, updated: r.updated?.length || 0, unchanged: r.unchanged || 0 }),
                    r.format ? h('span', { class: 'muted' }, ` (${r.format})`) : null,
                    r.warnings?.length ? h('ul', { class: 'warnings' }, r.warnings.map((w) => h('li', {}, w))) : null,
                    (r.created || []).concat(r.updated || []).length
                      ? h('p', {}, (r.created || []).concat(r.updated || []).slice(0, 10).map((id, i) => [i ? ', ' : '', h('a', { href: `/console/kb/entries/${id}` }, t('kb.entryN', { n: i + 1 }))]))
                      : null]
                : '…'));
        }))));
  }

  async function follow(id, first) {
    clearTimeout(timer);
    let job = first;
    try {
      if (!job) job = await api.get(`/kb/imports/${id}`);
      if (!alive) return;
      renderJob(job);
      if (job.status === 'done' || job.status === 'failed') {
        announce(t('kb.importFinished', { ok: job.done - job.failed, failed: job.failed }));
        return;
      }
      timer = setTimeout(() => follow(id), POLL_MS);
    } catch (e) {
      if (!alive) return;
      err.show(e, t);
      // Keep following through a blip; the job runs on the server either way.
      if (e.code === 'network' || e.status >= 500) timer = setTimeout(() => follow(id), POLL_MS * 3);
    }
  }

  const jobId = query.get('job');
  if (jobId) follow(jobId);
  return {
    unmount() {
      alive = false;
      clearTimeout(timer);
    },
  };
}

// --- unanswered questions ----------------------------------------------------------------------------

function unanswered(ctx, body, site) {
  const { t, api } = ctx;
  const canEdit = ctx.can('editor');
  const err = errorBox();
  const out = h('div', { 'aria-live': 'polite' });
  replace(body, h('h2', {}, t('kb.unanswered')), h('p', { class: 'muted' }, t('kb.unansweredIntro')), err.el, out);

  async function load() {
    try {
      const list = await api.get(`/sites/${site.id}/kb/unanswered`, { limit: 200 });
      replace(out, list.length
        ? h('table', { class: 'table' },
            h('thead', {}, h('tr', {}, [t('kb.question'), t('kb.reason'), t('kb.confidenceCol'), t('kb.asked'), t('actions')].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, list.map((u) => {
              const dismiss = canEdit ? h('button', { type: 'button', class: 'small ghost' }, t('kb.dismiss')) : null;
              dismiss?.setAttribute('aria-label', t('kb.dismissQ', { q: u.question.slice(0, 60) }));
              dismiss?.addEventListener('click', () => busy(dismiss, async () => {
                try {
                  await api.del(`/sites/${site.id}/kb/unanswered/${u.id}`);
                  toast(t('kb.dismissed'));
                  load();
                } catch (e) {
                  err.show(e, t);
                }
              }));
              const q = new URLSearchParams({ question: u.question, unanswered: u.id });
              return h('tr', {},
                h('td', {}, u.question),
                h('td', {}, t(`reason.${u.reason}`) === `reason.${u.reason}` ? u.reason : t(`reason.${u.reason}`)),
                h('td', {}, `${Math.round(u.confidence * 100)}%`),
                h('td', {}, timeEl(u.created_at, ctx.lang), u.conversation_id ? [' · ', h('a', { href: `/console/conversations/${u.conversation_id}` }, t('conversation'))] : null),
                h('td', { class: 'row-actions' },
                  canEdit ? h('a', { class: 'button small', href: `/console/kb/new?${q}` }, t('kb.writeAnswer')) : null,
                  dismiss));
            })))
        : h('p', { class: 'muted' }, t('kb.noUnanswered')));
    } catch (e) {
      err.show(e, t);
    }
  }
  load();
  return {};
}

// --- upkeep report -------------------------------------------------------------------------------

/** Days a published entry may go unused before the report lists it. */
const NEVER_HIT_DAYS = 30;

function upkeep(ctx, body, site) {
  const { t, api } = ctx;
  const err = errorBox();
  const out = h('div', { 'aria-live': 'polite' });
  replace(body, h('h2', {}, t('kb.upkeep')), h('p', { class: 'muted' }, t('kb.upkeepIntro')), err.el, out);

  const entryLink = (e) => h('a', { href: `/console/kb/entries/${e.id}` }, e.title);
  function section(id, title, list, detail) {
    const items = list.items;
    return h('section', { class: 'upkeep-section', 'aria-labelledby': id },
      h('h3', { id }, title, ' ', h('span', { class: 'badge' }, String(list.total))),
      items.length
        ? h('ul', { class: 'upkeep-list' }, items.map((e) => h('li', {}, entryLink(e), ' ', h('span', { class: 'muted' }, detail(e)))))
        : h('p', { class: 'muted' }, t('kb.upkeepNone')),
      list.total > items.length ? h('p', { class: 'muted' }, t('kb.upkeepMore', { n: list.total - items.length })) : null);
  }

  async function load() {
    try {
      const r = await api.get(`/sites/${site.id}/kb/report`, { never_hit_days: NEVER_HIT_DAYS, limit: 50 });
      replace(out,
        h('p', {}, h('a', { href: '/console/kb/unanswered' }, t('kb.upkeepUnanswered', { n: r.unanswered }))),
        section('upkeep-overdue', t('kb.upkeepOverdue'), r.review_overdue, (e) => [t('kb.upkeepDue'), ' ', timeEl(e.review_due, ctx.lang)]),
        section('upkeep-never', t('kb.upkeepNeverHit', { days: r.never_hit_days }), r.never_hit, (e) => [t('kb.upkeepCreated'), ' ', timeEl(e.created_at, ctx.lang)]),
        section('upkeep-negative', t('kb.upkeepNegative'), r.negative_feedback, (e) => t('kb.upkeepThumbs', { up: e.thumbs_up, down: e.thumbs_down })));
    } catch (e) {
      err.show(e, t);
    }
  }
  load();
  return {};
}

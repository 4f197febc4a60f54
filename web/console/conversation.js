// One conversation, as an agent works it: the full log (older pages on demand) with assistant
// answers marked and their confidence, hand-off reason and cited knowledge-base revisions;
// private notes; replies with canned-reply completion (`/shortcut`); typing indicators both
// ways; take over / hand back to the bot / release / transfer; resolve and reopen; tags; the
// visitor's details and earlier conversations; the copilot's suggested replies to insert,
// edit and send; a summary of the conversation on demand (by the site's model, or assembled
// offline); and the visitor's satisfaction rating once they gave one.
//
// The log is the REST history plus the socket's live entries, keyed by message id (and a
// pending reply by its client_id until the server's copy arrives), so a reconnect or the
// double delivery described in docs/PROTOCOL.md never shows an entry twice.

import { h, replace, timeEl, extLink, clientId, busy, uid, describeError, announce } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { visitorLabel } from './inbox.js';
import { attachmentList, attachPicker } from './attachments.js';

const PAGE = 50;
/** How long a "typing" signal stays on screen without a refresh. */
const TYPING_TTL_MS = 8000;
/** Our own typing signal: resent at most this often, and stopped after this much quiet. */
const TYPING_RESEND_MS = 3000;
const TYPING_IDLE_MS = 4000;

/** Mounts the conversation `id` into `pane`; returns {unmount}. */
export function mountConversation(ctx, pane, id) {
  const { t, api, live } = ctx;
  const me = ctx.me;
  let conv = null;
  let visitor = null;
  let alive = true;
  const byId = new Map(); // message id → message
  const pendings = new Map(); // client id → {text, private, state, error}
  let oldest = null;
  let hasMore = false;
  let canned = [];
  let visitorRead = 0;
  const typers = new Map(); // author key → {label, timer}

  const err = h('div', { class: 'error-box', role: 'alert', hidden: true });
  const showError = (e) => {
    err.textContent = describeError(e, t);
    err.hidden = false;
  };
  const title = h('h2', { id: 'conv-title', tabindex: '-1' }, t('loading'));
  const statusLine = h('p', { class: 'conv-status' });
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': t('conversationActions') });
  const older = h('button', { type: 'button', class: 'ghost', hidden: true, on: { click: () => busy(older, loadOlder) } }, t('loadEarlier'));
  const log = h('ol', { class: 'log', role: 'log', 'aria-label': t('messages'), 'aria-busy': 'true' });
  const logWrap = h('div', { class: 'log-wrap', tabindex: '0', 'aria-label': t('messages') }, older, log);
  const typingLine = h('p', { class: 'typing muted' });

  // --- composer -------------------------------------------------------------------------------
  const modeName = uid('mode');
  const modeReply = h('input', { type: 'radio', name: modeName, value: 'reply', checked: true, id: uid('m') });
  const modeNote = h('input', { type: 'radio', name: modeName, value: 'note', id: uid('m') });
  const listId = uid('canned');
  const input = h('textarea', {
    id: 'composer-text',
    rows: '3',
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': listId,
    'aria-describedby': 'composer-hint',
    placeholder: t('replyPlaceholder'),
  });
  const inputLabel = h('label', { for: 'composer-text', class: 'sr-only' }, t('reply'));
  const cannedList = h('ul', { id: listId, role: 'listbox', class: 'canned-list', hidden: true, 'aria-label': t('cannedReplies') });
  const sendBtn = h('button', { type: 'submit', class: 'primary' }, t('send'));
  const files = attachPicker({ api, convId: id, t });
  const composer = h('form', { class: 'composer', on: { submit: (e) => { e.preventDefault(); sendCurrent(); } } },
    h('fieldset', { class: 'mode' },
      h('legend', { class: 'sr-only' }, t('messageKind')),
      h('label', { for: modeReply.id }, modeReply, ' ', t('reply')),
      h('label', { for: modeNote.id }, modeNote, ' ', t('privateNote'))),
    inputLabel, input, cannedList, files.tray,
    h('div', { class: 'composer-foot' }, h('small', { id: 'composer-hint', class: 'muted' }, t('composerHint')), files.button, sendBtn));
  const isNote = () => modeNote.checked;
  const setModeLook = () => {
    composer.classList.toggle('note-mode', isNote());
    input.placeholder = isNote() ? t('notePlaceholder') : t('replyPlaceholder');
    sendBtn.textContent = isNote() ? t('addNote') : t('send');
    inputLabel.textContent = isNote() ? t('privateNote') : t('reply');
    if (isNote()) stopTyping();
  };
  modeReply.addEventListener('change', setModeLook);
  modeNote.addEventListener('change', setModeLook);

  // --- side panels -----------------------------------------------------------------------------
  const suggestList = h('div', { class: 'suggestions' });
  const suggestStatus = h('p', { class: 'muted', role: 'status' });
  const refreshSuggest = h('button', { type: 'button', class: 'ghost small', on: { click: () => loadSuggestions() } }, t('refresh'));
  const visitorBox = h('dl', { class: 'facts' });
  const tagInput = h('input', { type: 'text', id: uid('tags'), autocomplete: 'off', list: uid('taglist') });
  const tagList = h('datalist', { id: tagInput.getAttribute('list') });
  const tagSave = h('button', { type: 'submit', class: 'small' }, t('saveTags'));
  const tagChips = h('p', { class: 'chips' });
  const prevList = h('ul', { class: 'prev-list' });
  const summaryBtn = h('button', { type: 'button', class: 'small', on: { click: () => busy(summaryBtn, summarise) } }, t('summarise'));
  const summaryStatus = h('p', { class: 'muted summary-source', role: 'status' });
  // Shown as text only: a model's output is never markup.
  const summaryText = h('p', { class: 'summary-text', hidden: true });
  const ratingPanel = h('section', { class: 'panel csat-panel', 'aria-labelledby': 'rating-h', hidden: true });

  const side = h('aside', { class: 'conv-side', 'aria-label': t('details') },
    h('section', { class: 'panel copilot', 'aria-labelledby': 'copilot-h' },
      h('div', { class: 'panel-head' }, h('h3', { id: 'copilot-h' }, t('suggestedReplies')), refreshSuggest),
      suggestStatus, suggestList),
    h('section', { class: 'panel summary', 'aria-labelledby': 'summary-h' },
      h('div', { class: 'panel-head' }, h('h3', { id: 'summary-h' }, t('summary')), summaryBtn),
      summaryStatus, summaryText),
    ratingPanel,
    h('section', { class: 'panel', 'aria-labelledby': 'visitor-h' }, h('h3', { id: 'visitor-h' }, t('visitor')), visitorBox),
    h('section', { class: 'panel', 'aria-labelledby': 'tags-h' },
      h('h3', { id: 'tags-h' }, t('tags')), tagChips,
      h('form', { class: 'row-form', on: { submit: (e) => { e.preventDefault(); busy(tagSave, saveTags); } } },
        h('label', { for: tagInput.id }, t('tagsHint')), tagInput, tagList, tagSave)),
    h('section', { class: 'panel', 'aria-labelledby': 'prev-h' }, h('h3', { id: 'prev-h' }, t('previousConversations')), prevList));

  replace(pane, h('article', { class: 'conversation', 'aria-labelledby': 'conv-title' },
    h('header', { class: 'conv-head' }, h('div', {}, title, statusLine), actions),
    err,
    h('div', { class: 'conv-main' }, logWrap, typingLine, composer),
    side));

  // --- rendering -----------------------------------------------------------------------------

  const site = () => ctx.sites.find((s) => s.id === conv?.site_id);
  const agentLabel = (agentId, fallback) => ctx.agentName(agentId) || fallback || t('someone');

  function eventText(m) {
    const e = m.event;
    if (!e) return m.text;
    switch (e.type) {
      case 'handoff_requested':
        return t('event.handoff', { reason: t(`reason.${e.reason}`) === `reason.${e.reason}` ? e.reason : t(`reason.${e.reason}`) });
      case 'no_agent_online':
        return t('event.noAgent');
      case 'contact_left':
        return t('event.contact', { email: e.email });
      case 'assigned':
        if (!e.by) return t('event.autoAssigned', { name: e.agent_name });
        if (e.by === e.agent_id) return t('event.took', { name: e.agent_name });
        return t('event.assigned', { by: agentLabel(e.by), name: e.agent_name });
      case 'unassigned':
        return t('event.unassigned');
      case 'handed_to_bot':
        return t('event.handedToBot');
      case 'resolved':
        return e.by ? t('event.resolvedBy', { name: agentLabel(e.by) }) : t('event.resolved');
      case 'reopened':
        return e.by ? t('event.reopenedBy', { name: agentLabel(e.by) }) : t('event.reopened');
      default:
        return m.text;
    }
  }

  function answerMeta(a) {
    const pct = Math.round((a.confidence || 0) * 100);
    const reason = a.reason ? (t(`reason.${a.reason}`) === `reason.${a.reason}` ? a.reason : t(`reason.${a.reason}`)) : null;
    return h('div', { class: 'answer-meta' },
      h('p', { class: 'meta-line' },
        h('span', { class: 'chip ai' }, t(`answerKind.${a.kind}`)),
        h('span', { class: 'confidence', title: t('confidenceHint') }, t('confidence', { pct })),
        h('meter', { min: '0', max: '1', low: '0.4', high: '0.7', optimum: '1', value: String(a.confidence || 0), 'aria-label': t('confidence', { pct }) }),
        reason ? h('span', { class: 'reason' }, t('reasonLabel', { reason })) : null),
      a.citations?.length
        ? h('div', { class: 'citations' }, h('span', { class: 'muted' }, t('sources')), h('ul', {}, a.citations.map((c) =>
            h('li', {},
              h('a', { href: `/console/kb/entries/${c.entry_id}?revision=${c.revision}` }, c.title),
              ' ', h('span', { class: 'muted' }, t('revisionShort', { n: c.revision })),
              c.link ? [' · ', extLink(t('publicLink'), c.link)] : null))))
        : null,
      a.suggestions?.length
        ? h('div', { class: 'clarify' }, h('span', { class: 'muted' }, t('offeredQuestions')), h('ul', {}, a.suggestions.map((s) => h('li', {}, s))))
        : null,
      a.standalone_question ? h('p', { class: 'muted' }, t('searchedAs', { q: a.standalone_question })) : null,
      a.generation
        ? h('p', { class: 'muted generation' }, t('generatedBy', {
            model: a.generation.model,
            provider: a.generation.provider,
            input: a.generation.prompt_tokens,
            output: a.generation.completion_tokens,
          }), a.generation.cache_hit ? ` · ${t('fromCache')}` : '')
        : null,
      // How much of the conversation the model saw: answers that ignore earlier turns are
      // often explained by a small budget or dropped messages.
      a.generation && a.generation.context_budget_tokens != null
        ? h('p', { class: 'muted generation-context' }, t('contextUse', {
            used: a.generation.context_tokens ?? 0,
            budget: a.generation.context_budget_tokens,
          }), a.generation.context_dropped_messages
            ? ` · ${t('contextDropped', { n: a.generation.context_dropped_messages })}`
            : ` · ${t('contextNoneDropped')}`)
        : null);
  }

  function messageEl(m) {
    if (m.author_kind === 'system') {
      return h('li', { class: 'msg system', dataset: { id: m.id, seq: m.seq } }, h('span', {}, eventText(m)), ' ', timeEl(m.created_at, ctx.lang));
    }
    const who = m.author_kind === 'visitor'
      ? visitorLabel(t, conv?.visitor_id, visitor)
      : m.author_kind === 'bot' ? t('assistant') : m.author_name || agentLabel(m.author_id);
    const body = h('div', { class: 'body' });
    // Visitors write plain text; agents and the assistant write the Markdown subset the widget
    // shows. Neither path ever parses markup.
    if (m.author_kind === 'visitor') body.append(h('p', { class: 'plain' }, m.text));
    else body.append(renderMarkdown(m.text, { headingOffset: 3 }));
    const seen = m.author_kind === 'agent' && !m.private && m.seq <= visitorRead;
    return h('li', { class: ['msg', m.author_kind, m.private && 'private'], dataset: { id: m.id, seq: m.seq, clientId: m.client_id || null } },
      h('div', { class: 'msg-head' },
        h('strong', { class: 'who' }, who),
        m.author_kind === 'bot' ? h('span', { class: 'chip ai' }, t('aiAnswer')) : null,
        m.private ? h('span', { class: 'chip note' }, t('privateNote')) : null,
        timeEl(m.created_at, ctx.lang),
        seen ? h('span', { class: 'seen muted' }, t('seen')) : null),
      body,
      m.answer ? answerMeta(m.answer) : null,
      m.attachments?.length ? attachmentList(m.attachments, t) : null);
  }

  function pendingEl(cid, p) {
    const li = h('li', { class: ['msg', 'agent', p.private && 'private', 'pending'], dataset: { clientId: cid, state: p.state } },
      h('div', { class: 'msg-head' },
        h('strong', { class: 'who' }, me.name),
        p.private ? h('span', { class: 'chip note' }, t('privateNote')) : null,
        h('span', { class: 'muted' }, p.state === 'failed' ? t('notSent') : t('sending'))),
      h('div', { class: 'body' }, renderMarkdown(p.text, { headingOffset: 3 })),
      p.files?.length ? attachmentList(p.files, t) : null);
    if (p.state === 'failed') {
      li.append(h('p', { class: 'error-text' }, p.error),
        h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'small', on: { click: () => deliver(cid) } }, t('retry')),
          h('button', { type: 'button', class: 'small ghost', on: { click: () => { pendings.delete(cid); renderPendings(); } } }, t('discard'))));
    }
    return li;
  }

  const nearBottom = () => logWrap.scrollHeight - logWrap.scrollTop - logWrap.clientHeight < 80;
  const toBottom = () => (logWrap.scrollTop = logWrap.scrollHeight);

  /** Puts a message in the log in seq order (or refreshes it), replacing its pending copy. */
  function upsert(m) {
    const stick = nearBottom();
    const had = byId.has(m.id);
    log.querySelector('li.empty')?.remove();
    byId.set(m.id, m);
    const el = messageEl(m);
    const existing = log.querySelector(`li[data-id="${CSS.escape(m.id)}"]`);
    if (m.author_kind === 'bot' && m.client_id?.startsWith('bot:')) dropStream(m.client_id.slice(4));
    if (m.client_id && pendings.has(m.client_id)) {
      pendings.delete(m.client_id);
      log.querySelector(`li.pending[data-client-id="${CSS.escape(m.client_id)}"]`)?.remove();
    }
    if (existing) existing.replaceWith(el);
    else {
      // Walk back from the end: new entries almost always go last.
      let after = null;
      for (let n = log.lastElementChild; n; n = n.previousElementSibling) {
        if (n.dataset.seq && Number(n.dataset.seq) < m.seq) {
          after = n;
          break;
        }
      }
      if (after) after.after(el);
      else log.prepend(el);
      // Pending replies and streaming answers stay below everything committed.
      for (const p of log.querySelectorAll('li.pending, li.streaming')) log.append(p);
    }
    if (!had && stick) toBottom();
  }

  // Assistant answers streaming in (answer_delta frames), keyed by the question they answer.
  const streams = new Map();
  function dropStream(replyTo) {
    streams.get(replyTo)?.el.remove();
    streams.delete(replyTo);
  }
  function onDelta(e) {
    const f = e.detail;
    if (f.conversation_id !== id) return;
    let s = streams.get(f.reply_to);
    if (f.reset && s) s.text = '';
    if (!s) {
      const bodyEl = h('div', { class: 'body' });
      s = { text: '', body: bodyEl, el: h('li', { class: 'msg bot streaming', 'aria-busy': 'true' },
        h('div', { class: 'msg-head' }, h('strong', { class: 'who' }, t('assistant')), h('span', { class: 'chip ai' }, t('aiWriting'))), bodyEl) };
      streams.set(f.reply_to, s);
      log.append(s.el);
    }
    s.text += f.text || '';
    // A reset with nothing after it withdraws the answer (a person took over meanwhile).
    if (!s.text) return dropStream(f.reply_to);
    const stick = nearBottom();
    replace(s.body, renderMarkdown(s.text, { headingOffset: 3 }));
    if (stick) toBottom();
  }

  function renderPendings() {
    log.querySelectorAll('li.pending').forEach((n) => n.remove());
    for (const [cid, p] of pendings) log.append(pendingEl(cid, p));
  }

  const maxSeq = () => Math.max(0, ...[...byId.values()].map((m) => m.seq));

  function markRead() {
    if (!conv || document.visibilityState !== 'visible') return;
    const seq = Math.max(maxSeq(), conv.last_seq || 0);
    if (seq) ctx.inbox.markRead(id, seq);
  }

  function renderHead() {
    if (!conv) return;
    title.textContent = visitorLabel(t, conv.visitor_id, visitor);
    const assignee = conv.assignee_id ? agentLabel(conv.assignee_id) : null;
    replace(statusLine,
      h('span', { class: `chip status-${conv.status}` }, t(`status.${conv.status}`)),
      ' ',
      assignee ? t('assignedTo', { name: conv.assignee_id === me.id ? t('you') : assignee }) : t('nobodyAssigned'),
      site() && ctx.sites.length > 1 ? h('span', { class: 'muted' }, ` · ${site().name}`) : null);
    renderActions();
  }

  function actionButton(label, run, cls) {
    const b = h('button', { type: 'button', class: cls || null });
    b.textContent = label;
    b.addEventListener('click', () => busy(b, async () => {
      err.hidden = true;
      try {
        const c = await run();
        // Through the store, so the inbox row changes at once too (the socket's copy of the
        // same change is then recognised as nothing new).
        if (c?.id) ctx.inbox.update(c);
        announce(label);
      } catch (e) {
        showError(e);
      }
    }));
    return b;
  }

  async function renderActions() {
    const c = conv;
    // The buttons change with the state; keep keyboard focus in the group when they do.
    const hadFocus = actions.contains(document.activeElement);
    const refocus = () => hadFocus && actions.querySelector('button:not([disabled])')?.focus();
    const mine = c.assignee_id === me.id;
    const open = c.status !== 'resolved';
    const buttons = [];
    if (!open) buttons.push(actionButton(t('reopen'), () => api.reopen(id), 'primary'));
    else {
      if (!mine) buttons.push(actionButton(c.status === 'bot' || c.assignee_id ? t('takeOver') : t('take'), () => api.assign(id, me.id), 'primary'));
      if (c.status !== 'bot' && site()?.settings?.bot_enabled) buttons.push(actionButton(t('handToBot'), () => api.handToBot(id)));
      if (c.assignee_id) buttons.push(actionButton(t('release'), () => api.assign(id, null)));
      buttons.push(actionButton(t('resolve'), () => api.resolve(id)));
    }
    const controls = [buttons];
    if (open) {
      const sel = h('select', { id: uid('transfer') });
      const go = h('button', { type: 'button' }, t('transfer'));
      go.addEventListener('click', () => busy(go, async () => {
        if (!sel.value) return;
        err.hidden = true;
        try {
          ctx.inbox.update(await api.assign(id, sel.value));
          announce(t('transferred'));
        } catch (e) {
          showError(e);
        }
      }));
      controls.push(h('span', { class: 'transfer' }, h('label', { for: sel.id }, t('transferTo')), sel, go));
      replace(actions, controls);
      refocus();
      try {
        const agents = await ctx.agents(c.site_id);
        const others = agents.filter((a) => a.id !== c.assignee_id && !a.disabled);
        replace(sel, others.map((a) => h('option', { value: a.id }, `${a.name}${a.id === me.id ? ` (${t('you')})` : ''} · ${t(`presence.${a.presence}`)}`)));
        // Nobody to hand it to (a one-person site): no control rather than an empty one.
        controls[1].hidden = !others.length;
      } catch {
        controls[1].hidden = true;
      }
    } else {
      replace(actions, controls);
      refocus();
    }
  }

  function setConversation(c) {
    if (c.id !== id) return;
    const prevStatus = conv?.status;
    conv = c;
    renderHead();
    renderTags();
    if (prevStatus && prevStatus !== c.status) announce(t('statusNow', { status: t(`status.${c.status}`) }));
  }

  function renderVisitor() {
    const v = visitor;
    const rows = [
      [t('name'), v.name],
      [t('email'), v.email],
      [t('page'), v.page_url ? extLink(v.page_url, v.page_url) : null],
      [t('referrer'), v.referrer ? extLink(v.referrer, v.referrer) : null],
      [t('language'), v.language],
      [t('browser'), v.user_agent],
      [t('network'), v.ip_truncated],
      [t('firstSeen'), timeEl(v.created_at, ctx.lang)],
      [t('lastSeen'), timeEl(v.last_seen_at, ctx.lang)],
    ];
    replace(visitorBox, rows.filter(([, val]) => val).map(([k, val]) => [h('dt', {}, k), h('dd', {}, val)]));
  }

  function renderTags() {
    replace(tagChips, conv.tags.length ? conv.tags.map((x) => h('span', { class: 'chip tag' }, `#${x}`)) : h('span', { class: 'muted' }, t('noTags')));
    if (document.activeElement !== tagInput) tagInput.value = conv.tags.join(', ');
  }

  async function saveTags() {
    const tags = tagInput.value.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
    try {
      ctx.inbox.update(await api.setTags(id, tags));
      tagInput.value = conv.tags.join(', ');
      announce(t('saved'));
    } catch (e) {
      showError(e);
    }
  }

  async function loadPrevious() {
    try {
      const page = await api.conversations({ visitor_id: conv.visitor_id, filter: 'all', limit: 20 });
      const others = page.items.filter((c) => c.id !== id);
      replace(prevList, others.length
        ? others.map((c) => h('li', {},
            h('a', { href: `/console/conversations/${c.id}` }, c.last_message_preview || t('noMessagesYet')),
            ' ', h('span', { class: `chip status-${c.status}` }, t(`status.${c.status}`)), ' ', timeEl(c.created_at, ctx.lang)))
        : h('li', { class: 'muted' }, t('none')));
    } catch (e) {
      replace(prevList, h('li', { class: 'error-text' }, describeError(e, t)));
    }
  }

  // --- summary and rating ---------------------------------------------------------------------

  async function summarise() {
    summaryStatus.textContent = t('summarising');
    try {
      const s = await api.summary(id);
      if (!alive) return;
      summaryText.textContent = s.summary;
      summaryText.hidden = false;
      summaryStatus.textContent = s.source === 'model' && s.generation
        ? t('summaryByModel', { model: s.generation.model, provider: s.generation.provider })
        : t('summaryOffline');
      summaryStatus.dataset.source = s.source;
    } catch (e) {
      summaryStatus.textContent = describeError(e, t);
    }
  }

  let rating = null;
  function renderRating() {
    ratingPanel.hidden = !rating;
    if (!rating) return ratingPanel.replaceChildren();
    const n = rating.rating;
    replace(ratingPanel,
      h('h3', { id: 'rating-h' }, t('visitorRating')),
      h('p', { class: 'rating-line' },
        h('span', { class: 'stars', 'aria-hidden': 'true' }, '★'.repeat(n) + '☆'.repeat(Math.max(0, 5 - n))),
        ' ', h('strong', { class: 'rating-value' }, t('outOfFive', { n }))),
      rating.comment ? h('blockquote', { class: 'rating-comment' }, rating.comment) : null);
  }

  /** The rating arrives after resolving and has no live event: read it again when useful. */
  async function refreshRating() {
    if (!conv || conv.status !== 'resolved') return;
    try {
      const detail = await api.conversation(id);
      if (!alive) return;
      rating = detail.rating || null;
      renderRating();
    } catch {
      /* keep what is shown */
    }
  }

  // --- copilot ---------------------------------------------------------------------------------

  /** The visitor message the shown suggestions answer; newer visitor text refreshes them. */
  let suggestSeq = -1;
  async function loadSuggestions() {
    suggestStatus.textContent = t('loading');
    try {
      const s = await api.suggestions(id);
      if (!alive) return;
      suggestSeq = s.question_seq ?? -1;
      if (!s.question) {
        suggestStatus.textContent = t('noVisitorQuestion');
        replace(suggestList);
        return;
      }
      suggestStatus.textContent = s.suggestions.length ? t('suggestionsFor', { q: s.question }) : t('noSuggestions', { q: s.question });
      replace(suggestList, s.suggestions.map((sg, i) => {
        const pct = Math.round(sg.confidence * 100);
        const insert = h('button', { type: 'button', class: 'small', on: { click: () => insertText(sg.text) } }, t('insert'));
        insert.setAttribute('aria-label', t('insertSuggestion', { n: i + 1 }));
        return h('div', { class: 'suggestion' },
          h('div', { class: 'body' }, renderMarkdown(sg.text, { headingOffset: 4 })),
          h('p', { class: 'meta-line' },
            h('span', { class: 'confidence' }, t('confidence', { pct })),
            ' · ', h('a', { href: `/console/kb/entries/${sg.citation.entry_id}?revision=${sg.citation.revision}` }, sg.citation.title),
            sg.internal ? h('span', { class: 'chip warn' }, t('internalSource')) : null),
          insert);
      }));
    } catch (e) {
      suggestStatus.textContent = describeError(e, t);
    }
  }

  /** Puts text into the composer at the caret (replacing a selection) for the agent to edit. */
  function insertText(text) {
    modeReply.checked = true;
    setModeLook();
    const { selectionStart: s, selectionEnd: e, value } = input;
    input.value = value.slice(0, s) + text + value.slice(e);
    input.focus();
    input.selectionStart = input.selectionEnd = s + text.length;
  }

  // --- canned replies ----------------------------------------------------------------------------

  let matches = [];
  let active = -1;
  let cannedToken = null;

  function closeCanned() {
    cannedList.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    matches = [];
    active = -1;
    cannedToken = null;
  }

  function renderCanned() {
    replace(cannedList, matches.map((c, i) =>
      h('li', {
        id: `${listId}-${i}`,
        role: 'option',
        'aria-selected': String(i === active),
        class: i === active ? 'active' : null,
        on: {
          // mousedown, not click: keeps focus (and the caret) in the textarea.
          mousedown: (e) => {
            e.preventDefault();
            applyCanned(i);
          },
        },
      }, h('strong', {}, `/${c.shortcut}`), ' ', h('span', {}, c.title), h('span', { class: 'muted snippet' }, c.text.slice(0, 80)))));
    cannedList.hidden = !matches.length;
    input.setAttribute('aria-expanded', String(!!matches.length));
    if (active >= 0) input.setAttribute('aria-activedescendant', `${listId}-${active}`);
    else input.removeAttribute('aria-activedescendant');
  }

  function updateCanned() {
    const before = input.value.slice(0, input.selectionStart);
    const m = /(^|\s)\/([\p{L}\p{N}_-]*)$/u.exec(before);
    if (!m || !canned.length) return closeCanned();
    const q = m[2].toLowerCase();
    matches = canned.filter((c) => c.shortcut.startsWith(q)).slice(0, 8);
    cannedToken = { start: before.length - m[2].length - 1, end: input.selectionStart };
    active = matches.length ? 0 : -1;
    renderCanned();
    if (matches.length) announce(t('cannedMatches', { n: matches.length }));
  }

  function applyCanned(i) {
    const c = matches[i];
    if (!c || !cannedToken) return;
    const v = input.value;
    input.value = v.slice(0, cannedToken.start) + c.text + v.slice(cannedToken.end);
    const caret = cannedToken.start + c.text.length;
    closeCanned();
    input.focus();
    input.selectionStart = input.selectionEnd = caret;
  }

  // --- typing --------------------------------------------------------------------------------------

  let typingSentAt = 0;
  let typingIdle = null;
  let typingOn = false;
  function signalTyping(on) {
    typingOn = on;
    if (!live.typing(id, on)) api.typing(id, on).catch(() => {});
  }
  function onInputTyping() {
    if (isNote()) return; // a private note must not show "typing" to the visitor
    const now = Date.now();
    if (!typingOn || now - typingSentAt > TYPING_RESEND_MS) {
      typingSentAt = now;
      signalTyping(true);
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
  }
  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingOn) signalTyping(false);
  }

  function renderTypers() {
    const names = [...typers.values()].map((x) => x.label);
    typingLine.textContent = names.length ? t('isTyping', { name: names.join(', ') }) : '';
  }

  // --- sending ------------------------------------------------------------------------------------------

  async function deliver(cid) {
    const p = pendings.get(cid);
    if (!p) return;
    p.state = 'sending';
    renderPendings();
    toBottom();
    try {
      const attachment_ids = (p.files || []).map((f) => f.id);
      const m = await api.sendMessage(id, { client_id: cid, text: p.text, private: p.private, attachment_ids });
      upsert(m);
      markRead();
    } catch (e) {
      if (!pendings.has(cid)) return;
      p.state = 'failed';
      p.error = describeError(e, t);
      renderPendings();
      showError(e);
    }
  }

  async function sendCurrent() {
    const text = input.value;
    if (!text.trim() && !files.pending()) return;
    const cid = clientId();
    const note = isNote();
    input.value = '';
    closeCanned();
    stopTyping();
    err.hidden = true;
    // Uploads still running finish first; a file that failed stays in the tray, unsent.
    const refs = await files.take();
    if (!text.trim() && !refs.length) return;
    pendings.set(cid, { text, private: note, files: refs, state: 'sending' });
    deliver(cid);
    announce(isNote() ? t('noteAdded') : t('replySent'));
  }

  input.addEventListener('paste', (e) => {
    const pasted = [...(e.clipboardData?.files || [])];
    if (pasted.length) (e.preventDefault(), files.add(pasted));
  });
  input.addEventListener('input', () => {
    updateCanned();
    onInputTyping();
  });
  input.addEventListener('keydown', (e) => {
    // Keys typed while an input method is composing (pinyin…) belong to it, not to us.
    if (e.isComposing) return;
    if (!cannedList.hidden && matches.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = (active + (e.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length;
        renderCanned();
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        applyCanned(active);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        closeCanned();
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      sendCurrent();
    }
  });
  input.addEventListener('blur', () => setTimeout(closeCanned, 150));

  // --- live ---------------------------------------------------------------------------------------------

  const onMessage = (e) => {
    const m = e.detail;
    if (m.conversation_id !== id) return;
    upsert(m);
    if (m.author_kind === 'visitor') {
      typers.delete('visitor');
      renderTypers();
      if (m.seq > suggestSeq) loadSuggestions();
    }
    markRead();
  };
  const onTyping = (e) => {
    const f = e.detail;
    if (f.conversation_id !== id || (f.author_kind === 'agent' && f.author_id === me.id)) return;
    const key = f.author_kind === 'visitor' ? 'visitor' : f.author_id;
    clearTimeout(typers.get(key)?.timer);
    if (f.typing) {
      const label = f.author_kind === 'visitor'
        ? visitorLabel(t, conv?.visitor_id, visitor)
        : f.author_kind === 'bot' ? t('assistant') : f.author_name || t('someone');
      typers.set(key, { label, timer: setTimeout(() => { typers.delete(key); renderTypers(); }, TYPING_TTL_MS) });
    } else typers.delete(key);
    renderTypers();
  };
  const onRead = (e) => {
    const f = e.detail;
    if (f.conversation_id !== id || f.reader !== 'visitor') return;
    visitorRead = Math.max(visitorRead, f.seq);
    for (const m of byId.values()) if (m.author_kind === 'agent' && !m.private && m.seq <= visitorRead) upsert(m);
  };
  const onChange = (e) => {
    const c = e.detail.conversation;
    if (c?.id === id) setConversation(c);
  };
  const onVisible = () => {
    markRead();
    refreshRating();
  };

  async function loadOlder() {
    if (oldest == null) return;
    const before = logWrap.scrollHeight;
    try {
      const page = await api.messages(id, { before_seq: oldest, limit: PAGE });
      for (const m of page.items) upsert(m);
      hasMore = page.has_more;
      if (page.items.length) oldest = Math.min(...page.items.map((m) => m.seq));
      older.hidden = !hasMore;
      // Keep the agent's place: what they were reading stays where it was.
      logWrap.scrollTop += logWrap.scrollHeight - before;
    } catch (e) {
      showError(e);
    }
  }

  async function start() {
    try {
      const [detail, page] = await Promise.all([api.conversation(id), api.messages(id, { limit: PAGE })]);
      if (!alive) return;
      conv = ctx.inbox.remember(detail.conversation);
      visitor = detail.visitor;
      rating = detail.rating || null;
      renderRating();
      visitorRead = conv.visitor_last_read_seq || 0;
      setConversation(conv);
      renderVisitor();
      for (const m of page.items.sort((a, b) => a.seq - b.seq)) upsert(m);
      hasMore = page.has_more;
      oldest = page.items.length ? page.items[0].seq : null;
      older.hidden = !hasMore;
      log.removeAttribute('aria-busy');
      if (!page.items.length) log.append(h('li', { class: 'msg system empty' }, t('noMessagesYet')));
      toBottom();
      live.subscribe(id, maxSeq());
      markRead();
      loadSuggestions();
      loadPrevious();
      api.cannedReplies(conv.site_id).then((list) => (canned = list), () => (canned = []));
      api.tags(conv.site_id).then((list) => replace(tagList, list.map((x) => h('option', { value: x.name }))), () => {});
    } catch (e) {
      if (!alive) return;
      title.textContent = t('conversation');
      log.removeAttribute('aria-busy');
      showError(e);
      composer.hidden = true;
    }
  }

  live.addEventListener('message', onMessage);
  live.addEventListener('typing', onTyping);
  live.addEventListener('read', onRead);
  live.addEventListener('answer-delta', onDelta);
  ctx.inbox.addEventListener('change', onChange);
  document.addEventListener('visibilitychange', onVisible);
  addEventListener('focus', onVisible);
  start();

  return {
    unmount() {
      alive = false;
      stopTyping();
      for (const x of typers.values()) clearTimeout(x.timer);
      live.unsubscribe(id);
      live.removeEventListener('message', onMessage);
      live.removeEventListener('typing', onTyping);
      live.removeEventListener('read', onRead);
      live.removeEventListener('answer-delta', onDelta);
      ctx.inbox.removeEventListener('change', onChange);
      document.removeEventListener('visibilitychange', onVisible);
      removeEventListener('focus', onVisible);
    },
  };
}

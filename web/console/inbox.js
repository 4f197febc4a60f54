// The inbox: the conversation list with its filters (open, mine, unassigned, waiting, bot,
// resolved, all; and a tag), kept live from the socket's `conversation_updated` frames, with
// unread counts; and, beside it, the open conversation (conversation.js).
//
// InboxStore lives for the whole signed-in session, not just while the inbox is on screen: it
// keeps the unread count in the navigation and the page title current and raises the
// notification and chime for new conversations and visitor messages wherever the agent is in
// the console.

import { h, replace, timeEl } from './dom.js';
import { mountConversation } from './conversation.js';

const FILTERS = ['open', 'mine', 'unassigned', 'waiting', 'bot', 'resolved', 'all'];
/** How recent a conversation must be for its first sighting to count as "new". */
const NEW_WINDOW_MS = 2 * 60 * 1000;

/** Short, stable label for an anonymous visitor (the API lists no visitor names here). */
export function visitorLabel(t, visitorId, visitor) {
  if (visitor?.name) return visitor.name;
  if (visitor?.email) return visitor.email;
  return t('visitorShort', { id: String(visitorId || '').replace(/-/g, '').slice(-6) });
}

/** A preview without Markdown punctuation: the list shows text, not `**markup**`. */
function plainPreview(s) {
  return String(s).replace(/\*\*|__|`/g, '').replace(/(^|\s)[*_]([^*_\s][^*_]*)[*_]/g, '$1$2');
}

/** Whether conversation `c` belongs in the list for `filter` as seen by agent `me`. */
export function matchesFilter(c, filter, me) {
  const open = c.status !== 'resolved';
  switch (filter) {
    case 'all':
      return true;
    case 'mine':
      return open && c.assignee_id === me;
    case 'unassigned':
      return open && !c.assignee_id;
    case 'waiting':
      return c.status === 'waiting';
    case 'bot':
      return c.status === 'bot';
    case 'resolved':
      return !open;
    default:
      return open;
  }
}

export class InboxStore extends EventTarget {
  constructor(ctx) {
    super();
    this.ctx = ctx;
    /** Every conversation seen this session, newest state. */
    this.known = new Map();
    /** Read marks this console set (the socket does not echo read marks into the inbox). */
    this.readSeq = new Map();
    /** The conversation on screen, if any. */
    this.openId = null;
    this.onConversation = (e) => this.update(e.detail);
    ctx.live.addEventListener('conversation', this.onConversation);
    this.prime();
  }

  stop() {
    this.ctx.live?.removeEventListener('conversation', this.onConversation);
  }

  /** Loads the conversations that count towards the unread badge: mine and unassigned. */
  async prime() {
    try {
      const [mine, unassigned] = await Promise.all([
        this.ctx.api.conversations({ filter: 'mine', limit: 200 }),
        this.ctx.api.conversations({ filter: 'unassigned', limit: 200 }),
      ]);
      for (const c of [...mine.items, ...unassigned.items]) this.remember(c);
      this.emit('unread');
    } catch {
      /* the badge starts empty; live updates still fill it */
    }
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  remember(c) {
    const prev = this.known.get(c.id);
    // Frames can overtake each other; never go back to an older state.
    if (prev && prev.updated_at > c.updated_at && prev.last_seq >= c.last_seq) return prev;
    this.known.set(c.id, c);
    return c;
  }

  /** Entries the agent has not seen (messages, notes and events alike). */
  unread(c) {
    const read = Math.max(c.agent_last_read_seq || 0, this.readSeq.get(c.id) || 0);
    return Math.max(0, c.last_seq - read);
  }

  /** Conversations that need this agent: held by them, or open and held by nobody. */
  concerns(c) {
    return c.status !== 'resolved' && (c.assignee_id === this.ctx.me.id || !c.assignee_id);
  }

  unreadConversations() {
    let n = 0;
    for (const c of this.known.values()) if (this.concerns(c) && this.unread(c) > 0 && c.id !== this.openId) n++;
    return n;
  }

  markRead(id, seq) {
    if ((this.readSeq.get(id) || 0) >= seq) return;
    this.readSeq.set(id, seq);
    if (!this.ctx.live.read(id, seq)) this.ctx.api.markRead(id, seq).catch(() => {});
    this.emit('unread');
    this.emit('change', { conversation: this.known.get(id) });
  }

  /** A conversation changed (socket frame or an action's answer). */
  update(c) {
    const prev = this.known.get(c.id);
    if (prev && JSON.stringify(prev) === JSON.stringify(c)) return;
    const now = this.remember(c);
    if (now !== c) return;
    this.emit('change', { conversation: c, prev });
    this.emit('unread');
    this.maybeAlert(c, prev);
  }

  /** Whether the agent is looking at this conversation right now (open, tab visible). */
  watching(id) {
    return this.openId === id && document.visibilityState === 'visible';
  }

  async maybeAlert(c, prev) {
    const { t, me } = this.ctx;
    if (this.watching(c.id) || !this.concerns(c)) return;
    const open = () => this.ctx.navigate(`/console/conversations/${c.id}`);
    const tag = `kefu-${c.id}`;
    const isNew = !prev && Date.now() - new Date(c.created_at).getTime() < NEW_WINDOW_MS;
    // The assistant handed over: the conversation joins the queue, or (auto-assignment) lands
    // straight with an online agent, possibly without a frame for the queue state between.
    const handedOver = prev && prev.status === 'bot' && (c.status === 'waiting' || c.status === 'assigned');
    if (handedOver || (isNew && c.status !== 'bot')) {
      const title = c.assignee_id === me.id ? t('alert.assignedToYou') : isNew ? t('alert.newConversation') : t('alert.needsHuman');
      this.ctx.notifier.alert({ title, body: c.last_message_preview || '', tag, onClick: open });
      return;
    }
    if (prev && c.last_seq > prev.last_seq && c.status !== 'bot' && (c.assignee_id === me.id || c.status === 'waiting')) {
      // The frame does not say who wrote; read the new entries and alert for visitor text only
      // (not for our own replies, notes or system events).
      try {
        const page = await this.ctx.api.messages(c.id, { after_seq: prev.last_seq, limit: 20 });
        const fromVisitor = page.items.filter((m) => m.author_kind === 'visitor');
        if (fromVisitor.length && !this.watching(c.id)) {
          this.ctx.notifier.alert({ title: t('alert.newMessage'), body: fromVisitor.at(-1).text, tag, onClick: open });
        }
      } catch {
        /* an alert is best effort */
      }
    }
  }
}

/** The inbox view. params: {conversation, query}. */
export async function mount(ctx, main, params) {
  const { t } = ctx;
  const store = ctx.inbox;
  let filter = 'open';
  let tag = '';
  let items = new Map();
  let cursor = null;
  let loading = 0;
  let selected = null;
  let convView = null;
  let knownTags = new Set();

  const heading = h('h1', { id: 'inbox-title' }, t('inbox'));
  const filterNav = h('nav', { class: 'filters', 'aria-label': t('filters') });
  const tagSelect = h('select', { id: 'tag-filter', on: { change: () => go({ tag: tagSelect.value }) } });
  const list = h('ul', { class: 'conv-list', 'aria-labelledby': 'inbox-title' });
  const status = h('p', { class: 'muted list-status', role: 'status' });
  const more = h('button', { type: 'button', class: 'ghost', hidden: true, on: { click: () => load(true) } }, t('loadMore'));
  const pane = h('section', { class: 'conv-pane', 'aria-label': t('conversation') });
  const listSection = h('section', { class: 'inbox-list', 'aria-labelledby': 'inbox-title' },
    heading, filterNav,
    h('div', { class: 'inline-field' }, h('label', { for: 'tag-filter' }, t('tag')), tagSelect),
    status, list, more);
  replace(main, h('div', { class: 'inbox' }, listSection, pane));

  const query = () => {
    const q = new URLSearchParams();
    if (filter !== 'open') q.set('filter', filter);
    if (tag) q.set('tag', tag);
    const s = q.toString();
    return s ? `?${s}` : '';
  };

  /** Changes filter or tag by navigating, so the URL (and back button) keep them. */
  function go(change) {
    const q = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(change)) {
      if (v) q.set(k, v);
      else q.delete(k);
    }
    const s = q.toString();
    ctx.navigate(`${location.pathname}${s ? `?${s}` : ''}`);
  }

  function renderFilters() {
    replace(filterNav, h('ul', {}, FILTERS.map((f) => {
      const q = new URLSearchParams();
      if (f !== 'open') q.set('filter', f);
      if (tag) q.set('tag', tag);
      const s = q.toString();
      const current = f === filter;
      return h('li', {}, h('a', { href: `/console/inbox${s ? `?${s}` : ''}`, 'aria-current': current ? 'true' : null, class: current ? 'active' : null }, t(`filter.${f}`)));
    })));
  }

  async function loadTags() {
    const site = ctx.site();
    let names = [];
    if (site) {
      try {
        names = (await ctx.api.tags(site.id)).map((x) => x.name);
      } catch {
        names = [];
      }
    }
    if (tag && !names.includes(tag)) names.push(tag);
    knownTags = new Set(names);
    replace(tagSelect, h('option', { value: '' }, t('anyTag')), names.map((n) => h('option', { value: n, selected: n === tag }, n)));
  }

  function row(c) {
    const unread = store.unread(c);
    const assignee = c.assignee_id ? ctx.agentName(c.assignee_id) || t('someone') : null;
    const isSel = c.id === selected;
    const label = visitorLabel(t, c.visitor_id);
    return h('li', { class: ['conv-row', isSel && 'selected', unread && c.id !== selected && 'unread'], dataset: { id: c.id, status: c.status } },
      h('a', { href: `/console/conversations/${c.id}${query()}`, 'aria-current': isSel ? 'true' : null },
        h('span', { class: 'row-top' },
          h('strong', { class: 'who' }, label),
          timeEl(c.last_message_at || c.updated_at, ctx.lang)),
        h('span', { class: 'preview' }, c.last_message_preview ? plainPreview(c.last_message_preview) : t('noMessagesYet')),
        h('span', { class: 'row-meta' },
          h('span', { class: `chip status-${c.status}` }, t(`status.${c.status}`)),
          assignee ? h('span', { class: 'assignee' }, assignee) : null,
          c.tags.map((x) => h('span', { class: 'chip tag' }, `#${x}`)),
          unread && c.id !== selected ? h('span', { class: 'badge', 'aria-label': t('unreadEntries', { n: unread }) }, String(unread)) : null)));
  }

  function renderList() {
    const focusedId = document.activeElement?.closest?.('.conv-row')?.dataset.id;
    const sorted = [...items.values()].sort((a, b) => (b.updated_at > a.updated_at ? 1 : b.updated_at < a.updated_at ? -1 : 0));
    replace(list, sorted.map(row));
    status.textContent = loading ? t('loading') : sorted.length ? t('conversationCount', { n: sorted.length }) : t('noConversations');
    more.hidden = !cursor;
    if (focusedId) list.querySelector(`.conv-row[data-id="${CSS.escape(focusedId)}"] a`)?.focus();
  }

  async function load(next = false) {
    const n = ++loading;
    list.setAttribute('aria-busy', 'true');
    if (!next) {
      items = new Map();
      cursor = null;
    }
    renderList();
    try {
      const page = await ctx.api.conversations({ filter, tag, site_id: ctx.site()?.id, cursor: next ? cursor : null, limit: 50 });
      if (n !== loading) return;
      for (const c of page.items) items.set(c.id, store.remember(c));
      cursor = page.next_cursor;
    } catch (e) {
      ctx.alertError(e);
    } finally {
      if (n === loading) {
        loading = 0;
        list.removeAttribute('aria-busy');
        renderList();
      }
    }
  }

  const onChange = (e) => {
    const c = e.detail.conversation;
    if (!c) return;
    if (ctx.site() && c.site_id !== ctx.site().id) return;
    // A tag put on a conversation just now is new to the site: offer it in the filter.
    if (c.tags.some((x) => !knownTags.has(x))) loadTags();
    const belongs = matchesFilter(c, filter, ctx.me.id) && (!tag || c.tags.includes(tag));
    if (belongs || c.id === selected) items.set(c.id, store.known.get(c.id) || c);
    else items.delete(c.id);
    renderList();
  };
  store.addEventListener('change', onChange);
  // After a reconnect the list may have missed updates: read it again.
  const onReconnect = () => load();
  ctx.live.addEventListener('reconnected', onReconnect);

  function openConversation(id) {
    if (id === selected && convView) return;
    convView?.unmount();
    convView = null;
    selected = id;
    store.openId = id;
    if (id) {
      convView = mountConversation(ctx, pane, id);
    } else {
      replace(pane, h('div', { class: 'empty-pane' }, h('h2', {}, t('noConversationSelected')), h('p', { class: 'muted' }, t('pickConversation'))));
    }
    renderList();
  }

  function apply(p) {
    const f = p.query.get('filter');
    const newFilter = FILTERS.includes(f) ? f : 'open';
    const newTag = p.query.get('tag') || '';
    const changed = newFilter !== filter || newTag !== tag || !items.size;
    filter = newFilter;
    tag = newTag;
    renderFilters();
    if (changed) {
      load();
      loadTags();
    }
    openConversation(p.conversation);
  }

  apply(params);

  return {
    update(p) {
      apply(p);
      if (p.conversation) pane.querySelector('h2')?.focus?.();
    },
    unmount() {
      store.removeEventListener('change', onChange);
      ctx.live?.removeEventListener('reconnected', onReconnect);
      convView?.unmount();
      store.openId = null;
    },
  };
}

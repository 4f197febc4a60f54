// The widget's UI inside the Shadow DOM the loader made: launcher with unread badge, the chat
// panel (message log, typing indicator, system notices, contact form, composer with emoji
// picker and voice input), personal settings, and the window.Kefu API. All text from the
// server goes through textContent or the Markdown renderer, never innerHTML.

import { Client, saved } from './api.js';
import { render, link } from './markdown.js';
import { LANGS, pick, translator } from './i18n.js';
import { attacher } from './attach.js';

const EMOJI = '😀 😂 😊 😍 🤔 😅 😢 😮 😡 👍 👎 👏 🙏 👋 💪 🎉 ❤️ 🔥 ✅ ❌ ⭐ 💡 📦 🚚 💳 📞 📧 ⏰ ❓ 🙂'.split(' ');
const FOCUSABLE = 'button,[href],input,select,textarea,[tabindex]:not([tabindex="-1"])';
const ICON = {
  chat: 'M4 4h16v11H8l-4 4z',
  close: 'M6 6l12 12M18 6L6 18',
  gear: 'M4 7h9m4 0h3M4 17h3m4 0h9M15 5v4M9 15v4',
  send: 'M3 20l18-8L3 4v6l12 2-12 2z',
  mic: 'M12 3a3 3 0 00-3 3v6a3 3 0 006 0V6a3 3 0 00-3-3zM5 11a7 7 0 0014 0M12 18v3',
  smile: 'M12 3a9 9 0 100 18 9 9 0 000-18zM8.5 14a4 4 0 007 0M9 9.5h.01M15 9.5h.01',
  clip: 'M20 11l-8 8a5 5 0 01-7-7l8-8a3.3 3.3 0 015 5l-8 8a1.7 1.7 0 01-2.5-2.5L15 7',
};

/** Builds an element: h('button', {class: 'x', onclick}, child…). Strings become text nodes. */
function h(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : v);
  }
  n.append(...kids.filter((k) => k != null));
  return n;
}

function icon(name) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  p.setAttribute('d', ICON[name]);
  svg.append(p);
  return svg;
}

/** WCAG relative luminance of #rgb/#rrggbb, to pick readable text on the site's colour. */
function luminance(hex) {
  let x = hex.slice(1);
  if (x.length === 3) x = [...x].map((c) => c + c).join('');
  return [0, 2, 4]
    .map((i) => parseInt(x.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((s, c, i) => s + c * [0.2126, 0.7152, 0.0722][i], 0);
}

export function mount({ shadow, base, origin, site, api }) {
  const key = (k) => `kefu:${site}:${k}`;
  const prefs = Object.assign({ theme: 'system', font: 'm', lang: null }, saved.get(key('prefs'), {}));
  let lang = pick(prefs.lang);
  let t = translator(lang);
  let session = null;
  let status = null; // conversation status, followed through system events
  let readSeq = saved.get(key('read'), 0);
  let unread = 0;
  let open = false;
  let botWaiting = 0; // seq of the visitor message the assistant is answering
  let agentTyping = false;
  let botTyping = false;
  let needContact = false;
  let conn = 'connecting';
  let voice = null;
  let typingSent = 0;
  const msgs = new Map(); // id or client id -> message (pending ones keyed by client id)
  const order = () => [...msgs.values()].sort((a, b) => (a.seq ?? 1e15) - (b.seq ?? 1e15));
  const ui = {};

  const sheet = h('link', { rel: 'stylesheet', href: base + 'styles.css' });
  const root = h('div', { class: 'kf', hidden: true });
  sheet.onload = sheet.onerror = () => root.removeAttribute('hidden');
  shadow.append(sheet, root);

  const client = new Client(origin, site, {
    message: (m) => {
      add(m);
      if (m.author_kind !== 'visitor') announce(m);
      if (m.author_kind === 'bot' || m.author_kind === 'system') botWaiting = 0;
      if (m.author_kind === 'agent') agentTyping = false;
      drawLog();
      seen();
    },
    ack: (m) => {
      add(m);
      if (m.author_kind === 'visitor' && status === 'bot' && m.seq > lastOther()) {
        botWaiting = m.seq;
        // The assistant's reply normally lands within seconds; never spin forever.
        setTimeout(() => {
          if (botWaiting === m.seq) (botWaiting = 0), drawTyping();
        }, 30000);
      }
      drawLog();
    },
    failed: (clientId) => {
      const m = msgs.get(clientId);
      if (m) (m.state = 'failed'), drawLog();
    },
    // An AI answer streaming in: a draft bubble right after the question it answers, replaced
    // by the committed message (client id `bot:<question id>`) when that lands.
    delta: (f) => {
      const k = 'stream:' + f.reply_to;
      const d = msgs.get(k) || { id: k, author_kind: 'bot', text: '', streaming: true, seq: (msgs.get(f.reply_to)?.seq ?? 1e14) + 0.5 };
      d.text = f.reset ? '' : d.text + (f.text || '');
      if (d.text) msgs.set(k, d);
      else msgs.delete(k);
      drawLog();
    },
    typing: (f) => {
      // The assistant's own "working" signal; its streamed text replaces the dots.
      if (f.author_kind === 'bot') return (botTyping = f.typing), drawTyping();
      agentTyping = f.typing;
      clearTimeout(ui.typingTimer);
      if (f.typing) ui.typingTimer = setTimeout(() => ((agentTyping = false), drawTyping()), 8000);
      drawTyping();
    },
    state: (s) => {
      conn = s;
      drawStatus();
      drawLog();
    },
    conversation: (c) => (status = c.status),
  });

  const att = attacher({ client, h, icon, t: () => t, site: () => session?.site });

  // Messages still queued from an earlier page view (typed offline, then reloaded).
  for (const o of client.outbox) msgs.set(o.client_id, { ...o, author_kind: 'visitor', state: 'pending' });

  const lastOther = () =>
    Math.max(0, ...order().filter((m) => m.seq && m.author_kind !== 'visitor').map((m) => m.seq));

  /** Files a committed message, replacing its pending copy (matched by client id). */
  function add(m) {
    if (m.private) return;
    if (m.client_id && msgs.has(m.client_id)) msgs.delete(m.client_id);
    if (m.client_id?.startsWith('bot:')) msgs.delete('stream:' + m.client_id.slice(4));
    msgs.set(m.id, m);
    if (m.author_kind === 'system' && m.event) follow(m.event);
  }

  /** Keeps the conversation status and the contact-form flag in step with system events. */
  function follow(e) {
    const next = { handoff_requested: 'waiting', assigned: 'assigned', unassigned: 'waiting', handed_to_bot: 'bot', resolved: 'resolved', reopened: 'waiting' }[e.type];
    if (next) status = next;
    if (e.type === 'no_agent_online') needContact = true;
    if (e.type === 'contact_left' || e.type === 'assigned') needContact = false;
  }

  function notice(e, m) {
    switch (e.type) {
      case 'handoff_requested': return t('handoff');
      case 'assigned': return t('joined', { name: e.agent_name });
      case 'unassigned': return t('left');
      case 'handed_to_bot': return t('bot');
      case 'resolved': return t('resolved');
      case 'reopened': return t('reopened');
      case 'no_agent_online': return session?.site.offline_message || t('nobody');
      case 'contact_left': return t('contactThanks', { email: e.email });
      default: return m.text;
    }
  }

  function bubble(m) {
    if (m.author_kind === 'system') {
      return h('li', { class: 'note', 'data-seq': m.seq }, m.event ? notice(m.event, m) : m.text);
    }
    const mine = m.author_kind === 'visitor';
    const who = mine ? t('you') : m.author_kind === 'bot' ? t('assistant') : m.author_name || t('agent');
    const body = h('div', { class: 'body' });
    // Visitors' own words stay literal; staff and assistant replies may use Markdown.
    if (mine) body.textContent = m.text;
    else body.append(render(m.text));
    // Structured so a streamed reply can append deltas to `body` before its commit lands.
    const li = h(
      'li',
      { class: `msg ${m.author_kind}${m.streaming ? ' streaming' : ''}`, 'aria-busy': m.streaming ? 'true' : null, 'data-seq': m.seq, 'data-client-id': m.client_id, 'data-state': m.state || 'sent' },
      h('div', { class: mine ? 'sr' : 'who' }, who),
      m.text || !m.attachments?.length ? body : null,
      m.attachments?.length ? att.view(m.attachments) : null,
    );
    const a = m.answer;
    if (a?.citations?.length) {
      li.append(
        h('div', { class: 'src' }, h('span', null, t('sources') + ':'),
          h('ul', null, ...a.citations.map((c) => h('li', null, c.link ? link(c.title, c.link) : c.title)))),
      );
    }
    if (a?.kind === 'answer' && m.seq) li.append(thumbs(m));
    if (a?.kind === 'clarify' && a.suggestions?.length) {
      li.append(h('div', { class: 'chips' }, ...a.suggestions.map((s) => h('button', { type: 'button', onclick: () => submit(s) }, s))));
    }
    if (m.state === 'pending' || m.state === 'failed') {
      li.append(h('div', { class: 'state' }, m.state === 'failed' ? t('failed') : conn === 'online' ? t('sending') : t('queued')));
    }
    return li;
  }

  /**
   * Thumbs up/down under an answer; the choice is kept per message on this device. After a
   * thumbs down the visitor may say why (one tap, optional); editors see it with the rating.
   */
  function thumbs(m) {
    const k = key('rated:' + m.id);
    const mine = saved.get(k);
    const why = saved.get(k + ':why');
    const rate = (rating, reason) =>
      client.rate(m.id, rating, reason).then(
        () => (saved.set(k, rating), reason && saved.set(k + ':why', reason), drawLog(), say(t('thanks'))),
        () => say(t('error')),
      );
    const btn = (rating, label, glyph) =>
      h('button', {
        type: 'button', class: 'thumb', 'aria-label': t(label), title: t(label), 'aria-pressed': String(mine === rating),
        onclick: () => rate(rating),
      }, glyph);
    const reasons = mine === 'down'
      ? h('div', { class: 'chips why', role: 'group', 'aria-label': t('whyNot') },
          ...['wrong', 'unclear', 'off_topic'].map((r) =>
            h('button', { type: 'button', 'aria-pressed': String(why === r), onclick: () => rate('down', r) }, t('why.' + r))))
      : null;
    return h('div', { class: 'rate' }, btn('up', 'helpful', '👍'), btn('down', 'notHelpful', '👎'), reasons);
  }

  /** After a resolution: 1–5 stars once (changeable), kept per conversation on this device. */
  function csat() {
    const k = key('csat:' + client.conv);
    const given = saved.get(k, 0);
    const stars = [1, 2, 3, 4, 5].map((n) =>
      h('button', {
        type: 'button', class: 'star', 'aria-label': t('stars', { n }), 'aria-pressed': String(given === n),
        onclick: () => client.csat(n).then(() => (saved.set(k, n), drawLog(), say(t('thanks'))), () => say(t('error'))),
      }, n <= given ? '★' : '☆'));
    return h('li', { class: 'csat', role: 'group', 'aria-label': t('csat') }, h('div', null, t('csat')), h('div', null, ...stars));
  }

  /** A short message for screen readers. */
  function say(text) {
    if (ui.live) ui.live.textContent = text;
  }

  function drawLog() {
    if (!ui.log) return;
    const at = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
    const items = [];
    if (session?.site.welcome_message) {
      items.push(h('li', { class: 'msg bot welcome' }, h('div', { class: 'body' }, render(session.site.welcome_message))));
    }
    for (const m of order()) items.push(bubble(m));
    if (status === 'resolved' && client.conv) items.push(csat());
    ui.log.replaceChildren(...items);
    if (at || !ui.scrolled) ui.log.scrollTop = ui.log.scrollHeight;
    ui.scrolled = true;
    ui.contact.hidden = !needContact;
    drawTyping();
    drawBadge();
  }

  /** Reads a new message from the other side out to screen readers. */
  function announce(m) {
    if (!ui.live) return;
    const who = m.author_kind === 'system' ? '' : (m.author_kind === 'bot' ? t('assistant') : m.author_name || t('agent')) + ': ';
    ui.live.textContent = who + (m.event ? notice(m.event, m) : m.text || m.attachments?.map((a) => a.name).join(', '));
  }

  function drawTyping() {
    // Once streamed text shows, it is its own progress indicator.
    const streaming = [...msgs.keys()].some((k) => k.startsWith('stream:'));
    if (ui.typing) ui.typing.hidden = !(((botWaiting || botTyping) && !streaming) || agentTyping);
  }

  function drawStatus() {
    if (!ui.status) return;
    ui.status.textContent = conn === 'offline' ? t('offline') : '';
  }

  function drawBadge() {
    unread = order().filter((m) => m.seq > readSeq && (m.author_kind === 'agent' || m.author_kind === 'bot')).length;
    if (open && document.visibilityState === 'visible') unread = 0;
    ui.badge.textContent = unread > 9 ? '9+' : String(unread);
    ui.badge.hidden = !unread;
    ui.launcher.setAttribute('aria-label', unread ? `${t('open')} (${t('unread', { n: unread })})` : t('open'));
  }

  /** Marks everything shown as read while the panel is open and visible. */
  function seen() {
    if (!open || document.visibilityState !== 'visible') return drawBadge();
    const last = Math.max(0, ...order().map((m) => m.seq || 0));
    if (last > readSeq) {
      readSeq = last;
      saved.set(key('read'), readSeq);
      client.read(last);
    }
    drawBadge();
  }

  function submit(text, files = []) {
    text = text.trim();
    if (!text && !files.length) return;
    // After the visitor deleted their data there is no session until they write again.
    if (!client.token && !starting) ready().catch(() => {});
    const id = client.send(text, files.map((f) => f.id));
    msgs.set(id, { client_id: id, author_kind: 'visitor', text, attachments: files, state: 'pending' });
    drawLog();
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function applyLook() {
    root.dataset.theme = prefs.theme;
    root.dataset.font = prefs.font;
    root.lang = lang;
    // Branding from the console: which corner, and the site's picture beside the title.
    root.dataset.position = session?.site.widget_position === 'left' ? 'left' : 'right';
    const av = session?.site.widget_avatar_url;
    if (ui.avatar) {
      if (av && av.startsWith('https://')) ui.avatar.src = av;
      ui.avatar.hidden = !(av && av.startsWith('https://'));
    }
    const c = session?.site.widget_color;
    if (c && /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(c)) {
      root.style.setProperty('--accent', c);
      // White text needs 4.5:1 against the accent; otherwise near-black.
      root.style.setProperty('--on-accent', 1.05 / (luminance(c) + 0.05) >= 4.5 ? '#fff' : '#111');
    }
  }

  function savePrefs() {
    saved.set(key('prefs'), prefs);
    applyLook();
  }

  function select(id, label, value, options, onchange) {
    return h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('select', { id, onchange: (e) => onchange(e.target.value) },
        ...Object.entries(options).map(([v, l]) => h('option', { value: v, selected: v === value }, l))));
  }

  /** (Re)builds the whole UI in the current language; the model above survives rebuilds. */
  function build() {
    const draft = ui.input?.value || '';
    ui.badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
    ui.launcher = h('button', { class: 'launcher', type: 'button', 'aria-label': t('open'), 'aria-expanded': String(open), 'aria-controls': 'kf-panel', onclick: () => toggle() }, icon('chat'), ui.badge);
    // The log is redrawn whole, so it is not itself live; new arrivals are announced in ui.live.
    ui.log = h('ol', { class: 'log', 'aria-label': t('messages'), tabindex: '0' });
    ui.live = h('div', { class: 'sr', 'aria-live': 'polite' });
    ui.typing = h('div', { class: 'typing', hidden: true }, h('span', { 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), h('span', { class: 'sr' }, t('typing')));
    ui.status = h('p', { class: 'status', role: 'status' });
    ui.settings = h('div', { class: 'settings', id: 'kf-settings', hidden: true },
      select('kf-theme', t('theme'), prefs.theme, { system: t('system'), light: t('light'), dark: t('dark') }, (v) => ((prefs.theme = v), savePrefs())),
      select('kf-font', t('font'), prefs.font, { s: t('small'), m: t('medium'), l: t('large') }, (v) => ((prefs.font = v), savePrefs())),
      select('kf-lang', t('lang'), lang, LANGS, (v) => {
        prefs.lang = lang = v;
        t = translator(lang);
        savePrefs();
        build();
        ui.settings.hidden = false;
        ui.gear.setAttribute('aria-expanded', 'true');
        shadow.getElementById('kf-lang').focus();
      }),
      myData());
    ui.gear = h('button', { class: 'icon', type: 'button', 'aria-label': t('settings'), 'aria-expanded': 'false', 'aria-controls': 'kf-settings', onclick: () => {
      ui.settings.hidden = !ui.settings.hidden;
      ui.gear.setAttribute('aria-expanded', String(!ui.settings.hidden));
    } }, icon('gear'));
    const email = h('input', { id: 'kf-email', type: 'email', required: true, autocomplete: 'email' });
    const err = h('p', { class: 'err', role: 'alert' });
    ui.contact = h('form', { class: 'contact', hidden: !needContact, onsubmit: async (e) => {
      e.preventDefault();
      if (!email.checkValidity() || !email.value) return (err.textContent = t('badEmail'));
      err.textContent = '';
      try {
        add(await client.contact(email.value.trim()));
        drawLog();
      } catch (x) {
        err.textContent = x.code === 'invalid_field' ? t('badEmail') : t('error');
      }
    } }, h('p', null, t('contactAsk')), h('div', { class: 'row' }, h('label', { for: 'kf-email', class: 'sr' }, t('email')),
      Object.assign(email, { placeholder: t('email') }), h('button', { type: 'submit', class: 'primary' }, t('submit'))), err);
    ui.input = h('textarea', { id: 'kf-input', rows: '1', placeholder: t('input'), maxlength: '4000', onpaste: (e) => {
      const files = [...(e.clipboardData?.files || [])];
      if (files.length && ui.clip.firstChild) (e.preventDefault(), att.add(files));
    }, onkeydown: (e) => {
      // Enter sends; Shift+Enter (and Enter while an IME is composing) makes a new line.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        ui.form.requestSubmit();
      }
    }, oninput: () => {
      grow();
      const now = Date.now();
      if (now - typingSent > 3000) (typingSent = now), client.typing(true);
    } });
    ui.input.value = draft;
    ui.emojiBtn = h('button', { class: 'icon', type: 'button', 'aria-label': t('emoji'), 'aria-expanded': 'false', 'aria-controls': 'kf-emoji', onclick: () => emoji(ui.emoji.hidden) }, icon('smile'));
    ui.emoji = h('div', { class: 'emoji', id: 'kf-emoji', role: 'group', 'aria-label': t('emoji'), hidden: true },
      ...EMOJI.map((e) => h('button', { type: 'button', onclick: () => insert(e) }, e)));
    const SR = window.SpeechRecognition || window.webkitSpeechRecognition;
    ui.mic = SR ? h('button', { class: 'icon', type: 'button', 'aria-label': t('voice'), 'aria-pressed': 'false', onclick: () => listen(SR) }, icon('mic')) : null;
    const [clip, tray] = att.controls();
    ui.clip = clip;
    ui.form = h('form', { class: 'composer', onsubmit: async (e) => {
      e.preventDefault();
      const text = ui.input.value;
      if (!text.trim() && !att.pending()) return;
      ui.input.value = '';
      grow();
      if (typingSent) (typingSent = 0), client.typing(false);
      submit(text, await att.take());
    } }, h('label', { for: 'kf-input', class: 'sr' }, t('input')), ui.input, clip, ui.emojiBtn, ui.mic,
      h('button', { class: 'icon send', type: 'submit', 'aria-label': t('send') }, icon('send')));
    ui.panel = h('section', { class: 'panel', id: 'kf-panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'kf-title', hidden: !open, onkeydown: trap,
      ondragover: (e) => e.preventDefault(), ondrop: (e) => (e.preventDefault(), ui.clip.firstChild && att.add([...e.dataTransfer.files])) },
      h('header', null, (ui.avatar = h('img', { class: 'avatar', alt: '', hidden: true })), (ui.title = h('h2', { id: 'kf-title' }, session?.site.widget_title || t('title'))), ui.gear,
        h('button', { class: 'icon', type: 'button', 'aria-label': t('close'), onclick: () => toggle(false) }, icon('close'))),
      h('div', { class: 'bar' }, h('button', { class: 'human', type: 'button', onclick: human }, t('human')), ui.status),
      ui.settings, ui.log, ui.live, ui.typing, ui.contact, (ui.consent = h('div', { class: 'consent', hidden: true })), ui.emoji, tray, ui.form);
    root.replaceChildren(ui.launcher, ui.panel);
    applyLook();
    drawStatus();
    drawConsent();
    drawLog();
  }

  /** Download or delete everything the server holds about this visitor (deleting asks first). */
  function myData() {
    const note = h('p', { class: 'status', role: 'status' });
    const ask = h('div', { class: 'confirm', hidden: true },
      h('p', null, t('deleteAsk')),
      h('button', { type: 'button', class: 'primary', onclick: () => run(erase) }, t('deleteYes')),
      h('button', { type: 'button', onclick: () => (ask.hidden = true) }, t('cancel')));
    const run = async (work) => {
      note.textContent = '';
      try {
        await work();
      } catch {
        note.textContent = t('error');
      }
    };
    const download = async () => {
      if (client.token) await ready();
      const doc = client.token ? await client.exportData() : {};
      const a = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' })), download: 'chat-data.json' });
      root.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    };
    const erase = async () => {
      await client.erase();
      // A later message starts a new, anonymous session.
      starting = null;
      if (session) session.visitor = {};
      msgs.clear();
      status = null;
      readSeq = 0;
      needContact = false;
      ask.hidden = true;
      drawConsent();
      drawLog();
      note.textContent = t('deleted');
    };
    return h('div', { class: 'mydata' },
      h('button', { type: 'button', onclick: () => run(download) }, t('download')),
      h('button', { type: 'button', onclick: () => ((ask.hidden = false), ask.querySelector('button').focus()) }, t('delete')),
      ask, note);
  }

  /** The privacy notice, until the visitor accepts its current version; the composer waits. */
  function drawConsent() {
    if (!ui.consent || !session) return;
    const s = session.site;
    const privacy = s.privacy_policy_url ? link(t('privacy'), s.privacy_policy_url) : null;
    const need = s.consent_required && session.visitor.consent_version !== s.consent_version;
    ui.consent.hidden = !need;
    ui.input.disabled = need;
    att.refresh(need);
    if (!need) {
      // Accepted (or not required): only the policy link stays, when the site has one.
      ui.consent.replaceChildren(...(privacy ? [h('p', { class: 'privacy' }, privacy)] : []));
      ui.consent.hidden = !privacy;
      return;
    }
    const err = h('p', { class: 'err', role: 'alert' });
    const accept = h('button', { type: 'button', class: 'primary', onclick: async () => {
      try {
        await client.consent(s.consent_version);
        session.visitor.consent_version = s.consent_version;
        drawConsent();
        ui.input.focus();
      } catch (x) {
        // The notice changed meanwhile: fetch the current one and show it.
        if (x.code === 'stale_consent') (session = await client.start(lang)), drawConsent();
        else err.textContent = t('error');
      }
    } }, t('accept'));
    ui.consent.replaceChildren(h('p', null, s.consent_notice), ...(privacy ? [h('p', null, privacy)] : []), accept, err);
  }

  function grow() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + 'px';
  }

  function insert(text) {
    const i = ui.input;
    const at = i.selectionStart ?? i.value.length;
    i.value = i.value.slice(0, at) + text + i.value.slice(i.selectionEnd ?? at);
    i.focus();
    i.selectionStart = i.selectionEnd = at + text.length;
    emoji(false);
  }

  function emoji(show) {
    ui.emoji.hidden = !show;
    ui.emojiBtn.setAttribute('aria-expanded', String(show));
    if (show) ui.emoji.querySelector('button').focus();
  }

  function listen(SR) {
    if (voice) return voice.stop();
    voice = new SR();
    voice.lang = lang;
    voice.interimResults = true;
    const before = ui.input.value;
    voice.onresult = (e) => {
      ui.input.value = before + [...e.results].map((r) => r[0].transcript).join('');
      grow();
    };
    voice.onend = voice.onerror = () => {
      voice = null;
      ui.mic?.setAttribute('aria-pressed', 'false');
      ui.mic?.setAttribute('aria-label', t('voice'));
    };
    ui.mic.setAttribute('aria-pressed', 'true');
    ui.mic.setAttribute('aria-label', t('voiceStop'));
    voice.start();
  }

  async function human() {
    try {
      await ready();
      const c = await client.handoff();
      status = c.status;
    } catch {
      ui.status.textContent = t('error');
    }
  }

  /** Keeps Tab inside the open panel; Escape closes the innermost popup, then the panel. */
  function trap(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      if (!ui.emoji.hidden) return emoji(false), ui.emojiBtn.focus();
      if (!ui.settings.hidden) return ui.gear.click(), ui.gear.focus();
      return toggle(false);
    }
    if (e.key !== 'Tab') return;
    const list = [...ui.panel.querySelectorAll(FOCUSABLE)].filter((n) => !n.disabled && n.getClientRects().length);
    const first = list[0];
    const last = list[list.length - 1];
    const active = shadow.activeElement;
    if (e.shiftKey && (active === first || !list.includes(active))) (e.preventDefault(), last.focus());
    else if (!e.shiftKey && (active === last || !list.includes(active))) (e.preventDefault(), first.focus());
  }

  let starting = null;
  /** Session, history and socket, started once: at load for returning visitors, else on first open. */
  function ready() {
    starting ||= (async () => {
      session = await client.start(lang);
      applyLook();
      const r = await client.resume();
      if (r) {
        status = r.conversation.status;
        for (const m of r.items) add(m);
      }
      // Not a rebuild: the visitor may already be typing in the panel.
      ui.title.textContent = session.site.widget_title || t('title');
      drawConsent();
      drawLog();
      client.connect();
      seen();
    })().catch((e) => {
      starting = null;
      conn = 'offline';
      drawStatus();
      throw e;
    });
    return starting;
  }

  function toggle(show = !open) {
    open = show;
    try {
      sessionStorage.setItem(key('open'), open ? '1' : '');
    } catch {
      /* storage blocked: the panel just won't reopen on reload */
    }
    ui.panel.hidden = !open;
    ui.launcher.setAttribute('aria-expanded', String(open));
    root.classList.toggle('open', open);
    if (open) {
      ui.input.focus();
      ui.log.scrollTop = ui.log.scrollHeight;
      ready().then(() => (ui.input.focus(), seen()), () => {});
    } else ui.launcher.focus();
  }

  document.addEventListener('visibilitychange', seen);
  build();
  try {
    if (sessionStorage.getItem(key('open'))) toggle(true);
  } catch {
    /* storage blocked */
  }
  if (client.token && !starting) ready().catch(() => {});

  // The public API; calls made before this module loaded were queued by the loader.
  Object.assign(api, {
    open: () => toggle(true),
    close: () => toggle(false),
    toggle: () => toggle(),
    setLocale: (l) => {
      if (!LANGS[l]) return;
      prefs.lang = lang = l;
      t = translator(l);
      savePrefs();
      build();
    },
    setTheme: (v) => ['system', 'light', 'dark'].includes(v) && ((prefs.theme = v), build(), savePrefs()),
    setFontSize: (v) => ['s', 'm', 'l'].includes(v) && ((prefs.font = v), build(), savePrefs()),
    // { id, name, email, signature }: signature = hex HMAC-SHA256(site identity secret, id),
    // computed on the customer's server. An unverified claim leaves the visitor anonymous.
    identify: (user) => {
      if (!user || typeof user.id !== 'string' || typeof user.signature !== 'string') return;
      client.user = { id: user.id, name: user.name, email: user.email, signature: user.signature };
      if (session) client.start(lang).then((s) => ((session = s), drawConsent()), () => {});
    },
  });
  for (const [name, args] of api._queue || []) api[name]?.(...args);
  delete api._queue;
}

// Small DOM helpers every console view uses. The one rule they enforce: text from the server
// (messages, titles, names, errors) only ever becomes a text node or an attribute value, never
// markup. There is deliberately no helper that takes an HTML string.

/**
 * Creates an element. `props` keys: `class`, `text` (textContent), `on` ({event: handler}),
 * `dataset`, DOM properties that are not attributes (`value`, `checked`, `selected`,
 * `disabled`, `hidden`, `indeterminate`), and anything else as an attribute (`aria-*`, `for`,
 * `href`…; `false`/`null` leaves it out). Children: nodes, strings, numbers, arrays, or
 * null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in PROPS) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

const PROPS = { value: 1, checked: 1, selected: 1, disabled: 1, hidden: 1, indeterminate: 1, multiple: 1, required: 1 };

/** Appends children (see `h`) to `el`. */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let idCounter = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix = 'k') {
  return `${prefix}-${++idCounter}`;
}

/** A labelled form field: returns {wrap, input}. `control` is an element made by `h`. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid('f');
  const hintEl = hint ? h('small', { class: 'hint', id: uid('hint') }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
  return { wrap, input: control };
}

/** The error box of a view: role=alert so screen readers hear it at once. */
export function errorBox() {
  const box = h('div', { class: 'error-box', role: 'alert', hidden: true });
  return {
    el: box,
    /** Shows an ApiError (code + message) or any error; `t` translates known codes. */
    show(err, t) {
      replace(box, describeError(err, t));
      box.hidden = false;
    },
    clear() {
      box.hidden = true;
      box.replaceChildren();
    },
  };
}

/** One line for an error: the translated code when we know it, plus the server's message. */
export function describeError(err, t) {
  const code = err?.code;
  const known = code && t ? t(`err.${code}`) : null;
  const translated = known && known !== `err.${code}` ? known : null;
  const message = err?.message || String(err);
  if (translated && message && message !== translated) return `${translated} (${message})`;
  return translated || message;
}

const announcer = () => document.getElementById('announcer');
/** Says `text` to screen readers through the page's polite live region. */
export function announce(text) {
  const el = announcer();
  if (!el) return;
  // Clearing first makes a repeated identical announcement be read again.
  el.textContent = '';
  setTimeout(() => (el.textContent = text), 50);
}

/** A short transient confirmation ("Saved") shown in the corner and announced. */
export function toast(text) {
  let host = document.getElementById('toasts');
  if (!host) return announce(text);
  const t = h('div', { class: 'toast', role: 'status' }, text);
  host.append(t);
  setTimeout(() => t.remove(), 4000);
}

/** Formats an RFC 3339 time for `lang`: time only for today, else date and time. */
export function fmtTime(ts, lang) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString(lang, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A <time> element with the full date in its title. */
export function timeEl(ts, lang) {
  return h('time', { datetime: ts, title: ts ? new Date(ts).toLocaleString(lang) : null }, fmtTime(ts, lang));
}

/** The URL when it is absolute http(s); javascript:, data: and relative junk give null. */
export function safeHref(raw) {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** An outside link that opens in a new tab without handing it our window, or plain text. */
export function extLink(text, raw) {
  const href = safeHref(raw);
  if (!href) return document.createTextNode(text);
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }, text);
}

/** A client-generated id for idempotent sends (docs/PROTOCOL.md: `[A-Za-z0-9-_.:]`). */
export function clientId() {
  return crypto.randomUUID ? crypto.randomUUID() : `c-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** Disables a button while `work` runs, so a double click cannot send twice. */
export async function busy(button, work) {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** localStorage that never throws (private modes and full disks must not break the app). */
export const saved = {
  get(k, d = null) {
    try {
      const v = localStorage.getItem(`kefu-console:${k}`);
      return v == null ? d : JSON.parse(v);
    } catch {
      return d;
    }
  },
  set(k, v) {
    try {
      localStorage.setItem(`kefu-console:${k}`, JSON.stringify(v));
    } catch {
      /* the setting lasts for this page view only */
    }
  },
};

/**
 * A row of links styled as tabs, `aria-current="page"` on the current one. Links rather than
 * ARIA tabs because every view has its own URL (reload, back button, open in a new tab).
 * `items`: [{href, label, current, badge}].
 */
export function tabLinks(label, items) {
  const nav = h('nav', { class: 'tabs', 'aria-label': label });
  const list = h('ul', {});
  for (const it of items) {
    list.append(
      h('li', {}, h('a', { href: it.href, 'aria-current': it.current ? 'page' : null, class: it.current ? 'active' : null }, it.label, it.badge)),
    );
  }
  nav.append(list);
  return nav;
}

/**
 * Moves focus to the first heading under `root` after a navigation, so screen-reader users
 * hear where they are and keyboard users continue from the top of the new view.
 */
export function focusHeading(root) {
  const heading = root.querySelector('h1, h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

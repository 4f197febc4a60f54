// A safe Markdown subset for messages: paragraphs, line breaks, bullet and numbered lists,
// fenced and inline code, bold, italics, [links](https://…) and bare http(s) URLs. It builds
// DOM nodes and sets only textContent, so no text from a message is ever parsed as HTML;
// links are kept only for http/https and open with rel=noopener.

const LIST = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;
const FENCE = /^\s{0,3}```/;
// One alternative per inline form; the first match wins, left to right.
const INLINE =
  /(`+)([^`]|[^`][\s\S]*?[^`])\1|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s](?:.*?[^*\s])?)\*|(?<![\p{L}\p{N}_])_([^_\s](?:.*?[^_\s])?)_(?![\p{L}\p{N}_])|\[([^\]\n]+)\]\(\s*([^)\s]+)\s*\)|(https?:\/\/[^\s<>"]*[^\s<>"'.,;:!?)\]])/u;

function el(tag, text) {
  const n = document.createElement(tag);
  if (text != null) n.textContent = text;
  return n;
}

/** The URL if it is absolute http(s), else null (javascript:, data: and the like are dropped). */
export function safeUrl(raw) {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** A link element for a vetted URL (or plain text when the URL is not allowed). */
export function link(text, raw) {
  const href = safeUrl(raw);
  if (!href) return document.createTextNode(text);
  const a = el('a', text);
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer nofollow';
  return a;
}

/** Appends the inline rendering of `text` to `parent`. */
function inline(parent, text) {
  let rest = text;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) {
      parent.append(rest);
      break;
    }
    if (m.index) parent.append(rest.slice(0, m.index));
    if (m[1]) parent.append(el('code', m[2]));
    else if (m[3] || m[4]) inline(parent.appendChild(el('strong')), m[3] || m[4]);
    else if (m[5] || m[6]) inline(parent.appendChild(el('em')), m[5] || m[6]);
    else if (m[7]) parent.append(link(m[7], m[8]));
    else parent.append(link(m[9], m[9]));
    rest = rest.slice(m.index + m[0].length);
  }
}

function lines(parent, ls) {
  ls.forEach((l, i) => {
    if (i) parent.append(el('br'));
    inline(parent, l);
  });
}

/** Renders `src` into a DocumentFragment. */
export function render(src) {
  const out = document.createDocumentFragment();
  const ls = String(src).replace(/\r\n?/g, '\n').split('\n');
  let para = [];
  let list = null;
  const flush = () => {
    if (para.length) lines(out.appendChild(el('p')), para);
    para = [];
  };
  for (let i = 0; i < ls.length; i++) {
    const line = ls[i];
    if (FENCE.test(line)) {
      flush();
      list = null;
      const code = [];
      while (++i < ls.length && !FENCE.test(ls[i])) code.push(ls[i]);
      out.appendChild(el('pre')).appendChild(el('code', code.join('\n')));
      continue;
    }
    const item = LIST.exec(line);
    if (item) {
      flush();
      const tag = /\d/.test(item[1]) ? 'ol' : 'ul';
      if (!list || list.tagName.toLowerCase() !== tag) list = out.appendChild(el(tag));
      inline(list.appendChild(el('li')), item[2]);
      continue;
    }
    if (!line.trim()) {
      flush();
      list = null;
      continue;
    }
    // An indented line right after a list item continues that item.
    if (list && !para.length && /^\s/.test(line)) {
      const li = list.lastChild;
      li.append(el('br'));
      inline(li, line.trim());
      continue;
    }
    list = null;
    para.push(line);
  }
  flush();
  return out;
}

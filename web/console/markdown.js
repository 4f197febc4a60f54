// The console's safe Markdown subset, for knowledge-base previews and for agent and assistant
// messages: headings, paragraphs with line breaks, bullet and numbered lists, block quotes,
// fenced code, horizontal rules, and inline code, bold, italics, [links](https://…) and bare
// http(s) URLs. It builds DOM nodes and only ever sets text, so nothing in the source is parsed
// as HTML (`<img onerror=…>` shows as those characters). Links keep http(s) targets only and
// open in a new tab without access to this window. Anything else stays literal text, which is
// the honest preview of what the widget will show.

import { h, extLink } from './dom.js';

const BLOCK = {
  fence: /^ {0,3}(`{3,}|~{3,})\s*([\w-]*)\s*$/,
  heading: /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/,
  rule: /^ {0,3}([-*_])(\s*\1){2,}\s*$/,
  quote: /^ {0,3}>\s?(.*)$/,
  bullet: /^ {0,3}[-*+]\s+(.*)$/,
  ordered: /^ {0,3}(\d{1,9})[.)]\s+(.*)$/,
};

// Inline forms, tried left to right; the earliest match wins.
const INLINE = [
  { re: /`([^`\n]+)`/, make: (m) => h('code', {}, m[1]) },
  { re: /\*\*([^*\n]+?)\*\*|__([^_\n]+?)__/, make: (m) => inlineInto(h('strong'), m[1] || m[2]) },
  { re: /\*([^*\s][^*\n]*?)\*|(?<![\p{L}\p{N}])_([^_\s][^_\n]*?)_(?![\p{L}\p{N}])/u, make: (m) => inlineInto(h('em'), m[1] || m[2]) },
  { re: /\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?\s*\)/, make: (m) => extLink(m[1], m[2]) },
  { re: /https?:\/\/[^\s<>"]*[^\s<>"'.,;:!?)\]]/, make: (m) => extLink(m[0], m[0]) },
];

/** Appends the inline rendering of `text` to `parent` and returns `parent`. */
function inlineInto(parent, text) {
  let rest = text;
  while (rest) {
    let best = null;
    for (const form of INLINE) {
      const m = form.re.exec(rest);
      if (m && (!best || m.index < best.m.index)) best = { m, form };
    }
    if (!best) {
      parent.append(rest);
      break;
    }
    if (best.m.index) parent.append(rest.slice(0, best.m.index));
    parent.append(best.form.make(best.m));
    rest = rest.slice(best.m.index + best.m[0].length);
  }
  return parent;
}

/** Paragraph lines joined with <br>, as chat text expects single newlines to be kept. */
function linesInto(parent, lines) {
  lines.forEach((l, i) => {
    if (i) parent.append(h('br'));
    inlineInto(parent, l.trim());
  });
  return parent;
}

/**
 * Renders Markdown `src` into a DocumentFragment. `headingOffset` shifts heading levels so a
 * "# Title" inside an entry does not compete with the page's own h1/h2.
 */
export function renderMarkdown(src, { headingOffset = 2 } = {}) {
  const out = document.createDocumentFragment();
  const lines = String(src ?? '').replace(/\r\n?/g, '\n').split('\n');
  let para = [];
  let list = null;
  const flushPara = () => {
    if (para.length) out.append(linesInto(h('p'), para));
    para = [];
  };
  const endBlocks = () => {
    flushPara();
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = BLOCK.fence.exec(line))) {
      endBlocks();
      const close = m[1][0];
      const body = [];
      while (++i < lines.length && !new RegExp(`^ {0,3}\\${close}{3,}\\s*$`).test(lines[i])) body.push(lines[i]);
      out.append(h('pre', {}, h('code', { 'data-lang': m[2] || null }, body.join('\n'))));
      continue;
    }
    if (!line.trim()) {
      endBlocks();
      continue;
    }
    if ((m = BLOCK.heading.exec(line))) {
      endBlocks();
      const level = Math.min(6, m[1].length + headingOffset);
      out.append(inlineInto(h(`h${level}`), m[2]));
      continue;
    }
    if (BLOCK.rule.test(line)) {
      endBlocks();
      out.append(h('hr'));
      continue;
    }
    if ((m = BLOCK.quote.exec(line))) {
      endBlocks();
      const quoted = [m[1]];
      while (i + 1 < lines.length && (m = BLOCK.quote.exec(lines[i + 1]))) {
        quoted.push(m[1]);
        i++;
      }
      const bq = h('blockquote');
      bq.append(renderMarkdown(quoted.join('\n'), { headingOffset }));
      out.append(bq);
      continue;
    }
    const bullet = BLOCK.bullet.exec(line);
    const ordered = !bullet && BLOCK.ordered.exec(line);
    if (bullet || ordered) {
      flushPara();
      const tag = bullet ? 'ul' : 'ol';
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = h(tag);
        // An ordered list keeps the number it starts at ("3. …" after a paragraph).
        if (ordered && ordered[1] !== '1') list.setAttribute('start', String(Number(ordered[1])));
        out.append(list);
      }
      list.append(inlineInto(h('li'), bullet ? bullet[1] : ordered[2]));
      continue;
    }
    // An indented line straight after a list item continues that item.
    if (list && !para.length && /^\s{2,}/.test(line)) {
      const li = list.lastChild;
      li.append(h('br'));
      inlineInto(li, line.trim());
      continue;
    }
    list = null;
    para.push(line);
  }
  flushPara();
  return out;
}

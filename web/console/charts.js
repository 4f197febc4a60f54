// Small SVG charts drawn by the console itself (no charting library): vertical bars with an
// optional second, stacked series, and horizontal bars for ranked labels. Colours come from
// classes in styles.css (the console's CSP allows no inline style). Every chart is an image
// with a text summary for screen readers, each bar has a <title> with its exact value, and
// `dataTable` gives the same numbers as a table for those who want to read them.

import { h } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes and children. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c != null) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
export function niceMax(max) {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/**
 * Vertical bars, one per item. `series` is one or two `{key, label, cls}`: the second is
 * stacked on the first. `labelOf(item, i)` names each bar on the x axis (shown every
 * `labelEvery` bars); `fmt(n)` formats values.
 */
export function columnChart({ items, series, labelOf, fmt = String, summary, labelEvery = 1, name }) {
  const W = 640;
  const H = 200;
  const left = 40;
  const bottom = 22;
  const top = 8;
  const plotH = H - bottom - top;
  const total = (it) => series.reduce((sum, se) => sum + (it[se.key] || 0), 0);
  const max = niceMax(Math.max(0, ...items.map(total)));
  const slot = (W - left) / Math.max(items.length, 1);
  const barW = Math.max(1, slot * 0.7);
  const y = (v) => top + plotH - (v / max) * plotH;
  const grid = [0, 0.5, 1].map((f) => {
    const v = max * f;
    return s('g', { class: 'chart-grid' },
      s('line', { x1: left, x2: W, y1: y(v), y2: y(v) }),
      s('text', { x: left - 4, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  });
  const bars = items.map((it, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let base = 0;
    const parts = series.map((se) => {
      const v = it[se.key] || 0;
      const rect = s('rect', { class: `bar ${se.cls}`, x, y: y(base + v), width: barW, height: Math.max(0, y(base) - y(base + v)) },
        s('title', {}, `${labelOf(it, i)} · ${se.label}: ${fmt(v)}`));
      base += v;
      return rect;
    });
    const label = i % labelEvery === 0
      ? s('text', { class: 'chart-label', x: x + barW / 2, y: H - 6, 'text-anchor': 'middle' }, labelOf(it, i, true))
      : null;
    return s('g', { 'data-bar': i, 'data-value': total(it) }, parts, label);
  });
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': summary, 'data-chart': name },
    grid, bars);
  const legend = series.length > 1
    ? h('ul', { class: 'chart-legend' }, series.map((se) => h('li', {}, h('span', { class: `swatch ${se.cls}`, 'aria-hidden': 'true' }), se.label)))
    : null;
  return h('figure', { class: 'chart-figure' }, svg, legend);
}

/** Horizontal bars for ranked labels: `rows` are `{label, value}`. */
export function barList({ rows, fmt = String, summary, name, cls = 'series-a' }) {
  const W = 640;
  const rowH = 24;
  const labelW = 200;
  const H = Math.max(rows.length, 1) * rowH;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const width = (v) => ((W - labelW - 60) * v) / max;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart chart-bars', role: 'img', 'aria-label': summary, 'data-chart': name },
    rows.map((r, i) => s('g', { 'data-bar': i, 'data-value': r.value },
      s('text', { class: 'chart-label', x: labelW - 8, y: i * rowH + 16, 'text-anchor': 'end' }, r.label),
      s('rect', { class: `bar ${cls}`, x: labelW, y: i * rowH + 4, width: width(r.value), height: rowH - 8 },
        s('title', {}, `${r.label}: ${fmt(r.value)}`)),
      s('text', { class: 'chart-value', x: labelW + width(r.value) + 6, y: i * rowH + 16 }, fmt(r.value)))));
  return h('figure', { class: 'chart-figure' }, svg);
}

/** The numbers behind a chart, as a table inside a collapsed <details>. */
export function dataTable(caption, head, rows) {
  return h('details', { class: 'chart-data' },
    h('summary', {}, caption),
    h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, head.map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i ? h('td', { class: 'num' }, c) : h('th', { scope: 'row' }, c))))))));
}

// Files in the widget: the paperclip and hidden file picker, paste and drop, a tray that
// previews what was picked and shows each upload's progress or error, and how files on
// messages are shown (raster images as thumbnails that open full size, anything else as a
// download chip with name and size). A file uploads as soon as it is picked (the raw bytes,
// POST …/attachments?name=…) and rides on the next message by id. Downloads need the visitor
// token, which an <img src> cannot send, so they are fetched once and shown from blob: URLs.

import { link } from './markdown.js';

const INLINE = /^image\/(png|jpeg|gif|webp)$/;
const ERR = { attachment_too_large: 'tooLarge', attachment_type_refused: 'badType', attachments_disabled: 'badType' };
const blobs = new Map(); // attachment id -> Promise of a blob: URL

export const size = (n) => (n < 1024 ? n + ' B' : n < 1048576 ? Math.round(n / 1024) + ' KB' : (n / 1048576).toFixed(1) + ' MB');

/** Fetches an upload with the visitor token; one request per file per page view. */
function blob(client, a) {
  if (!blobs.has(a.id)) {
    const p = fetch(client.origin + a.url, { headers: { authorization: 'Bearer ' + client.token } })
      .then((r) => (r.ok ? r.blob() : Promise.reject(r.status)))
      .then((b) => URL.createObjectURL(b));
    p.catch(() => blobs.delete(a.id));
    blobs.set(a.id, p);
  }
  return blobs.get(a.id);
}

/**
 * The attachment controller. `h` and `icon` build elements, `t()` returns the current
 * translator, `site()` the session's site (allowed kinds, size cap).
 */
export function attacher({ client, h, icon, t, site }) {
  let items = []; // { file, preview, pct, ref, err, done }
  let tray = h('ul');
  let slot = h('span');
  const picker = h('input', { type: 'file', multiple: true, hidden: true, onchange: () => (add([...picker.files]), (picker.value = '')) });

  function upload(item) {
    return client.ensureConversation().then((conv) => new Promise((ok, no) => {
      const x = new XMLHttpRequest();
      x.open('POST', `${client.origin}/api/v1/visitor/conversations/${conv}/attachments?name=${encodeURIComponent(item.file.name || 'file')}`);
      x.setRequestHeader('authorization', 'Bearer ' + client.token);
      x.upload.onprogress = (e) => e.lengthComputable && ((item.pct = e.loaded / e.total), draw());
      x.onload = () => {
        let d = null;
        try {
          d = JSON.parse(x.responseText);
        } catch {
          /* not JSON: a proxy's error page */
        }
        x.status === 201 ? ok(d) : no(d?.error?.code);
      };
      x.onerror = () => no();
      x.send(item.file);
    }));
  }

  function add(files) {
    const max = site()?.attachment_max_bytes || Infinity;
    for (const file of files) {
      const item = { file, pct: 0, preview: INLINE.test(file.type) ? URL.createObjectURL(file) : null };
      item.done = file.size > max ? Promise.reject('attachment_too_large') : upload(item);
      item.done.then((ref) => (item.ref = ref), (code) => (item.err = t()(ERR[code] || 'error', { max: size(max) }))).finally(draw);
      items.push(item);
    }
    draw();
  }

  function remove(item) {
    items = items.filter((i) => i !== item);
    if (item.preview) URL.revokeObjectURL(item.preview);
    draw();
  }

  function draw() {
    const tr = t();
    tray.hidden = !items.length;
    tray.replaceChildren(...items.map((i) => h('li', { 'data-state': i.err ? 'error' : i.ref ? 'ready' : 'uploading' },
      i.preview ? h('img', { src: i.preview, alt: '' }) : null,
      h('span', null, `${i.file.name} · ${size(i.file.size)}`),
      i.err ? h('span', { class: 'err', role: 'alert' }, i.err) : i.ref ? null : h('progress', { max: '1', value: String(i.pct), 'aria-label': i.file.name }),
      h('button', { type: 'button', 'aria-label': `${tr('remove')} ${i.file.name}`, onclick: () => remove(i) }, '×'))));
  }

  /** The paperclip (and its picker) when the site takes files; disabled until consent. */
  function refresh(disabled) {
    const kinds = site()?.attachment_types || [];
    picker.accept = kinds.map((k) => (k === 'jpeg' ? '.jpg,.jpeg' : '.' + k)).join(',');
    slot.replaceChildren(...(kinds.length
      ? [h('button', { class: 'icon', type: 'button', disabled, 'aria-label': t()('attach'), title: t()('attach'), onclick: () => picker.click() }, icon('clip')), picker]
      : []));
  }

  return {
    add,
    refresh,
    /** Anything picked (sent with the next message even without text)? */
    pending: () => items.some((i) => !i.err),
    /** Fresh composer parts for a (re)build: the paperclip's slot and the tray. */
    controls() {
      tray = h('ul', { class: 'tray', 'aria-live': 'polite' });
      slot = h('span', { class: 'clip' });
      draw();
      refresh();
      return [slot, tray];
    },
    /** Waits for the uploads, empties the tray, and returns the references that made it. */
    async take() {
      const list = items.filter((i) => !i.err);
      await Promise.all(list.map((i) => i.done.catch(() => {})));
      const keep = items.filter((i) => i.err);
      for (const i of list) if (i.preview) URL.revokeObjectURL(i.preview);
      items = keep;
      draw();
      return list.filter((i) => i.ref).map((i) => i.ref);
    },
    /** A message's files. */
    view(list) {
      return h('div', { class: 'files' }, ...list.map((a) => {
        if (!a.id) return link('📎 ' + a.name, a.url);
        if (INLINE.test(a.content_type)) {
          const img = h('img', { alt: a.name });
          const open = h('a', { target: '_blank', rel: 'noopener', title: a.name }, img);
          blob(client, a).then((u) => ((img.src = u), (open.href = u)), () => {});
          return open;
        }
        return h('a', { class: 'file', href: '#', download: a.name, onclick: (e) => {
          e.preventDefault();
          blob(client, a).then((u) => h('a', { href: u, download: a.name }).click(), () => {});
        } }, `📎 ${a.name} · ${size(a.size)}`);
      }));
    },
  };
}

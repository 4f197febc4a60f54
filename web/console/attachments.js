// Files in the console's conversation view: how a message's files are shown (raster images
// inline, opening full size; anything else as a download chip with name and size), and the
// composer's paperclip, which uploads each picked or pasted file at once (raw bytes to
// POST /conversations/{id}/attachments?name=…, with upload progress) and hands the uploads'
// ids to the next reply or note. The console's session cookie authenticates downloads, so
// images load from their API URL directly (img-src 'self').

import { h, replace, extLink, uid, describeError } from './dom.js';
import { ApiError } from './api.js';

const INLINE = /^image\/(png|jpeg|gif|webp)$/;

/** 2048 → "2 KB". */
export function fileSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A message's files. Links to files elsewhere (no upload id) stay plain external links. */
export function attachmentList(list, t) {
  return h('ul', { class: 'attachments' }, list.map((a) => {
    if (!a.id) return h('li', {}, extLink(a.name, a.url));
    if (INLINE.test(a.content_type)) {
      return h('li', { class: 'image' },
        h('a', { href: a.url, target: '_blank', rel: 'noopener', title: t('openFullSize') },
          h('img', { src: a.url, alt: a.name, loading: 'lazy' })));
    }
    return h('li', {}, h('a', { class: 'file-chip', href: a.url, download: a.name }, `📎 ${a.name} · ${fileSize(a.size)}`));
  }));
}

/**
 * The composer's file picker for conversation `convId`: `{button, tray, add, pending, take}`.
 * `take()` waits for running uploads, clears the tray and resolves to the uploaded files.
 */
export function attachPicker({ api, convId, t }) {
  let items = []; // {file, pct, ref, error, done}
  const input = h('input', { type: 'file', multiple: true, id: uid('attach'), hidden: true });
  input.addEventListener('change', () => {
    add([...input.files]);
    input.value = '';
  });
  const button = h('button', { type: 'button', class: 'ghost small attach-btn', on: { click: () => input.click() } }, `📎 ${t('attachFile')}`);
  const tray = h('ul', { class: 'attach-tray', 'aria-live': 'polite', hidden: true });

  function upload(item) {
    return new Promise((ok, no) => {
      const x = new XMLHttpRequest();
      x.open('POST', `/api/v1/conversations/${convId}/attachments?name=${encodeURIComponent(item.file.name || 'file')}`);
      if (api.csrf) x.setRequestHeader('x-csrf-token', api.csrf);
      x.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) (item.pct = e.loaded / e.total), draw();
      });
      x.addEventListener('load', () => {
        let data = null;
        try {
          data = JSON.parse(x.responseText);
        } catch {
          /* not JSON: a proxy's error page */
        }
        if (x.status === 201) ok(data);
        else no(new ApiError(x.status, data?.error?.code || `http_${x.status}`, data?.error?.message));
      });
      x.addEventListener('error', () => no(new ApiError(0, 'network', 'network error')));
      x.send(item.file);
    });
  }

  function add(files) {
    for (const file of files) {
      const item = { file, pct: 0 };
      item.done = upload(item).then(
        (ref) => (item.ref = ref),
        (e) => (item.error = describeError(e, t)),
      ).finally(draw);
      items.push(item);
    }
    draw();
  }

  function draw() {
    tray.hidden = !items.length;
    replace(tray, items.map((i) => h('li', { dataset: { state: i.error ? 'error' : i.ref ? 'ready' : 'uploading' } },
      h('span', {}, `${i.file.name} · ${fileSize(i.file.size)}`),
      i.error ? h('span', { class: 'error-text', role: 'alert' }, i.error)
        : i.ref ? null : h('progress', { max: '1', value: String(i.pct), 'aria-label': i.file.name }),
      h('button', { type: 'button', class: 'ghost small', 'aria-label': `${t('remove')} ${i.file.name}`, on: { click: () => {
        items = items.filter((x) => x !== i);
        draw();
      } } }, '×'))));
  }

  return {
    button: [button, input],
    tray,
    add,
    pending: () => items.some((i) => !i.error),
    async take() {
      const sending = items.filter((i) => !i.error);
      await Promise.all(sending.map((i) => i.done));
      items = items.filter((i) => i.error);
      draw();
      return sending.filter((i) => i.ref).map((i) => i.ref);
    },
  };
}

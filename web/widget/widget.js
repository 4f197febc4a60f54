// Kefu widget loader: the one file a customer's page includes with
//   <script src="https://HOST/widget.js" data-site="SITE_ID" async></script>
// It reads data-site from its own tag, makes a Shadow DOM host so the page's CSS cannot reach
// the widget (and the widget's cannot reach the page), defines window.Kefu (calls queue until
// the UI arrives), and loads the rest (./widget/app.js) when the browser is idle.
(() => {
  const tag =
    document.currentScript || document.querySelector('script[data-site][src*="widget.js"]');
  const site = tag && tag.dataset.site;
  if (!site || (window.Kefu && window.Kefu.site)) return;
  const src = new URL(tag.src, location.href);
  const queue = [];
  const api = { site, _queue: queue };
  for (const name of ['open', 'close', 'toggle', 'setLocale', 'setTheme', 'setFontSize', 'identify']) {
    api[name] = (...args) => queue.push([name, args]);
  }
  window.Kefu = api;

  const start = () => {
    const host = document.createElement('kefu-widget');
    // Inline !important beats the page's own !important rules on this one element. Set
    // through the CSSOM, not a style attribute, so pages whose CSP refuses inline styles
    // (style-src without 'unsafe-inline') still show the widget.
    host.style.cssText =
      'all:initial!important;display:block!important;position:fixed!important;' +
      'right:0!important;bottom:0!important;width:0!important;height:0!important;' +
      'z-index:2147483000!important;transform:none!important';
    const shadow = host.attachShadow({ mode: 'open' });
    document.body.append(host);
    import(new URL('widget/app.js', src).href).then((m) =>
      m.mount({ shadow, base: new URL('widget/', src).href, origin: src.origin, site, api }),
    );
  };
  const idle = window.requestIdleCallback || ((f) => setTimeout(f, 1));
  if (document.body) idle(start, { timeout: 2000 });
  else addEventListener('DOMContentLoaded', () => idle(start, { timeout: 2000 }));
})();

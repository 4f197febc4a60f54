// The widget's connection to the Kefu server: the visitor REST API (session, conversation,
// history, hand-off, contact e-mail) and the WebSocket (auth, subscribe from the last seq,
// send with client ids, typing, read, ping). It reconnects with jittered back-off and keeps an
// outbox in localStorage so messages typed offline are sent once, in order, after reconnecting:
// the server de-duplicates on client_id, so resending after a lost ack is always safe.

/** localStorage wrapper: private modes and sandboxed frames throw, and the widget must not. */
export const saved = {
  get(k, d = null) {
    try {
      const v = localStorage.getItem(k);
      return v == null ? d : JSON.parse(v);
    } catch {
      return d;
    }
  },
  set(k, v) {
    try {
      localStorage.setItem(k, JSON.stringify(v));
    } catch {
      /* storage full or blocked: the widget still works for this page view */
    }
  },
};

function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : `c-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

export class Client {
  /**
   * @param {string} origin server origin, e.g. https://chat.example
   * @param {string} site site id
   * @param {object} on callbacks: message(m), ack(m), failed(clientId, code), typing(f),
   *   state('online'|'connecting'|'offline'), conversation(c)
   */
  constructor(origin, site, on) {
    this.origin = origin;
    this.site = site;
    this.on = on;
    this.key = (k) => `kefu:${site}:${k}`;
    this.token = saved.get(this.key('token'));
    this.conv = saved.get(this.key('conv'));
    this.outbox = saved.get(this.key('outbox'), []);
    this.lastSeq = 0;
    this.ws = null;
    this.live = false; // authenticated and subscribed (synced)
    this.inflight = null;
    this.attempt = 0;
    this.stopped = false;
    // A close handshake cannot finish without a network, so the socket is let go at once
    // rather than waiting for its close event.
    addEventListener('offline', () => {
      const ws = this.ws;
      this.drop();
      ws?.close();
      this.on.state('offline');
    });
    addEventListener('online', () => {
      this.attempt = 0;
      this.connect();
    });
  }

  /** A REST call; throws {status, code} on failure. */
  async rest(method, path, body) {
    const headers = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.origin}/api/v1/visitor${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw { status: res.status, code: data?.error?.code || 'http_' + res.status };
    return data;
  }

  /** Starts or resumes the visitor session; returns the server's session answer. */
  async start(language) {
    const s = await this.rest('POST', '/sessions', {
      site_id: this.site,
      token: this.token || undefined,
      page_url: location.href.slice(0, 2000),
      referrer: document.referrer.slice(0, 2000) || undefined,
      language,
      // Set by Kefu.identify: the customer's signed user; the server checks the signature.
      user: this.user || undefined,
    });
    if (s.token !== this.token) {
      // A new visitor: whatever conversation was remembered belonged to someone else.
      this.token = s.token;
      this.conv = null;
      saved.set(this.key('token'), s.token);
      saved.set(this.key('conv'), null);
    }
    return s;
  }

  /** The remembered conversation (or the visitor's newest) with its latest page of messages. */
  async resume() {
    if (!this.conv) {
      const list = await this.rest('GET', '/conversations');
      if (!list.length) return null;
      this.setConv(list[0].id);
    }
    const [c, page] = await Promise.all([
      this.rest('GET', `/conversations/${this.conv}`),
      this.rest('GET', `/conversations/${this.conv}/messages?limit=50`),
    ]);
    const items = page.items.sort((a, b) => a.seq - b.seq);
    for (const m of items) this.lastSeq = Math.max(this.lastSeq, m.seq);
    return { conversation: c, items };
  }

  setConv(id) {
    this.conv = id;
    saved.set(this.key('conv'), id);
  }

  /** The open conversation, opened on first need; concurrent callers share one request. */
  ensureConversation() {
    if (this.conv) return Promise.resolve(this.conv);
    this.opening ||= this.rest('POST', '/conversations', {})
      .then((r) => {
        this.setConv(r.conversation.id);
        this.on.conversation?.(r.conversation);
        if (this.ws?.readyState === 1 && this.ready) this.subscribe();
        return this.conv;
      })
      .finally(() => (this.opening = null));
    return this.opening;
  }

  /** Opens the socket (if not open); resubscribes from the last seq once authenticated. */
  connect() {
    if (this.stopped || !this.token || (this.ws && this.ws.readyState < 2)) return;
    if (!navigator.onLine) return this.on.state('offline');
    clearTimeout(this.retry);
    this.on.state('connecting');
    const ws = (this.ws = new WebSocket(this.origin.replace(/^http/, 'ws') + '/api/v1/ws'));
    this.ready = false;
    ws.onopen = () => this.frame({ type: 'auth', token: this.token });
    ws.onmessage = (e) => {
      if (this.ws !== ws) return; // a dropped socket; anything it had is resent or re-read
      this.heard = Date.now();
      let f;
      try {
        f = JSON.parse(e.data);
      } catch {
        return;
      }
      this.handle(f);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.drop();
      if (e.code === 4003) return this.on.state('offline'); // origin not allowed: stop
      if (!navigator.onLine) return this.on.state('offline');
      this.on.state('connecting');
      // Exponential back-off with jitter: 0.5 s doubling to 30 s.
      const delay = Math.min(30000, 500 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }

  /** Forgets the current socket; its late events are ignored. */
  drop() {
    this.ws = null;
    this.live = this.ready = false;
    this.inflight = null; // unknown outcome: resent with the same client_id later
    clearInterval(this.beat);
    clearTimeout(this.retry);
  }

  frame(f) {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(f));
  }

  subscribe() {
    this.frame({ type: 'subscribe', conversation_id: this.conv, after_seq: this.lastSeq });
  }

  handle(f) {
    switch (f.type) {
      case 'ready':
        this.ready = true;
        this.heard = Date.now();
        // Pings keep proxies from idling the socket out and reveal a dead one.
        this.beat = setInterval(() => {
          if (Date.now() - this.heard > 60000) this.ws?.close();
          else this.frame({ type: 'ping' });
        }, 25000);
        if (this.conv) this.subscribe();
        else if (this.outbox.length) this.ensureConversation().catch(() => this.ws?.close());
        else this.markLive();
        break;
      case 'synced':
        this.markLive();
        break;
      case 'message':
        if (f.message.conversation_id !== this.conv) break;
        this.lastSeq = Math.max(this.lastSeq, f.message.seq);
        this.on.message(f.message);
        break;
      case 'ack':
        if (this.inflight?.client_id === f.client_id) this.delivered(f.client_id);
        this.on.ack(f.message);
        break;
      case 'error':
        if (f.client_id && this.inflight?.client_id === f.client_id) {
          this.inflight = null;
          if (f.code === 'rate_limited' || f.code === 'internal') {
            setTimeout(() => this.pump(), 3000);
          } else {
            // Refused for good (too long, empty…): drop it so the queue behind moves on.
            this.delivered(f.client_id);
            this.on.failed(f.client_id, f.code);
          }
        }
        break;
      case 'typing':
        if (f.author_kind !== 'visitor') this.on.typing(f);
        break;
      case 'answer_delta':
        if (f.conversation_id === this.conv) this.on.delta(f);
        break;
    }
  }

  markLive() {
    this.live = true;
    this.attempt = 0;
    this.on.state('online');
    this.pump();
  }

  /** Queues a message (with uploaded files' ids); it leaves when the socket is live. Returns its client id. */
  send(text, files) {
    const item = { client_id: newId(), text };
    if (files?.length) item.attachment_ids = files;
    this.outbox.push(item);
    saved.set(this.key('outbox'), this.outbox);
    if (this.conv) this.pump();
    else this.ensureConversation().then(() => this.pump(), () => {});
    if (!this.ws) this.connect();
    return item.client_id;
  }

  /** Sends the head of the outbox, one at a time, so the order typed is the order stored. */
  pump() {
    if (!this.live || !this.conv || this.inflight || !this.outbox.length) return;
    this.inflight = this.outbox[0];
    this.frame({ type: 'send', conversation_id: this.conv, ...this.inflight });
  }

  delivered(clientId) {
    this.outbox = this.outbox.filter((m) => m.client_id !== clientId);
    saved.set(this.key('outbox'), this.outbox);
    if (this.inflight?.client_id === clientId) this.inflight = null;
    this.pump();
  }

  typing(on) {
    if (this.live && this.conv) this.frame({ type: 'typing', conversation_id: this.conv, typing: on });
  }

  read(seq) {
    if (this.live && this.conv) this.frame({ type: 'read', conversation_id: this.conv, seq });
  }

  async handoff() {
    await this.ensureConversation();
    return this.rest('POST', `/conversations/${this.conv}/handoff`, {});
  }

  async contact(email) {
    await this.ensureConversation();
    return this.rest('POST', `/conversations/${this.conv}/contact`, { email });
  }

  /** Thumbs up/down (`up` | `down`) on one of the assistant's answers; changeable. */
  rate(messageId, rating, reason) {
    return this.rest('POST', `/conversations/${this.conv}/messages/${messageId}/feedback`, reason ? { rating, reason } : { rating });
  }

  /** Accepts the site's privacy notice of this version. */
  consent(version) {
    return this.rest('POST', '/consent', { version });
  }

  /** Everything the server stores about this visitor, as one JSON document. */
  exportData() {
    return this.rest('GET', '/export');
  }

  /** Erases this visitor on the server, then forgets token, conversation and outbox here. */
  async erase() {
    if (this.token) await this.rest('DELETE', '');
    const ws = this.ws;
    this.drop();
    ws?.close();
    this.token = this.conv = null;
    this.outbox = [];
    this.lastSeq = 0;
    for (const k of ['token', 'conv', 'outbox', 'read']) saved.set(this.key(k), null);
  }

  /** 1–5 satisfaction with a resolved conversation. */
  csat(rating) {
    return this.rest('POST', `/conversations/${this.conv}/csat`, { rating });
  }
}

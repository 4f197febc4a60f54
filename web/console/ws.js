// The console's WebSocket (docs/PROTOCOL.md). The session cookie authenticates the upgrade, so
// there is no auth frame; the server then streams the agent's inbox (`conversation_updated`,
// `presence`) without a subscription. Views subscribe to the conversations they show; this
// module remembers the last seq delivered for each and resubscribes from it after every
// reconnect, so nothing is missed and nothing is shown twice (views key messages by id as well).
//
// Events (CustomEvent, payload in `detail`): `state` ('online' | 'connecting' | 'offline'),
// `conversation`, `presence`, `message`, `synced`, `typing`, `read`, `answer-delta`,
// `frame-error`, `reconnected`, `signed-out` (the server refused the cookie: close code 4001).

export class Live extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.state = 'offline';
    this.attempt = 0;
    this.stopped = true;
    /** conversation id → last seq delivered to the views */
    this.subs = new Map();
    this.onlineHandler = () => {
      this.attempt = 0;
      this.connect();
    };
    this.offlineHandler = () => this.ws?.close();
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  start() {
    this.stopped = false;
    addEventListener('online', this.onlineHandler);
    addEventListener('offline', this.offlineHandler);
    this.connect();
  }

  /** Closes for good (sign-out). */
  stop() {
    this.stopped = true;
    removeEventListener('online', this.onlineHandler);
    removeEventListener('offline', this.offlineHandler);
    clearTimeout(this.retry);
    clearInterval(this.beat);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.subs.clear();
    this.setState('offline');
  }

  connect() {
    if (this.stopped || (this.ws && this.ws.readyState < 2)) return;
    clearTimeout(this.retry);
    this.setState('connecting');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;
    const ws = (this.ws = new WebSocket(url));
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
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
      this.ws = null;
      clearInterval(this.beat);
      if (this.stopped) return;
      if (e.code === 4001) {
        // The cookie was not accepted: the session ended elsewhere (sign out everywhere,
        // password change, an admin disabling the account).
        this.setState('offline');
        this.emit('signed-out');
        return;
      }
      this.setState(navigator.onLine ? 'connecting' : 'offline');
      // Exponential back-off with jitter: 0.5 s doubling to 30 s, so a restarting server is
      // not stampeded by every open console at once.
      const delay = Math.min(30000, 500 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }

  /**
   * Drops the socket so it reconnects at once: the server picks an agent's inbox streams (one
   * per site) when the socket opens, so a new site membership needs a new socket.
   */
  reconnect() {
    this.attempt = 0;
    this.ws?.close();
  }

  frame(f) {
    if (this.ws?.readyState === 1 && this.state === 'online') {
      this.ws.send(JSON.stringify(f));
      return true;
    }
    return false;
  }

  handle(f) {
    switch (f.type) {
      case 'ready':
        this.attempt = 0;
        this.heard = Date.now();
        this.setState('online');
        // Application pings: they keep proxies from idling the socket out and reveal a dead
        // one that the browser would otherwise keep "open" for minutes.
        clearInterval(this.beat);
        this.beat = setInterval(() => {
          if (Date.now() - this.heard > 60000) this.ws?.close();
          else this.frame({ type: 'ping' });
        }, 20000);
        for (const [id, seq] of this.subs) this.ws.send(JSON.stringify({ type: 'subscribe', conversation_id: id, after_seq: seq }));
        this.emit('reconnected');
        break;
      case 'message': {
        const m = f.message;
        if (!this.subs.has(m.conversation_id)) break;
        if (m.seq <= this.subs.get(m.conversation_id)) break; // already delivered
        this.subs.set(m.conversation_id, m.seq);
        this.emit('message', m);
        break;
      }
      case 'synced':
        this.emit('synced', f);
        break;
      case 'conversation_updated':
        this.emit('conversation', f.conversation);
        break;
      case 'presence':
        this.emit('presence', f);
        break;
      case 'typing':
        this.emit('typing', f);
        break;
      case 'answer_delta':
        // Streamed assistant text (never stored); the committed message replaces it.
        if (this.subs.has(f.conversation_id)) this.emit('answer-delta', f);
        break;
      case 'read':
        this.emit('read', f);
        break;
      case 'error':
        this.emit('frame-error', f);
        break;
    }
  }

  /** Starts receiving a conversation's log after `afterSeq` (what the view already has). */
  subscribe(id, afterSeq) {
    this.subs.set(id, afterSeq);
    this.frame({ type: 'subscribe', conversation_id: id, after_seq: afterSeq });
  }

  unsubscribe(id) {
    this.subs.delete(id);
    this.frame({ type: 'unsubscribe', conversation_id: id });
  }

  /** Typing signal; false when the socket is down (typing is best effort). */
  typing(id, typing) {
    return this.frame({ type: 'typing', conversation_id: id, typing });
  }

  /** Read mark over the socket; false when it is down (the caller falls back to REST). */
  read(id, seq) {
    return this.frame({ type: 'read', conversation_id: id, seq });
  }
}

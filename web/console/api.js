// The console's REST client for /api/v1 (docs/API.md). The session is the HttpOnly cookie set by
// POST /auth/login, which this code never sees; every write also carries the CSRF token from
// the login or /auth/me answer. Errors come back as ApiError with the server's stable `code`
// and its message, so views can branch on the code and show the message.

/** An error answer from the API (`{"error":{"code","message"}}`) or a network failure. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

const BASE = '/api/v1';

export class Api {
  constructor() {
    /** Set from the login or /auth/me answer; sent on writes as X-CSRF-Token. */
    this.csrf = null;
    /** Called when a request answers 401 after sign-in (expired or revoked session). */
    this.onUnauthenticated = null;
  }

  /**
   * One request. `query` values that are null, undefined or '' are left out. Resolves to the
   * parsed JSON (null for 204); rejects with ApiError.
   */
  async req(method, path, { body, query } = {}) {
    let url = BASE + path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v != null && v !== '') q.set(k, String(v));
      const s = q.toString();
      if (s) url += `?${s}`;
    }
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrf) headers['x-csrf-token'] = this.csrf;
    let res;
    try {
      res = await fetch(url, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'network', e?.message || 'network error');
    }
    const text = res.status === 204 ? '' : await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const err = data?.error;
      const e = new ApiError(res.status, err?.code || `http_${res.status}`, err?.message || res.statusText);
      // 429s say how long to wait (seconds), e.g. a sign-in locked after repeated failures.
      const wait = Number.parseInt(res.headers.get('retry-after') || '', 10);
      if (Number.isFinite(wait)) e.retryAfter = wait;
      // Only a missing session (not a wrong password, which is also 401) sends us to sign-in.
      if (res.status === 401 && e.code === 'unauthenticated') this.onUnauthenticated?.(e);
      throw e;
    }
    return data;
  }

  get(path, query) {
    return this.req('GET', path, { query });
  }
  post(path, body = {}) {
    return this.req('POST', path, { body });
  }
  put(path, body = {}) {
    return this.req('PUT', path, { body });
  }
  patch(path, body = {}) {
    return this.req('PATCH', path, { body });
  }
  del(path, body) {
    return this.req('DELETE', path, { body });
  }

  // --- session -----------------------------------------------------------------------------

  /**
   * Signs in with the password. Resolves to the /auth/me shape, or, when the agent has
   * two-factor sign-in on, to `{mfa_required: true, challenge}` for `loginTotp`.
   */
  async login(email, password) {
    const me = await this.post('/auth/login', { email, password });
    if (!me.mfa_required) this.csrf = me.csrf_token;
    return me;
  }
  /** Completes a two-factor sign-in with `{code}` or `{recovery_code}`. */
  async loginTotp(challenge, factor) {
    const me = await this.post('/auth/login/totp', { challenge, ...factor });
    this.csrf = me.csrf_token;
    return me;
  }
  totpSetup() {
    return this.post('/auth/totp/setup');
  }
  totpConfirm(code) {
    return this.post('/auth/totp/confirm', { code });
  }
  /** `factor` is `{code}` or `{recovery_code}`. */
  totpDisable(password, factor) {
    return this.del('/auth/totp', { password, ...factor });
  }
  async me() {
    const me = await this.get('/auth/me');
    this.csrf = me.csrf_token || null;
    return me;
  }
  logout() {
    return this.post('/auth/logout');
  }
  logoutAll() {
    return this.post('/auth/logout-all');
  }
  changePassword(current_password, new_password) {
    return this.put('/auth/password', { current_password, new_password });
  }
  setPresence(presence) {
    return this.put('/agents/me/presence', { presence });
  }

  // --- conversations -----------------------------------------------------------------------

  conversations(query) {
    return this.get('/conversations', query);
  }
  conversation(id) {
    return this.get(`/conversations/${id}`);
  }
  messages(id, query) {
    return this.get(`/conversations/${id}/messages`, query);
  }
  /** Posts a reply or note; resending the same client_id after a lost answer is safe. */
  async sendMessage(id, message) {
    // One retry on a network failure: the server de-duplicates on client_id.
    try {
      return await this.post(`/conversations/${id}/messages`, message);
    } catch (e) {
      if (e.code !== 'network') throw e;
      await new Promise((r) => setTimeout(r, 1000));
      return this.post(`/conversations/${id}/messages`, message);
    }
  }
  assign(id, agentId) {
    return this.post(`/conversations/${id}/assign`, { agent_id: agentId });
  }
  resolve(id) {
    return this.post(`/conversations/${id}/resolve`);
  }
  reopen(id) {
    return this.post(`/conversations/${id}/reopen`);
  }
  handToBot(id) {
    return this.post(`/conversations/${id}/hand-to-bot`);
  }
  setTags(id, tags) {
    return this.put(`/conversations/${id}/tags`, { tags });
  }
  markRead(id, seq) {
    return this.post(`/conversations/${id}/read`, { seq });
  }
  typing(id, typing) {
    return this.post(`/conversations/${id}/typing`, { typing });
  }
  suggestions(id) {
    return this.get(`/conversations/${id}/suggestions`);
  }
  summary(id) {
    return this.get(`/conversations/${id}/summary`);
  }

  // --- sites and people ----------------------------------------------------------------------

  sites() {
    return this.get('/sites');
  }
  site(id) {
    return this.get(`/sites/${id}`);
  }
  siteAgents(id) {
    return this.get(`/sites/${id}/agents`);
  }
  cannedReplies(siteId, prefix) {
    return this.get(`/sites/${siteId}/canned-replies`, { prefix });
  }
  tags(siteId) {
    return this.get(`/sites/${siteId}/tags`);
  }

  // --- the assistant (admin: providers and usage; members: insights) -----------------------------

  aiProviders(siteId) {
    return this.get(`/sites/${siteId}/ai/providers`);
  }
  /** Replaces the chain; a provider without `api_key` keeps its stored key, `null` removes it. */
  putAiProviders(siteId, providers) {
    return this.put(`/sites/${siteId}/ai/providers`, { providers });
  }
  aiUsage(siteId, days) {
    return this.get(`/sites/${siteId}/ai/usage`, { days });
  }
  classifications(siteId, days) {
    return this.get(`/sites/${siteId}/ai/classifications`, { days });
  }
  /** Figures of a period: `{from, to, offset}` (local days, minutes east of UTC). */
  analytics(siteId, query) {
    return this.get(`/sites/${siteId}/analytics`, query);
  }

  csat(siteId, days) {
    return this.get(`/sites/${siteId}/csat`, { days });
  }
}

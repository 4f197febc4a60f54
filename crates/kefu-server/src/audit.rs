//! Recording audit events: the one helper every route calls after a change succeeded,
//! `state.audit(&auth, "kb.entry.update", Target::in_site(site, "kb_entry", id), details)`.
//!
//! - The client address comes from a layer that remembers it for the request (a task-local),
//!   so a route needs no extra extractor; agents' addresses are kept whole (accountability
//!   for staff), visitors' truncated like everywhere else.
//! - `details` are scrubbed of secret-looking keys and capped in size as a second line of
//!   defence: callers pass counts, ids and changed field *names*, never values of secrets or
//!   message text.
//! - A failed audit write is logged at error level and does not undo or fail the request: the
//!   change is already committed, and refusing to report it would hide it from its author.
//! - Sign-in attempts are recorded by a layer on the login route ([`audit_login`]), which
//!   reads only the outcome, so the login handler itself stays untouched.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use kefu_core::domain::visitor::truncate_ip;
use kefu_core::{AgentId, SiteId, VisitorId};
use kefu_store::NewAuditEvent;
use serde_json::{Value, json};

use crate::auth::{AgentAuth, AuthMethod};
use crate::state::AppState;

tokio::task_local! {
    /// The calling client's address, for the request being handled.
    static CLIENT_IP: Option<IpAddr>;
}

/// Largest `details` kept, serialised; larger ones are replaced by a marker.
const MAX_DETAILS_BYTES: usize = 4096;

/// Who acted.
#[derive(Clone, Copy, Debug)]
pub enum Actor {
    /// An agent signed in to the console.
    Agent(AgentId),
    /// An integration using an API token; the id is the agent the token acts for.
    ApiToken(AgentId),
    /// A widget visitor acting on their own data.
    Visitor(VisitorId),
    /// The server itself (the retention job).
    System,
    /// Someone not signed in (a failed sign-in).
    Anonymous,
}

impl Actor {
    fn kind(self) -> &'static str {
        match self {
            Actor::Agent(_) => "agent",
            Actor::ApiToken(_) => "api_token",
            Actor::Visitor(_) => "visitor",
            Actor::System => "system",
            Actor::Anonymous => "anonymous",
        }
    }

    fn id(self) -> Option<String> {
        match self {
            Actor::Agent(id) | Actor::ApiToken(id) => Some(id.to_string()),
            Actor::Visitor(id) => Some(id.to_string()),
            Actor::System | Actor::Anonymous => None,
        }
    }
}

impl From<&AgentAuth> for Actor {
    fn from(auth: &AgentAuth) -> Self {
        match auth.method {
            AuthMethod::Session { .. } => Actor::Agent(auth.agent.id),
            AuthMethod::ApiToken { .. } => Actor::ApiToken(auth.agent.id),
        }
    }
}

/// What was acted on, and so which chain (site or instance) the event belongs to.
#[derive(Clone, Debug)]
pub struct Target {
    site: Option<SiteId>,
    kind: &'static str,
    id: Option<String>,
}

impl Target {
    /// The site itself.
    pub fn site(site: SiteId) -> Self {
        Self {
            site: Some(site),
            kind: "site",
            id: Some(site.to_string()),
        }
    }

    /// Something belonging to a site (`kb_entry`, `visitor`, `agent` as a member, …).
    pub fn in_site(site: SiteId, kind: &'static str, id: impl ToString) -> Self {
        Self {
            site: Some(site),
            kind,
            id: Some(id.to_string()),
        }
    }

    /// Something of the whole instance (agent accounts, API tokens).
    pub fn instance(kind: &'static str, id: impl ToString) -> Self {
        Self {
            site: None,
            kind,
            id: Some(id.to_string()),
        }
    }

    /// An instance event with no particular target (a failed sign-in for an unknown e-mail).
    pub fn none() -> Self {
        Self {
            site: None,
            kind: "",
            id: None,
        }
    }
}

impl AppState {
    /// Records that an agent (or their API token) did `action` to `target`.
    pub async fn audit(&self, auth: &AgentAuth, action: &str, target: Target, details: Value) {
        self.audit_as(Actor::from(auth), action, target, details)
            .await;
    }

    /// Records an event for any actor.
    pub async fn audit_as(&self, actor: Actor, action: &str, target: Target, details: Value) {
        let ip = CLIENT_IP.try_with(|ip| *ip).ok().flatten();
        let client_ip = ip.map(|ip| match actor {
            Actor::Visitor(_) => truncate_ip(ip),
            _ => ip.to_string(),
        });
        let event = NewAuditEvent {
            site_id: target.site,
            actor_kind: actor.kind().to_owned(),
            actor_id: actor.id(),
            action: action.to_owned(),
            target_kind: Some(target.kind.to_owned()).filter(|k| !k.is_empty()),
            target_id: target.id,
            client_ip,
            details: bounded(scrub(details)),
        };
        if let Err(e) = self.store.append_audit(&event).await {
            tracing::error!(action, error = %e, "recording an audit event failed");
        }
    }
}

/// Key fragments never kept in details, whatever a caller passes (matched
/// case-insensitively anywhere in the key): secrets.
const SECRET_KEY_PARTS: [&str; 5] = ["password", "secret", "api_key", "token", "signature"];

/// Keys of free text never kept in details (matched case-insensitively, whole key).
const FREE_TEXT_KEYS: [&str; 7] = [
    "text", "message", "comment", "body", "question", "answer", "email",
];

/// Removes secret-looking and free-text keys, at any depth.
pub fn scrub(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| {
                    let k = k.to_lowercase();
                    !SECRET_KEY_PARTS.iter().any(|s| k.contains(s))
                        && !FREE_TEXT_KEYS.contains(&k.as_str())
                })
                .map(|(k, v)| (k, scrub(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(scrub).collect()),
        other => other,
    }
}

fn bounded(details: Value) -> Value {
    let details = if details.is_null() {
        json!({})
    } else {
        details
    };
    if details.to_string().len() > MAX_DETAILS_BYTES {
        json!({ "truncated": true })
    } else {
        details
    }
}

/// The client's address: the peer, or the left-most `X-Forwarded-For` entry when the
/// configuration trusts the proxy in front.
fn client_ip(state: &AppState, request: &Request) -> Option<IpAddr> {
    if state.config.trust_forwarded_for {
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

/// Layer: remembers the client's address while the request is handled, for [`AppState::audit`].
pub async fn remember_client_ip(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let ip = client_ip(&state, &request);
    CLIENT_IP.scope(ip, next.run(request)).await
}

/// Largest login body read here (the route's own limit applies to the handler).
const MAX_LOGIN_BODY: usize = 16 * 1024;

/// Layer on `POST /auth/login`: records `auth.login.success` (actor: the agent) or
/// `auth.login.failure` (target: the account, when the e-mail names one; an unknown e-mail is
/// not recorded, as it may be a mistyped password). Only the outcome is read: 200 is a
/// success, 401 a failure, 429 a throttled attempt; anything else (a malformed body) is not a
/// sign-in attempt.
pub async fn audit_login(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let ip = client_ip(&state, &request);
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_LOGIN_BODY).await else {
        return Response::builder()
            .status(StatusCode::PAYLOAD_TOO_LARGE)
            .body(Body::empty())
            .unwrap_or_default();
    };
    let email = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("email").and_then(Value::as_str).map(str::to_owned));
    let request = Request::from_parts(parts, Body::from(bytes));
    let response = CLIENT_IP.scope(ip, next.run(request)).await;
    let status = response.status();
    let failed = match status {
        StatusCode::OK => false,
        StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS => true,
        _ => return response,
    };
    // A 200 is either a session (its body names the agent; the second step of a two-factor
    // sign-in sends no e-mail, so this is the only place that says who it was) or, with
    // two-factor on, only the password step (`mfa_required`): read the small JSON body.
    let (response, signed_in, mfa_pending) = if failed {
        (response, None, false)
    } else {
        let (parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_LOGIN_BODY).await else {
            return Response::from_parts(parts, Body::empty());
        };
        let parsed = serde_json::from_slice::<Value>(&bytes).unwrap_or_default();
        let signed_in = parsed["agent"]["id"]
            .as_str()
            .and_then(|id| id.parse::<AgentId>().ok());
        let mfa_pending = parsed["mfa_required"] == Value::Bool(true);
        (
            Response::from_parts(parts, Body::from(bytes)),
            signed_in,
            mfa_pending,
        )
    };
    let agent = match &email {
        Some(email) => state
            .store
            .get_agent_credentials(email)
            .await
            .ok()
            .map(|(agent, _)| agent.id),
        None => None,
    };
    let (action, actor, target) = match (failed, signed_in.or(agent)) {
        (false, Some(agent)) if mfa_pending => (
            "auth.login.password_ok",
            Actor::Anonymous,
            Target::instance("agent", agent),
        ),
        (false, Some(agent)) => (
            "auth.login.success",
            Actor::Agent(agent),
            Target::instance("agent", agent),
        ),
        (true, Some(agent)) => (
            "auth.login.failure",
            Actor::Anonymous,
            Target::instance("agent", agent),
        ),
        (true, None) => ("auth.login.failure", Actor::Anonymous, Target::none()),
        // Signed in, yet nobody is named: nothing reliable to record.
        (false, None) => return response,
    };
    let details = if status == StatusCode::TOO_MANY_REQUESTS {
        json!({ "throttled": true })
    } else {
        json!({})
    };
    CLIENT_IP
        .scope(ip, state.audit_as(actor, action, target, details))
        .await;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_drops_secret_and_free_text_keys_at_any_depth() {
        let scrubbed = scrub(json!({
            "fields": ["name", "api_key"],
            "api_key": "sk-live-123",
            "providers": [{ "name": "main", "API_KEY": "x", "key_changed": true }],
            "nested": { "client_secret": "s", "Password": "p", "count": 2 },
            "Text": "hello",
            "messages": 3,
        }));
        assert_eq!(
            scrubbed,
            json!({
                "fields": ["name", "api_key"],
                "providers": [{ "name": "main", "key_changed": true }],
                "nested": { "count": 2 },
                "messages": 3,
            })
        );
    }

    #[test]
    fn oversized_details_are_replaced_by_a_marker() {
        assert_eq!(
            bounded(json!({ "ids": vec!["x".repeat(100); 100] })),
            json!({ "truncated": true })
        );
        assert_eq!(bounded(Value::Null), json!({}));
    }
}

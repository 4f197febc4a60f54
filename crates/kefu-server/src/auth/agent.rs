//! The agent extractor: a console session cookie (writes need the CSRF header) or a bearer
//! API token. Role and site-membership checks hang off it so every route asks the same way.
//!
//! An API token acts as its agent narrowed to its scopes: `read` for safe methods, `write`
//! for the others (both checked here, from the request method), and `admin` wherever the
//! admin role is required (checked in [`AgentAuth::require_role`]).

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use kefu_core::SiteId;
use kefu_core::domain::{Agent, Role, Scope};
use kefu_store::StoreError;

use super::{
    API_TOKEN_PREFIX, CSRF_HEADER, SESSION_COOKIE, bearer_token, constant_time_eq, cookie,
    hash_secret,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How the agent proved who they are.
#[derive(Clone, Debug)]
pub enum AuthMethod {
    /// Console session; the hash identifies it for sign-out.
    Session {
        token_hash: String,
        csrf_token: String,
    },
    /// Bearer API token; the hash identifies it.
    ApiToken {
        token_hash: String,
        scopes: Vec<Scope>,
    },
}

impl AuthMethod {
    /// Whether the credential carries `scope`; a console session carries every scope.
    pub fn has_scope(&self, scope: Scope) -> bool {
        match self {
            AuthMethod::Session { .. } => true,
            AuthMethod::ApiToken { scopes, .. } => scopes.contains(&scope),
        }
    }

    /// Refuses a token without `scope` (403 `insufficient_scope`).
    pub fn require_scope(&self, scope: Scope) -> ApiResult<()> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("this API token lacks the {scope} scope"),
            ))
        }
    }
}

/// The scope a request method needs: reads are safe methods, everything else writes.
pub fn scope_for(method: &Method) -> Scope {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// An authenticated agent.
#[derive(Clone, Debug)]
pub struct AgentAuth {
    pub agent: Agent,
    pub method: AuthMethod,
}

impl AgentAuth {
    /// Refuses agents below `role`, and API tokens without the `admin` scope where the
    /// admin role is needed.
    pub fn require_role(&self, role: Role) -> ApiResult<()> {
        if !self.agent.role.at_least(role) {
            return Err(ApiError::forbidden(format!("this needs the {role} role")));
        }
        if role == Role::Admin {
            self.method.require_scope(Scope::Admin)?;
        }
        Ok(())
    }

    /// Refuses agents who are not members of `site`. Unknown sites answer 404 either way, so
    /// non-members cannot probe which site ids exist.
    pub async fn require_site(&self, state: &AppState, site: SiteId) -> ApiResult<()> {
        if state.store.is_site_member(site, self.agent.id).await? {
            Ok(())
        } else {
            Err(ApiError::not_found("site"))
        }
    }

    /// Refuses callers that are not signed in with a console session: changing one's own
    /// sign-in factors needs the person, not an integration's API token.
    pub fn require_session(&self) -> ApiResult<()> {
        match self.method {
            AuthMethod::Session { .. } => Ok(()),
            AuthMethod::ApiToken { .. } => Err(ApiError::forbidden(
                "this needs a console session, not an API token",
            )),
        }
    }

    /// Still valid? Re-reads the session or token, for long-lived connections told that
    /// the agent signed out somewhere. A database failure counts as valid (logged): a
    /// hiccup must not drop every socket, and the next sign-out signal checks again.
    pub async fn still_valid(state: &AppState, method: &AuthMethod) -> bool {
        let result = match method {
            AuthMethod::Session { token_hash, .. } => {
                state.store.get_session(token_hash).await.map(|_| ())
            }
            AuthMethod::ApiToken { token_hash, .. } => state
                .store
                .agent_for_api_token(token_hash)
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => true,
            Err(StoreError::NotFound(_)) => false,
            Err(e) => {
                tracing::warn!(error = %e, "re-checking a connection's credentials failed");
                true
            }
        }
    }

    /// Resolves an agent from request headers (also used by the WebSocket upgrade).
    pub async fn from_headers(
        state: &AppState,
        method: &Method,
        headers: &axum::http::HeaderMap,
    ) -> ApiResult<Self> {
        if let Some(token) = bearer_token(headers) {
            if !token.starts_with(API_TOKEN_PREFIX) {
                return Err(ApiError::unauthenticated());
            }
            let auth = Self::from_api_token(state, token).await?;
            auth.method.require_scope(scope_for(method))?;
            return Ok(auth);
        }
        let Some(session) = cookie(headers, SESSION_COOKIE) else {
            return Err(ApiError::unauthenticated());
        };
        let token_hash = hash_secret(session);
        let found = match state.store.get_session(&token_hash).await {
            Ok(found) => found,
            Err(StoreError::NotFound(_)) => return Err(ApiError::unauthenticated()),
            Err(other) => return Err(other.into()),
        };
        // Cookies ride along on cross-site requests; a write must also prove it came from a
        // page that could read the CSRF token (ours).
        if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !constant_time_eq(sent, &found.csrf_token) {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "missing or wrong X-CSRF-Token header",
                ));
            }
        }
        Ok(Self {
            agent: found.agent,
            method: AuthMethod::Session {
                token_hash,
                csrf_token: found.csrf_token,
            },
        })
    }

    /// Resolves an agent from an API token (its scopes are checked by the caller: per
    /// request method here, per frame on a socket).
    pub async fn from_api_token(state: &AppState, token: &str) -> ApiResult<Self> {
        let token_hash = hash_secret(token);
        match state.store.api_token_grant(&token_hash).await {
            Ok(grant) => Ok(Self {
                agent: grant.agent,
                method: AuthMethod::ApiToken {
                    token_hash,
                    scopes: grant.scopes,
                },
            }),
            Err(StoreError::NotFound(_)) => Err(ApiError::unauthenticated()),
            Err(other) => Err(other.into()),
        }
    }
}

impl FromRequestParts<AppState> for AgentAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Self::from_headers(state, &parts.method, &parts.headers).await
    }
}

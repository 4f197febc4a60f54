//! Console sign-in: `POST /auth/login` checks the password (throttled per account and per
//! client address, see `auth::throttle`) and either sets an HttpOnly, SameSite=Strict session
//! cookie and returns the CSRF token the console sends back on writes, or, when the agent has
//! TOTP on, returns a short-lived challenge that `POST /auth/login/totp` completes with a code.
//! Signing out (here, everywhere, or by changing the password) also closes the agent's
//! sockets whose session ended.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_core::Timestamp;
use kefu_core::domain::{Agent, Site};
use kefu_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::throttle::{self, LoginKeys};
use crate::auth::{
    AgentAuth, AuthMethod, SESSION_COOKIE, SESSION_TOKEN_PREFIX, hash_secret, new_secret, password,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

/// Prefix of second-factor challenges.
pub const CHALLENGE_PREFIX: &str = "kefu_mfa_";
/// How long a challenge waits for its code.
const CHALLENGE_TTL_SECS: i64 = 5 * 60;
/// Wrong codes one challenge takes before it is spent (the account throttle applies too).
const CHALLENGE_MAX_ATTEMPTS: i64 = 5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
}

/// Who is signed in, their sites, and (for cookie sessions) the CSRF token.
#[derive(Serialize)]
pub struct MeResponse {
    agent: Agent,
    sites: Vec<Site>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    /// Whether sign-in asks this agent for a TOTP code.
    totp_enabled: bool,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong e-mail or password",
    )
}

/// `POST /api/v1/auth/login`
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let keys = LoginKeys::new(&req.email, ip);
    // Before any password work: a locked account or address is refused whatever it sends,
    // and as fast for unknown e-mails as for known ones.
    throttle::check(&state, &keys).await?;
    let (agent, stored) = match state.store.get_agent_credentials(&req.email).await {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => {
            // Spend the same time as a real check so timing does not reveal which e-mails exist.
            password::verify(req.password, password::dummy_hash().await).await;
            throttle::record_failure(&state, &keys).await?;
            return Err(invalid_credentials());
        }
        Err(e) => return Err(e.into()),
    };
    if !password::verify(req.password, stored).await || agent.disabled {
        throttle::record_failure(&state, &keys).await?;
        return Err(invalid_credentials());
    }
    if state.store.totp_enabled(agent.id).await? {
        // The password was right, but the failures are not forgiven until the second factor
        // is: someone who has only the password cannot reset the counter with it.
        let challenge = new_secret(CHALLENGE_PREFIX);
        let expires = Timestamp::now().plus_seconds(CHALLENGE_TTL_SECS);
        state
            .store
            .create_login_challenge(agent.id, &hash_secret(&challenge), expires)
            .await?;
        return Ok(Json(json!({ "mfa_required": true, "challenge": challenge })).into_response());
    }
    throttle::record_success(&state, &keys).await?;
    start_session(&state, agent, false).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpLoginRequest {
    challenge: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// `POST /api/v1/auth/login/totp`: completes a sign-in with a TOTP or recovery code.
pub async fn login_totp(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<TotpLoginRequest>,
) -> ApiResult<Response> {
    let ip_keys = LoginKeys::ip_only(ip);
    throttle::check(&state, &ip_keys).await?;
    let challenge_hash = hash_secret(&req.challenge);
    let challenge = match state.store.get_login_challenge(&challenge_hash).await {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => {
            throttle::record_failure(&state, &ip_keys).await?;
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_challenge",
                "the sign-in expired or was already used; sign in again",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let agent = challenge.agent;
    let keys = LoginKeys::new(&agent.email, ip);
    throttle::check(&state, &keys).await?;
    let factor = SecondFactor::from_parts(req.code, req.recovery_code)?;
    if !crate::routes::totp::check_second_factor(&state, agent.id, &factor).await? {
        throttle::record_failure(&state, &keys).await?;
        if state.store.fail_login_challenge(&challenge_hash).await? >= CHALLENGE_MAX_ATTEMPTS {
            state.store.consume_login_challenge(&challenge_hash).await?;
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_code",
            "wrong or already used code",
        ));
    }
    // Single use: of two requests racing with the same challenge, one signs in.
    if !state.store.consume_login_challenge(&challenge_hash).await? {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_challenge",
            "the sign-in expired or was already used; sign in again",
        ));
    }
    throttle::record_success(&state, &keys).await?;
    start_session(&state, agent, true).await
}

/// A second factor as sent: a TOTP code or a recovery code, exactly one.
pub enum SecondFactor {
    Code(String),
    Recovery(String),
}

impl SecondFactor {
    /// From the optional `code` and `recovery_code` fields; 422 unless exactly one is set.
    pub fn from_parts(code: Option<String>, recovery: Option<String>) -> ApiResult<Self> {
        let present = |v: &Option<String>| v.as_deref().is_some_and(|t| !t.trim().is_empty());
        match (code, recovery) {
            (Some(code), r) if !present(&r) && !code.trim().is_empty() => Ok(Self::Code(code)),
            (c, Some(recovery)) if !present(&c) && !recovery.trim().is_empty() => {
                Ok(Self::Recovery(recovery))
            }
            _ => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "send either code or recovery_code",
            )),
        }
    }
}

/// Creates a session and answers with the cookie and the `MeResponse`.
async fn start_session(state: &AppState, agent: Agent, totp_enabled: bool) -> ApiResult<Response> {
    let token = new_secret(SESSION_TOKEN_PREFIX);
    let csrf = new_secret("");
    let ttl_secs = i64::from(state.config.session_ttl_hours) * 3600;
    let expires = Timestamp::now().plus_seconds(ttl_secs);
    state
        .store
        .create_session(agent.id, &hash_secret(&token), &csrf, expires)
        .await?;
    tracing::info!(agent = %agent.id, "agent signed in");
    let sites = state.store.list_agent_sites(agent.id).await?;
    let cookie = session_cookie(&token, ttl_secs, state.config.cookie_secure);
    let mut response = Json(MeResponse {
        agent,
        sites,
        csrf_token: Some(csrf),
        totp_enabled,
    })
    .into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

fn session_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn signed_out(state: &AppState) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, state.config.cookie_secure),
    );
    response
}

/// `POST /api/v1/auth/logout`: ends this session (and closes the sockets opened with it).
pub async fn logout(State(state): State<AppState>, auth: AgentAuth) -> ApiResult<Response> {
    if let AuthMethod::Session { token_hash, .. } = &auth.method {
        state.store.delete_session(token_hash).await?;
        state.hub.agent_signed_out(auth.agent.id);
    }
    Ok(signed_out(&state))
}

/// `POST /api/v1/auth/logout-all`: ends every session of the signed-in agent and closes
/// their sockets (close code 4001).
pub async fn logout_all(State(state): State<AppState>, auth: AgentAuth) -> ApiResult<Response> {
    let ended = state.store.delete_agent_sessions(auth.agent.id).await?;
    state.hub.agent_signed_out(auth.agent.id);
    tracing::info!(agent = %auth.agent.id, ended, "agent signed out everywhere");
    Ok(signed_out(&state))
}

/// `GET /api/v1/auth/me`
pub async fn get_me(State(state): State<AppState>, auth: AgentAuth) -> ApiResult<Json<MeResponse>> {
    let sites = state.store.list_agent_sites(auth.agent.id).await?;
    let totp_enabled = state.store.totp_enabled(auth.agent.id).await?;
    let csrf_token = match auth.method {
        AuthMethod::Session { csrf_token, .. } => Some(csrf_token),
        AuthMethod::ApiToken { .. } => None,
    };
    Ok(Json(MeResponse {
        agent: auth.agent,
        sites,
        csrf_token,
        totp_enabled,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `PUT /api/v1/auth/password`: changes the password and ends every session, closing the
/// agent's sockets. A wrong current password counts as a failed sign-in, so a borrowed
/// session cannot be used to guess it.
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: AgentAuth,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let keys = LoginKeys::new(&auth.agent.email, ip);
    throttle::check(&state, &keys).await?;
    let stored = state.store.get_password_hash(auth.agent.id).await?;
    if !password::verify(req.current_password, stored).await {
        throttle::record_failure(&state, &keys).await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_credentials",
            "current password is wrong",
        ));
    }
    let hash = password::hash(req.new_password)
        .await
        .map_err(password_error)?;
    state.store.set_password_hash(auth.agent.id, &hash).await?;
    state.store.delete_agent_sessions(auth.agent.id).await?;
    state.hub.agent_signed_out(auth.agent.id);
    Ok(StatusCode::NO_CONTENT)
}

/// Maps a password problem to the API error.
pub fn password_error(e: password::PasswordError) -> ApiError {
    match e {
        password::PasswordError::TooShort => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            e.to_string(),
        ),
        other => ApiError::internal(other),
    }
}

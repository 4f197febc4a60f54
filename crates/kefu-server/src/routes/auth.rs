//! Console sign-in: `POST /auth/login` sets an HttpOnly, SameSite=Strict session cookie and
//! returns the CSRF token the console sends back on writes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_core::Timestamp;
use kefu_core::domain::{Agent, Site};
use kefu_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::auth::{
    AgentAuth, AuthMethod, SESSION_COOKIE, SESSION_TOKEN_PREFIX, hash_secret, new_secret, password,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

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
}

/// `POST /api/v1/auth/login`
pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let bad = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong e-mail or password",
        )
    };
    let (agent, stored) = match state.store.get_agent_credentials(&req.email).await {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => {
            // Spend the same time as a real check so timing does not reveal which e-mails exist.
            password::verify(req.password, password::dummy_hash().await).await;
            return Err(bad());
        }
        Err(e) => return Err(e.into()),
    };
    if !password::verify(req.password, stored).await || agent.disabled {
        return Err(bad());
    }
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

/// `POST /api/v1/auth/logout`: ends this session.
pub async fn logout(State(state): State<AppState>, auth: AgentAuth) -> ApiResult<Response> {
    if let AuthMethod::Session { token_hash, .. } = &auth.method {
        state.store.delete_session(token_hash).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, state.config.cookie_secure),
    );
    Ok(response)
}

/// `POST /api/v1/auth/logout-all`: ends every session of the signed-in agent.
pub async fn logout_all(State(state): State<AppState>, auth: AgentAuth) -> ApiResult<Response> {
    let ended = state.store.delete_agent_sessions(auth.agent.id).await?;
    tracing::info!(agent = %auth.agent.id, ended, "agent signed out everywhere");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, state.config.cookie_secure),
    );
    Ok(response)
}

/// `GET /api/v1/auth/me`
pub async fn get_me(State(state): State<AppState>, auth: AgentAuth) -> ApiResult<Json<MeResponse>> {
    let sites = state.store.list_agent_sites(auth.agent.id).await?;
    let csrf_token = match auth.method {
        AuthMethod::Session { csrf_token, .. } => Some(csrf_token),
        AuthMethod::ApiToken => None,
    };
    Ok(Json(MeResponse {
        agent: auth.agent,
        sites,
        csrf_token,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `PUT /api/v1/auth/password`: changes the password and ends every other session.
pub async fn change_password(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let stored = state.store.get_password_hash(auth.agent.id).await?;
    if !password::verify(req.current_password, stored).await {
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

//! The TOTP second factor of the signed-in agent: `POST /auth/totp/setup` issues a secret
//! (base32, otpauth:// URI and QR code as SVG), `POST /auth/totp/confirm` turns it on with a
//! first code and returns ten one-time recovery codes (shown once), `DELETE /auth/totp` turns
//! it off with the password and a code. Only console sessions may change these, never an API
//! token. The secret is stored sealed by the server's secret box.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::{AgentId, Timestamp};
use kefu_store::StoreError;
use serde::{Deserialize, Serialize};

use super::auth::SecondFactor;
use crate::auth::throttle::{self, LoginKeys};
use crate::auth::{AgentAuth, password, totp};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

fn already_enabled() -> ApiError {
    ApiError::conflict(
        "totp_already_enabled",
        "two-factor sign-in is already on; turn it off first",
    )
}

/// What an authenticator app needs.
#[derive(Serialize)]
pub struct TotpSetup {
    /// Base32, for typing in by hand.
    secret: String,
    otpauth_uri: String,
    /// The URI as a QR code.
    qr_svg: String,
}

/// `POST /api/v1/auth/totp/setup`: a new secret, pending until confirmed.
pub async fn setup_totp(
    State(state): State<AppState>,
    auth: AgentAuth,
) -> ApiResult<Json<TotpSetup>> {
    auth.require_session()?;
    let secret = totp::encode_secret(&totp::new_secret());
    let sealed = state.gateways.secrets().seal(&secret);
    match state.store.begin_totp_setup(auth.agent.id, &sealed).await {
        Ok(()) => {}
        Err(StoreError::InvalidState(_)) => return Err(already_enabled()),
        Err(e) => return Err(e.into()),
    }
    let otpauth_uri = totp::otpauth_uri(&auth.agent.email, &secret);
    let qr_svg = totp::qr_svg(&otpauth_uri)
        .ok_or_else(|| ApiError::internal("the otpauth URI did not fit a QR code"))?;
    Ok(Json(TotpSetup {
        secret,
        otpauth_uri,
        qr_svg,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    code: String,
}

/// Recovery codes, shown this once.
#[derive(Serialize)]
pub struct RecoveryCodes {
    recovery_codes: Vec<String>,
}

/// `POST /api/v1/auth/totp/confirm`: turns TOTP on once the app shows a matching code.
pub async fn confirm_totp(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiJson(req): ApiJson<ConfirmRequest>,
) -> ApiResult<Json<RecoveryCodes>> {
    auth.require_session()?;
    let record = match state.store.get_totp(auth.agent.id).await {
        Ok(record) => record,
        Err(StoreError::NotFound(_)) => {
            return Err(ApiError::conflict(
                "totp_not_started",
                "start two-factor setup first",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if record.enabled {
        return Err(already_enabled());
    }
    let secret = open_secret(&state, &record.secret_sealed)?;
    let Some(step) = totp::matching_step(&secret, &req.code, Timestamp::now().unix_seconds())
    else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_code",
            "that code does not match; check the app's clock and try the next code",
        ));
    };
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
    match state.store.enable_totp(auth.agent.id, step, &hashes).await {
        Ok(()) => {}
        Err(StoreError::InvalidState(_)) => return Err(already_enabled()),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(agent = %auth.agent.id, "two-factor sign-in turned on");
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisableRequest {
    password: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// `DELETE /api/v1/auth/totp`: turns TOTP off, given the password and a current code (or a
/// recovery code). Wrong answers count as failed sign-ins.
pub async fn disable_totp(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: AgentAuth,
    ApiJson(req): ApiJson<DisableRequest>,
) -> ApiResult<StatusCode> {
    auth.require_session()?;
    let factor = SecondFactor::from_parts(req.code, req.recovery_code)?;
    if !state.store.totp_enabled(auth.agent.id).await? {
        return Err(ApiError::conflict(
            "totp_not_enabled",
            "two-factor sign-in is not on",
        ));
    }
    let keys = LoginKeys::new(&auth.agent.email, ip);
    throttle::check(&state, &keys).await?;
    let stored = state.store.get_password_hash(auth.agent.id).await?;
    // Both are checked whatever the first says, so the answer does not tell which was wrong.
    let password_ok = password::verify(req.password, stored).await;
    let factor_ok = check_second_factor(&state, auth.agent.id, &factor).await?;
    if !(password_ok && factor_ok) {
        throttle::record_failure(&state, &keys).await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_credentials",
            "wrong password or code",
        ));
    }
    state.store.disable_totp(auth.agent.id).await?;
    tracing::info!(agent = %auth.agent.id, "two-factor sign-in turned off");
    Ok(StatusCode::NO_CONTENT)
}

/// Checks and spends a second factor: a TOTP code of an enabled secret not used before (its
/// time step is recorded, so the same code is refused for the rest of its window), or an
/// unspent recovery code.
pub async fn check_second_factor(
    state: &AppState,
    agent: AgentId,
    factor: &SecondFactor,
) -> ApiResult<bool> {
    match factor {
        SecondFactor::Code(code) => {
            let record = match state.store.get_totp(agent).await {
                Ok(record) if record.enabled => record,
                Ok(_) | Err(StoreError::NotFound(_)) => return Ok(false),
                Err(e) => return Err(e.into()),
            };
            let secret = open_secret(state, &record.secret_sealed)?;
            match totp::matching_step(&secret, code, Timestamp::now().unix_seconds()) {
                Some(step) => Ok(state.store.use_totp_step(agent, step).await?),
                None => Ok(false),
            }
        }
        SecondFactor::Recovery(code) => Ok(state
            .store
            .use_recovery_code(agent, &totp::hash_recovery_code(code))
            .await?),
    }
}

fn open_secret(state: &AppState, sealed: &str) -> ApiResult<Vec<u8>> {
    let text = state
        .gateways
        .secrets()
        .open(sealed)
        .map_err(ApiError::internal)?;
    totp::decode_secret(&text).ok_or_else(|| ApiError::internal("stored TOTP secret is not base32"))
}

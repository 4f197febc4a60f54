//! Bearer API tokens for integrations, acting as the agent who created them. The secret is
//! returned once, at creation.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::ApiTokenId;
use kefu_core::domain::ApiToken;
use kefu_core::validate;
use serde::{Deserialize, Serialize};

use crate::audit::Target;
use crate::auth::{API_TOKEN_PREFIX, AgentAuth, hash_secret, new_secret};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

#[derive(Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    token: ApiToken,
    /// Shown only now.
    secret: String,
}

/// `POST /api/v1/api-tokens`
pub async fn create_api_token(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiJson(req): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let name = validate::short_text("name", &req.name, 100)?;
    let secret = new_secret(API_TOKEN_PREFIX);
    let token = state
        .store
        .create_api_token(auth.agent.id, &name, &hash_secret(&secret))
        .await?;
    state
        .audit(
            &auth,
            "api_token.create",
            Target::instance("api_token", token.id),
            serde_json::json!({}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// `GET /api/v1/api-tokens`
pub async fn list_api_tokens(
    State(state): State<AppState>,
    auth: AgentAuth,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(state.store.list_api_tokens(auth.agent.id).await?))
}

/// `DELETE /api/v1/api-tokens/{id}`
pub async fn revoke_api_token(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ApiTokenId>,
) -> ApiResult<StatusCode> {
    state.store.revoke_api_token(auth.agent.id, id).await?;
    state
        .audit(
            &auth,
            "api_token.revoke",
            Target::instance("api_token", id),
            serde_json::json!({}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

//! Bearer API tokens for integrations, acting as the agent who created them narrowed to the
//! token's scopes (`read`, `write`, `admin`; see `auth::agent`). The secret is returned
//! once, at creation. Tokens are made and revoked from a console session only, so a leaked
//! token cannot mint itself a successor; revoking one closes the sockets opened with it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::ApiTokenId;
use kefu_core::domain::{ApiToken, Role, Scope};
use kefu_core::validate::{self, ValidationError};
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
    /// What the token may do; omitted means everything the agent's role allows (`read`,
    /// `write`, and `admin` for admins), as tokens did before scopes existed.
    scopes: Option<Vec<Scope>>,
}

#[derive(Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    token: ApiToken,
    /// Shown only now.
    secret: String,
}

/// The scopes a new token gets: the requested ones, which must be non-empty and within the
/// agent's role (an `admin` scope on a non-admin's token would only mislead).
fn granted_scopes(role: Role, requested: Option<Vec<Scope>>) -> ApiResult<Vec<Scope>> {
    let allowed = |s: &Scope| *s != Scope::Admin || role == Role::Admin;
    let scopes = match requested {
        None => Scope::ALL.iter().copied().filter(allowed).collect(),
        Some(scopes) => {
            if scopes.is_empty() {
                return Err(ValidationError::invalid("scopes", "name at least one scope").into());
            }
            if !scopes.iter().all(allowed) {
                return Err(ValidationError::invalid(
                    "scopes",
                    "the admin scope needs the admin role",
                )
                .into());
            }
            scopes
        }
    };
    Ok(Scope::split(&Scope::join(&scopes)))
}

/// `POST /api/v1/api-tokens` (console session)
pub async fn create_api_token(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiJson(req): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    auth.require_session()?;
    let name = validate::short_text("name", &req.name, 100)?;
    let scopes = granted_scopes(auth.agent.role, req.scopes)?;
    let secret = new_secret(API_TOKEN_PREFIX);
    let token = state
        .store
        .create_api_token(auth.agent.id, &name, &hash_secret(&secret), &scopes)
        .await?;
    state
        .audit(
            &auth,
            "api_token.create",
            Target::instance("api_token", token.id),
            serde_json::json!({ "scopes": Scope::join(&token.scopes) }),
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

/// `DELETE /api/v1/api-tokens/{id}` (console session): the token stops working at once and
/// every socket opened with it closes (4001).
pub async fn revoke_api_token(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ApiTokenId>,
) -> ApiResult<StatusCode> {
    auth.require_session()?;
    state.store.revoke_api_token(auth.agent.id, id).await?;
    // The same signal as a sign-out: each of the agent's sockets re-checks its own
    // credential, so only those opened with this token close.
    state.hub.agent_signed_out(auth.agent.id);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_scopes_follow_the_role() {
        assert_eq!(granted_scopes(Role::Admin, None).unwrap(), Scope::ALL);
        assert_eq!(
            granted_scopes(Role::Agent, None).unwrap(),
            vec![Scope::Read, Scope::Write]
        );
    }

    #[test]
    fn requested_scopes_are_checked_and_normalised() {
        assert_eq!(
            granted_scopes(
                Role::Editor,
                Some(vec![Scope::Write, Scope::Read, Scope::Read])
            )
            .unwrap(),
            vec![Scope::Read, Scope::Write]
        );
        assert!(granted_scopes(Role::Editor, Some(vec![])).is_err());
        assert!(granted_scopes(Role::Editor, Some(vec![Scope::Admin])).is_err());
        assert_eq!(
            granted_scopes(Role::Admin, Some(vec![Scope::Admin, Scope::Read])).unwrap(),
            vec![Scope::Read, Scope::Admin]
        );
    }
}

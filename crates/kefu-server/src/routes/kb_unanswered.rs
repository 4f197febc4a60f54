//! The unanswered queue: questions the assistant handed off for lack of knowledge (personal
//! data redacted), for editors to turn into entries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::SiteId;
use kefu_core::domain::Role;
use kefu_store::UnansweredQuestion;
use serde::Deserialize;

use crate::audit::Target;
use crate::auth::AgentAuth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<u32>,
}

/// `GET /api/v1/sites/{id}/kb/unanswered`
pub async fn list_unanswered(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<UnansweredQuestion>>> {
    auth.require_site(&state, site).await?;
    Ok(Json(
        state
            .store
            .list_unanswered(site, p.limit.unwrap_or(100))
            .await?,
    ))
}

/// `DELETE /api/v1/sites/{id}/kb/unanswered/{question_id}` (editor): handled.
pub async fn dismiss_unanswered(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath((site, id)): ApiPath<(SiteId, uuid::Uuid)>,
) -> ApiResult<StatusCode> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Editor)?;
    state
        .store
        .dismiss_unanswered(site, &id.to_string())
        .await?;
    state
        .audit(
            &auth,
            "kb.unanswered.dismiss",
            Target::in_site(site, "kb_unanswered", id),
            serde_json::json!({}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

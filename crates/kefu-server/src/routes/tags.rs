//! A site's tag vocabulary. Tags are created by putting them on a conversation; admins may
//! delete them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::domain::{Role, Tag};
use kefu_core::{SiteId, TagId};

use crate::audit::Target;
use crate::auth::AgentAuth;
use crate::error::ApiResult;
use crate::extract::ApiPath;
use crate::state::AppState;

/// `GET /api/v1/sites/{id}/tags`
pub async fn list_tags(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
) -> ApiResult<Json<Vec<Tag>>> {
    auth.require_site(&state, site).await?;
    Ok(Json(state.store.list_tags(site).await?))
}

/// `DELETE /api/v1/sites/{id}/tags/{tag_id}` (admin)
pub async fn delete_tag(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath((site, tag)): ApiPath<(SiteId, TagId)>,
) -> ApiResult<StatusCode> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    state.store.delete_tag(site, tag).await?;
    state
        .audit(
            &auth,
            "tag.delete",
            Target::in_site(site, "tag", tag),
            serde_json::json!({}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

//! Canned replies: every member reads them (the console completes `/shortcut`); editors and
//! admins write them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::domain::{CannedReply, Role};
use kefu_core::validate;
use kefu_core::{CannedReplyId, SiteId};
use serde::Deserialize;

use crate::audit::Target;
use crate::auth::AgentAuth;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only shortcuts starting with this (without the slash).
    prefix: Option<String>,
}

/// `GET /api/v1/sites/{id}/canned-replies`
pub async fn list_canned_replies(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<CannedReply>>> {
    auth.require_site(&state, site).await?;
    let prefix = p.prefix.map(|p| p.trim_start_matches('/').to_lowercase());
    Ok(Json(
        state
            .store
            .list_canned_replies(site, prefix.as_deref())
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedReplyBody {
    shortcut: String,
    title: Option<String>,
    text: String,
}

/// `POST /api/v1/sites/{id}/canned-replies` (editor)
pub async fn create_canned_reply(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiJson(body): ApiJson<CannedReplyBody>,
) -> ApiResult<(StatusCode, Json<CannedReply>)> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Editor)?;
    let shortcut = validate::shortcut(&body.shortcut)?;
    let text = validate::message_text(&body.text, state.config.max_message_chars)?;
    let title = validate::short_text("title", body.title.as_deref().unwrap_or(&shortcut), 100)?;
    let reply = state
        .store
        .create_canned_reply(site, &shortcut, &title, &text)
        .await?;
    state
        .audit(
            &auth,
            "canned_reply.create",
            Target::in_site(site, "canned_reply", reply.id),
            serde_json::json!({ "shortcut": reply.shortcut }),
        )
        .await;
    Ok((StatusCode::CREATED, Json(reply)))
}

/// `PATCH /api/v1/canned-replies/{id}` (editor)
pub async fn update_canned_reply(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<CannedReplyId>,
    ApiJson(body): ApiJson<CannedReplyBody>,
) -> ApiResult<Json<CannedReply>> {
    let mut reply = state.store.get_canned_reply(id).await?;
    auth.require_site(&state, reply.site_id).await?;
    auth.require_role(Role::Editor)?;
    reply.shortcut = validate::shortcut(&body.shortcut)?;
    reply.text = validate::message_text(&body.text, state.config.max_message_chars)?;
    reply.title = validate::short_text(
        "title",
        body.title.as_deref().unwrap_or(&reply.shortcut),
        100,
    )?;
    let reply = state.store.update_canned_reply(&reply).await?;
    state
        .audit(
            &auth,
            "canned_reply.update",
            Target::in_site(reply.site_id, "canned_reply", reply.id),
            serde_json::json!({ "shortcut": reply.shortcut }),
        )
        .await;
    Ok(Json(reply))
}

/// `DELETE /api/v1/canned-replies/{id}` (editor)
pub async fn delete_canned_reply(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<CannedReplyId>,
) -> ApiResult<StatusCode> {
    let reply = state.store.get_canned_reply(id).await?;
    auth.require_site(&state, reply.site_id).await?;
    auth.require_role(Role::Editor)?;
    state.store.delete_canned_reply(id).await?;
    state
        .audit(
            &auth,
            "canned_reply.delete",
            Target::in_site(reply.site_id, "canned_reply", id),
            serde_json::json!({ "shortcut": reply.shortcut }),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

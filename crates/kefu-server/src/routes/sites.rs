//! Sites and their members. Admins create sites and manage members; every member can read
//! the site; admins change its settings.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::domain::{Agent, Role, Site, SiteSettings};
use kefu_core::validate;
use kefu_core::{AgentId, SiteId};
use serde::Deserialize;

use crate::audit::Target;
use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    name: String,
    #[serde(default)]
    allowed_origins: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    name: Option<String>,
    allowed_origins: Option<Vec<String>>,
    settings: Option<SiteSettings>,
}

fn check_origins(origins: &[String]) -> ApiResult<Vec<String>> {
    origins
        .iter()
        .map(|o| {
            let o = o.trim().trim_end_matches('/');
            let ok = (o.starts_with("https://") || o.starts_with("http://"))
                && !o["https://".len().min(o.len())..].contains('/')
                && o.len() <= 255;
            if ok {
                Ok(o.to_lowercase())
            } else {
                Err(validate::ValidationError::invalid(
                    "allowed_origins",
                    format!("`{o}` is not an origin like https://shop.example"),
                )
                .into())
            }
        })
        .collect()
}

/// `GET /api/v1/sites`: the caller's sites.
pub async fn list_sites(
    State(state): State<AppState>,
    auth: AgentAuth,
) -> ApiResult<Json<Vec<Site>>> {
    Ok(Json(state.store.list_agent_sites(auth.agent.id).await?))
}

/// `POST /api/v1/sites` (admin): the creator becomes a member.
pub async fn create_site(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiJson(req): ApiJson<NewSite>,
) -> ApiResult<(StatusCode, Json<Site>)> {
    auth.require_role(Role::Admin)?;
    let name = validate::short_text("name", &req.name, 100)?;
    let origins = check_origins(&req.allowed_origins)?;
    let site = state.store.create_site(&name, &origins).await?;
    state.store.add_site_member(site.id, auth.agent.id).await?;
    state
        .audit(
            &auth,
            "site.create",
            Target::site(site.id),
            serde_json::json!({}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(site)))
}

/// `GET /api/v1/sites/{id}`
pub async fn get_site(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<SiteId>,
) -> ApiResult<Json<Site>> {
    auth.require_site(&state, id).await?;
    Ok(Json(state.store.get_site(id).await?))
}

/// `PATCH /api/v1/sites/{id}` (admin)
pub async fn update_site(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<SiteId>,
    ApiJson(patch): ApiJson<SitePatch>,
) -> ApiResult<Json<Site>> {
    auth.require_site(&state, id).await?;
    auth.require_role(Role::Admin)?;
    let mut site = state.store.get_site(id).await?;
    let before = site.clone();
    if let Some(name) = patch.name {
        site.name = validate::short_text("name", &name, 100)?;
    }
    if let Some(origins) = patch.allowed_origins {
        site.allowed_origins = check_origins(&origins)?;
    }
    if let Some(settings) = patch.settings {
        settings.validate()?;
        site.settings = settings;
    }
    let site = state.store.update_site(&site).await?;
    state
        .audit(
            &auth,
            "site.update",
            Target::site(id),
            changed_fields(&before, &site),
        )
        .await;
    Ok(Json(site))
}

/// The names (never the values) of what a site update changed, for the audit log.
fn changed_fields(before: &Site, after: &Site) -> serde_json::Value {
    let mut fields = Vec::new();
    if before.name != after.name {
        fields.push("name".to_owned());
    }
    if before.allowed_origins != after.allowed_origins {
        fields.push("allowed_origins".to_owned());
    }
    let (old, new) = (
        serde_json::to_value(&before.settings).unwrap_or_default(),
        serde_json::to_value(&after.settings).unwrap_or_default(),
    );
    if let (Some(old), Some(new)) = (old.as_object(), new.as_object()) {
        fields.extend(
            new.iter()
                .filter(|(k, v)| old.get(*k) != Some(*v))
                .map(|(k, _)| format!("settings.{k}")),
        );
    }
    serde_json::json!({ "fields": fields })
}

/// `GET /api/v1/sites/{id}/agents`
pub async fn list_site_agents(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<SiteId>,
) -> ApiResult<Json<Vec<Agent>>> {
    auth.require_site(&state, id).await?;
    Ok(Json(state.store.list_site_agents(id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    agent_id: AgentId,
}

/// `POST /api/v1/sites/{id}/members` (admin)
pub async fn add_member(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<SiteId>,
    ApiJson(req): ApiJson<NewMember>,
) -> ApiResult<StatusCode> {
    auth.require_site(&state, id).await?;
    auth.require_role(Role::Admin)?;
    state
        .store
        .get_agent(req.agent_id)
        .await
        .map_err(|_| ApiError::bad_request("unknown_agent", "no such agent"))?;
    state.store.add_site_member(id, req.agent_id).await?;
    state
        .audit(
            &auth,
            "member.add",
            Target::in_site(id, "agent", req.agent_id),
            serde_json::json!({}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/sites/{id}/members/{agent_id}` (admin)
pub async fn remove_member(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath((id, agent_id)): ApiPath<(SiteId, AgentId)>,
) -> ApiResult<StatusCode> {
    auth.require_site(&state, id).await?;
    auth.require_role(Role::Admin)?;
    if agent_id == auth.agent.id {
        return Err(ApiError::conflict(
            "invalid_state",
            "admins cannot remove themselves",
        ));
    }
    state.store.remove_site_member(id, agent_id).await?;
    state
        .audit(
            &auth,
            "member.remove",
            Target::in_site(id, "agent", agent_id),
            serde_json::json!({}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// A new identity secret, shown once.
#[derive(serde::Serialize)]
pub struct IdentitySecret {
    secret: String,
}

/// `POST /api/v1/sites/{id}/identity-secret` (admin): makes (or rotates) the secret the
/// customer's server signs user ids with for the widget's `identify`. Returned once; stored
/// sealed. Rotating invalidates every signature made with the old one.
pub async fn rotate_identity_secret(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<SiteId>,
) -> ApiResult<(StatusCode, Json<IdentitySecret>)> {
    auth.require_site(&state, id).await?;
    auth.require_role(Role::Admin)?;
    let secret = crate::auth::new_secret("kefu_is_");
    let sealed = state.gateways.secrets().seal(&secret);
    state.store.set_identity_secret(id, Some(&sealed)).await?;
    tracing::info!(site = %id, agent = %auth.agent.id, "identity secret rotated");
    state
        .audit(
            &auth,
            "identity_secret.rotate",
            Target::site(id),
            serde_json::json!({}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(IdentitySecret { secret })))
}

/// `DELETE /api/v1/sites/{id}/identity-secret` (admin): turns identity verification off.
pub async fn delete_identity_secret(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<SiteId>,
) -> ApiResult<StatusCode> {
    auth.require_site(&state, id).await?;
    auth.require_role(Role::Admin)?;
    state.store.set_identity_secret(id, None).await?;
    state
        .audit(
            &auth,
            "identity_secret.delete",
            Target::site(id),
            serde_json::json!({}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

//! Agent accounts (admins create and change them) and each agent's own presence.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::domain::{Agent, Presence, Role};
use kefu_core::validate;
use kefu_core::{AgentId, SiteId};
use kefu_store::NewAgent;
use serde::Deserialize;

use super::auth::password_error;
use crate::audit::Target;
use crate::auth::{AgentAuth, password};
use crate::chat::presence::set_presence;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgentRequest {
    email: String,
    name: String,
    password: String,
    role: Role,
    /// Sites the new agent works on; each must be one of the admin's.
    #[serde(default)]
    site_ids: Vec<SiteId>,
}

/// `POST /api/v1/agents` (admin)
pub async fn create_agent(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiJson(req): ApiJson<NewAgentRequest>,
) -> ApiResult<(StatusCode, Json<Agent>)> {
    auth.require_role(Role::Admin)?;
    for site in &req.site_ids {
        auth.require_site(&state, *site).await?;
    }
    let email = validate::email(&req.email)?;
    let name = validate::short_text("name", &req.name, 100)?;
    let password_hash = password::hash(req.password).await.map_err(password_error)?;
    let agent = state
        .store
        .create_agent(NewAgent {
            email,
            name,
            password_hash,
            role: req.role,
        })
        .await?;
    for site in &req.site_ids {
        state.store.add_site_member(*site, agent.id).await?;
    }
    let details = serde_json::json!({ "role": agent.role, "site_ids": req.site_ids });
    state
        .audit(
            &auth,
            "agent.create",
            Target::instance("agent", agent.id),
            details,
        )
        .await;
    Ok((StatusCode::CREATED, Json(agent)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    name: Option<String>,
    role: Option<Role>,
    disabled: Option<bool>,
}

/// `PATCH /api/v1/agents/{id}` (admin; an agent may rename themselves)
pub async fn update_agent(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<AgentId>,
    ApiJson(patch): ApiJson<AgentPatch>,
) -> ApiResult<Json<Agent>> {
    let self_rename = id == auth.agent.id && patch.role.is_none() && patch.disabled.is_none();
    if !self_rename {
        auth.require_role(Role::Admin)?;
    }
    if id != auth.agent.id {
        require_manages(&state, &auth, id).await?;
    }
    if id == auth.agent.id
        && (patch.disabled == Some(true) || patch.role.is_some_and(|r| r != Role::Admin))
    {
        return Err(ApiError::conflict(
            "invalid_state",
            "admins cannot demote or disable themselves",
        ));
    }
    let mut agent = state.store.get_agent(id).await?;
    let details = serde_json::json!({ "role": patch.role, "disabled": patch.disabled, "renamed": patch.name.is_some() });
    if let Some(name) = patch.name {
        agent.name = validate::short_text("name", &name, 100)?;
    }
    if let Some(role) = patch.role {
        agent.role = role;
    }
    if let Some(disabled) = patch.disabled {
        agent.disabled = disabled;
    }
    let agent = state.store.update_agent(&agent).await?;
    if agent.disabled {
        state.store.delete_agent_sessions(agent.id).await?;
        // Their open sockets (sessions and API tokens alike) re-check and close.
        state.hub.agent_signed_out(agent.id);
        set_presence(&state, &agent, Presence::Offline).await?;
    }
    state
        .audit(
            &auth,
            "agent.update",
            Target::instance("agent", agent.id),
            details,
        )
        .await;
    Ok(Json(agent))
}

/// An admin manages an agent only if every site the agent works on is one of the admin's
/// (an agent on no site yet is anyone's to manage): disabling or demoting someone acts on
/// all their sites, and an admin of one site must not lock out another site's people.
/// Others are 404, like any resource on a site the caller is not a member of.
async fn require_manages(state: &AppState, auth: &AgentAuth, target: AgentId) -> ApiResult<()> {
    let theirs = state.store.list_agent_sites(target).await?;
    for site in &theirs {
        if !state.store.is_site_member(site.id, auth.agent.id).await? {
            return Err(ApiError::not_found("agent"));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceRequest {
    presence: Presence,
}

/// `PUT /api/v1/agents/me/presence`
pub async fn set_my_presence(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiJson(req): ApiJson<PresenceRequest>,
) -> ApiResult<Json<Agent>> {
    set_presence(&state, &auth.agent, req.presence).await?;
    Ok(Json(state.store.get_agent(auth.agent.id).await?))
}

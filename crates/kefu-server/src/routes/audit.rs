//! Reading the audit log (admins only). A site's events are read by that site's admins;
//! events that belong to no site (sign-ins, agent accounts, API tokens) form the instance
//! log, read by any admin, because the admin role is instance-wide here (admins create and
//! change every agent account). Both are paged newest first by `seq`.

use axum::Json;
use axum::extract::State;
use kefu_core::SiteId;
use kefu_core::domain::Role;
use kefu_store::{AuditPage, AuditQuery, AuditVerification};
use serde::Deserialize;

use crate::auth::AgentAuth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// Filters and cursor.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Exact action or a dotted prefix (`kb` matches `kb.entry.update`).
    action: Option<String>,
    /// The acting agent's or visitor's id.
    actor: Option<String>,
    /// `next_before` of the previous page.
    before: Option<i64>,
    /// 1-200, default 50.
    limit: Option<u32>,
}

impl AuditParams {
    fn query(self, site: Option<SiteId>) -> AuditQuery {
        AuditQuery {
            site,
            action: self.action,
            actor_id: self.actor,
            before: self.before,
            limit: self.limit.unwrap_or(50),
        }
    }
}

/// `GET /api/v1/sites/{id}/audit` (admin): the site's events.
pub async fn list_site_audit(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    Ok(Json(
        state.store.list_audit(&params.query(Some(site))).await?,
    ))
}

/// `GET /api/v1/audit` (admin): the instance's events (no site).
pub async fn list_instance_audit(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    auth.require_role(Role::Admin)?;
    Ok(Json(state.store.list_audit(&params.query(None)).await?))
}

/// `GET /api/v1/audit/verify` (admin): recomputes every chain's hashes; `problems` is empty
/// when no event was edited, removed (other than by retention, oldest first) or reordered.
pub async fn verify_audit(
    State(state): State<AppState>,
    auth: AgentAuth,
) -> ApiResult<Json<AuditVerification>> {
    auth.require_role(Role::Admin)?;
    Ok(Json(state.store.verify_audit().await?))
}

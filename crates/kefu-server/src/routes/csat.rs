//! Customer satisfaction for agents and admins: a site's CSAT over a period (visitors rate
//! resolved conversations through the visitor API; each conversation shows its own rating).

use axum::Json;
use axum::extract::State;
use kefu_core::SiteId;
use kefu_store::CsatSummary;

use super::ai_settings::{DaysParams, since_days};
use crate::auth::AgentAuth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// `GET /api/v1/sites/{id}/csat?days=30` (any site member)
pub async fn get_csat(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(p): ApiQuery<DaysParams>,
) -> ApiResult<Json<CsatSummary>> {
    auth.require_site(&state, site).await?;
    Ok(Json(
        state.store.csat_summary(site, since_days(p.days)).await?,
    ))
}

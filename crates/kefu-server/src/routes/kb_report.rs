//! The knowledge base's upkeep report for editors: entries past their review date, published
//! entries no answer has used after a while, entries visitors rate down more than up, and the
//! size of the unanswered queue.

use axum::Json;
use axum::extract::State;
use kefu_core::domain::Role;
use kefu_core::{SiteId, Timestamp};
use kefu_store::KbReport;
use serde::{Deserialize, Serialize};

use crate::auth::AgentAuth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// Entries younger than this many days do not count as never hit (default 30).
    never_hit_days: Option<u32>,
    /// Entries listed per section (default 50, at most 500).
    limit: Option<u32>,
}

/// The report and the cut-off it used.
#[derive(Serialize)]
pub struct ReportView {
    #[serde(flatten)]
    report: KbReport,
    never_hit_days: u32,
    generated_at: Timestamp,
}

/// `GET /api/v1/sites/{id}/kb/report` (editor)
pub async fn get_kb_report(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> ApiResult<Json<ReportView>> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Editor)?;
    let days = p.never_hit_days.unwrap_or(30).min(3650);
    let now = Timestamp::now();
    let cutoff = now.plus_seconds(-i64::from(days) * 86_400);
    let report = state
        .store
        .kb_report(site, now, cutoff, p.limit.unwrap_or(50))
        .await?;
    Ok(Json(ReportView {
        report,
        never_hit_days: days,
        generated_at: now,
    }))
}

//! Data-subject requests and retention runs. Admins find a visitor (by e-mail or the
//! customer's user id), export everything stored about them as one JSON document, or erase
//! them; a visitor can do the same for themselves from the widget. Every export and erasure is
//! audited (the erasure's event keeps the visitor's random id and row counts, nothing else).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_core::domain::{Role, Visitor};
use kefu_core::{SiteId, Timestamp, VisitorId};
use kefu_store::{ConversationRecord, DeletedRows, Job};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{Actor, Target};
use crate::auth::{AgentAuth, VisitorAuth};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::retention::RETENTION;
use crate::state::AppState;

/// The export document's format name; changes when its shape does.
const EXPORT_FORMAT: &str = "kefu.visitor-export.v1";

/// Everything stored about a visitor, as one document.
#[derive(Serialize)]
pub struct VisitorExport {
    format: &'static str,
    exported_at: Timestamp,
    site: ExportSite,
    visitor: Visitor,
    conversations: Vec<ConversationRecord>,
}

#[derive(Serialize)]
struct ExportSite {
    id: SiteId,
    name: String,
}

async fn export(
    state: &AppState,
    visitor: VisitorId,
    include_private: bool,
) -> ApiResult<VisitorExport> {
    let record = state.store.export_visitor(visitor, include_private).await?;
    let site = state.store.get_site(record.visitor.site_id).await?;
    Ok(VisitorExport {
        format: EXPORT_FORMAT,
        exported_at: Timestamp::now(),
        site: ExportSite {
            id: site.id,
            name: site.name,
        },
        visitor: record.visitor,
        conversations: record.conversations,
    })
}

/// The export as a download.
fn download(export: &VisitorExport) -> Response {
    let name = format!("kefu-visitor-{}.json", export.visitor.id);
    let mut response = Json(export).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn summary(export: &VisitorExport) -> serde_json::Value {
    json!({
        "conversations": export.conversations.len(),
        "messages": export.conversations.iter().map(|c| c.messages.len()).sum::<usize>(),
    })
}

/// A site's visitor, or 404 (also for another site's visitor, so ids cannot be probed).
async fn site_visitor(state: &AppState, site: SiteId, id: VisitorId) -> ApiResult<Visitor> {
    match state.store.get_visitor(id).await {
        Ok(v) if v.site_id == site => Ok(v),
        Ok(_) => Err(ApiError::not_found("visitor")),
        Err(e) => Err(e.into()),
    }
}

/// After an erasure: the site's language-model gateway is rebuilt, dropping its in-memory
/// answer cache, which may hold the visitor's (redacted) questions.
/// Their uploaded files go at once too.
async fn forget_caches(state: &AppState, site: SiteId) {
    state.gateways.invalidate(site);
    crate::retention::remove_orphan_files(state).await;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindParams {
    email: Option<String>,
    external_id: Option<String>,
}

/// `GET /api/v1/sites/{id}/visitors?email=&external_id=` (admin): locate a visitor for a
/// data-subject request. At least one filter is required.
pub async fn find_visitors(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(params): ApiQuery<FindParams>,
) -> ApiResult<Json<Vec<Visitor>>> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    let email = params.email.filter(|e| !e.trim().is_empty());
    let external_id = params.external_id.filter(|e| !e.trim().is_empty());
    if email.is_none() && external_id.is_none() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "give email or external_id",
        ));
    }
    let found = state
        .store
        .find_visitors(site, email.as_deref(), external_id.as_deref())
        .await?;
    // Which filters were used and how many matched; never the searched values.
    let by: Vec<&str> = [
        ("email", email.is_some()),
        ("external_id", external_id.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, used)| used.then_some(k))
    .collect();
    state
        .audit(
            &auth,
            "visitor.search",
            Target::site(site),
            json!({ "by": by, "found": found.len() }),
        )
        .await;
    Ok(Json(found))
}

/// `GET /api/v1/sites/{id}/visitors/{visitor_id}/export` (admin): everything stored about
/// the visitor, private notes included, as a JSON download.
pub async fn export_visitor(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath((site, id)): ApiPath<(SiteId, VisitorId)>,
) -> ApiResult<Response> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    site_visitor(&state, site, id).await?;
    let export = export(&state, id, true).await?;
    state
        .audit(
            &auth,
            "visitor.export",
            Target::in_site(site, "visitor", id),
            summary(&export),
        )
        .await;
    Ok(download(&export))
}

/// What an erasure removed.
#[derive(Serialize)]
pub struct Erasure {
    deleted: DeletedRows,
}

/// `DELETE /api/v1/sites/{id}/visitors/{visitor_id}` (admin): erases the visitor and
/// everything about them; answers with the row counts removed.
pub async fn erase_visitor(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath((site, id)): ApiPath<(SiteId, VisitorId)>,
) -> ApiResult<Json<Erasure>> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    site_visitor(&state, site, id).await?;
    let deleted = state.store.erase_visitor(id).await?;
    forget_caches(&state, site).await;
    state
        .audit(
            &auth,
            "visitor.erase",
            Target::in_site(site, "visitor", id),
            json!({ "deleted": deleted }),
        )
        .await;
    Ok(Json(Erasure { deleted }))
}

/// `GET /api/v1/visitor/export` (visitor): the caller's own data as a JSON download
/// (agents' private notes left out).
pub async fn export_me(State(state): State<AppState>, auth: VisitorAuth) -> ApiResult<Response> {
    let visitor = auth.visitor;
    let export = export(&state, visitor.id, false).await?;
    state
        .audit_as(
            Actor::Visitor(visitor.id),
            "visitor.export",
            Target::in_site(visitor.site_id, "visitor", visitor.id),
            summary(&export),
        )
        .await;
    Ok(download(&export))
}

/// `DELETE /api/v1/visitor` (visitor): erases the caller and everything about them; the
/// token stops working.
pub async fn erase_me(State(state): State<AppState>, auth: VisitorAuth) -> ApiResult<StatusCode> {
    let visitor = auth.visitor;
    let deleted = state.store.erase_visitor(visitor.id).await?;
    forget_caches(&state, visitor.site_id).await;
    state
        .audit_as(
            Actor::Visitor(visitor.id),
            "visitor.erase",
            Target::in_site(visitor.site_id, "visitor", visitor.id),
            json!({ "deleted": deleted }),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/sites/{id}/retention/runs` (admin): sweeps the site now (202 with the
/// queued job) instead of waiting for the hourly run.
pub async fn run_retention(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
) -> ApiResult<(StatusCode, Json<Job>)> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    let job = state
        .store
        .create_job(RETENTION, site, &json!({}), &[], Some(auth.agent.id))
        .await?;
    state.jobs_queued.notify_one();
    state
        .audit(
            &auth,
            "retention.run",
            Target::in_site(site, "job", &job.id),
            json!({}),
        )
        .await;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// `GET /api/v1/sites/{id}/retention/runs/{job_id}` (admin): a sweep's state; when done,
/// `params.result` holds the rows it deleted.
pub async fn get_retention_run(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath((site, id)): ApiPath<(SiteId, uuid::Uuid)>,
) -> ApiResult<Json<Job>> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    let job = state.store.get_job(&id.to_string()).await?;
    if job.kind != RETENTION || job.site_id != site {
        return Err(ApiError::not_found("retention run"));
    }
    Ok(Json(job))
}

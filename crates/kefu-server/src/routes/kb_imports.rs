//! Knowledge-base imports: upload files (JSON with base64 contents), get a job back at once,
//! follow its progress and per-file outcome. The work runs in the background job worker.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kefu_core::SiteId;
use kefu_core::domain::Role;
use kefu_core::validate::ValidationError;
use kefu_kb::import::ImportSettings;
use kefu_store::{Job, JobFile};
use serde::{Deserialize, Serialize};

use crate::audit::Target;
use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::jobs::KB_IMPORT;
use crate::state::AppState;

/// Most files in one import.
const MAX_FILES: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadedFile {
    name: String,
    /// The file's bytes, base64.
    content_base64: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    files: Vec<UploadedFile>,
    #[serde(default)]
    settings: ImportSettings,
}

/// A job and its files.
#[derive(Serialize)]
pub struct ImportJob {
    #[serde(flatten)]
    job: Job,
    files: Vec<JobFile>,
}

/// `POST /api/v1/sites/{id}/kb/imports` (editor): 202 with the queued job.
pub async fn create_import(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiJson(req): ApiJson<ImportRequest>,
) -> ApiResult<(StatusCode, Json<ImportJob>)> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Editor)?;
    if req.files.is_empty() || req.files.len() > MAX_FILES {
        return Err(ValidationError::invalid("files", format!("1-{MAX_FILES} files")).into());
    }
    let mut files = Vec::with_capacity(req.files.len());
    for f in req.files {
        let name = kefu_core::validate::short_text("files.name", &f.name, 255)?;
        let data = STANDARD.decode(f.content_base64.trim()).map_err(|e| {
            ValidationError::invalid("files.content_base64", format!("{name}: not base64 ({e})"))
        })?;
        files.push((name, data));
    }
    let params = serde_json::to_value(&req.settings).map_err(ApiError::internal)?;
    let job = state
        .store
        .create_job(KB_IMPORT, site, &params, &files, Some(auth.agent.id))
        .await?;
    state.jobs_queued.notify_one();
    state
        .audit(
            &auth,
            "kb.import.create",
            Target::in_site(site, "job", &job.id),
            serde_json::json!({ "files": job.total }),
        )
        .await;
    let files = state.store.list_job_files(&job.id).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportJob { job, files })))
}

/// `GET /api/v1/kb/imports/{job_id}`: progress and per-file outcomes.
pub async fn get_import(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> ApiResult<Json<ImportJob>> {
    let job = state.store.get_job(&id.to_string()).await?;
    if job.kind != KB_IMPORT {
        return Err(ApiError::not_found("import"));
    }
    auth.require_site(&state, job.site_id)
        .await
        .map_err(|_| ApiError::not_found("import"))?;
    let files = state.store.list_job_files(&job.id).await?;
    Ok(Json(ImportJob { job, files }))
}

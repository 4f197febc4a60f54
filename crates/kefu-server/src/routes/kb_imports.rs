//! Knowledge-base imports: upload files (JSON with base64 contents) and/or name web pages and
//! sitemaps to fetch (only from the site's `import_allowed_hosts`), get a job back at once,
//! follow its progress and per-input outcome. The work runs in the background job worker.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kefu_core::SiteId;
use kefu_core::domain::Role;
use kefu_core::validate::ValidationError;
use kefu_kb::import::ImportSettings;
use kefu_kb::url_fetch::HostPolicy;
use kefu_store::{Job, JobFile, JobInput};
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

/// A web address to import: one page, or a sitemap whose pages are all imported.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlSource {
    /// `url` or `sitemap`.
    kind: String,
    url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    #[serde(default)]
    files: Vec<UploadedFile>,
    #[serde(default)]
    sources: Vec<UrlSource>,
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
    let count = req.files.len() + req.sources.len();
    if count == 0 || count > MAX_FILES {
        return Err(ValidationError::invalid(
            "files",
            format!("1-{MAX_FILES} files and sources in all"),
        )
        .into());
    }
    let mut inputs = Vec::with_capacity(count);
    for f in req.files {
        let name = kefu_core::validate::short_text("files.name", &f.name, 255)?;
        let data = STANDARD.decode(f.content_base64.trim()).map_err(|e| {
            ValidationError::invalid("files.content_base64", format!("{name}: not base64 ({e})"))
        })?;
        inputs.push(JobInput {
            kind: "file".to_owned(),
            name,
            data,
        });
    }
    if !req.sources.is_empty() {
        // Refused here already, so a typo shows at once; the worker checks again on every
        // fetch and redirect, as the allow-list may change while the job waits.
        let site_row = state.store.get_site(site).await?;
        let policy = HostPolicy::new(&site_row.settings.import_allowed_hosts);
        for source in req.sources {
            if !matches!(source.kind.as_str(), "url" | "sitemap") {
                return Err(ValidationError::invalid("sources.kind", "`url` or `sitemap`").into());
            }
            let url = source.url.trim();
            if url.len() > 2_000 {
                return Err(
                    ValidationError::invalid("sources.url", "at most 2000 characters").into(),
                );
            }
            policy
                .check(url)
                .map_err(|e| ValidationError::invalid("sources.url", e.to_string()))?;
            inputs.push(JobInput {
                kind: source.kind,
                name: url.to_owned(),
                data: Vec::new(),
            });
        }
    }
    let params = serde_json::to_value(&req.settings).map_err(ApiError::internal)?;
    let job = state
        .store
        .create_job_with_inputs(KB_IMPORT, site, &params, &inputs, Some(auth.agent.id))
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

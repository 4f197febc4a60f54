//! Evaluation runs of a site (editors and admins): upload a question suite (JSONL or CSV, the
//! same formats `kefu eval` reads), run it through the answer engine in the background, list
//! runs with their figures to compare over time, and read a run's full report.

use std::path::Path;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::SiteId;
use kefu_core::domain::Role;
use kefu_eval::suite::{parse_csv, parse_jsonl};
use kefu_store::EvalRun;
use serde::{Deserialize, Serialize};

use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Most questions one run may hold: a console run should finish in minutes, not hours.
const MAX_QUESTIONS: usize = 5000;

/// `POST /api/v1/sites/{id}/eval/runs` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    /// A label for the run ("before the returns update").
    pub name: String,
    /// `jsonl` or `csv`.
    pub format: String,
    /// The suite file's text.
    pub suite: String,
    /// Answer with the site's language model instead of offline.
    #[serde(default)]
    pub use_llm: bool,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
}

/// `POST /api/v1/sites/{id}/eval/runs`: validates the suite and queues the run (202).
pub async fn create_run(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiJson(body): ApiJson<NewRun>,
) -> ApiResult<(StatusCode, Json<EvalRun>)> {
    auth.require_role(Role::Editor)?;
    auth.require_site(&state, site).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name must be 1-200 characters"));
    }
    let label = Path::new(name);
    let rows = match body.format.as_str() {
        "jsonl" => parse_jsonl(&body.suite, label),
        "csv" => parse_csv(&body.suite, label),
        other => {
            return Err(invalid(format!(
                "format must be jsonl or csv, not `{other}`"
            )));
        }
    }
    .map_err(|e| invalid(format!("suite: {e}")))?;
    if rows.is_empty() {
        return Err(invalid("the suite has no questions"));
    }
    if rows.len() > MAX_QUESTIONS {
        return Err(invalid(format!(
            "the suite has {} questions; at most {MAX_QUESTIONS} per run",
            rows.len()
        )));
    }
    if let Some((i, _)) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.question.trim().is_empty())
    {
        return Err(invalid(format!("question {} is empty", i + 1)));
    }
    if body.use_llm && state.gateways.get(site).await.ok().flatten().is_none() {
        return Err(ApiError::conflict(
            "no_provider",
            "this site has no language model configured; run offline or add a provider",
        ));
    }
    let run = crate::eval_runs::queue(&state, site, name, body.use_llm, &rows, Some(auth.agent.id))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(run)))
}

/// `GET /api/v1/sites/{id}/eval/runs`: the site's runs, newest first, with their figures.
pub async fn list_runs(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
) -> ApiResult<Json<Vec<EvalRun>>> {
    auth.require_role(Role::Editor)?;
    auth.require_site(&state, site).await?;
    Ok(Json(state.store.list_eval_runs(site, 100).await?))
}

/// A run with its full report.
#[derive(Serialize)]
pub struct RunWithReport {
    #[serde(flatten)]
    pub run: EvalRun,
    /// The harness's report (metrics, sweep, confusion) once the run is done.
    pub report: Option<serde_json::Value>,
}

/// `GET /api/v1/sites/{id}/eval/runs/{run_id}`
pub async fn get_run(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath((site, run_id)): ApiPath<(SiteId, String)>,
) -> ApiResult<Json<RunWithReport>> {
    auth.require_role(Role::Editor)?;
    auth.require_site(&state, site).await?;
    let run = match state.store.get_eval_run(&run_id).await {
        Ok(run) if run.site_id == site => run,
        Ok(_) | Err(kefu_store::StoreError::NotFound(_)) => {
            return Err(ApiError::not_found("eval run"));
        }
        Err(e) => return Err(e.into()),
    };
    let report = state.store.get_eval_run_report(&run.id).await?;
    Ok(Json(RunWithReport { run, report }))
}

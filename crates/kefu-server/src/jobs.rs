//! The background job worker. Jobs live in the database (kefu-store `jobs`), so a restart
//! resumes them after their last finished file; the worker is woken at once when a job is
//! queued and also polls, so a job queued by another process (the CLI) is picked up too.

use std::time::Duration;

use kefu_kb::import::{ImportSettings, import_into};
use kefu_store::Job;

use crate::eval_runs::{EVAL, run_eval};
use crate::retention::{RETENTION, run_retention};
use crate::state::AppState;

/// Job kind of knowledge-base imports.
pub const KB_IMPORT: &str = "kb_import";

/// How often the worker looks for work it was not told about.
const POLL: Duration = Duration::from_secs(2);

/// Runs jobs until the process ends.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match claim_next(&state).await {
                Ok(Some(job)) if job.kind == RETENTION => run_retention(&state, job).await,
                Ok(Some(job)) if job.kind == EVAL => run_eval(&state, job).await,
                Ok(Some(job)) => run_import(&state, job).await,
                Ok(None) => {
                    let _ = tokio::time::timeout(POLL, state.jobs_queued.notified()).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "claiming a job failed");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    })
}

/// The next queued job of any kind the worker runs.
async fn claim_next(state: &AppState) -> kefu_store::Result<Option<Job>> {
    for kind in [KB_IMPORT, RETENTION, EVAL] {
        if let Some(job) = state.store.claim_job(kind).await? {
            return Ok(Some(job));
        }
    }
    Ok(None)
}

/// Imports a job's remaining files one by one, recording each outcome as it goes.
pub async fn run_import(state: &AppState, job: Job) {
    let settings: ImportSettings = match serde_json::from_value(job.params.clone()) {
        Ok(settings) => settings,
        Err(e) => {
            let _ = state
                .store
                .finish_job(&job.id, Some(&format!("bad settings: {e}")))
                .await;
            return;
        }
    };
    tracing::info!(job = %job.id, files = job.total, "import started");
    loop {
        let next = match state.store.next_pending_file(&job.id).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "reading the job failed; it will resume on restart");
                return;
            }
        };
        let Some((position, name, data)) = next else {
            break;
        };
        match import_into(
            &state.store,
            job.site_id,
            &name,
            data,
            &settings,
            job.created_by,
        )
        .await
        {
            Ok((outcome, changed)) => {
                state.knowledge_changed_many(&changed).await;
                let result = serde_json::to_value(&outcome).unwrap_or_default();
                if let Err(e) = state
                    .store
                    .finish_job_file(&job.id, position, outcome.ok, &result)
                    .await
                {
                    tracing::error!(job = %job.id, error = %e, "recording progress failed");
                    return;
                }
            }
            Err(e) => {
                // The database, not the file, failed: stop here; the job resumes on restart.
                tracing::error!(job = %job.id, file = %name, error = %e, "import interrupted");
                let _ = state
                    .store
                    .finish_job(&job.id, Some(&format!("database error: {e}")))
                    .await;
                return;
            }
        }
    }
    match state.store.finish_job(&job.id, None).await {
        Ok(job) => {
            tracing::info!(job = %job.id, done = job.done, failed = job.failed, "import finished")
        }
        Err(e) => tracing::error!(job = %job.id, error = %e, "finishing the job failed"),
    }
}

//! The background job worker. Jobs live in the database (kefu-store `jobs`), so a restart
//! resumes them after their last finished file; the worker is woken at once when a job is
//! queued and also polls, so a job queued by another process (the CLI) is picked up too.
//!
//! An import's inputs are uploaded files, web pages (`url`) and sitemaps. A sitemap input,
//! when its turn comes, appends the pages it lists to the same job as `url` inputs, so each
//! page has its own outcome and a restart resumes among them.

use std::time::Duration;

use kefu_kb::import::{FileOutcome, ImportSettings, import_into, import_url, read_sitemap};
use kefu_kb::url_fetch::{FetchLimits, Fetcher, HostPolicy};
use kefu_store::{Job, JobInput, PendingInput};

use crate::eval_runs::{EVAL, run_eval};
use crate::retention::{RETENTION, run_retention};
use crate::state::AppState;

/// Job kind of knowledge-base imports.
pub const KB_IMPORT: &str = "kb_import";

/// Most inputs one job may grow to through sitemaps (a sitemap index pointing at itself, or
/// a huge site, must not grow a job without end).
const MAX_JOB_INPUTS: i64 = 5_000;

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
    // Built on first need, from the site's allow-list as it is when the job runs.
    let mut fetcher: Option<Fetcher> = None;
    loop {
        let next = match state.store.next_pending_input(&job.id).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "reading the job failed; it will resume on restart");
                return;
            }
        };
        let Some(input) = next else {
            break;
        };
        let PendingInput {
            position,
            kind,
            name,
            data,
        } = input;
        let imported = match kind.as_str() {
            "file" => {
                import_into(
                    &state.store,
                    job.site_id,
                    &name,
                    data,
                    &settings,
                    job.created_by,
                )
                .await
            }
            "url" | "sitemap" => {
                let fetcher = match &fetcher {
                    Some(f) => f,
                    None => match site_fetcher(state, &job).await {
                        Ok(f) => fetcher.insert(f),
                        Err(outcome) => {
                            if !record(state, &job, position, &outcome).await {
                                return;
                            }
                            continue;
                        }
                    },
                };
                if kind == "url" {
                    import_url(
                        &state.store,
                        job.site_id,
                        fetcher,
                        &name,
                        &settings,
                        job.created_by,
                    )
                    .await
                } else {
                    Ok((
                        expand_sitemap(state, &job, fetcher, &name).await,
                        Vec::new(),
                    ))
                }
            }
            other => Ok((
                FileOutcome::failed("unsupported_type", format!("unknown input kind {other}")),
                Vec::new(),
            )),
        };
        match imported {
            Ok((outcome, changed)) => {
                state.knowledge_changed_many(&changed).await;
                if !record(state, &job, position, &outcome).await {
                    return;
                }
            }
            Err(e) => {
                // The database, not the file, failed: stop here; the job resumes on restart.
                tracing::error!(job = %job.id, input = position, error = %e, "import interrupted");
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

/// Records one input's outcome; false when even that failed (the job resumes on restart).
async fn record(state: &AppState, job: &Job, position: i64, outcome: &FileOutcome) -> bool {
    let result = serde_json::to_value(outcome).unwrap_or_default();
    match state
        .store
        .finish_job_file(&job.id, position, outcome.ok, &result)
        .await
    {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "recording progress failed");
            false
        }
    }
}

/// A fetcher held to the job's site's `import_allowed_hosts`.
async fn site_fetcher(state: &AppState, job: &Job) -> Result<Fetcher, FileOutcome> {
    let failed = FileOutcome::failed;
    let site = state
        .store
        .get_site(job.site_id)
        .await
        .map_err(|e| failed("fetch_failed", e.to_string()))?;
    let policy = HostPolicy::new(&site.settings.import_allowed_hosts);
    if policy.is_empty() {
        return Err(failed(
            "host_not_allowed",
            "this site's import_allowed_hosts is empty: no address may be fetched".to_owned(),
        ));
    }
    Fetcher::new(policy, FetchLimits::default()).map_err(|e| failed(e.code(), e.to_string()))
}

/// Reads a sitemap and appends its pages (and nested sitemaps not seen in this job yet) as
/// inputs of the job.
async fn expand_sitemap(state: &AppState, job: &Job, fetcher: &Fetcher, url: &str) -> FileOutcome {
    let sitemap = match read_sitemap(fetcher, url).await {
        Ok(sitemap) => sitemap,
        Err(outcome) => return outcome,
    };
    let known: std::collections::HashSet<(String, String)> =
        match state.store.list_job_files(&job.id).await {
            Ok(files) => files.into_iter().map(|f| (f.kind, f.name)).collect(),
            Err(e) => return FileOutcome::failed("fetch_failed", e.to_string()),
        };
    let total = state.store.get_job(&job.id).await.map_or(0, |j| j.total);
    let room = usize::try_from(MAX_JOB_INPUTS - total).unwrap_or(0);
    let mut inputs: Vec<JobInput> = Vec::new();
    let listed = sitemap.pages.len() + sitemap.sitemaps.len();
    for (kind, name) in sitemap
        .sitemaps
        .into_iter()
        .map(|u| ("sitemap", u))
        .chain(sitemap.pages.into_iter().map(|u| ("url", u)))
    {
        if !known.contains(&(kind.to_owned(), name.clone())) {
            inputs.push(JobInput {
                kind: kind.to_owned(),
                name,
                data: Vec::new(),
            });
        }
    }
    let mut warnings = Vec::new();
    if inputs.len() > room {
        warnings.push(format!(
            "{} addresses left out: a job holds at most {MAX_JOB_INPUTS} inputs",
            inputs.len() - room
        ));
        inputs.truncate(room);
    }
    if let Err(e) = state.store.append_job_inputs(&job.id, &inputs).await {
        return FileOutcome::failed("fetch_failed", e.to_string());
    }
    warnings.insert(
        0,
        format!("listed {listed} addresses; {} queued", inputs.len()),
    );
    FileOutcome {
        ok: true,
        format: Some("sitemap".to_owned()),
        warnings,
        ..FileOutcome::default()
    }
}

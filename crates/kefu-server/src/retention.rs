//! The retention sweep: deletes each site's conversations resolved longer ago than its
//! `retention_days` (with their messages and everything hanging off them) and its audit
//! events older than `audit_retention_days`.
//!
//! It runs as a durable job. Every node's scheduler queues one job per site per period under
//! the key `retention:<site>:<period>`; the key is unique in `jobs`, so however many nodes
//! queue it only one job exists, and the queue's atomic claim hands it to one worker. The
//! sweep is idempotent (a second run finds nothing older than the cutoff), so a job re-queued
//! after a crash is harmless. An admin can also queue one at once (the API), which is how
//! tests run it on demand.

use std::time::Duration;

use kefu_core::{SiteId, Timestamp};
use kefu_store::{DeletedRows, Job};
use serde_json::json;

use crate::audit::{Actor, Target};
use crate::state::AppState;

/// Job kind of retention sweeps.
pub const RETENTION: &str = "retention";

/// How often each site is swept.
const PERIOD: Duration = Duration::from_secs(3600);

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Queues this period's sweep for every site with a retention setting, once per period across
/// all nodes, until the process ends.
pub fn spawn_scheduler(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PERIOD);
        loop {
            every.tick().await;
            if let Err(e) = schedule(&state).await {
                tracing::error!(error = %e, "queueing retention sweeps failed; retrying next period");
            }
        }
    })
}

async fn schedule(state: &AppState) -> kefu_store::Result<()> {
    let period = Timestamp::now().unix_seconds() / PERIOD.as_secs().cast_signed();
    let mut queued = false;
    for site in state.store.list_sites().await? {
        let s = &site.settings;
        if s.retention_days.is_none() && s.audit_retention_days.is_none() {
            continue;
        }
        let key = format!("{RETENTION}:{}:{period}", site.id);
        queued |= state
            .store
            .create_job_once(RETENTION, site.id, &json!({}), &key)
            .await?
            .is_some();
    }
    if queued {
        state.jobs_queued.notify_one();
    }
    Ok(())
}

/// Sweeps the job's site and records what went.
pub async fn run_retention(state: &AppState, job: Job) {
    match sweep(state, job.site_id).await {
        Ok((deleted, audit_events)) => {
            let removed = i64::try_from(deleted.conversations).unwrap_or(i64::MAX);
            let result = json!({ "deleted": deleted, "audit_events_deleted": audit_events });
            if deleted.conversations > 0 || audit_events > 0 || job.created_by.is_some() {
                state
                    .audit_as(
                        Actor::System,
                        "retention.sweep",
                        Target::site(job.site_id),
                        result.clone(),
                    )
                    .await;
            }
            if let Err(e) = state
                .store
                .record_job_result(&job.id, removed, &result)
                .await
            {
                tracing::error!(job = %job.id, error = %e, "recording the sweep failed");
            }
            tracing::info!(job = %job.id, site = %job.site_id, conversations = deleted.conversations, audit_events, "retention sweep finished");
            if let Err(e) = state.store.finish_job(&job.id, None).await {
                tracing::error!(job = %job.id, error = %e, "finishing the sweep failed");
            }
        }
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "retention sweep failed");
            let _ = state
                .store
                .finish_job(&job.id, Some(&format!("database error: {e}")))
                .await;
        }
    }
}

/// Deletes what the site's settings say is past keeping.
pub async fn sweep(state: &AppState, site: SiteId) -> kefu_store::Result<(DeletedRows, u64)> {
    let settings = state.store.get_site(site).await?.settings;
    let now = Timestamp::now();
    let deleted = match settings.retention_days {
        Some(days) => {
            state
                .store
                .purge_resolved_before(site, now.plus_seconds(-i64::from(days) * DAY))
                .await?
        }
        None => DeletedRows::default(),
    };
    if deleted.conversations > 0 {
        // The rows naming those conversations' uploads are gone; their files go now rather
        // than at the next periodic sweep.
        remove_orphan_files(state).await;
    }
    let audit_events = match settings.audit_retention_days {
        Some(days) => {
            state
                .store
                .purge_audit_before(site, now.plus_seconds(-i64::from(days) * DAY))
                .await?
        }
        None => 0,
    };
    Ok((deleted, audit_events))
}

/// Removes uploaded files whose rows were just deleted. A failure is logged, not returned:
/// the periodic sweep retries, and the deletion itself has already committed.
pub async fn remove_orphan_files(state: &AppState) {
    if let Err(e) = crate::attachments::sweep(state).await {
        tracing::warn!(error = %e, "removing deleted conversations' files failed");
    }
}

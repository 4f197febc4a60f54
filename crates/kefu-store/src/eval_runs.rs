//! Stored evaluation runs: a site's question suite run through the answer engine, with the
//! headline figures kept beside the run (for listing and comparing over time) and the full
//! report (sweep, confusion, per-question outcomes) fetched on demand.

use kefu_core::{AgentId, SiteId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::row::{int, opt_json, opt_parsed, opt_text, opt_time, parsed, text, time, to_json};
use crate::{Result, Store};

/// One run, without its suite and report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EvalRun {
    pub id: String,
    pub site_id: SiteId,
    pub name: String,
    /// `offline` or `llm`.
    pub mode: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    pub questions: i64,
    /// Headline figures once done.
    pub metrics: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_by: Option<AgentId>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, site_id, name, mode, status, questions, metrics, error, created_by, created_at, \
     finished_at";

fn run_from_row(row: &sqlx::any::AnyRow) -> Result<EvalRun> {
    Ok(EvalRun {
        id: text(row, "id")?,
        site_id: parsed(row, "site_id")?,
        name: text(row, "name")?,
        mode: text(row, "mode")?,
        status: text(row, "status")?,
        questions: int(row, "questions")?,
        metrics: opt_json(row, "metrics")?,
        error: opt_text(row, "error")?,
        created_by: opt_parsed(row, "created_by")?,
        created_at: time(row, "created_at")?,
        finished_at: opt_time(row, "finished_at")?,
    })
}

impl Store {
    /// Records a queued run of `suite` (a JSON array of questions).
    pub async fn create_eval_run(
        &self,
        site: SiteId,
        name: &str,
        mode: &str,
        suite: &serde_json::Value,
        questions: i64,
        created_by: Option<AgentId>,
    ) -> Result<EvalRun> {
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO eval_runs (id, site_id, name, mode, status, questions, suite, \
             created_by, created_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8)",
        )
        .bind(id.clone())
        .bind(site.to_string())
        .bind(name.to_owned())
        .bind(mode.to_owned())
        .bind(questions)
        .bind(to_json(suite)?)
        .bind(created_by.map(|a| a.to_string()))
        .bind(Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        self.get_eval_run(&id).await
    }

    /// One run.
    pub async fn get_eval_run(&self, id: &str) -> Result<EvalRun> {
        let sql = format!("SELECT {COLUMNS} FROM eval_runs WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(crate::StoreError::NotFound("eval run"))?;
        run_from_row(&row)
    }

    /// A site's runs, newest first.
    pub async fn list_eval_runs(&self, site: SiteId, limit: i64) -> Result<Vec<EvalRun>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM eval_runs WHERE site_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site.to_string())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// The run's question suite.
    pub async fn get_eval_run_suite(&self, id: &str) -> Result<serde_json::Value> {
        let row = sqlx::query("SELECT suite FROM eval_runs WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(crate::StoreError::NotFound("eval run"))?;
        Ok(opt_json(&row, "suite")?.unwrap_or(serde_json::Value::Null))
    }

    /// The run's full report, once done.
    pub async fn get_eval_run_report(&self, id: &str) -> Result<Option<serde_json::Value>> {
        let row = sqlx::query("SELECT report FROM eval_runs WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(crate::StoreError::NotFound("eval run"))?;
        opt_json(&row, "report")
    }

    /// Marks a run as running (again, after a restart interrupted it).
    pub async fn start_eval_run(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE eval_runs SET status = 'running' WHERE id = $1")
            .bind(id.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a run's outcome: figures and report, or the error that stopped it.
    pub async fn finish_eval_run(
        &self,
        id: &str,
        outcome: std::result::Result<(&serde_json::Value, &serde_json::Value), &str>,
    ) -> Result<EvalRun> {
        let now = Timestamp::now().to_string();
        let (status, metrics, report, error) = match outcome {
            Ok((metrics, report)) => (
                "done",
                Some(to_json(metrics)?),
                Some(to_json(report)?),
                None,
            ),
            Err(e) => ("failed", None, None, Some(e.to_owned())),
        };
        sqlx::query(
            "UPDATE eval_runs SET status = $1, metrics = $2, report = $3, error = $4, \
             finished_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(metrics)
        .bind(report)
        .bind(error)
        .bind(now)
        .bind(id.to_owned())
        .execute(&self.pool)
        .await?;
        self.get_eval_run(id).await
    }
}

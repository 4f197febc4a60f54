//! Durable background jobs. A job and its input files live in the database; a worker claims
//! the oldest queued job atomically (`UPDATE … WHERE status = 'queued'`, so two workers never
//! take the same one), records each file's outcome as it goes, and finishes the job. After a
//! crash, running jobs go back to the queue and resume after their last finished file.

use kefu_core::{AgentId, SiteId, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::row::{int, opt_json, opt_parsed, opt_text, parsed, text, time};
use crate::{Result, Store, StoreError};

/// A job's state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub site_id: SiteId,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    pub params: serde_json::Value,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_by: Option<AgentId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One input file of a job and its outcome.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JobFile {
    pub position: i64,
    /// `file` (uploaded bytes), `url` (a page to fetch) or `sitemap` (a list of pages).
    pub kind: String,
    pub name: String,
    /// `pending`, `done` or `failed`.
    pub status: String,
    pub result: Option<serde_json::Value>,
}

/// One input of a job as queued: an uploaded file, or a web address to fetch.
#[derive(Clone, Debug, PartialEq)]
pub struct JobInput {
    /// `file`, `url` or `sitemap`.
    pub kind: String,
    /// File name, or the address.
    pub name: String,
    /// The file's bytes (empty for addresses).
    pub data: Vec<u8>,
}

/// A job input waiting to be processed.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingInput {
    pub position: i64,
    pub kind: String,
    pub name: String,
    pub data: Vec<u8>,
}

const JOB_COLUMNS: &str = "id, kind, site_id, status, params, total, done, failed, attempts, \
                           error, created_by, created_at, updated_at";

fn job_from_row(row: &AnyRow) -> Result<Job> {
    Ok(Job {
        id: text(row, "id")?,
        kind: text(row, "kind")?,
        site_id: parsed(row, "site_id")?,
        status: text(row, "status")?,
        params: opt_json(row, "params")?.unwrap_or(serde_json::Value::Null),
        total: int(row, "total")?,
        done: int(row, "done")?,
        failed: int(row, "failed")?,
        attempts: int(row, "attempts")?,
        error: opt_text(row, "error")?,
        created_by: opt_parsed(row, "created_by")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

impl Store {
    /// Queues a job with its input files.
    pub async fn create_job(
        &self,
        kind: &str,
        site: SiteId,
        params: &serde_json::Value,
        files: &[(String, Vec<u8>)],
        created_by: Option<AgentId>,
    ) -> Result<Job> {
        let inputs: Vec<JobInput> = files
            .iter()
            .map(|(name, data)| JobInput {
                kind: "file".to_owned(),
                name: name.clone(),
                data: data.clone(),
            })
            .collect();
        self.create_job_with_inputs(kind, site, params, &inputs, created_by)
            .await
    }

    /// Queues a job whose inputs may be files or web addresses.
    pub async fn create_job_with_inputs(
        &self,
        kind: &str,
        site: SiteId,
        params: &serde_json::Value,
        files: &[JobInput],
        created_by: Option<AgentId>,
    ) -> Result<Job> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = Timestamp::now().to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO jobs (id, kind, site_id, status, params, total, created_by, created_at, \
             updated_at) VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8)",
        )
        .bind(id.clone())
        .bind(kind.to_owned())
        .bind(site.to_string())
        .bind(params.to_string())
        .bind(i64::try_from(files.len()).unwrap_or(i64::MAX))
        .bind(created_by.map(|a| a.to_string()))
        .bind(now.clone())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for (position, input) in files.iter().enumerate() {
            sqlx::query(
                "INSERT INTO job_files (job_id, position, kind, name, data, status) \
                 VALUES ($1, $2, $3, $4, $5, 'pending')",
            )
            .bind(id.clone())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(input.kind.clone())
            .bind(input.name.clone())
            .bind(input.data.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.get_job(&id).await
    }

    /// One job.
    pub async fn get_job(&self, id: &str) -> Result<Job> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("job"))?;
        job_from_row(&row)
    }

    /// A job's files and their outcomes, in order (without the data).
    pub async fn list_job_files(&self, id: &str) -> Result<Vec<JobFile>> {
        let rows = sqlx::query(
            "SELECT position, kind, name, status, result FROM job_files WHERE job_id = $1 \
             ORDER BY position",
        )
        .bind(id.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(JobFile {
                    position: int(row, "position")?,
                    kind: text(row, "kind")?,
                    name: text(row, "name")?,
                    status: text(row, "status")?,
                    result: opt_json(row, "result")?,
                })
            })
            .collect()
    }

    /// Claims the oldest queued job of `kind`, if any.
    pub async fn claim_job(&self, kind: &str) -> Result<Option<Job>> {
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = $1 \
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND kind = $2 \
                         ORDER BY created_at, id LIMIT 1) \
               AND status = 'queued' RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Timestamp::now().to_string())
            .bind(kind.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// The next file of a job still to process, with its data.
    pub async fn next_pending_file(&self, id: &str) -> Result<Option<(i64, String, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT position, name, data FROM job_files WHERE job_id = $1 AND status = 'pending' \
             ORDER BY position LIMIT 1",
        )
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some((
                int(&row, "position")?,
                text(&row, "name")?,
                row.try_get("data")?,
            ))),
            None => Ok(None),
        }
    }

    /// The next input of a job still to process, with its kind and data.
    pub async fn next_pending_input(&self, id: &str) -> Result<Option<PendingInput>> {
        let row = sqlx::query(
            "SELECT position, kind, name, data FROM job_files \
             WHERE job_id = $1 AND status = 'pending' ORDER BY position LIMIT 1",
        )
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(PendingInput {
                position: int(&row, "position")?,
                kind: text(&row, "kind")?,
                name: text(&row, "name")?,
                data: row.try_get("data")?,
            })),
            None => Ok(None),
        }
    }

    /// Appends inputs to a running job (the pages a sitemap lists) and raises its total, in
    /// one transaction, so a restart resumes with them.
    pub async fn append_job_inputs(&self, id: &str, inputs: &[JobInput]) -> Result<Job> {
        let mut tx = self.pool.begin().await?;
        let next: i64 = sqlx::query(
            "SELECT COALESCE(MAX(position), -1) + 1 AS next FROM job_files WHERE job_id = $1",
        )
        .bind(id.to_owned())
        .fetch_one(&mut *tx)
        .await?
        .try_get("next")?;
        for (offset, input) in inputs.iter().enumerate() {
            sqlx::query(
                "INSERT INTO job_files (job_id, position, kind, name, data, status) \
                 VALUES ($1, $2, $3, $4, $5, 'pending')",
            )
            .bind(id.to_owned())
            .bind(next + i64::try_from(offset).unwrap_or(i64::MAX))
            .bind(input.kind.clone())
            .bind(input.name.clone())
            .bind(input.data.clone())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE jobs SET total = total + $1, updated_at = $2 WHERE id = $3")
            .bind(i64::try_from(inputs.len()).unwrap_or(i64::MAX))
            .bind(Timestamp::now().to_string())
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.get_job(id).await
    }

    /// Records a file's outcome and the job's progress.
    pub async fn finish_job_file(
        &self,
        id: &str,
        position: i64,
        ok: bool,
        result: &serde_json::Value,
    ) -> Result<Job> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE job_files SET status = $1, result = $2 WHERE job_id = $3 AND position = $4",
        )
        .bind(if ok { "done" } else { "failed" })
        .bind(result.to_string())
        .bind(id.to_owned())
        .bind(position)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE jobs SET done = done + 1, failed = failed + $1, updated_at = $2 WHERE id = $3",
        )
        .bind(i64::from(!ok))
        .bind(Timestamp::now().to_string())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get_job(id).await
    }

    /// Ends a job (`done`, or `failed` with a reason).
    pub async fn finish_job(&self, id: &str, error: Option<&str>) -> Result<Job> {
        sqlx::query("UPDATE jobs SET status = $1, error = $2, updated_at = $3 WHERE id = $4")
            .bind(if error.is_some() { "failed" } else { "done" })
            .bind(error.map(str::to_owned))
            .bind(Timestamp::now().to_string())
            .bind(id.to_owned())
            .execute(&self.pool)
            .await?;
        self.get_job(id).await
    }

    /// Puts jobs left running by a stopped process back in the queue (at start-up).
    pub async fn requeue_running_jobs(&self) -> Result<u64> {
        let done = sqlx::query("UPDATE jobs SET status = 'queued' WHERE status = 'running'")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

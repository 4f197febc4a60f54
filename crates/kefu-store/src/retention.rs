//! Periodic jobs that must run once per period however many nodes queue them (the retention
//! sweep): each period's job carries a `dedupe_key`, unique in `jobs`, so the first node's
//! insert lands and the others' do nothing; claiming stays the job queue's atomic update.

use kefu_core::{SiteId, Timestamp};

use crate::{Job, Result, Store};

impl Store {
    /// Queues a job unless one with `dedupe_key` was ever queued; returns it when this call
    /// queued it.
    pub async fn create_job_once(
        &self,
        kind: &str,
        site: SiteId,
        params: &serde_json::Value,
        dedupe_key: &str,
    ) -> Result<Option<Job>> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = Timestamp::now().to_string();
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, kind, site_id, status, params, total, created_at, updated_at, \
             dedupe_key) VALUES ($1, $2, $3, 'queued', $4, 0, $5, $5, $6) \
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(id.clone())
        .bind(kind.to_owned())
        .bind(site.to_string())
        .bind(params.to_string())
        .bind(now)
        .bind(dedupe_key.to_owned())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        self.get_job(&id).await.map(Some)
    }

    /// Records a job's result as counts (`done` items of `total`) and the summary in
    /// `params.result`, for jobs that have no input files.
    pub async fn record_job_result(
        &self,
        id: &str,
        done: i64,
        result: &serde_json::Value,
    ) -> Result<Job> {
        let mut job = self.get_job(id).await?;
        if let serde_json::Value::Object(params) = &mut job.params {
            params.insert("result".to_owned(), result.clone());
        } else {
            job.params = serde_json::json!({ "result": result });
        }
        sqlx::query(
            "UPDATE jobs SET total = $1, done = $1, params = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(done)
        .bind(job.params.to_string())
        .bind(Timestamp::now().to_string())
        .bind(id.to_owned())
        .execute(&self.pool)
        .await?;
        self.get_job(id).await
    }
}

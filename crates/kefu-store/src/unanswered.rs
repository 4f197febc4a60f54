//! The unanswered queue: questions the assistant handed off for lack of knowledge, kept (with
//! personal data already redacted by the caller) so editors can write the missing entries.

use kefu_core::{ConversationId, SiteId, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::row::{opt_parsed, parsed, text, time};
use crate::{Result, Store, StoreError};

/// One unanswered question.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UnansweredQuestion {
    pub id: String,
    pub site_id: SiteId,
    pub conversation_id: Option<ConversationId>,
    pub question: String,
    /// The hand-off reason (`no_knowledge`, `low_confidence`, `repeated_failure`).
    pub reason: String,
    pub confidence: f64,
    pub created_at: Timestamp,
}

impl Store {
    /// Records a question the assistant could not answer.
    pub async fn record_unanswered(
        &self,
        site: SiteId,
        conversation: Option<ConversationId>,
        question: &str,
        reason: &str,
        confidence: f64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO kb_unanswered (id, site_id, conversation_id, question, reason, confidence, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(site.to_string())
        .bind(conversation.map(|c| c.to_string()))
        .bind(question.to_owned())
        .bind(reason.to_owned())
        .bind(confidence)
        .bind(Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A site's unanswered questions, newest first.
    pub async fn list_unanswered(
        &self,
        site: SiteId,
        limit: u32,
    ) -> Result<Vec<UnansweredQuestion>> {
        let rows = sqlx::query(
            "SELECT id, site_id, conversation_id, question, reason, confidence, created_at \
             FROM kb_unanswered WHERE site_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(site.to_string())
        .bind(i64::from(limit.clamp(1, 500)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UnansweredQuestion {
                    id: text(row, "id")?,
                    site_id: parsed(row, "site_id")?,
                    conversation_id: opt_parsed(row, "conversation_id")?,
                    question: text(row, "question")?,
                    reason: text(row, "reason")?,
                    confidence: row.try_get::<f64, _>("confidence")?,
                    created_at: time(row, "created_at")?,
                })
            })
            .collect()
    }

    /// Removes a handled question.
    pub async fn dismiss_unanswered(&self, site: SiteId, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM kb_unanswered WHERE id = $1 AND site_id = $2")
            .bind(id.to_owned())
            .bind(site.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("unanswered question"));
        }
        Ok(())
    }
}

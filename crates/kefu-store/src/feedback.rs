//! Feedback on assistant answers. A visitor rates an answer up or down (and may change their
//! mind); the cited entries' totals move with it in the same transaction, so the counts always
//! equal the ratings stored.

use kefu_core::{ConversationId, KbEntryId, MessageId, Timestamp};

use crate::row::text;
use crate::{Result, Store};

impl Store {
    /// Stores (or changes) the rating of a message and updates the cited entries' totals.
    pub async fn rate_message(
        &self,
        conversation: ConversationId,
        message: MessageId,
        up: bool,
        reason: Option<&str>,
        cited: &[KbEntryId],
    ) -> Result<()> {
        let rating = if up { "up" } else { "down" };
        let mut tx = self.pool.begin().await?;
        let previous = sqlx::query("SELECT rating FROM message_feedback WHERE message_id = $1")
            .bind(message.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let previous = previous
            .as_ref()
            .map(|row| text(row, "rating"))
            .transpose()?;
        sqlx::query(
            "INSERT INTO message_feedback (message_id, conversation_id, rating, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO UPDATE SET rating = $3, \
             reason = $4, created_at = $5",
        )
        .bind(message.to_string())
        .bind(conversation.to_string())
        .bind(rating)
        .bind(reason.map(str::to_owned))
        .bind(Timestamp::now().to_string())
        .execute(&mut *tx)
        .await?;
        if previous.as_deref() != Some(rating) {
            for entry in cited {
                let (add, undo) = if up {
                    ("thumbs_up", "thumbs_down")
                } else {
                    ("thumbs_down", "thumbs_up")
                };
                let sql = if previous.is_some() {
                    format!(
                        "UPDATE kb_entries SET {add} = {add} + 1, {undo} = {undo} - 1 WHERE id = $1"
                    )
                } else {
                    format!("UPDATE kb_entries SET {add} = {add} + 1 WHERE id = $1")
                };
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(entry.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

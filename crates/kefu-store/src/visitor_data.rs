//! Data-subject requests and retention: finding a visitor, exporting everything stored about
//! them, erasing them, and deleting conversations past a site's retention period.
//!
//! Deletion is explicit, table by table, inside one transaction, instead of trusting
//! `ON DELETE CASCADE` alone: SQLite only cascades when its foreign-key pragma is on, and
//! `kb_unanswered` deliberately only un-links (`SET NULL`) — a question that came from an
//! erased visitor must go too. Aggregates that hold no personal data (AI usage totals, an
//! entry's thumbs counts) are kept.

use kefu_core::domain::{Conversation, Message, Visitor};
use kefu_core::{ConversationId, MessageId, SiteId, Timestamp, VisitorId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::csat::ConversationRating;
use crate::row::{opt_parsed, opt_text, parsed, text, time};
use crate::unanswered::UnansweredQuestion;
use crate::{Result, Store};

/// Everything stored about one visitor.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VisitorRecord {
    pub visitor: Visitor,
    pub conversations: Vec<ConversationRecord>,
}

/// One conversation with everything hanging off it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ConversationRecord {
    pub conversation: Conversation,
    /// The whole log, oldest first; attachments' metadata rides on each message.
    pub messages: Vec<Message>,
    pub message_feedback: Vec<MessageFeedback>,
    pub rating: Option<ConversationRating>,
    pub classifications: Vec<MessageClassification>,
    pub unanswered_questions: Vec<UnansweredQuestion>,
}

/// A thumbs up/down on an assistant answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MessageFeedback {
    pub message_id: MessageId,
    pub rating: String,
    pub reason: Option<String>,
    pub created_at: Timestamp,
}

/// What the assistant read into a visitor message.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MessageClassification {
    pub message_id: MessageId,
    pub intent: String,
    pub sentiment: String,
    pub created_at: Timestamp,
}

/// Rows removed by an erasure or a retention sweep, per table (counts only).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DeletedRows {
    pub visitors: u64,
    pub conversations: u64,
    pub messages: u64,
    pub message_feedback: u64,
    pub message_classifications: u64,
    pub conversation_ratings: u64,
    pub conversation_tags: u64,
    pub kb_unanswered: u64,
}

impl DeletedRows {
    fn add(&mut self, other: &DeletedRows) {
        self.visitors += other.visitors;
        self.conversations += other.conversations;
        self.messages += other.messages;
        self.message_feedback += other.message_feedback;
        self.message_classifications += other.message_classifications;
        self.conversation_ratings += other.conversation_ratings;
        self.conversation_tags += other.conversation_tags;
        self.kb_unanswered += other.kb_unanswered;
    }
}

/// Conversations deleted per retention transaction, so a long sweep never holds the write
/// lock for long.
const SWEEP_BATCH: i64 = 100;

/// The statements that remove a conversation's rows, children first; `$1` is its id.
const CONVERSATION_DELETES: [&str; 7] = [
    "DELETE FROM message_feedback WHERE conversation_id = $1",
    "DELETE FROM message_classifications WHERE conversation_id = $1",
    "DELETE FROM conversation_ratings WHERE conversation_id = $1",
    "DELETE FROM kb_unanswered WHERE conversation_id = $1",
    "DELETE FROM conversation_tags WHERE conversation_id = $1",
    "DELETE FROM messages WHERE conversation_id = $1",
    "DELETE FROM conversations WHERE id = $1",
];

async fn delete_conversation(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
) -> Result<DeletedRows> {
    let mut counts = [0u64; 7];
    for (count, statement) in counts.iter_mut().zip(CONVERSATION_DELETES) {
        *count = sqlx::query(statement)
            .bind(id.to_owned())
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    let [
        feedback,
        classifications,
        ratings,
        unanswered,
        tags,
        messages,
        conversations,
    ] = counts;
    Ok(DeletedRows {
        visitors: 0,
        conversations,
        messages,
        message_feedback: feedback,
        message_classifications: classifications,
        conversation_ratings: ratings,
        conversation_tags: tags,
        kb_unanswered: unanswered,
    })
}

fn unanswered_from_row(row: &AnyRow) -> Result<UnansweredQuestion> {
    Ok(UnansweredQuestion {
        id: text(row, "id")?,
        site_id: parsed(row, "site_id")?,
        conversation_id: opt_parsed(row, "conversation_id")?,
        question: text(row, "question")?,
        reason: text(row, "reason")?,
        confidence: sqlx::Row::try_get(row, "confidence")?,
        created_at: time(row, "created_at")?,
    })
}

impl Store {
    /// A site's visitors with this e-mail (case-insensitive) and/or the customer's user id,
    /// newest first (at most 50). Both empty: none.
    pub async fn find_visitors(
        &self,
        site: SiteId,
        email: Option<&str>,
        external_id: Option<&str>,
    ) -> Result<Vec<Visitor>> {
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        let external_id = external_id.map(str::trim).filter(|e| !e.is_empty());
        if email.is_none() && external_id.is_none() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id FROM visitors WHERE site_id = $1 \
             AND ($2 IS NULL OR LOWER(email) = LOWER($2)) \
             AND ($3 IS NULL OR external_id = $3) \
             ORDER BY last_seen_at DESC, id DESC LIMIT 50",
        )
        .bind(site.to_string())
        .bind(email.map(str::to_owned))
        .bind(external_id.map(str::to_owned))
        .fetch_all(&self.pool)
        .await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            found.push(self.get_visitor(parsed(row, "id")?).await?);
        }
        Ok(found)
    }

    /// Everything stored about a visitor. Private notes only when `include_private` (the
    /// admin's export; the visitor's own export leaves agents' internal notes out).
    pub async fn export_visitor(
        &self,
        id: VisitorId,
        include_private: bool,
    ) -> Result<VisitorRecord> {
        let visitor = self.get_visitor(id).await?;
        let rows = sqlx::query(
            "SELECT id FROM conversations WHERE visitor_id = $1 ORDER BY created_at, id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut conversations = Vec::with_capacity(rows.len());
        for row in &rows {
            let conversation_id: ConversationId = parsed(row, "id")?;
            conversations.push(
                self.conversation_record(conversation_id, include_private)
                    .await?,
            );
        }
        Ok(VisitorRecord {
            visitor,
            conversations,
        })
    }

    async fn conversation_record(
        &self,
        id: ConversationId,
        include_private: bool,
    ) -> Result<ConversationRecord> {
        let conversation = self.get_conversation(id).await?;
        let mut messages = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .list_messages_after(id, after, 500, include_private)
                .await?;
            after = page.items.last().map_or(after, |m| m.seq);
            messages.extend(page.items);
            if !page.has_more {
                break;
            }
        }
        let key = id.to_string();
        let message_feedback = sqlx::query(
            "SELECT message_id, rating, reason, created_at FROM message_feedback \
             WHERE conversation_id = $1 ORDER BY created_at, message_id",
        )
        .bind(key.clone())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(MessageFeedback {
                message_id: parsed(row, "message_id")?,
                rating: text(row, "rating")?,
                reason: opt_text(row, "reason")?,
                created_at: time(row, "created_at")?,
            })
        })
        .collect::<Result<_>>()?;
        let classifications = sqlx::query(
            "SELECT message_id, intent, sentiment, created_at FROM message_classifications \
             WHERE conversation_id = $1 ORDER BY created_at, message_id",
        )
        .bind(key.clone())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(MessageClassification {
                message_id: parsed(row, "message_id")?,
                intent: text(row, "intent")?,
                sentiment: text(row, "sentiment")?,
                created_at: time(row, "created_at")?,
            })
        })
        .collect::<Result<_>>()?;
        let unanswered_questions = sqlx::query(
            "SELECT id, site_id, conversation_id, question, reason, confidence, created_at \
             FROM kb_unanswered WHERE conversation_id = $1 ORDER BY created_at, id",
        )
        .bind(key)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(unanswered_from_row)
        .collect::<Result<_>>()?;
        Ok(ConversationRecord {
            rating: self.get_conversation_rating(id).await?,
            conversation,
            messages,
            message_feedback,
            classifications,
            unanswered_questions,
        })
    }

    /// Erases a visitor: every conversation with its log, feedback, rating, classifications,
    /// tags and unanswered questions, then the visitor row itself (which holds the token
    /// hash, so the widget's token stops working). One transaction: all or nothing.
    pub async fn erase_visitor(&self, id: VisitorId) -> Result<DeletedRows> {
        let mut tx = self.pool.begin().await?;
        // Writing first takes SQLite's write lock up front (see the conversation log).
        let visitors = sqlx::query("UPDATE visitors SET token_hash = token_hash WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if visitors == 0 {
            return Err(crate::StoreError::NotFound("visitor"));
        }
        let ids = sqlx::query("SELECT id FROM conversations WHERE visitor_id = $1")
            .bind(id.to_string())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| text(row, "id"))
            .collect::<Result<Vec<_>>>()?;
        let mut deleted = DeletedRows::default();
        for conversation in &ids {
            deleted.add(&delete_conversation(&mut tx, conversation).await?);
        }
        deleted.visitors = sqlx::query("DELETE FROM visitors WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }

    /// Deletes a site's conversations resolved before `cutoff`, with everything hanging off
    /// them, in batches. Visitors stay (they may come back; an erasure request removes them).
    /// Safe to run twice: a second run finds nothing left to delete.
    pub async fn purge_resolved_before(
        &self,
        site: SiteId,
        cutoff: Timestamp,
    ) -> Result<DeletedRows> {
        let mut deleted = DeletedRows::default();
        loop {
            let mut tx = self.pool.begin().await?;
            // A no-op write first, for SQLite's write lock (see `erase_visitor`).
            sqlx::query("UPDATE sites SET updated_at = updated_at WHERE id = $1")
                .bind(site.to_string())
                .execute(&mut *tx)
                .await?;
            let ids = sqlx::query(
                "SELECT id FROM conversations WHERE site_id = $1 AND status = 'resolved' \
                 AND resolved_at IS NOT NULL AND resolved_at < $2 ORDER BY resolved_at, id \
                 LIMIT $3",
            )
            .bind(site.to_string())
            .bind(cutoff.to_string())
            .bind(SWEEP_BATCH)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| text(row, "id"))
            .collect::<Result<Vec<_>>>()?;
            for conversation in &ids {
                deleted.add(&delete_conversation(&mut tx, conversation).await?);
            }
            tx.commit().await?;
            if (ids.len() as i64) < SWEEP_BATCH {
                return Ok(deleted);
            }
        }
    }
}

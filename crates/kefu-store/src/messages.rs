//! The conversation log. Appending an entry takes the next per-conversation sequence number
//! and inserts the entry in one transaction (optionally with a status change), so every
//! committed entry has a unique, gap-free-at-commit seq and a retry with the same client id
//! returns the original entry instead of a second one.

use kefu_core::domain::{AnswerMeta, Attachment, AuthorKind, Conversation, Message, SystemEvent};
use kefu_core::{ConversationId, MessageId, Timestamp};
use sqlx::any::AnyRow;

use crate::conversations::{self, Transition};
use crate::row::{boolean, int, json, opt_json, opt_text, parsed, text, time, to_json};
use crate::{Result, Store, StoreError};

const COLUMNS: &str = "id, conversation_id, seq, author_kind, author_id, author_name, text, \
                       attachments, private, event, client_id, answer, created_at";

/// Longest preview kept on the conversation for inbox lists.
const PREVIEW_CHARS: usize = 140;

fn from_row(row: &AnyRow) -> Result<Message> {
    Ok(Message {
        id: parsed(row, "id")?,
        conversation_id: parsed(row, "conversation_id")?,
        seq: int(row, "seq")?,
        author_kind: parsed(row, "author_kind")?,
        author_id: opt_text(row, "author_id")?,
        author_name: opt_text(row, "author_name")?,
        text: text(row, "text")?,
        attachments: json(row, "attachments")?,
        private: boolean(row, "private")?,
        event: opt_json(row, "event")?,
        client_id: opt_text(row, "client_id")?,
        answer: opt_json(row, "answer")?,
        created_at: time(row, "created_at")?,
    })
}

/// An entry to append. Validation (length, emptiness) is the caller's job, done once in
/// kefu-core's `validate` so every entry point refuses the same things.
#[derive(Clone, Debug, Default)]
pub struct NewMessage {
    pub author_kind: Option<AuthorKind>,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub private: bool,
    pub event: Option<SystemEvent>,
    pub client_id: Option<String>,
    pub answer: Option<AnswerMeta>,
}

impl NewMessage {
    /// A system entry recording an event.
    pub fn system(event: SystemEvent, text: impl Into<String>) -> Self {
        Self {
            author_kind: Some(AuthorKind::System),
            text: text.into(),
            event: Some(event),
            ..Self::default()
        }
    }
}

/// What an append did.
// A short-lived return value, moved once; boxing would only add an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum AppendOutcome {
    /// A new entry was committed; the conversation as it is now.
    Created {
        message: Message,
        conversation: Conversation,
    },
    /// The client id was seen before: the original entry, nothing written.
    Duplicate { message: Message },
}

impl AppendOutcome {
    /// The entry, new or original.
    pub fn message(&self) -> &Message {
        match self {
            AppendOutcome::Created { message, .. } | AppendOutcome::Duplicate { message } => {
                message
            }
        }
    }
}

/// A slice of a conversation's log in seq order.
#[derive(Clone, Debug)]
pub struct MessagePage {
    pub items: Vec<Message>,
    /// Whether more entries exist in the direction asked.
    pub has_more: bool,
}

impl Store {
    /// Appends an entry (and applies `transition`, if any) atomically. A `client_id` already
    /// used in this conversation by the same author returns `Duplicate`; by another author it
    /// is a `Conflict`.
    pub async fn append_message(
        &self,
        conversation: ConversationId,
        new: NewMessage,
        transition: Option<Transition>,
    ) -> Result<AppendOutcome> {
        if let Some(client_id) = &new.client_id
            && let Some(existing) = self.find_by_client_id(conversation, client_id).await?
        {
            return same_author(existing, &new);
        }
        match self
            .append_in_tx(conversation, &new, transition.as_ref())
            .await
        {
            Err(StoreError::Database(err)) if StoreError::is_unique_violation(&err) => {
                // Lost a race with a concurrent retry of the same client id: that one won.
                let client_id = new.client_id.as_deref().unwrap_or_default();
                match self.find_by_client_id(conversation, client_id).await? {
                    Some(existing) => same_author(existing, &new),
                    None => Err(StoreError::Database(err)),
                }
            }
            other => other,
        }
    }

    async fn append_in_tx(
        &self,
        conversation: ConversationId,
        new: &NewMessage,
        transition: Option<&Transition>,
    ) -> Result<AppendOutcome> {
        let now = Timestamp::now().to_string();
        let mut tx = self.pool.begin().await?;
        // The first statement writes, so SQLite takes its write lock up front (and waits on
        // busy_timeout) instead of failing a read-to-write upgrade.
        if let Some(t) = transition {
            let mut sql = String::from(
                "UPDATE conversations SET status = $1, assignee_id = $2, updated_at = $3, \
                 resolved_at = CASE WHEN $1 = 'resolved' THEN $3 ELSE NULL END WHERE id = $4",
            );
            for (i, from) in t.only_from.iter().enumerate() {
                sql.push_str(if i == 0 { " AND status IN (" } else { ", " });
                sql.push('\'');
                sql.push_str(from.as_str());
                sql.push('\'');
                if i + 1 == t.only_from.len() {
                    sql.push(')');
                }
            }
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(t.to.as_str())
                .bind(t.assignee.map(|a| a.to_string()))
                .bind(now.clone())
                .bind(conversation.to_string())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                let current = self.get_conversation(conversation).await?;
                return Err(StoreError::InvalidState(format!(
                    "conversation is {}; cannot move it to {}",
                    current.status, t.to
                )));
            }
        }
        let author_kind = new.author_kind.unwrap_or(AuthorKind::System);
        let public_text = !new.private && author_kind != AuthorKind::System;
        let mut preview: String = new.text.chars().take(PREVIEW_CHARS).collect();
        if preview.is_empty()
            && let Some(first) = new.attachments.first()
        {
            // A file sent without words still needs a line in the inbox.
            preview = format!(
                "📎 {}",
                first.name.chars().take(PREVIEW_CHARS).collect::<String>()
            );
        }
        let sql = format!(
            "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $1, \
             last_message_at = CASE WHEN $2 THEN $1 ELSE last_message_at END, \
             last_message_preview = CASE WHEN $2 THEN $3 ELSE last_message_preview END \
             WHERE id = $4 RETURNING {}",
            conversations::COLUMNS
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.clone())
            .bind(public_text)
            .bind(preview)
            .bind(conversation.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        let mut conv = conversations::from_row(&row)?;
        let message = Message {
            id: MessageId::new(),
            conversation_id: conversation,
            seq: conv.last_seq,
            author_kind,
            author_id: new.author_id.clone(),
            author_name: new.author_name.clone(),
            text: new.text.clone(),
            attachments: new.attachments.clone(),
            private: new.private,
            event: new.event.clone(),
            client_id: new.client_id.clone(),
            answer: new.answer.clone(),
            created_at: Timestamp::parse(&now).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        };
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, seq, author_kind, author_id, author_name, \
             text, attachments, private, event, client_id, answer, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(message.id.to_string())
        .bind(conversation.to_string())
        .bind(message.seq)
        .bind(author_kind.as_str())
        .bind(message.author_id.clone())
        .bind(message.author_name.clone())
        .bind(message.text.clone())
        .bind(to_json(&message.attachments)?)
        .bind(message.private)
        .bind(message.event.as_ref().map(to_json).transpose()?)
        .bind(message.client_id.clone())
        .bind(message.answer.as_ref().map(to_json).transpose()?)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        crate::attachments::link_to_message(
            &mut tx,
            conversation,
            message.id,
            &message.attachments,
        )
        .await?;
        tx.commit().await?;
        conv.tags = self.get_conversation(conversation).await?.tags;
        Ok(AppendOutcome::Created {
            message,
            conversation: conv,
        })
    }

    async fn find_by_client_id(
        &self,
        conversation: ConversationId,
        client_id: &str,
    ) -> Result<Option<Message>> {
        let sql =
            format!("SELECT {COLUMNS} FROM messages WHERE conversation_id = $1 AND client_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation.to_string())
            .bind(client_id.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Entries with `seq > after_seq`, oldest first, at most `limit`. Private notes only when
    /// `include_private`.
    pub async fn list_messages_after(
        &self,
        conversation: ConversationId,
        after_seq: i64,
        limit: u32,
        include_private: bool,
    ) -> Result<MessagePage> {
        let limit = limit.clamp(1, 500);
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 {} \
             ORDER BY seq ASC LIMIT $3",
            if include_private {
                ""
            } else {
                "AND NOT private"
            }
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation.to_string())
            .bind(after_seq)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let has_more = rows.len() > limit as usize;
        let items = rows
            .iter()
            .take(limit as usize)
            .map(from_row)
            .collect::<Result<_>>()?;
        Ok(MessagePage { items, has_more })
    }

    /// The newest entries with `seq < before_seq`, returned oldest first (for scrolling up).
    pub async fn list_messages_before(
        &self,
        conversation: ConversationId,
        before_seq: i64,
        limit: u32,
        include_private: bool,
    ) -> Result<MessagePage> {
        let limit = limit.clamp(1, 500);
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE conversation_id = $1 AND seq < $2 {} \
             ORDER BY seq DESC LIMIT $3",
            if include_private {
                ""
            } else {
                "AND NOT private"
            }
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation.to_string())
            .bind(before_seq)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let has_more = rows.len() > limit as usize;
        let mut items: Vec<Message> = rows
            .iter()
            .take(limit as usize)
            .map(from_row)
            .collect::<Result<_>>()?;
        items.reverse();
        Ok(MessagePage { items, has_more })
    }
}

fn same_author(existing: Message, new: &NewMessage) -> Result<AppendOutcome> {
    if existing.author_id == new.author_id && Some(existing.author_kind) == new.author_kind {
        Ok(AppendOutcome::Duplicate { message: existing })
    } else {
        Err(StoreError::Conflict("client_id"))
    }
}

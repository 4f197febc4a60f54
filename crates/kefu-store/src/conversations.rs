//! Conversations: creation, the inbox query with its filters and cursor, tags, read marks.
//! Status changes happen together with the log entry that records them (see messages.rs).

use std::collections::HashMap;

use kefu_core::domain::{AuthorKind, Conversation, ConversationFilter, ConversationStatus};
use kefu_core::{AgentId, ConversationId, SiteId, Timestamp, VisitorId};
use sqlx::any::AnyRow;

use crate::row::{int, opt_parsed, opt_text, opt_time, parsed, text, time};
use crate::sql::{Param, Sql};
use crate::{Result, Store, StoreError};

pub(crate) const COLUMNS: &str = "id, site_id, visitor_id, status, assignee_id, channel, \
    last_seq, last_message_at, last_message_preview, visitor_last_read_seq, \
    agent_last_read_seq, created_at, updated_at, resolved_at";

/// Decodes a conversation row; tags are filled in separately.
pub(crate) fn from_row(row: &AnyRow) -> Result<Conversation> {
    Ok(Conversation {
        id: parsed(row, "id")?,
        site_id: parsed(row, "site_id")?,
        visitor_id: parsed(row, "visitor_id")?,
        status: parsed(row, "status")?,
        assignee_id: opt_parsed(row, "assignee_id")?,
        channel: text(row, "channel")?,
        last_seq: int(row, "last_seq")?,
        last_message_at: opt_time(row, "last_message_at")?,
        last_message_preview: opt_text(row, "last_message_preview")?,
        visitor_last_read_seq: int(row, "visitor_last_read_seq")?,
        agent_last_read_seq: int(row, "agent_last_read_seq")?,
        tags: Vec::new(),
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        resolved_at: opt_time(row, "resolved_at")?,
    })
}

/// A status change applied in the same transaction as the log entry that records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub to: ConversationStatus,
    /// The assignee afterwards (`None` clears it).
    pub assignee: Option<AgentId>,
    /// Apply only if the conversation is currently in one of these states (empty: any).
    /// Guards races such as two agents taking the same conversation at once.
    pub only_from: Vec<ConversationStatus>,
}

/// The inbox query.
#[derive(Clone, Debug)]
pub struct ConversationQuery {
    /// Who is asking: only sites they are a member of are searched.
    pub agent: AgentId,
    pub site: Option<SiteId>,
    pub filter: ConversationFilter,
    pub tag: Option<String>,
    pub visitor: Option<VisitorId>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    pub limit: u32,
}

/// One page of the inbox, newest activity first.
#[derive(Clone, Debug)]
pub struct ConversationPage {
    pub items: Vec<Conversation>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl Store {
    /// Opens a conversation for a visitor.
    pub async fn create_conversation(
        &self,
        site: SiteId,
        visitor: VisitorId,
        status: ConversationStatus,
        channel: &str,
    ) -> Result<Conversation> {
        let id = ConversationId::new();
        let now = Timestamp::now().to_string();
        sqlx::query(
            "INSERT INTO conversations (id, site_id, visitor_id, status, channel, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(site.to_string())
        .bind(visitor.to_string())
        .bind(status.as_str())
        .bind(channel.to_owned())
        .bind(now.clone())
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.get_conversation(id).await
    }

    /// One conversation with its tags.
    pub async fn get_conversation(&self, id: ConversationId) -> Result<Conversation> {
        let sql = format!("SELECT {COLUMNS} FROM conversations WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        let mut conversation = from_row(&row)?;
        conversation.tags = self.tags_of(&[id]).await?.remove(&id).unwrap_or_default();
        Ok(conversation)
    }

    /// A visitor's conversations, newest activity first.
    pub async fn list_visitor_conversations(
        &self,
        visitor: VisitorId,
    ) -> Result<Vec<Conversation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM conversations WHERE visitor_id = $1 \
             ORDER BY updated_at DESC, id DESC LIMIT 100"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(visitor.to_string())
            .fetch_all(&self.pool)
            .await?;
        self.with_tags(rows.iter().map(from_row).collect::<Result<_>>()?)
            .await
    }

    /// The inbox: conversations on the asking agent's sites matching the filter.
    pub async fn list_conversations(&self, q: &ConversationQuery) -> Result<ConversationPage> {
        let limit = q.limit.clamp(1, 200);
        let mut sql = Sql::new(&format!(
            "SELECT {COLUMNS} FROM conversations c WHERE c.site_id IN "
        ));
        sql.push("(SELECT site_id FROM site_members WHERE agent_id = ")
            .bind(Param::Text(q.agent.to_string()))
            .push(")");
        if let Some(site) = q.site {
            sql.push(" AND c.site_id = ")
                .bind(Param::Text(site.to_string()));
        }
        match q.filter {
            ConversationFilter::All => {}
            ConversationFilter::Unassigned => {
                sql.push(" AND c.status <> 'resolved' AND c.assignee_id IS NULL");
            }
            ConversationFilter::Mine => {
                sql.push(" AND c.status <> 'resolved' AND c.assignee_id = ")
                    .bind(Param::Text(q.agent.to_string()));
            }
            ConversationFilter::Waiting => {
                sql.push(" AND c.status = 'waiting'");
            }
            ConversationFilter::Bot => {
                sql.push(" AND c.status = 'bot'");
            }
            ConversationFilter::Open => {
                sql.push(" AND c.status <> 'resolved'");
            }
            ConversationFilter::Resolved => {
                sql.push(" AND c.status = 'resolved'");
            }
        }
        if let Some(tag) = &q.tag {
            sql.push(
                " AND EXISTS (SELECT 1 FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id \
                 WHERE ct.conversation_id = c.id AND t.name = ",
            )
            .bind(Param::Text(tag.clone()))
            .push(")");
        }
        if let Some(visitor) = q.visitor {
            sql.push(" AND c.visitor_id = ")
                .bind(Param::Text(visitor.to_string()));
        }
        if let Some(cursor) = &q.cursor {
            let (updated_at, id) = decode_cursor(cursor)?;
            sql.push(" AND (c.updated_at < ")
                .bind(Param::Text(updated_at.clone()))
                .push(" OR (c.updated_at = ")
                .bind(Param::Text(updated_at))
                .push(" AND c.id < ")
                .bind(Param::Text(id))
                .push("))");
        }
        sql.push(" ORDER BY c.updated_at DESC, c.id DESC LIMIT ")
            .bind(Param::Int(i64::from(limit) + 1));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut items: Vec<Conversation> = rows.iter().map(from_row).collect::<Result<_>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items
                .last()
                .map(|c| encode_cursor(&c.updated_at.to_string(), &c.id.to_string()))
        } else {
            None
        };
        Ok(ConversationPage {
            items: self.with_tags(items).await?,
            next_cursor,
        })
    }

    /// A site's waiting conversations, oldest first (the queue).
    pub async fn list_waiting(&self, site: SiteId, limit: u32) -> Result<Vec<ConversationId>> {
        let rows = sqlx::query(
            "SELECT id FROM conversations WHERE site_id = $1 AND status = 'waiting' \
             ORDER BY updated_at ASC, id ASC LIMIT $2",
        )
        .bind(site.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| parsed(row, "id")).collect()
    }

    /// Replaces a conversation's tags, creating unknown tag names on its site.
    pub async fn set_conversation_tags(
        &self,
        id: ConversationId,
        names: &[String],
    ) -> Result<Conversation> {
        let conversation = self.get_conversation(id).await?;
        let mut tag_ids = Vec::with_capacity(names.len());
        for name in names {
            tag_ids.push(self.ensure_tag(conversation.site_id, name).await?.id);
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2")
            .bind(Timestamp::now().to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM conversation_tags WHERE conversation_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        for tag_id in tag_ids {
            sqlx::query(
                "INSERT INTO conversation_tags (conversation_id, tag_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id.to_string())
            .bind(tag_id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.get_conversation(id).await
    }

    /// Records that `reader` has read up to `seq` (never moves backwards, never past the
    /// newest entry). Returns the read mark now stored.
    pub async fn mark_read(&self, id: ConversationId, reader: AuthorKind, seq: i64) -> Result<i64> {
        let sql = match reader {
            AuthorKind::Visitor => {
                "UPDATE conversations SET visitor_last_read_seq = \
                 CASE WHEN $1 > visitor_last_read_seq AND $1 <= last_seq THEN $1 \
                      WHEN $1 > last_seq THEN last_seq ELSE visitor_last_read_seq END \
                 WHERE id = $2 RETURNING visitor_last_read_seq AS mark"
            }
            _ => {
                "UPDATE conversations SET agent_last_read_seq = \
                 CASE WHEN $1 > agent_last_read_seq AND $1 <= last_seq THEN $1 \
                      WHEN $1 > last_seq THEN last_seq ELSE agent_last_read_seq END \
                 WHERE id = $2 RETURNING agent_last_read_seq AS mark"
            }
        };
        let row = sqlx::query(sql)
            .bind(seq)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        int(&row, "mark")
    }

    async fn with_tags(&self, mut items: Vec<Conversation>) -> Result<Vec<Conversation>> {
        let ids: Vec<ConversationId> = items.iter().map(|c| c.id).collect();
        let mut tags = self.tags_of(&ids).await?;
        for c in &mut items {
            c.tags = tags.remove(&c.id).unwrap_or_default();
        }
        Ok(items)
    }

    /// Tag names per conversation, sorted, in one query for a whole page.
    async fn tags_of(
        &self,
        ids: &[ConversationId],
    ) -> Result<HashMap<ConversationId, Vec<String>>> {
        let mut out: HashMap<ConversationId, Vec<String>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut sql = Sql::new(
            "SELECT ct.conversation_id, t.name FROM conversation_tags ct \
             JOIN tags t ON t.id = ct.tag_id WHERE ct.conversation_id IN (",
        );
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Param::Text(id.to_string()));
        }
        sql.push(") ORDER BY t.name");
        for row in sql.query().fetch_all(&self.pool).await? {
            let id: ConversationId = parsed(&row, "conversation_id")?;
            out.entry(id).or_default().push(text(&row, "name")?);
        }
        Ok(out)
    }
}

fn encode_cursor(updated_at: &str, id: &str) -> String {
    format!("{updated_at}_{id}")
}

fn decode_cursor(cursor: &str) -> Result<(String, String)> {
    let (updated_at, id) = cursor
        .split_once('_')
        .ok_or_else(|| StoreError::InvalidState("malformed cursor".to_owned()))?;
    Timestamp::parse(updated_at)
        .map_err(|_| StoreError::InvalidState("malformed cursor".to_owned()))?;
    id.parse::<ConversationId>()
        .map_err(|_| StoreError::InvalidState("malformed cursor".to_owned()))?;
    Ok((updated_at.to_owned(), id.to_owned()))
}

//! The raw facts behind a site's analytics over a period: conversations started in it with
//! the timeline of their public log (who wrote when, which system events), and the ratings,
//! thumbs, classifications and model usage recorded in it. No message text is read; the
//! server's `analytics` module turns these rows into figures.

use kefu_core::domain::{AuthorKind, SystemEvent};
use kefu_core::{ConversationId, SiteId, Timestamp};

use crate::row::{int, opt_text, opt_time, parsed, text, time};
use crate::{Result, Store};

/// One conversation started in the period.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationFacts {
    pub id: ConversationId,
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// The public log in order: private notes are left out.
    pub timeline: Vec<LogFact>,
}

/// One public log entry, without its text.
#[derive(Clone, Debug, PartialEq)]
pub struct LogFact {
    pub author_kind: AuthorKind,
    pub at: Timestamp,
    pub event: Option<SystemEvent>,
}

/// Everything the analytics of a period are computed from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalyticsFacts {
    pub conversations: Vec<ConversationFacts>,
    /// Conversation ratings given in the period: (time, rating 1–5).
    pub ratings: Vec<(Timestamp, i64)>,
    /// Thumbs on assistant answers given in the period: (time, `up` or `down`, the visitor's
    /// reason if they gave one).
    pub thumbs: Vec<(Timestamp, String, Option<String>)>,
    /// Visitor messages classified in the period: (intent, sentiment).
    pub classifications: Vec<(String, String)>,
    /// Model usage per UTC day in the period (all providers and models summed).
    pub usage: Vec<UsageDayFacts>,
}

/// Model usage of one UTC day.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UsageDayFacts {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: i64,
}

impl Store {
    /// The facts of `site` between `from` (inclusive) and `to` (exclusive).
    pub async fn analytics_facts(
        &self,
        site: SiteId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<AnalyticsFacts> {
        let (site, from, to) = (site.to_string(), from.to_string(), to.to_string());
        let conversation_rows = sqlx::query(
            "SELECT id, created_at, resolved_at FROM conversations \
             WHERE site_id = $1 AND created_at >= $2 AND created_at < $3 \
             ORDER BY created_at, id",
        )
        .bind(&site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.pool)
        .await?;
        let mut conversations = Vec::with_capacity(conversation_rows.len());
        let mut index = std::collections::HashMap::new();
        for row in &conversation_rows {
            let id: ConversationId = parsed(row, "id")?;
            index.insert(id, conversations.len());
            conversations.push(ConversationFacts {
                id,
                created_at: time(row, "created_at")?,
                resolved_at: opt_time(row, "resolved_at")?,
                timeline: Vec::new(),
            });
        }
        // The event column only matters on system entries; the rest of each row is small.
        let log_rows = sqlx::query(
            "SELECT m.conversation_id, m.author_kind, m.created_at, \
             CASE WHEN m.author_kind = 'system' THEN m.event END AS event \
             FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.site_id = $1 AND c.created_at >= $2 AND c.created_at < $3 \
             AND NOT m.private ORDER BY m.conversation_id, m.seq",
        )
        .bind(&site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.pool)
        .await?;
        for row in &log_rows {
            let id: ConversationId = parsed(row, "conversation_id")?;
            let Some(&i) = index.get(&id) else { continue };
            // An event this build does not know (written by a newer one) is skipped, not fatal.
            let event = opt_text(row, "event")?.and_then(|e| serde_json::from_str(&e).ok());
            conversations[i].timeline.push(LogFact {
                author_kind: parsed(row, "author_kind")?,
                at: time(row, "created_at")?,
                event,
            });
        }

        let ratings = sqlx::query(
            "SELECT created_at, rating FROM conversation_ratings \
             WHERE site_id = $1 AND created_at >= $2 AND created_at < $3",
        )
        .bind(&site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((time(row, "created_at")?, int(row, "rating")?)))
        .collect::<Result<Vec<_>>>()?;

        let thumbs = sqlx::query(
            "SELECT f.created_at, f.rating, f.reason FROM message_feedback f \
             JOIN conversations c ON c.id = f.conversation_id \
             WHERE c.site_id = $1 AND f.created_at >= $2 AND f.created_at < $3",
        )
        .bind(&site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok((
                time(row, "created_at")?,
                text(row, "rating")?,
                opt_text(row, "reason")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;

        let classifications = sqlx::query(
            "SELECT intent, sentiment FROM message_classifications \
             WHERE site_id = $1 AND created_at >= $2 AND created_at < $3",
        )
        .bind(&site)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((text(row, "intent")?, text(row, "sentiment")?)))
        .collect::<Result<Vec<_>>>()?;

        // Usage is kept per UTC day; the days touching the period are all counted.
        let usage = sqlx::query(
            // PostgreSQL sums BIGINTs as NUMERIC, which the Any driver cannot read back.
            "SELECT day, CAST(SUM(requests) AS BIGINT) AS requests, \
             CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens, \
             CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens, \
             CAST(SUM(cost_micros) AS BIGINT) AS cost_micros \
             FROM ai_usage WHERE site_id = $1 AND day >= $2 AND day <= $3 \
             GROUP BY day ORDER BY day",
        )
        .bind(&site)
        .bind(&from[..10])
        .bind(&to[..10])
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(UsageDayFacts {
                day: text(row, "day")?,
                requests: int(row, "requests")?,
                prompt_tokens: int(row, "prompt_tokens")?,
                completion_tokens: int(row, "completion_tokens")?,
                cost_micros: int(row, "cost_micros")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;

        Ok(AnalyticsFacts {
            conversations,
            ratings,
            thumbs,
            classifications,
            usage,
        })
    }
}

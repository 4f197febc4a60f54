//! The assistant's language-model records: each site's provider chain (API keys arrive and
//! leave sealed — the server encrypts them before they reach this layer), per-day token and
//! cost totals, and the classification of visitor messages.

use kefu_core::domain::{Classification, Sentiment};
use kefu_core::{ConversationId, MessageId, SiteId, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::row::{boolean, int, opt_text, parsed, text, time};
use crate::{Result, Store};

/// One provider in a site's fallback chain, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct AiProviderRow {
    pub id: String,
    pub site_id: SiteId,
    /// Order in the chain, 0 first.
    pub position: i64,
    /// Unique per site; also how an update keeps a stored key it does not repeat.
    pub name: String,
    pub base_url: String,
    pub model: String,
    /// Set for Azure OpenAI deployments.
    pub azure_api_version: Option<String>,
    /// The API key sealed by the server's secret box; never leaves the server.
    pub api_key_sealed: Option<String>,
    pub input_per_million: f64,
    pub output_per_million: f64,
    pub max_output_tokens: i64,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One site's usage of one model on one UTC day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AiUsageDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Empty for answers served from the cache.
    pub provider: String,
    pub model: String,
    pub requests: i64,
    pub cache_hits: i64,
    pub failures: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Cost in millionths of the site's currency.
    pub cost_micros: i64,
}

/// How many visitor messages carried one intent/sentiment pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationCount {
    pub intent: String,
    pub sentiment: Sentiment,
    pub messages: i64,
}

const PROVIDER_COLUMNS: &str = "id, site_id, position, name, base_url, model, azure_api_version, \
     api_key_sealed, input_per_million, output_per_million, max_output_tokens, enabled, \
     created_at, updated_at";

fn provider_from_row(row: &sqlx::any::AnyRow) -> Result<AiProviderRow> {
    Ok(AiProviderRow {
        id: text(row, "id")?,
        site_id: parsed(row, "site_id")?,
        position: int(row, "position")?,
        name: text(row, "name")?,
        base_url: text(row, "base_url")?,
        model: text(row, "model")?,
        azure_api_version: opt_text(row, "azure_api_version")?,
        api_key_sealed: opt_text(row, "api_key_sealed")?,
        input_per_million: row.try_get::<f64, _>("input_per_million")?,
        output_per_million: row.try_get::<f64, _>("output_per_million")?,
        max_output_tokens: int(row, "max_output_tokens")?,
        enabled: boolean(row, "enabled")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

impl Store {
    /// A site's provider chain, in order.
    pub async fn list_ai_providers(&self, site: SiteId) -> Result<Vec<AiProviderRow>> {
        let sql = format!(
            "SELECT {PROVIDER_COLUMNS} FROM ai_providers WHERE site_id = $1 ORDER BY position"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(provider_from_row).collect()
    }

    /// Replaces a site's whole chain in one transaction (positions follow the slice order), so
    /// the assistant never sees half an update.
    pub async fn replace_ai_providers(
        &self,
        site: SiteId,
        providers: &[AiProviderRow],
    ) -> Result<Vec<AiProviderRow>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM ai_providers WHERE site_id = $1")
            .bind(site.to_string())
            .execute(&mut *tx)
            .await?;
        for (position, p) in providers.iter().enumerate() {
            sqlx::query(
                "INSERT INTO ai_providers (id, site_id, position, name, base_url, model, \
                 azure_api_version, api_key_sealed, input_per_million, output_per_million, \
                 max_output_tokens, enabled, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(p.id.clone())
            .bind(site.to_string())
            .bind(position as i64)
            .bind(p.name.clone())
            .bind(p.base_url.clone())
            .bind(p.model.clone())
            .bind(p.azure_api_version.clone())
            .bind(p.api_key_sealed.clone())
            .bind(p.input_per_million)
            .bind(p.output_per_million)
            .bind(p.max_output_tokens)
            .bind(p.enabled)
            .bind(p.created_at.to_string())
            .bind(p.updated_at.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.list_ai_providers(site).await
    }

    /// Adds one finished call (or a batch of them) to the site's day totals.
    pub async fn add_ai_usage(&self, site: SiteId, usage: &AiUsageDay) -> Result<()> {
        sqlx::query(
            "INSERT INTO ai_usage (site_id, day, provider, model, requests, cache_hits, failures, \
             prompt_tokens, completion_tokens, cost_micros) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (site_id, day, provider, model) DO UPDATE SET \
             requests = ai_usage.requests + excluded.requests, \
             cache_hits = ai_usage.cache_hits + excluded.cache_hits, \
             failures = ai_usage.failures + excluded.failures, \
             prompt_tokens = ai_usage.prompt_tokens + excluded.prompt_tokens, \
             completion_tokens = ai_usage.completion_tokens + excluded.completion_tokens, \
             cost_micros = ai_usage.cost_micros + excluded.cost_micros",
        )
        .bind(site.to_string())
        .bind(usage.day.clone())
        .bind(usage.provider.clone())
        .bind(usage.model.clone())
        .bind(usage.requests)
        .bind(usage.cache_hits)
        .bind(usage.failures)
        .bind(usage.prompt_tokens)
        .bind(usage.completion_tokens)
        .bind(usage.cost_micros)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A site's usage from `since` (inclusive, `YYYY-MM-DD`), newest day first.
    pub async fn list_ai_usage(&self, site: SiteId, since: &str) -> Result<Vec<AiUsageDay>> {
        let rows = sqlx::query(
            "SELECT day, provider, model, requests, cache_hits, failures, prompt_tokens, \
             completion_tokens, cost_micros FROM ai_usage WHERE site_id = $1 AND day >= $2 \
             ORDER BY day DESC, provider, model",
        )
        .bind(site.to_string())
        .bind(since.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AiUsageDay {
                    day: text(row, "day")?,
                    provider: text(row, "provider")?,
                    model: text(row, "model")?,
                    requests: int(row, "requests")?,
                    cache_hits: int(row, "cache_hits")?,
                    failures: int(row, "failures")?,
                    prompt_tokens: int(row, "prompt_tokens")?,
                    completion_tokens: int(row, "completion_tokens")?,
                    cost_micros: int(row, "cost_micros")?,
                })
            })
            .collect()
    }

    /// Stores what the assistant read into a visitor message (once; a re-run keeps the first).
    pub async fn classify_message(
        &self,
        site: SiteId,
        conversation: ConversationId,
        message: MessageId,
        classification: &Classification,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO message_classifications (message_id, site_id, conversation_id, intent, \
             sentiment, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message.to_string())
        .bind(site.to_string())
        .bind(conversation.to_string())
        .bind(classification.intent.clone())
        .bind(classification.sentiment.as_str().to_owned())
        .bind(Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The classification of each classified visitor message in a conversation.
    pub async fn list_message_classifications(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<(MessageId, Classification)>> {
        let rows = sqlx::query(
            "SELECT message_id, intent, sentiment FROM message_classifications \
             WHERE conversation_id = $1 ORDER BY message_id",
        )
        .bind(conversation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    parsed(row, "message_id")?,
                    Classification {
                        intent: text(row, "intent")?,
                        sentiment: parsed(row, "sentiment")?,
                    },
                ))
            })
            .collect()
    }

    /// Visitor messages per intent and sentiment since `since` (RFC 3339), most first.
    pub async fn count_classifications(
        &self,
        site: SiteId,
        since: Timestamp,
    ) -> Result<Vec<ClassificationCount>> {
        let rows = sqlx::query(
            "SELECT intent, sentiment, COUNT(*) AS messages FROM message_classifications \
             WHERE site_id = $1 AND created_at >= $2 GROUP BY intent, sentiment \
             ORDER BY messages DESC, intent, sentiment",
        )
        .bind(site.to_string())
        .bind(since.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ClassificationCount {
                    intent: text(row, "intent")?,
                    sentiment: parsed(row, "sentiment")?,
                    messages: int(row, "messages")?,
                })
            })
            .collect()
    }
}

//! Customer satisfaction (CSAT): a visitor's 1–5 rating of a resolved conversation, with an
//! optional comment — one per conversation, changeable — and a site's totals for analytics.

use kefu_core::{ConversationId, SiteId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::row::{int, opt_text, time};
use crate::{Result, Store};

/// A conversation's rating.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationRating {
    pub rating: i64,
    pub comment: Option<String>,
    pub updated_at: Timestamp,
}

/// A site's ratings over a period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CsatSummary {
    pub ratings: i64,
    /// Mean rating; none without ratings.
    pub average: Option<f64>,
    /// Share of 4s and 5s (the usual CSAT score), 0–1.
    pub satisfied_share: Option<f64>,
    /// Count per rating, index 0 = rating 1.
    pub distribution: [i64; 5],
}

impl Store {
    /// Records (or changes) the rating of a conversation.
    pub async fn rate_conversation(
        &self,
        site: SiteId,
        conversation: ConversationId,
        rating: i64,
        comment: Option<&str>,
    ) -> Result<()> {
        let now = Timestamp::now().to_string();
        sqlx::query(
            "INSERT INTO conversation_ratings (conversation_id, site_id, rating, comment, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (conversation_id) DO UPDATE SET rating = excluded.rating, \
             comment = excluded.comment, updated_at = excluded.updated_at",
        )
        .bind(conversation.to_string())
        .bind(site.to_string())
        .bind(rating)
        .bind(comment.map(str::to_owned))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A conversation's rating, if the visitor gave one.
    pub async fn get_conversation_rating(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<ConversationRating>> {
        let row = sqlx::query(
            "SELECT rating, comment, updated_at FROM conversation_ratings \
             WHERE conversation_id = $1",
        )
        .bind(conversation.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(ConversationRating {
                rating: int(&row, "rating")?,
                comment: opt_text(&row, "comment")?,
                updated_at: time(&row, "updated_at")?,
            })
        })
        .transpose()
    }

    /// A site's ratings given since `since`.
    pub async fn csat_summary(&self, site: SiteId, since: Timestamp) -> Result<CsatSummary> {
        let rows = sqlx::query(
            "SELECT rating, COUNT(*) AS n FROM conversation_ratings \
             WHERE site_id = $1 AND updated_at >= $2 GROUP BY rating",
        )
        .bind(site.to_string())
        .bind(since.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut distribution = [0i64; 5];
        for row in &rows {
            let rating = int(row, "rating")?;
            if let Some(slot) = usize::try_from(rating - 1)
                .ok()
                .and_then(|i| distribution.get_mut(i))
            {
                *slot += int(row, "n")?;
            }
        }
        let ratings: i64 = distribution.iter().sum();
        let (average, satisfied_share) = if ratings == 0 {
            (None, None)
        } else {
            let sum: i64 = distribution
                .iter()
                .enumerate()
                .map(|(i, n)| (i as i64 + 1) * n)
                .sum();
            (
                Some(sum as f64 / ratings as f64),
                Some((distribution[3] + distribution[4]) as f64 / ratings as f64),
            )
        };
        Ok(CsatSummary {
            ratings,
            average,
            satisfied_share,
            distribution,
        })
    }
}

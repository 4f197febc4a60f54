//! Visitors: created by the widget's first session call, found again by their token.

use kefu_core::domain::Visitor;
use kefu_core::{SiteId, Timestamp, VisitorId};
use sqlx::any::AnyRow;

use crate::row::{opt_text, opt_time, parsed, time};
use crate::{Result, Store, StoreError};

const COLUMNS: &str = "id, site_id, name, email, page_url, referrer, language, user_agent, \
                       ip_truncated, consent_version, consent_at, external_id, created_at, \
                       last_seen_at";

fn from_row(row: &AnyRow) -> Result<Visitor> {
    Ok(Visitor {
        id: parsed(row, "id")?,
        site_id: parsed(row, "site_id")?,
        name: opt_text(row, "name")?,
        email: opt_text(row, "email")?,
        page_url: opt_text(row, "page_url")?,
        referrer: opt_text(row, "referrer")?,
        language: opt_text(row, "language")?,
        user_agent: opt_text(row, "user_agent")?,
        ip_truncated: opt_text(row, "ip_truncated")?,
        consent_version: opt_text(row, "consent_version")?,
        consent_at: opt_time(row, "consent_at")?,
        external_id: opt_text(row, "external_id")?,
        created_at: time(row, "created_at")?,
        last_seen_at: time(row, "last_seen_at")?,
    })
}

/// What the widget reports each time a visitor (re)connects.
#[derive(Clone, Debug, Default)]
pub struct VisitorSeen {
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub language: Option<String>,
    pub user_agent: Option<String>,
    pub ip_truncated: Option<String>,
}

impl Store {
    /// Records that the visitor accepted this version of the site's privacy notice.
    pub async fn record_consent(&self, visitor: VisitorId, version: &str) -> Result<Visitor> {
        sqlx::query("UPDATE visitors SET consent_version = $1, consent_at = $2 WHERE id = $3")
            .bind(version.to_owned())
            .bind(Timestamp::now().to_string())
            .bind(visitor.to_string())
            .execute(&self.pool)
            .await?;
        self.get_visitor(visitor).await
    }

    /// Creates a visitor holding the token with this hash.
    pub async fn create_visitor(
        &self,
        site: SiteId,
        token_hash: &str,
        seen: &VisitorSeen,
    ) -> Result<Visitor> {
        let id = VisitorId::new();
        let now = Timestamp::now().to_string();
        sqlx::query(
            "INSERT INTO visitors (id, site_id, token_hash, page_url, referrer, language, \
             user_agent, ip_truncated, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(site.to_string())
        .bind(token_hash.to_owned())
        .bind(seen.page_url.clone())
        .bind(seen.referrer.clone())
        .bind(seen.language.clone())
        .bind(seen.user_agent.clone())
        .bind(seen.ip_truncated.clone())
        .bind(now.clone())
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.get_visitor(id).await
    }

    /// One visitor.
    pub async fn get_visitor(&self, id: VisitorId) -> Result<Visitor> {
        let sql = format!("SELECT {COLUMNS} FROM visitors WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("visitor"))?;
        from_row(&row)
    }

    /// The visitor holding the token with this hash.
    pub async fn get_visitor_by_token(&self, token_hash: &str) -> Result<Visitor> {
        let sql = format!("SELECT {COLUMNS} FROM visitors WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("visitor"))?;
        from_row(&row)
    }

    /// Updates what the widget reported on a return visit; unreported fields keep their value.
    pub async fn touch_visitor(&self, id: VisitorId, seen: &VisitorSeen) -> Result<Visitor> {
        sqlx::query(
            "UPDATE visitors SET page_url = COALESCE($1, page_url), \
             referrer = COALESCE($2, referrer), language = COALESCE($3, language), \
             user_agent = COALESCE($4, user_agent), ip_truncated = COALESCE($5, ip_truncated), \
             last_seen_at = $6 WHERE id = $7",
        )
        .bind(seen.page_url.clone())
        .bind(seen.referrer.clone())
        .bind(seen.language.clone())
        .bind(seen.user_agent.clone())
        .bind(seen.ip_truncated.clone())
        .bind(Timestamp::now().to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        self.get_visitor(id).await
    }

    /// Sets the contact details a visitor gave.
    pub async fn set_visitor_contact(
        &self,
        id: VisitorId,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Result<Visitor> {
        sqlx::query(
            "UPDATE visitors SET name = COALESCE($1, name), email = COALESCE($2, email) \
             WHERE id = $3",
        )
        .bind(name.map(str::to_owned))
        .bind(email.map(str::to_owned))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        self.get_visitor(id).await
    }

    /// Marks a visitor as the customer's user `external_id` (verified by the caller), with
    /// the name and e-mail the customer's site vouched for.
    pub async fn set_visitor_identity(
        &self,
        id: VisitorId,
        external_id: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Result<Visitor> {
        sqlx::query(
            "UPDATE visitors SET external_id = $1, name = COALESCE($2, name), \
             email = COALESCE($3, email) WHERE id = $4",
        )
        .bind(external_id.to_owned())
        .bind(name.map(str::to_owned))
        .bind(email.map(str::to_owned))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        self.get_visitor(id).await
    }
}

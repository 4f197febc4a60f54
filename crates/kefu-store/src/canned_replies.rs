//! Canned replies, unique by shortcut within a site.

use kefu_core::domain::CannedReply;
use kefu_core::{CannedReplyId, SiteId, Timestamp};
use sqlx::any::AnyRow;

use crate::error::conflict_on_unique;
use crate::row::{parsed, text, time};
use crate::{Result, Store, StoreError};

const COLUMNS: &str = "id, site_id, shortcut, title, text, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<CannedReply> {
    Ok(CannedReply {
        id: parsed(row, "id")?,
        site_id: parsed(row, "site_id")?,
        shortcut: text(row, "shortcut")?,
        title: text(row, "title")?,
        text: text(row, "text")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

impl Store {
    /// Creates a canned reply; `Conflict` if the shortcut is taken on the site.
    pub async fn create_canned_reply(
        &self,
        site: SiteId,
        shortcut: &str,
        title: &str,
        body: &str,
    ) -> Result<CannedReply> {
        let id = CannedReplyId::new();
        let now = Timestamp::now().to_string();
        sqlx::query(
            "INSERT INTO canned_replies (id, site_id, shortcut, title, text, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(site.to_string())
        .bind(shortcut.to_owned())
        .bind(title.to_owned())
        .bind(body.to_owned())
        .bind(now.clone())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(conflict_on_unique("canned reply shortcut"))?;
        self.get_canned_reply(id).await
    }

    /// One canned reply.
    pub async fn get_canned_reply(&self, id: CannedReplyId) -> Result<CannedReply> {
        let sql = format!("SELECT {COLUMNS} FROM canned_replies WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("canned reply"))?;
        from_row(&row)
    }

    /// A site's canned replies, by shortcut; `prefix` narrows to shortcuts starting with it.
    pub async fn list_canned_replies(
        &self,
        site: SiteId,
        prefix: Option<&str>,
    ) -> Result<Vec<CannedReply>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM canned_replies WHERE site_id = $1 AND shortcut LIKE $2 \
             ORDER BY shortcut"
        );
        let pattern = format!("{}%", prefix.unwrap_or_default().replace(['%', '_'], ""));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site.to_string())
            .bind(pattern)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces a canned reply's shortcut, title and text.
    pub async fn update_canned_reply(&self, reply: &CannedReply) -> Result<CannedReply> {
        let done = sqlx::query(
            "UPDATE canned_replies SET shortcut = $1, title = $2, text = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(reply.shortcut.clone())
        .bind(reply.title.clone())
        .bind(reply.text.clone())
        .bind(Timestamp::now().to_string())
        .bind(reply.id.to_string())
        .execute(&self.pool)
        .await
        .map_err(conflict_on_unique("canned reply shortcut"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("canned reply"));
        }
        self.get_canned_reply(reply.id).await
    }

    /// Deletes a canned reply.
    pub async fn delete_canned_reply(&self, id: CannedReplyId) -> Result<()> {
        let done = sqlx::query("DELETE FROM canned_replies WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("canned reply"));
        }
        Ok(())
    }
}

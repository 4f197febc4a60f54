//! Tags: a site's vocabulary of conversation labels.

use kefu_core::domain::Tag;
use kefu_core::{SiteId, TagId, Timestamp};
use sqlx::any::AnyRow;

use crate::row::{parsed, text, time};
use crate::{Result, Store, StoreError};

fn from_row(row: &AnyRow) -> Result<Tag> {
    Ok(Tag {
        id: parsed(row, "id")?,
        site_id: parsed(row, "site_id")?,
        name: text(row, "name")?,
        created_at: time(row, "created_at")?,
    })
}

impl Store {
    /// The tag with this name on the site, created if missing.
    pub async fn ensure_tag(&self, site: SiteId, name: &str) -> Result<Tag> {
        sqlx::query(
            "INSERT INTO tags (id, site_id, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (site_id, name) DO NOTHING",
        )
        .bind(TagId::new().to_string())
        .bind(site.to_string())
        .bind(name.to_owned())
        .bind(Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(
            "SELECT id, site_id, name, created_at FROM tags WHERE site_id = $1 AND name = $2",
        )
        .bind(site.to_string())
        .bind(name.to_owned())
        .fetch_one(&self.pool)
        .await?;
        from_row(&row)
    }

    /// A site's tags by name.
    pub async fn list_tags(&self, site: SiteId) -> Result<Vec<Tag>> {
        let rows = sqlx::query(
            "SELECT id, site_id, name, created_at FROM tags WHERE site_id = $1 ORDER BY name",
        )
        .bind(site.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes a tag (and removes it from every conversation).
    pub async fn delete_tag(&self, site: SiteId, id: TagId) -> Result<()> {
        let done = sqlx::query("DELETE FROM tags WHERE id = $1 AND site_id = $2")
            .bind(id.to_string())
            .bind(site.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("tag"));
        }
        Ok(())
    }
}

//! Sites and who may work on them (site membership).

use kefu_core::domain::{Site, SiteSettings};
use kefu_core::{AgentId, SiteId, Timestamp};
use sqlx::any::AnyRow;

use crate::row::{json, parsed, text, time, to_json};
use crate::{Result, Store, StoreError};

const COLUMNS: &str = "id, name, allowed_origins, settings, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Site> {
    Ok(Site {
        id: parsed(row, "id")?,
        name: text(row, "name")?,
        allowed_origins: json(row, "allowed_origins")?,
        settings: json(row, "settings")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

impl Store {
    /// Creates a site with default settings.
    pub async fn create_site(&self, name: &str, allowed_origins: &[String]) -> Result<Site> {
        let now = Timestamp::now();
        let site = Site {
            id: SiteId::new(),
            name: name.to_owned(),
            allowed_origins: allowed_origins.to_vec(),
            settings: SiteSettings::default(),
            created_at: now,
            updated_at: now,
        };
        sqlx::query(
            "INSERT INTO sites (id, name, allowed_origins, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(site.id.to_string())
        .bind(site.name.clone())
        .bind(to_json(&site.allowed_origins)?)
        .bind(to_json(&site.settings)?)
        .bind(now.to_string())
        .bind(now.to_string())
        .execute(&self.pool)
        .await?;
        Ok(site)
    }

    /// One site.
    pub async fn get_site(&self, id: SiteId) -> Result<Site> {
        let sql = format!("SELECT {COLUMNS} FROM sites WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("site"))?;
        from_row(&row)
    }

    /// Every site, oldest first.
    pub async fn list_sites(&self) -> Result<Vec<Site>> {
        let sql = format!("SELECT {COLUMNS} FROM sites ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The sites an agent is a member of, oldest first.
    pub async fn list_agent_sites(&self, agent: AgentId) -> Result<Vec<Site>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sites WHERE id IN \
             (SELECT site_id FROM site_members WHERE agent_id = $1) ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(agent.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces a site's name, origins and settings.
    pub async fn update_site(&self, site: &Site) -> Result<Site> {
        let now = Timestamp::now();
        let done = sqlx::query(
            "UPDATE sites SET name = $1, allowed_origins = $2, settings = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(site.name.clone())
        .bind(to_json(&site.allowed_origins)?)
        .bind(to_json(&site.settings)?)
        .bind(now.to_string())
        .bind(site.id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("site"));
        }
        self.get_site(site.id).await
    }

    /// Makes an agent a member of a site (idempotent).
    pub async fn add_site_member(&self, site: SiteId, agent: AgentId) -> Result<()> {
        sqlx::query(
            "INSERT INTO site_members (site_id, agent_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (site_id, agent_id) DO NOTHING",
        )
        .bind(site.to_string())
        .bind(agent.to_string())
        .bind(Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes an agent from a site.
    pub async fn remove_site_member(&self, site: SiteId, agent: AgentId) -> Result<()> {
        sqlx::query("DELETE FROM site_members WHERE site_id = $1 AND agent_id = $2")
            .bind(site.to_string())
            .bind(agent.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether an agent works on a site.
    pub async fn is_site_member(&self, site: SiteId, agent: AgentId) -> Result<bool> {
        let row =
            sqlx::query("SELECT 1 AS one FROM site_members WHERE site_id = $1 AND agent_id = $2")
                .bind(site.to_string())
                .bind(agent.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// The site's sealed identity-verification secret, if one was made.
    pub async fn get_identity_secret(&self, site: SiteId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT identity_secret_sealed FROM sites WHERE id = $1")
            .bind(site.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("site"))?;
        crate::row::opt_text(&row, "identity_secret_sealed")
    }

    /// Replaces (or, with `None`, removes) the site's sealed identity-verification secret.
    pub async fn set_identity_secret(&self, site: SiteId, sealed: Option<&str>) -> Result<()> {
        let done = sqlx::query("UPDATE sites SET identity_secret_sealed = $1 WHERE id = $2")
            .bind(sealed.map(str::to_owned))
            .bind(site.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("site"));
        }
        Ok(())
    }
}

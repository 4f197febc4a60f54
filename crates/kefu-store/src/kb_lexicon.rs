//! Each site's search vocabulary (custom words and synonym groups), one JSON document per
//! site. A site without a row has the empty lexicon.

use kefu_core::domain::KbLexicon;
use kefu_core::{AgentId, SiteId, Timestamp};

use crate::row::{json, parsed, to_json};
use crate::{Result, Store};

impl Store {
    /// A site's lexicon (empty when never set).
    pub async fn get_kb_lexicon(&self, site: SiteId) -> Result<KbLexicon> {
        let row = sqlx::query("SELECT lexicon FROM kb_lexicons WHERE site_id = $1")
            .bind(site.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => json(&row, "lexicon"),
            None => Ok(KbLexicon::default()),
        }
    }

    /// Replaces a site's lexicon.
    pub async fn put_kb_lexicon(
        &self,
        site: SiteId,
        lexicon: &KbLexicon,
        by: Option<AgentId>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO kb_lexicons (site_id, lexicon, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (site_id) DO UPDATE SET \
             lexicon = excluded.lexicon, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        )
        .bind(site.to_string())
        .bind(to_json(lexicon)?)
        .bind(Timestamp::now().to_string())
        .bind(by.map(|a| a.to_string()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every stored lexicon (the search index pools all sites' custom words).
    pub async fn list_kb_lexicons(&self) -> Result<Vec<(SiteId, KbLexicon)>> {
        let rows = sqlx::query("SELECT site_id, lexicon FROM kb_lexicons ORDER BY site_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((parsed(row, "site_id")?, json(row, "lexicon")?)))
            .collect()
    }
}

//! Knowledge-base entries and revisions. Like the conversation log, a change takes the next
//! revision number with `UPDATE … SET revision = revision + 1 … RETURNING` and inserts the
//! immutable revision in the same transaction, so revisions are dense per entry and never
//! rewritten.

use kefu_core::domain::{EntryContent, KbEntry, KbRevision};
use kefu_core::{AgentId, KbEntryId, SiteId, Timestamp};
use sqlx::any::AnyRow;

use crate::error::conflict_on_unique;
use crate::row::{int, json, opt_parsed, opt_text, parsed, time, to_json};
use crate::sql::{Param, Sql};
use crate::{Result, Store, StoreError};

pub(crate) const COLUMNS: &str = "id, site_id, revision, content, hit_count, thumbs_up, thumbs_down, created_at, updated_at, updated_by";

pub(crate) fn entry_from_row(row: &AnyRow) -> Result<KbEntry> {
    Ok(KbEntry {
        id: parsed(row, "id")?,
        site_id: parsed(row, "site_id")?,
        revision: int(row, "revision")?,
        content: json(row, "content")?,
        hit_count: int(row, "hit_count")?,
        thumbs_up: int(row, "thumbs_up")?,
        thumbs_down: int(row, "thumbs_down")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        updated_by: opt_parsed(row, "updated_by")?,
    })
}

fn revision_from_row(row: &AnyRow) -> Result<KbRevision> {
    Ok(KbRevision {
        entry_id: parsed(row, "entry_id")?,
        revision: int(row, "revision")?,
        content: json(row, "content")?,
        author_id: opt_parsed(row, "author_id")?,
        note: opt_text(row, "note")?,
        created_at: time(row, "created_at")?,
    })
}

/// Filters for listing entries.
#[derive(Clone, Debug, Default)]
pub struct EntryQuery {
    pub site: Option<SiteId>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub visibility: Option<String>,
    /// Case-insensitive substring of the title.
    pub title_contains: Option<String>,
    /// Only entries whose review date is before this.
    pub review_due_before: Option<Timestamp>,
    /// Entries updated before this cursor (`updated_at_id` from the previous page).
    pub cursor: Option<String>,
    pub limit: u32,
}

/// Where a new entry came from, so re-importing the same source updates it.
#[derive(Clone, Debug, Default)]
pub struct EntrySource {
    /// Unique per site, e.g. `file:handbook.pdf` or `url:https://…`.
    pub key: Option<String>,
    /// Hash of the imported content; an unchanged hash means nothing to update.
    pub content_hash: Option<String>,
}

/// One page of entries.
#[derive(Clone, Debug)]
pub struct EntryPage {
    pub items: Vec<KbEntry>,
    pub next_cursor: Option<String>,
}

impl Store {
    /// Creates an entry at revision 1.
    pub async fn create_kb_entry(
        &self,
        site: SiteId,
        content: &EntryContent,
        author: Option<AgentId>,
        note: Option<&str>,
        source: &EntrySource,
    ) -> Result<KbEntry> {
        let id = KbEntryId::new();
        let now = Timestamp::now().to_string();
        let json = to_json(content)?;
        let mut tx = self.pool.begin().await?;
        let query = sqlx::query(
            "INSERT INTO kb_entries (id, site_id, revision, category, title, status, visibility, \
             language, review_due, owner_id, content, source_key, content_hash, created_at, \
             updated_at, updated_by) \
             VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(id.to_string())
        .bind(site.to_string());
        bind_content(query, content, &json)
            .bind(source.key.clone())
            .bind(source.content_hash.clone())
            .bind(now.clone())
            .bind(now.clone())
            .bind(author.map(|a| a.to_string()))
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("entry for this source"))?;
        insert_revision(&mut tx, id, 1, &json, author, note, &now).await?;
        tx.commit().await?;
        self.get_kb_entry(id).await
    }

    /// Writes a new revision. With `expected_revision`, refuses (`Conflict`) when someone else
    /// saved in between, so two editors never silently overwrite each other.
    pub async fn update_kb_entry(
        &self,
        id: KbEntryId,
        content: &EntryContent,
        author: Option<AgentId>,
        note: Option<&str>,
        expected_revision: Option<i64>,
        content_hash: Option<&str>,
    ) -> Result<KbEntry> {
        let now = Timestamp::now().to_string();
        let json = to_json(content)?;
        let mut tx = self.pool.begin().await?;
        let query = sqlx::query(
            "UPDATE kb_entries SET revision = revision + 1, category = $1, title = $2, \
             status = $3, visibility = $4, language = $5, review_due = $6, owner_id = $7, \
             content = $8, content_hash = COALESCE($9, content_hash), updated_at = $10, \
             updated_by = $11 WHERE id = $12 RETURNING revision",
        );
        let row = bind_content(query, content, &json)
            .bind(content_hash.map(str::to_owned))
            .bind(now.clone())
            .bind(author.map(|a| a.to_string()))
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("knowledge-base entry"))?;
        let revision = int(&row, "revision")?;
        if let Some(expected) = expected_revision.filter(|e| revision != e + 1) {
            tx.rollback().await?;
            return Err(StoreError::InvalidState(format!(
                "the entry changed since revision {expected} (now {}); reload and retry",
                revision - 1
            )));
        }
        insert_revision(&mut tx, id, revision, &json, author, note, &now).await?;
        tx.commit().await?;
        self.get_kb_entry(id).await
    }

    /// An entry at its current revision.
    pub async fn get_kb_entry(&self, id: KbEntryId) -> Result<KbEntry> {
        let sql = format!("SELECT {COLUMNS} FROM kb_entries WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("knowledge-base entry"))?;
        entry_from_row(&row)
    }

    /// The entry imported from `source_key` on a site, with its content hash.
    pub async fn find_kb_entry_by_source(
        &self,
        site: SiteId,
        source_key: &str,
    ) -> Result<Option<(KbEntry, Option<String>)>> {
        let sql = format!(
            "SELECT {COLUMNS}, content_hash FROM kb_entries WHERE site_id = $1 AND source_key = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site.to_string())
            .bind(source_key.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some((
                entry_from_row(&row)?,
                opt_text(&row, "content_hash")?,
            ))),
            None => Ok(None),
        }
    }

    /// One revision of an entry.
    pub async fn get_kb_revision(&self, id: KbEntryId, revision: i64) -> Result<KbRevision> {
        let row = sqlx::query(
            "SELECT entry_id, revision, content, author_id, note, created_at FROM kb_revisions \
             WHERE entry_id = $1 AND revision = $2",
        )
        .bind(id.to_string())
        .bind(revision)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("revision"))?;
        revision_from_row(&row)
    }

    /// Every revision of an entry, newest first.
    pub async fn list_kb_revisions(&self, id: KbEntryId) -> Result<Vec<KbRevision>> {
        let rows = sqlx::query(
            "SELECT entry_id, revision, content, author_id, note, created_at FROM kb_revisions \
             WHERE entry_id = $1 ORDER BY revision DESC",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(revision_from_row).collect()
    }

    /// Entries matching the filters, most recently updated first.
    pub async fn list_kb_entries(&self, q: &EntryQuery) -> Result<EntryPage> {
        let limit = q.limit.clamp(1, 1000);
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM kb_entries WHERE 1 = 1"));
        if let Some(site) = q.site {
            sql.push(" AND site_id = ")
                .bind(Param::Text(site.to_string()));
        }
        if let Some(category) = &q.category {
            sql.push(" AND category = ")
                .bind(Param::Text(category.clone()));
        }
        if let Some(status) = &q.status {
            sql.push(" AND status = ").bind(Param::Text(status.clone()));
        }
        if let Some(visibility) = &q.visibility {
            sql.push(" AND visibility = ")
                .bind(Param::Text(visibility.clone()));
        }
        if let Some(needle) = &q.title_contains {
            let pattern = format!("%{}%", needle.to_lowercase().replace(['%', '_'], ""));
            sql.push(" AND LOWER(title) LIKE ")
                .bind(Param::Text(pattern));
        }
        if let Some(before) = q.review_due_before {
            sql.push(" AND review_due IS NOT NULL AND review_due < ")
                .bind(Param::Text(before.to_string()));
        }
        if let Some(cursor) = &q.cursor {
            let (updated_at, id) = cursor
                .split_once('_')
                .ok_or_else(|| StoreError::InvalidState("malformed cursor".to_owned()))?;
            sql.push(" AND (updated_at < ")
                .bind(Param::Text(updated_at.to_owned()))
                .push(" OR (updated_at = ")
                .bind(Param::Text(updated_at.to_owned()))
                .push(" AND id < ")
                .bind(Param::Text(id.to_owned()))
                .push("))");
        }
        sql.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
            .bind(Param::Int(i64::from(limit) + 1));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut items: Vec<KbEntry> = rows.iter().map(entry_from_row).collect::<Result<_>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|e| format!("{}_{}", e.updated_at, e.id))
        } else {
            None
        };
        Ok(EntryPage { items, next_cursor })
    }

    /// Every entry of a site (for building indexes and the FAQ matcher).
    pub async fn list_site_kb_entries(&self, site: SiteId) -> Result<Vec<KbEntry>> {
        let sql = format!("SELECT {COLUMNS} FROM kb_entries WHERE site_id = $1 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Counts an answer citing the entry.
    pub async fn record_kb_hit(&self, id: KbEntryId) -> Result<()> {
        sqlx::query("UPDATE kb_entries SET hit_count = hit_count + 1 WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Binds the entry columns lists filter on, in the order both the INSERT and the UPDATE name
/// them: category, title, status, visibility, language, review_due, owner_id, content.
fn bind_content<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    content: &EntryContent,
    json: &str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(content.category.clone())
        .bind(content.title.clone())
        .bind(content.status.as_str())
        .bind(content.visibility.as_str())
        .bind(content.language.clone())
        .bind(content.review_due.map(|t| t.to_string()))
        .bind(content.owner_id.map(|a| a.to_string()))
        .bind(json.to_owned())
}

async fn insert_revision(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: KbEntryId,
    revision: i64,
    content_json: &str,
    author: Option<AgentId>,
    note: Option<&str>,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO kb_revisions (entry_id, revision, content, author_id, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(revision)
    .bind(content_json.to_owned())
    .bind(author.map(|a| a.to_string()))
    .bind(note.map(str::to_owned))
    .bind(now.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

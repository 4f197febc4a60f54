//! The knowledge base's upkeep report: entries past their review date, published entries no
//! answer has used, entries visitors rate down more than up, and how many questions wait in
//! the unanswered queue. Each list is capped; the totals say how many there are in all.

use kefu_core::domain::KbEntry;
use kefu_core::{SiteId, Timestamp};
use serde::Serialize;
use sqlx::Row;

use crate::kb_entries::{COLUMNS, entry_from_row};
use crate::{Result, Store};

/// One kind of entry needing attention: the first entries and how many there are.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReportList {
    pub total: i64,
    pub items: Vec<KbEntry>,
}

/// What `kb_report` finds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KbReport {
    /// Not archived, review date before now; soonest due first.
    pub review_overdue: ReportList,
    /// Published before the cut-off and never used by an answer; oldest first.
    pub never_hit: ReportList,
    /// More thumbs down than up; worst balance first.
    pub negative_feedback: ReportList,
    /// Questions in the unanswered queue.
    pub unanswered: i64,
}

impl Store {
    /// The upkeep report of a site. `never_hit_before`: only entries created before this
    /// count as never hit (new entries have had no chance yet). `limit`: items per list.
    pub async fn kb_report(
        &self,
        site: SiteId,
        now: Timestamp,
        never_hit_before: Timestamp,
        limit: u32,
    ) -> Result<KbReport> {
        let limit = i64::from(limit.clamp(1, 500));
        let review_overdue = self
            .report_list(
                "site_id = $1 AND status <> 'archived' AND review_due IS NOT NULL \
                 AND review_due < $2",
                "review_due, id",
                site,
                Some(&now.to_string()),
                limit,
            )
            .await?;
        let never_hit = self
            .report_list(
                "site_id = $1 AND status = 'published' AND hit_count = 0 AND created_at < $2",
                "created_at, id",
                site,
                Some(&never_hit_before.to_string()),
                limit,
            )
            .await?;
        let negative_feedback = self
            .report_list(
                "site_id = $1 AND thumbs_down > thumbs_up",
                "thumbs_up - thumbs_down, id",
                site,
                None,
                limit,
            )
            .await?;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM kb_unanswered WHERE site_id = $1")
            .bind(site.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(KbReport {
            review_overdue,
            never_hit,
            negative_feedback,
            unanswered: row.try_get::<i64, _>("n")?,
        })
    }

    async fn report_list(
        &self,
        condition: &str,
        order: &str,
        site: SiteId,
        bound: Option<&str>,
        limit: i64,
    ) -> Result<ReportList> {
        let count_sql = format!("SELECT COUNT(*) AS n FROM kb_entries WHERE {condition}");
        let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql)).bind(site.to_string());
        if let Some(bound) = bound {
            count = count.bind(bound.to_owned());
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get("n")?;
        // `condition` uses $1 (site) and, with a bound, $2; the limit takes the next number.
        let limit_param = if bound.is_some() { "$3" } else { "$2" };
        let list_sql = format!(
            "SELECT {COLUMNS} FROM kb_entries WHERE {condition} ORDER BY {order} \
             LIMIT {limit_param}"
        );
        let mut list = sqlx::query(sqlx::AssertSqlSafe(list_sql)).bind(site.to_string());
        if let Some(bound) = bound {
            list = list.bind(bound.to_owned());
        }
        let rows = list.bind(limit).fetch_all(&self.pool).await?;
        Ok(ReportList {
            total,
            items: rows.iter().map(entry_from_row).collect::<Result<_>>()?,
        })
    }
}

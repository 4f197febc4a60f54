//! The audit log: an append-only, hash-chained record of who changed what. Each site has its
//! own chain (so a site's admins page through exactly their events, in order, by `seq`) and
//! events that belong to no site (sign-ins, accounts, API tokens) go to the `instance` chain.
//!
//! Appending serialises per chain: the chain's head row is bumped first (the first statement
//! writes, so SQLite takes its write lock up front and PostgreSQL locks the row), then the
//! event is inserted with `hash = SHA-256(previous hash ‖ event)`. [`Store::verify_audit`]
//! recomputes every chain, so an edited, removed or reordered event is found. Retention may
//! only cut a chain's oldest events; the first remaining event's `prev_hash` is then the
//! anchor.

use kefu_core::{SiteId, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use crate::row::{int, json, opt_parsed, opt_text, text, time, to_json};
use crate::sql::{Param, Sql};
use crate::{Result, Store, StoreError};

/// The chain of events that belong to no site.
pub const INSTANCE_CHAIN: &str = "instance";

/// The `prev_hash` of a chain's first event.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to record.
#[derive(Clone, Debug, Default)]
pub struct NewAuditEvent {
    pub site_id: Option<SiteId>,
    /// `agent`, `api_token`, `system` or `visitor`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    /// Dotted name: `site.settings.update`, `visitor.erase`, …
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub client_ip: Option<String>,
    /// Small JSON object: counts, changed field names, ids. Never secrets or message text.
    pub details: serde_json::Value,
}

/// A recorded event.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditEvent {
    pub id: String,
    /// Position in its chain (the paging cursor).
    pub seq: i64,
    pub site_id: Option<SiteId>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub client_ip: Option<String>,
    pub details: serde_json::Value,
    pub created_at: Timestamp,
    pub hash: String,
}

/// Filters for listing one chain, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// The site's chain, or the instance chain when `None`.
    pub site: Option<SiteId>,
    /// Exact action, or a prefix ending at a dot boundary (`kb` matches `kb.entry.update`).
    pub action: Option<String>,
    pub actor_id: Option<String>,
    /// Only events with `seq` below this (the previous page's `next_before`).
    pub before: Option<i64>,
    pub limit: u32,
}

/// One page of events.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// What [`Store::verify_audit`] found.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditVerification {
    pub chains: u64,
    pub events: u64,
    /// Each problem found, naming the chain and seq; empty when the log is intact.
    pub problems: Vec<String>,
}

const COLUMNS: &str = "id, chain, seq, site_id, actor_kind, actor_id, action, target_kind, \
                       target_id, client_ip, details, created_at, prev_hash, hash";

fn from_row(row: &AnyRow) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: text(row, "id")?,
        seq: int(row, "seq")?,
        site_id: opt_parsed(row, "site_id")?,
        actor_kind: text(row, "actor_kind")?,
        actor_id: opt_text(row, "actor_id")?,
        action: text(row, "action")?,
        target_kind: opt_text(row, "target_kind")?,
        target_id: opt_text(row, "target_id")?,
        client_ip: opt_text(row, "client_ip")?,
        details: json(row, "details")?,
        created_at: time(row, "created_at")?,
        hash: text(row, "hash")?,
    })
}

fn chain_of(site: Option<SiteId>) -> String {
    site.map_or_else(|| INSTANCE_CHAIN.to_owned(), |s| s.to_string())
}

/// The stored fields an event's hash covers, in a fixed order, as they are stored.
struct Hashed<'a> {
    prev_hash: &'a str,
    chain: &'a str,
    seq: i64,
    id: &'a str,
    site_id: Option<&'a str>,
    actor_kind: &'a str,
    actor_id: Option<&'a str>,
    action: &'a str,
    target_kind: Option<&'a str>,
    target_id: Option<&'a str>,
    client_ip: Option<&'a str>,
    details: &'a str,
    created_at: &'a str,
}

impl Hashed<'_> {
    fn digest(&self) -> String {
        // A JSON array is an unambiguous encoding: no field can run into the next.
        let encoded = serde_json::json!([
            self.prev_hash,
            self.chain,
            self.seq,
            self.id,
            self.site_id,
            self.actor_kind,
            self.actor_id,
            self.action,
            self.target_kind,
            self.target_id,
            self.client_ip,
            self.details,
            self.created_at,
        ])
        .to_string();
        Sha256::digest(encoded.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl Store {
    /// Appends an event to its chain.
    pub async fn append_audit(&self, event: &NewAuditEvent) -> Result<AuditEvent> {
        let chain = chain_of(event.site_id);
        let id = uuid::Uuid::now_v7().to_string();
        let site = event.site_id.map(|s| s.to_string());
        let details = to_json(&event.details)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO audit_chains (chain, seq, head) VALUES ($1, 0, $2) \
             ON CONFLICT (chain) DO NOTHING",
        )
        .bind(chain.clone())
        .bind(GENESIS)
        .execute(&mut *tx)
        .await?;
        let head = sqlx::query(
            "UPDATE audit_chains SET seq = seq + 1 WHERE chain = $1 RETURNING seq, head",
        )
        .bind(chain.clone())
        .fetch_one(&mut *tx)
        .await?;
        let seq = int(&head, "seq")?;
        let prev_hash = text(&head, "head")?;
        let created_at = Timestamp::now().to_string();
        let hash = Hashed {
            prev_hash: &prev_hash,
            chain: &chain,
            seq,
            id: &id,
            site_id: site.as_deref(),
            actor_kind: &event.actor_kind,
            actor_id: event.actor_id.as_deref(),
            action: &event.action,
            target_kind: event.target_kind.as_deref(),
            target_id: event.target_id.as_deref(),
            client_ip: event.client_ip.as_deref(),
            details: &details,
            created_at: &created_at,
        }
        .digest();
        sqlx::query(
            "INSERT INTO audit_events (id, chain, seq, site_id, actor_kind, actor_id, action, \
             target_kind, target_id, client_ip, details, created_at, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(id.clone())
        .bind(chain.clone())
        .bind(seq)
        .bind(site)
        .bind(event.actor_kind.clone())
        .bind(event.actor_id.clone())
        .bind(event.action.clone())
        .bind(event.target_kind.clone())
        .bind(event.target_id.clone())
        .bind(event.client_ip.clone())
        .bind(details)
        .bind(created_at)
        .bind(prev_hash)
        .bind(hash.clone())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE audit_chains SET head = $1 WHERE chain = $2")
            .bind(hash)
            .bind(chain)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.get_audit_event(&id).await
    }

    /// One event.
    pub async fn get_audit_event(&self, id: &str) -> Result<AuditEvent> {
        let sql = format!("SELECT {COLUMNS} FROM audit_events WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("audit event"))?;
        from_row(&row)
    }

    /// One chain's events, newest first, filtered and paged by `seq`.
    pub async fn list_audit(&self, q: &AuditQuery) -> Result<AuditPage> {
        let limit = q.limit.clamp(1, 200);
        let mut sql = Sql::new(&format!(
            "SELECT {COLUMNS} FROM audit_events WHERE chain = "
        ));
        sql.bind(Param::Text(chain_of(q.site)));
        if let Some(action) = q.action.as_deref().filter(|a| !a.is_empty()) {
            sql.push(" AND (action = ")
                .bind(Param::Text(action.to_owned()))
                .push(" OR action LIKE ")
                .bind(Param::Text(format!("{}.%", like_escape(action))))
                .push(" ESCAPE '\\')");
        }
        if let Some(actor) = q.actor_id.as_deref().filter(|a| !a.is_empty()) {
            sql.push(" AND actor_id = ")
                .bind(Param::Text(actor.to_owned()));
        }
        if let Some(before) = q.before {
            sql.push(" AND seq < ").bind(Param::Int(before));
        }
        sql.push(" ORDER BY seq DESC LIMIT ")
            .bind(Param::Int(i64::from(limit) + 1));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut events = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        let next_before = if events.len() > limit as usize {
            events.truncate(limit as usize);
            events.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_before,
        })
    }

    /// Deletes a site's events older than `cutoff`: always a prefix of its chain, so the rest
    /// still verifies, and never the newest event, so the chain's head stays checkable.
    /// Returns how many went.
    pub async fn purge_audit_before(&self, site: SiteId, cutoff: Timestamp) -> Result<u64> {
        let chain = site.to_string();
        let done = sqlx::query(
            "DELETE FROM audit_events WHERE chain = $1 AND seq <= \
             (SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE chain = $1 AND created_at < $2) \
             AND seq < (SELECT seq FROM audit_chains WHERE chain = $1)",
        )
        .bind(chain)
        .bind(cutoff.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Recomputes every chain: each event's hash, its link to the one before, no gaps in
    /// `seq`, and the last event matching the chain's recorded head.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        let heads = sqlx::query("SELECT chain, seq, head FROM audit_chains ORDER BY chain")
            .fetch_all(&self.pool)
            .await?;
        let mut report = AuditVerification {
            chains: 0,
            events: 0,
            problems: Vec::new(),
        };
        for head in &heads {
            let chain = text(head, "chain")?;
            let head_seq = int(head, "seq")?;
            let head_hash = text(head, "head")?;
            report.chains += 1;
            let sql = format!("SELECT {COLUMNS} FROM audit_events WHERE chain = $1 ORDER BY seq");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(chain.clone())
                .fetch_all(&self.pool)
                .await?;
            let mut last: Option<(i64, String)> = None;
            for row in &rows {
                report.events += 1;
                let seq = int(row, "seq")?;
                let prev_hash = text(row, "prev_hash")?;
                let stored = text(row, "hash")?;
                let site_id = opt_text(row, "site_id")?;
                let actor_id = opt_text(row, "actor_id")?;
                let target_kind = opt_text(row, "target_kind")?;
                let target_id = opt_text(row, "target_id")?;
                let client_ip = opt_text(row, "client_ip")?;
                let recomputed = Hashed {
                    prev_hash: &prev_hash,
                    chain: &chain,
                    seq,
                    id: &text(row, "id")?,
                    site_id: site_id.as_deref(),
                    actor_kind: &text(row, "actor_kind")?,
                    actor_id: actor_id.as_deref(),
                    action: &text(row, "action")?,
                    target_kind: target_kind.as_deref(),
                    target_id: target_id.as_deref(),
                    client_ip: client_ip.as_deref(),
                    details: &text(row, "details")?,
                    created_at: &text(row, "created_at")?,
                }
                .digest();
                if recomputed != stored {
                    report
                        .problems
                        .push(format!("{chain} #{seq}: content does not match its hash"));
                }
                if let Some((last_seq, last_hash)) = &last {
                    if seq != last_seq + 1 {
                        report.problems.push(format!(
                            "{chain}: events #{}..#{} are missing",
                            last_seq + 1,
                            seq - 1
                        ));
                    }
                    if &prev_hash != last_hash {
                        report
                            .problems
                            .push(format!("{chain} #{seq}: not linked to the event before"));
                    }
                }
                last = Some((seq, stored));
            }
            match last {
                Some((seq, hash)) if seq != head_seq || hash != head_hash => {
                    report.problems.push(format!(
                        "{chain}: the newest events (up to #{head_seq}) are missing or changed"
                    ));
                }
                None if head_seq > 0 => report
                    .problems
                    .push(format!("{chain}: all {head_seq} events are missing")),
                _ => {}
            }
        }
        Ok(report)
    }
}

/// Escapes `LIKE` wildcards so an action filter matches literally.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

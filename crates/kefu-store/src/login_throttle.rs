//! Failed sign-in counters behind login throttling. The store only counts and records locks;
//! the policy (how many failures, how long a lock) is the server's (`auth::throttle`). Keys
//! are hashes chosen by the caller, so the table holds no e-mail or address in clear.

use kefu_core::Timestamp;

use crate::row::{int, opt_time};
use crate::{Result, Store};

impl Store {
    /// The latest lock among `keys` still in force at `now`, if any.
    pub async fn login_locked_until(
        &self,
        keys: &[String],
        now: Timestamp,
    ) -> Result<Option<Timestamp>> {
        let mut latest: Option<Timestamp> = None;
        for key in keys {
            let row = sqlx::query(
                "SELECT locked_until FROM login_throttle \
                 WHERE key_hash = $1 AND locked_until > $2",
            )
            .bind(key.clone())
            .bind(now.to_string())
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row
                && let Some(until) = opt_time(&row, "locked_until")?
            {
                latest = Some(latest.map_or(until, |l| l.max(until)));
            }
        }
        Ok(latest)
    }

    /// Counts one failure for `key` and returns the count in force. A key whose `forget_at`
    /// has passed starts again from one. The increment is a single upsert, so concurrent
    /// failures on several nodes are all counted.
    pub async fn record_login_failure(
        &self,
        key: &str,
        now: Timestamp,
        forget_at: Timestamp,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO login_throttle (key_hash, failures, locked_until, forget_at, updated_at) \
             VALUES ($1, 1, NULL, $2, $3) \
             ON CONFLICT (key_hash) DO UPDATE SET \
               failures = CASE WHEN login_throttle.forget_at <= $3 THEN 1 \
                               ELSE login_throttle.failures + 1 END, \
               locked_until = CASE WHEN login_throttle.forget_at <= $3 THEN NULL \
                                   ELSE login_throttle.locked_until END, \
               forget_at = CASE WHEN login_throttle.forget_at <= $3 \
                                  OR login_throttle.forget_at < $2 THEN $2 \
                                ELSE login_throttle.forget_at END, \
               updated_at = $3 \
             RETURNING failures",
        )
        .bind(key.to_owned())
        .bind(forget_at.to_string())
        .bind(now.to_string())
        .fetch_one(&self.pool)
        .await?;
        int(&row, "failures")
    }

    /// Locks `key` until `until` (never shortening a longer lock) and remembers it until
    /// `forget_at`.
    pub async fn lock_login_key(
        &self,
        key: &str,
        until: Timestamp,
        forget_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE login_throttle SET \
               locked_until = CASE WHEN locked_until IS NULL OR locked_until < $1 THEN $1 \
                                   ELSE locked_until END, \
               forget_at = CASE WHEN forget_at < $2 THEN $2 ELSE forget_at END \
             WHERE key_hash = $3",
        )
        .bind(until.to_string())
        .bind(forget_at.to_string())
        .bind(key.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets a key's failures (a successful sign-in).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_throttle WHERE key_hash = $1")
            .bind(key.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes counters that have nothing left to remember.
    pub async fn purge_login_throttle(&self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM login_throttle WHERE forget_at <= $1")
            .bind(now.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

//! Login throttling with back-off, per account and per client address.
//!
//! Failed sign-ins are counted in the database (`login_throttle`), so the count survives a
//! restart and is shared by every node on one PostgreSQL. After `login_account_max_failures`
//! failures for one e-mail (or `login_ip_max_failures` from one address) the key is locked
//! for `login_lock_secs`; each further failure after a lock ends doubles the lock, up to
//! `login_lock_max_secs`. While locked, every attempt is refused with 429
//! `too_many_attempts` and a `Retry-After`, the right password included, and before any
//! password is checked.
//!
//! The account key is the e-mail as typed (normalised), not the agent: unknown e-mails are
//! counted and locked exactly like known ones, so the refusals reveal nothing about which
//! accounts exist. A successful sign-in clears the account's counter but not the address's,
//! so an attacker holding one valid account cannot reset the address limit with it.

use std::net::IpAddr;

use axum::http::StatusCode;
use kefu_core::Timestamp;
use kefu_core::config::Config;

use super::hash_secret;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The throttle keys of one sign-in attempt.
#[derive(Clone, Debug)]
pub struct LoginKeys {
    /// The e-mail's key; absent when the attempt names no account (a bad challenge).
    account: Option<String>,
    ip: String,
}

impl LoginKeys {
    /// Keys for an attempt on `email` from `ip`.
    pub fn new(email: &str, ip: IpAddr) -> Self {
        Self {
            account: Some(account_key(email)),
            ip: ip_key(ip),
        }
    }

    /// Keys for an attempt that names no account.
    pub fn ip_only(ip: IpAddr) -> Self {
        Self {
            account: None,
            ip: ip_key(ip),
        }
    }

    fn all(&self) -> Vec<String> {
        self.account
            .iter()
            .cloned()
            .chain(std::iter::once(self.ip.clone()))
            .collect()
    }
}

/// The throttle key of an e-mail address (case and surrounding space do not matter).
pub fn account_key(email: &str) -> String {
    hash_secret(&format!("account:{}", email.trim().to_lowercase()))
}

/// The throttle key of a client address. IPv6 clients usually hold a whole /64, so that is
/// what is counted; IPv4-mapped addresses count as their IPv4 address.
pub fn ip_key(ip: IpAddr) -> String {
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::V6(octets.into())
            }
        },
        v4 => v4,
    };
    hash_secret(&format!("ip:{ip}"))
}

/// Lock length after `failures` failures, when that many call for a lock: the first lock at
/// `max_failures`, doubling with each further failure, capped.
pub fn lock_secs(failures: i64, max_failures: u32, base: u64, cap: u64) -> Option<u64> {
    let over = failures - i64::from(max_failures.max(1));
    if over < 0 {
        return None;
    }
    let doublings = u32::try_from(over).unwrap_or(u32::MAX).min(32);
    Some(
        base.max(1)
            .saturating_mul(1u64 << doublings)
            .min(cap.max(1)),
    )
}

/// 429 `too_many_attempts` with the seconds until the lock ends.
pub fn too_many_attempts(retry_after: u64) -> ApiError {
    let retry_after = retry_after.max(1);
    ApiError {
        retry_after: Some(retry_after),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed sign-ins; try again in {retry_after} seconds"),
        )
    }
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX / 2)
}

/// Refuses the attempt when any of its keys is locked.
pub async fn check(state: &AppState, keys: &LoginKeys) -> ApiResult<()> {
    let now = Timestamp::now();
    match state.store.login_locked_until(&keys.all(), now).await? {
        Some(until) => Err(too_many_attempts(seconds_until(now, until))),
        None => Ok(()),
    }
}

fn seconds_until(now: Timestamp, until: Timestamp) -> u64 {
    // Rounded up, so a client that waits exactly this long finds the lock over.
    let mut whole = until.unix_seconds() - now.unix_seconds();
    if now.plus_seconds(whole) < until {
        whole += 1;
    }
    u64::try_from(whole).unwrap_or(1).max(1)
}

/// Counts a failed attempt against each key, locking those over their limit.
pub async fn record_failure(state: &AppState, keys: &LoginKeys) -> ApiResult<()> {
    let config = &state.config;
    if let Some(account) = &keys.account {
        count(state, account, config.login_account_max_failures, config).await?;
    }
    count(state, &keys.ip, config.login_ip_max_failures, config).await?;
    let now = Timestamp::now();
    // Old counters are dropped here, off the success path, so the table tracks only recent
    // trouble.
    if let Err(e) = state.store.purge_login_throttle(now).await {
        tracing::warn!(error = %e, "purging old login counters failed");
    }
    Ok(())
}

async fn count(state: &AppState, key: &str, max_failures: u32, config: &Config) -> ApiResult<()> {
    let now = Timestamp::now();
    let window = secs(config.login_failure_window_secs);
    let failures = state
        .store
        .record_login_failure(key, now, now.plus_seconds(window))
        .await?;
    if let Some(lock) = lock_secs(
        failures,
        max_failures,
        config.login_lock_secs,
        config.login_lock_max_secs,
    ) {
        let until = now.plus_seconds(secs(lock));
        state
            .store
            .lock_login_key(key, until, until.plus_seconds(window))
            .await?;
        tracing::warn!(
            failures,
            lock_secs = lock,
            "sign-in locked after repeated failures"
        );
    }
    Ok(())
}

/// A successful sign-in: forgets the account's failures.
pub async fn record_success(state: &AppState, keys: &LoginKeys) -> ApiResult<()> {
    if let Some(account) = &keys.account {
        state.store.clear_login_failures(account).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_at_the_limit_double_and_cap() {
        assert_eq!(lock_secs(4, 5, 60, 900), None);
        assert_eq!(lock_secs(5, 5, 60, 900), Some(60));
        assert_eq!(lock_secs(6, 5, 60, 900), Some(120));
        assert_eq!(lock_secs(7, 5, 60, 900), Some(240));
        assert_eq!(lock_secs(9, 5, 60, 900), Some(900));
        assert_eq!(lock_secs(500, 5, 60, 900), Some(900));
    }

    #[test]
    fn keys_normalise_email_and_address() {
        assert_eq!(
            account_key(" Li@Example.com "),
            account_key("li@example.com")
        );
        assert_ne!(account_key("a@x.io"), account_key("b@x.io"));
        let a: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b), "one /64");
        assert_ne!(ip_key(a), ip_key(c));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_key(v4), ip_key(mapped));
        // The account and address spaces never collide.
        assert_ne!(account_key("192.0.2.7"), ip_key(v4));
    }

    #[test]
    fn refusal_carries_retry_after() {
        let e = too_many_attempts(0);
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "too_many_attempts");
        assert_eq!(e.retry_after, Some(1));
    }
}

//! Retry timing: exponential backoff with full jitter, and `Retry-After` parsing (delay
//! seconds or an HTTP date, RFC 9110 §10.2.3).

use std::time::{Duration, SystemTime};

use rand::Rng;

use super::config::RetryPolicy;

/// The wait before retry number `retry` (0 for the first retry): uniform in
/// `[0, min(max_delay, base_delay × 2^retry)]`. Full jitter spreads a crowd of callers that
/// failed together, which is what a 429 or a provider blip produces.
pub(crate) fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let ceiling = policy
        .base_delay
        .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
        .min(policy.max_delay);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

/// A `Retry-After` value as a delay from `now`; a date in the past is zero, garbage is `None`.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // Some servers send fractional seconds; accept them rather than ignore the hint.
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_the_growing_capped_window() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(10),
        };
        for _ in 0..200 {
            assert!(backoff(&policy, 0) <= Duration::from_millis(100));
            assert!(backoff(&policy, 1) <= Duration::from_millis(200));
            assert!(backoff(&policy, 2) <= Duration::from_millis(350));
            assert!(backoff(&policy, 40) <= Duration::from_millis(350));
        }
        // Jitter really varies (200 draws all equal would mean no randomness).
        let draws: std::collections::HashSet<_> = (0..200).map(|_| backoff(&policy, 2)).collect();
        assert!(draws.len() > 10);
    }

    #[test]
    fn retry_after_as_seconds_or_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}

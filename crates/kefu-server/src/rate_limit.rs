//! Per-visitor message rate limit (token bucket, in memory). A visitor over the limit gets
//! `429 rate_limited` with `Retry-After`; nothing already stored is touched. With several
//! nodes this moves to Redis (scale-out issue).

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kefu_core::VisitorId;

use crate::error::ApiError;

/// Token buckets keyed by visitor.
pub struct VisitorLimiter {
    limiter: DefaultKeyedRateLimiter<VisitorId>,
    clock: DefaultClock,
}

impl VisitorLimiter {
    /// `per_minute` sustained, `burst` at once (both at least 1).
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one message's token, or says how long to wait.
    pub fn check(&self, visitor: VisitorId) -> Result<(), ApiError> {
        self.limiter.check_key(&visitor).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::rate_limited(wait.as_secs() + 1)
        })
    }

    /// Forgets visitors whose buckets are full again, so memory tracks active visitors only.
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse_per_visitor() {
        let limiter = VisitorLimiter::new(1, 3);
        let (a, b) = (VisitorId::new(), VisitorId::new());
        for _ in 0..3 {
            limiter.check(a).unwrap();
        }
        let err = limiter.check(a).unwrap_err();
        assert_eq!(err.code, "rate_limited");
        assert!(err.retry_after.unwrap() >= 1);
        limiter.check(b).unwrap();
    }
}

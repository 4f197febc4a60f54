//! Admission control before any provider is called: per-site and per-visitor token buckets
//! (governor keyed limiters), then a concurrency limit with a bounded wait queue. A full queue
//! fails at once: a visitor waiting minutes behind hundreds of calls is worse than a quick
//! hand-off, and an unbounded queue turns an overload into an outage.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use kefu_core::{SiteId, VisitorId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::config::{ConcurrencyConfig, RateLimit, RateLimits};
use super::error::{GatewayError, LimitScope, TimeoutPhase};

/// Forget idle buckets every this many checks, so one-off visitors do not accumulate.
const PRUNE_EVERY: u64 = 4096;

fn quota(limit: RateLimit) -> Quota {
    let per_minute = limit.per_minute.max(1);
    let period = Duration::from_secs(60) / per_minute;
    let burst = NonZeroU32::new(limit.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
        .allow_burst(burst)
}

pub(crate) struct RateLimiters {
    site: Option<DefaultKeyedRateLimiter<SiteId>>,
    visitor: Option<DefaultKeyedRateLimiter<VisitorId>>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl RateLimiters {
    pub(crate) fn new(config: RateLimits) -> Self {
        Self {
            site: config
                .per_site
                .map(|l| DefaultKeyedRateLimiter::keyed(quota(l))),
            visitor: config
                .per_visitor
                .map(|l| DefaultKeyedRateLimiter::keyed(quota(l))),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one token from the visitor's and the site's bucket. The visitor is checked first
    /// so that one noisy visitor is refused without draining the whole site's budget.
    pub(crate) fn check(
        &self,
        site: SiteId,
        visitor: Option<VisitorId>,
    ) -> Result<(), GatewayError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            if let Some(l) = &self.site {
                l.retain_recent();
            }
            if let Some(l) = &self.visitor {
                l.retain_recent();
            }
        }
        if let (Some(limiter), Some(visitor)) = (&self.visitor, visitor) {
            limiter
                .check_key(&visitor)
                .map_err(|n| GatewayError::RateLimited {
                    scope: LimitScope::Visitor,
                    retry_after: n.wait_time_from(self.clock.now()),
                })?;
        }
        if let Some(limiter) = &self.site {
            limiter
                .check_key(&site)
                .map_err(|n| GatewayError::RateLimited {
                    scope: LimitScope::Site,
                    retry_after: n.wait_time_from(self.clock.now()),
                })?;
        }
        Ok(())
    }
}

/// The concurrency limit and its bounded queue.
pub(crate) struct Admission {
    slots: Arc<Semaphore>,
    max_in_flight: usize,
    max_queued: usize,
    queued: AtomicUsize,
}

/// Decrements the queue length however the wait ends (slot, deadline, or caller dropped).
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    pub(crate) fn new(config: ConcurrencyConfig) -> Self {
        let max_in_flight = config.max_in_flight.max(1);
        Self {
            slots: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            max_queued: config.max_queued,
            queued: AtomicUsize::new(0),
        }
    }

    /// A slot, waiting in the bounded queue until `deadline` if none is free.
    pub(crate) async fn acquire(
        &self,
        deadline: Instant,
    ) -> Result<OwnedSemaphorePermit, GatewayError> {
        if let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() {
            return Ok(permit);
        }
        let before = self.queued.fetch_add(1, Ordering::AcqRel);
        let _queued = Queued(&self.queued);
        if before >= self.max_queued {
            return Err(GatewayError::QueueFull {
                in_flight: self.max_in_flight,
                queued: before,
            });
        }
        match tokio::time::timeout_at(deadline, Arc::clone(&self.slots).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; treat it like a timeout if it ever were.
            Ok(Err(_)) | Err(_) => Err(GatewayError::Timeout {
                provider: String::new(),
                phase: TimeoutPhase::Deadline,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_fails_fast_and_frees_up_when_a_slot_returns() {
        let adm = Arc::new(Admission::new(ConcurrencyConfig {
            max_in_flight: 1,
            max_queued: 1,
        }));
        let far = Instant::now() + Duration::from_secs(60);
        let held = adm.acquire(far).await.unwrap();
        let waiter = {
            let adm = Arc::clone(&adm);
            tokio::spawn(async move { adm.acquire(far).await.map(drop) })
        };
        while adm.queued.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        let err = adm.acquire(far).await.unwrap_err();
        assert_eq!(err.code(), "queue_full");
        drop(held);
        waiter.await.unwrap().unwrap();
        assert_eq!(adm.queued.load(Ordering::Acquire), 0);
    }

    #[test]
    fn visitor_bucket_refuses_before_the_site_bucket_drains() {
        let limits = RateLimiters::new(RateLimits {
            per_site: Some(RateLimit {
                per_minute: 60,
                burst: 10,
            }),
            per_visitor: Some(RateLimit {
                per_minute: 1,
                burst: 2,
            }),
        });
        let site = SiteId::new();
        let (a, b) = (VisitorId::new(), VisitorId::new());
        limits.check(site, Some(a)).unwrap();
        limits.check(site, Some(a)).unwrap();
        let err = limits.check(site, Some(a)).unwrap_err();
        assert!(
            matches!(err, GatewayError::RateLimited { scope: LimitScope::Visitor, retry_after } if retry_after > Duration::from_secs(1))
        );
        limits.check(site, Some(b)).unwrap();
    }
}

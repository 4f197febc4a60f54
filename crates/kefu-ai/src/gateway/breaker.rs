//! A circuit breaker per provider: closed (calls flow) → open after `failure_threshold`
//! consecutive failures (calls skip the provider, so the chain falls back at once instead of
//! waiting for timeouts) → half-open after `cool_down` (exactly one probe call goes through;
//! success closes the circuit, failure opens it for another cool-down).

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::time::Instant;

use super::config::BreakerConfig;

/// A circuit's state, as exposed for tests, metrics and the admin view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CircuitState {
    Closed { consecutive_failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    state: Mutex<CircuitState>,
}

/// Permission for one attempt; report its outcome with [`Attempt::success`] or
/// [`Attempt::failure`]. Dropped without either (the caller was cancelled), a half-open probe
/// slot is given back so the circuit cannot get stuck half-open.
#[derive(Debug)]
pub(crate) struct Attempt {
    breaker: Arc<Breaker>,
    probe: bool,
    reported: bool,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            state: Mutex::new(CircuitState::Closed {
                consecutive_failures: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, CircuitState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(crate) fn state(&self) -> CircuitState {
        *self.lock()
    }

    /// An attempt, or `None` while the circuit is open (or half-open with its probe out).
    pub(crate) fn try_acquire(self: &Arc<Self>) -> Option<Attempt> {
        let mut state = self.lock();
        let probe = match *state {
            CircuitState::Closed { .. } => false,
            CircuitState::Open { until } if Instant::now() >= until => {
                *state = CircuitState::HalfOpen { probing: true };
                true
            }
            CircuitState::HalfOpen { probing: false } => {
                *state = CircuitState::HalfOpen { probing: true };
                true
            }
            CircuitState::Open { .. } | CircuitState::HalfOpen { probing: true } => return None,
        };
        Some(Attempt {
            breaker: Arc::clone(self),
            probe,
            reported: false,
        })
    }
}

impl Attempt {
    /// The provider answered (even with an error the request caused): it is healthy.
    pub(crate) fn success(mut self) {
        self.reported = true;
        *self.breaker.lock() = CircuitState::Closed {
            consecutive_failures: 0,
        };
    }

    /// The provider failed this attempt.
    pub(crate) fn failure(mut self) {
        self.reported = true;
        let config = self.breaker.config;
        let mut state = self.breaker.lock();
        let open = CircuitState::Open {
            until: Instant::now() + config.cool_down,
        };
        *state = match *state {
            CircuitState::Closed {
                consecutive_failures,
            } => {
                let n = consecutive_failures.saturating_add(1);
                if n >= config.failure_threshold {
                    tracing::warn!(failures = n, "provider circuit opened");
                    open
                } else {
                    CircuitState::Closed {
                        consecutive_failures: n,
                    }
                }
            }
            // A failed probe (or a late failure of a call started before the circuit opened)
            // keeps it open for another cool-down.
            CircuitState::HalfOpen { .. } | CircuitState::Open { .. } => open,
        };
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.probe && !self.reported {
            let mut state = self.breaker.lock();
            if *state == (CircuitState::HalfOpen { probing: true }) {
                *state = CircuitState::HalfOpen { probing: false };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn breaker() -> Arc<Breaker> {
        Breaker::new(BreakerConfig {
            failure_threshold: 3,
            cool_down: Duration::from_secs(30),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_then_half_opens_one_probe_after_cool_down() {
        let b = breaker();
        for _ in 0..2 {
            b.try_acquire().unwrap().failure();
        }
        assert_eq!(
            b.state(),
            CircuitState::Closed {
                consecutive_failures: 2
            }
        );
        b.try_acquire().unwrap().failure();
        assert!(matches!(b.state(), CircuitState::Open { .. }));
        assert!(b.try_acquire().is_none(), "open circuit skips the provider");

        tokio::time::advance(Duration::from_secs(31)).await;
        let probe = b.try_acquire().expect("half-open lets one probe through");
        assert!(b.try_acquire().is_none(), "only one probe at a time");
        probe.failure();
        assert!(
            matches!(b.state(), CircuitState::Open { .. }),
            "failed probe re-opens"
        );

        tokio::time::advance(Duration::from_secs(31)).await;
        b.try_acquire().unwrap().success();
        assert_eq!(
            b.state(),
            CircuitState::Closed {
                consecutive_failures: 0
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_count_and_a_dropped_probe_frees_the_slot() {
        let b = breaker();
        b.try_acquire().unwrap().failure();
        b.try_acquire().unwrap().failure();
        b.try_acquire().unwrap().success();
        b.try_acquire().unwrap().failure();
        assert_eq!(
            b.state(),
            CircuitState::Closed {
                consecutive_failures: 1
            }
        );

        for _ in 0..2 {
            b.try_acquire().unwrap().failure();
        }
        assert!(matches!(b.state(), CircuitState::Open { .. }));
        tokio::time::advance(Duration::from_secs(31)).await;
        drop(b.try_acquire().unwrap());
        assert_eq!(b.state(), CircuitState::HalfOpen { probing: false });
        assert!(b.try_acquire().is_some());
    }
}

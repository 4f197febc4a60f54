//! The provider gateway: the one path every language-model call takes. It speaks the
//! OpenAI chat-completions wire format (non-streamed and SSE-streamed), so any compatible
//! provider is a [`ProviderConfig`] value, and it puts the reliability and cost rules of
//! DESIGN.md on that one path, in this order:
//!
//! 1. **cache** — an answer for the same normalised question and the same cited revisions is
//!    served from memory ([`CacheKey`]); a hit costs nothing and is not rate limited;
//! 2. **rate limits** — per-visitor, then per-site token buckets ([`GatewayError::RateLimited`]);
//! 3. **concurrency** — a slot, or a place in a bounded queue ([`GatewayError::QueueFull`]);
//! 4. **fallback chain** — providers in order; one whose circuit is open is skipped;
//! 5. **retries** — on 429, 5xx, network errors, timeouts and broken streams, with full-jitter
//!    exponential backoff or the provider's `Retry-After`, up to `max_attempts` per provider;
//!    a `Retry-After` longer than `max_retry_after`, or a wait past the deadline, moves on to
//!    the next provider instead;
//! 6. **circuit breaker** — every attempt's outcome feeds the provider's breaker;
//! 7. **accounting and request log** — tokens and cost per site and UTC day, and one metadata
//!    record per call.
//!
//! The whole call is bounded by [`GatewayConfig::deadline`].
//!
//! ## Streaming failure semantics
//!
//! A streamed call always ends in exactly one terminal item: `Done` or an error.
//! - A failure *before any text was shown* is retried or falls back invisibly.
//! - A failure *after text was shown* (stall past `idle`, reset, malformed chunk, error
//!   object) restarts the answer on the next attempt, at most `max_restarts` times: the
//!   consumer receives [`StreamEvent::Restarted`] right before the new attempt's first delta
//!   and discards what it showed. With no restart left, the stream ends with the error, which
//!   the answer engine turns into a `provider_error` hand-off; the partial text is never
//!   committed as a message.
//! - Output that does not stop is cut: past the output-token cap (estimated, with a margin)
//!   the answer finishes with [`FinishReason::Length`]; still flowing at the provider's total
//!   timeout it finishes with [`FinishReason::Timeout`]. Both are `Done`, with the text so far.

mod breaker;
mod cache;
mod config;
mod error;
mod limits;
mod log;
mod provider;
mod retry;
mod sse;
mod stream;
mod types;
mod usage;
mod wire;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

pub use breaker::CircuitState;
pub use cache::{CacheKey, normalise_question};
pub use config::{
    ApiKey, BreakerConfig, CacheConfig, ConcurrencyConfig, GatewayConfig, Pricing, ProviderConfig,
    ProviderKind, RateLimit, RateLimits, RetryPolicy, Timeouts,
};
pub use error::{GatewayError, LimitScope, TimeoutPhase};
pub use log::{RequestLog, RequestLogFn};
pub use stream::GatewayStream;
pub use types::{ChatMessage, ChatRequest, ChatResponse, FinishReason, Role, StreamEvent, Usage};
pub use usage::{
    SiteDayUsage, UsageLedger, UsageRecord, UsageSink, UsageTotals, estimate_prompt_tokens,
    estimate_tokens,
};

use cache::ResponseCache;
use limits::{Admission, RateLimiters};
use provider::{Failure, Outcome, Provider};
use stream::Emitter;

/// The gateway; cheap to clone (all clones share limits, circuits, cache and accounting).
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    providers: Vec<Provider>,
    retry: RetryPolicy,
    deadline: Duration,
    max_restarts: u32,
    log_message_text: bool,
    limits: RateLimiters,
    admission: Admission,
    cache: ResponseCache,
    ledger: Arc<UsageLedger>,
    sinks: Vec<Arc<dyn UsageSink>>,
    request_log: Option<RequestLogFn>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let providers: Vec<&ProviderConfig> =
            self.inner.providers.iter().map(|p| &p.config).collect();
        f.debug_struct("Gateway")
            .field("providers", &providers)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Gateway`] with optional sinks.
pub struct GatewayBuilder {
    config: GatewayConfig,
    sinks: Vec<Arc<dyn UsageSink>>,
    request_log: Option<RequestLogFn>,
}

impl GatewayBuilder {
    /// Also sends every usage record to `sink` (the in-memory ledger always gets them).
    pub fn usage_sink(mut self, sink: Arc<dyn UsageSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Calls `log` with every request's metadata.
    pub fn request_log(mut self, log: RequestLogFn) -> Self {
        self.request_log = Some(log);
        self
    }

    /// Validates the configuration and builds the HTTP clients.
    pub fn build(self) -> Result<Gateway, GatewayError> {
        let c = self.config;
        if c.providers.is_empty() {
            return Err(GatewayError::Config("no providers configured".into()));
        }
        let providers = c
            .providers
            .into_iter()
            .map(|p| Provider::new(p, c.breaker))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Gateway {
            inner: Arc::new(Inner {
                providers,
                retry: RetryPolicy {
                    max_attempts: c.retry.max_attempts.max(1),
                    ..c.retry
                },
                deadline: c.deadline,
                max_restarts: c.max_restarts,
                log_message_text: c.log_message_text,
                limits: RateLimiters::new(c.rate_limits),
                admission: Admission::new(c.concurrency),
                cache: ResponseCache::new(c.cache),
                ledger: Arc::new(UsageLedger::default()),
                sinks: self.sinks,
                request_log: self.request_log,
            }),
        })
    }
}

/// Counters of one call, for the log.
#[derive(Default)]
struct CallStats {
    attempts: u32,
    restarts: u32,
    /// Index of the provider that answered or failed last.
    provider: Option<usize>,
}

impl Gateway {
    /// A gateway with no extra sinks.
    pub fn new(config: GatewayConfig) -> Result<Self, GatewayError> {
        Self::builder(config).build()
    }

    /// A builder, to add a [`UsageSink`] or a request-log callback.
    pub fn builder(config: GatewayConfig) -> GatewayBuilder {
        GatewayBuilder {
            config,
            sinks: Vec::new(),
            request_log: None,
        }
    }

    /// Runs a completion without streaming.
    pub async fn chat(&self, req: ChatRequest) -> Result<ChatResponse, GatewayError> {
        self.execute(&req, &mut Emitter::unary()).await
    }

    /// Runs a completion, streaming its text (see the module docs for the event contract).
    /// The call starts when the stream is first polled and runs as the stream is polled, on a
    /// tokio runtime (see `stream.rs` for why it is not a task of its own).
    pub fn chat_stream(&self, req: ChatRequest) -> GatewayStream {
        let (tx, rx) = mpsc::channel(stream::CHANNEL);
        let gateway = self.clone();
        GatewayStream::new(
            async move {
                let mut em = Emitter::streaming(tx.clone());
                let result = gateway.execute(&req, &mut em).await;
                // Fails only when the stream was dropped, and then nobody is listening.
                let _ = tx.send(result.map(StreamEvent::Done)).await;
            },
            rx,
        )
    }

    /// Drops a cached answer, so the next identical request reaches a provider: the caller
    /// decides what is worth repeating (a declined answer is not).
    pub fn forget_cached(&self, site: kefu_core::SiteId, key: &CacheKey) {
        self.inner.cache.remove(site, key);
    }

    /// Per-site, per-UTC-day token and cost totals since start.
    pub fn usage(&self) -> &UsageLedger {
        &self.inner.ledger
    }

    /// A provider's circuit state, by its configured name.
    pub fn circuit_state(&self, provider: &str) -> Option<CircuitState> {
        self.inner
            .providers
            .iter()
            .find(|p| p.config.name == provider)
            .map(|p| p.breaker.state())
    }

    async fn execute(
        &self,
        req: &ChatRequest,
        em: &mut Emitter,
    ) -> Result<ChatResponse, GatewayError> {
        let started = Instant::now();
        let mut stats = CallStats::default();
        let result = self.run(req, em, started, &mut stats).await;
        self.finish(req, &result, &stats, em, started.elapsed());
        result
    }

    async fn run(
        &self,
        req: &ChatRequest,
        em: &mut Emitter,
        started: Instant,
        stats: &mut CallStats,
    ) -> Result<ChatResponse, GatewayError> {
        let inner = &*self.inner;
        if let Some(key) = &req.cache_key
            && let Some(mut hit) = inner.cache.get(req.site, key)
        {
            em.delta(hit.content.clone()).await?;
            hit.cache_hit = true;
            hit.attempts = 0;
            hit.cost_micros = 0;
            hit.latency = started.elapsed();
            hit.first_token_latency = em.first_delta_at.map(|t| t - started);
            return Ok(hit);
        }
        inner.limits.check(req.site, req.visitor)?;
        let deadline = started + inner.deadline;
        let _slot = inner.admission.acquire(deadline).await?;

        let mut last: Option<GatewayError> = None;
        'providers: for (index, provider) in inner.providers.iter().enumerate() {
            for attempt in 0..inner.retry.max_attempts {
                if Instant::now() >= deadline {
                    break 'providers;
                }
                let Some(permit) = provider.breaker.try_acquire() else {
                    last.get_or_insert(GatewayError::CircuitOpen);
                    continue 'providers;
                };
                stats.attempts += 1;
                stats.provider = Some(index);
                let outcome = if em.is_streaming() {
                    provider.stream(req, deadline, em).await
                } else {
                    provider.complete(req, deadline).await
                };
                let failure = match outcome {
                    Ok(outcome) => {
                        permit.success();
                        return Ok(self.answered(req, provider, outcome, started, stats, em));
                    }
                    Err(f) => f,
                };
                if matches!(failure.error, GatewayError::Cancelled) {
                    return Err(GatewayError::Cancelled);
                }
                if failure.provider_fault {
                    permit.failure();
                } else {
                    permit.success();
                }
                tracing::debug!(
                    target: "kefu_ai::gateway",
                    provider = %provider.config.name,
                    attempt,
                    code = failure.error.code(),
                    error = %failure.error,
                    "attempt failed"
                );
                let Failure {
                    error,
                    retry,
                    retry_after,
                    ..
                } = failure;
                if em.emitted {
                    if stats.restarts >= inner.max_restarts {
                        // Text was shown and may not be replaced again: end here, clearly.
                        return Err(error);
                    }
                    stats.restarts += 1;
                    em.restart();
                }
                last = Some(error);
                if !retry || attempt + 1 >= inner.retry.max_attempts {
                    continue 'providers;
                }
                let wait = match retry_after {
                    Some(wait) if wait > inner.retry.max_retry_after => continue 'providers,
                    Some(wait) => wait,
                    None => retry::backoff(&inner.retry, attempt),
                };
                if Instant::now() + wait >= deadline {
                    continue 'providers;
                }
                tokio::time::sleep(wait).await;
            }
        }
        Err(match last {
            None => GatewayError::Timeout {
                provider: String::new(),
                phase: TimeoutPhase::Deadline,
            },
            Some(GatewayError::CircuitOpen) if stats.attempts == 0 => GatewayError::CircuitOpen,
            Some(last) => GatewayError::AllProvidersFailed {
                attempts: stats.attempts,
                last: Box::new(last),
            },
        })
    }

    fn answered(
        &self,
        req: &ChatRequest,
        provider: &Provider,
        outcome: Outcome,
        started: Instant,
        stats: &CallStats,
        em: &Emitter,
    ) -> ChatResponse {
        let response = ChatResponse {
            cost_micros: usage::cost_micros(&provider.config.pricing, &outcome.usage),
            content: outcome.content,
            finish_reason: outcome.finish_reason,
            usage: outcome.usage,
            provider: provider.config.name.clone(),
            model: provider.config.model.clone(),
            attempts: stats.attempts,
            cache_hit: false,
            latency: started.elapsed(),
            first_token_latency: em.first_delta_at.map(|t| t - started),
        };
        // Only complete answers are worth repeating.
        if let Some(key) = &req.cache_key
            && response.finish_reason == FinishReason::Stop
        {
            self.inner
                .cache
                .insert(req.site, key.clone(), response.clone());
        }
        response
    }

    /// Accounting and the request log, once per call.
    fn finish(
        &self,
        req: &ChatRequest,
        result: &Result<ChatResponse, GatewayError>,
        stats: &CallStats,
        em: &Emitter,
        latency: Duration,
    ) {
        let inner = &*self.inner;
        let provider = stats.provider.and_then(|i| inner.providers.get(i));
        let mut record = UsageRecord::today(req.site);
        match result {
            Ok(r) => {
                record.provider.clone_from(&r.provider);
                record.model.clone_from(&r.model);
                record.cache_hit = r.cache_hit;
                if !r.cache_hit {
                    record.usage = r.usage;
                    record.cost_micros = r.cost_micros;
                }
            }
            Err(_) => {
                record.failed = true;
                if let Some(p) = provider {
                    record.provider.clone_from(&p.config.name);
                    record.model.clone_from(&p.config.model);
                }
            }
        }
        inner.ledger.record(&record);
        for sink in &inner.sinks {
            sink.record(&record);
        }
        let text = inner.log_message_text;
        let log = RequestLog {
            site: req.site,
            provider: record.provider,
            model: record.model,
            status: result.as_ref().map_or_else(GatewayError::code, |_| "ok"),
            streamed: em.is_streaming(),
            attempts: stats.attempts,
            restarts: stats.restarts,
            latency,
            first_token_latency: result.as_ref().ok().and_then(|r| r.first_token_latency),
            prompt_tokens: record.usage.prompt_tokens,
            completion_tokens: record.usage.completion_tokens,
            estimated_usage: record.usage.estimated,
            cost_micros: record.cost_micros,
            cache_hit: record.cache_hit,
            finish_reason: result.as_ref().ok().map(|r| r.finish_reason.clone()),
            prompt: text.then(|| req.messages.clone()),
            reply: text.then(|| {
                result
                    .as_ref()
                    .map_or_else(|_| String::new(), |r| r.content.clone())
            }),
        };
        log::emit(&log, inner.request_log.as_ref());
    }
}

//! Gateway configuration: the provider chain and every reliability knob, as plain values the
//! server builds from its typed config. Providers are data, not code: any OpenAI-compatible
//! endpoint is a base URL, a model and a key.
//!
//! `base_url` is the API root *including* its version path, as the OpenAI SDKs take it, and
//! the gateway appends `/chat/completions`. That one rule covers every vendor, including those
//! whose version path is not `/v1`:
//!
//! | provider | `base_url` |
//! |---|---|
//! | OpenAI | `https://api.openai.com/v1` |
//! | Azure OpenAI ([`ProviderKind::Azure`]) | `https://{resource}.openai.azure.com/openai/deployments/{deployment}` |
//! | DeepSeek | `https://api.deepseek.com/v1` |
//! | Qwen (DashScope compatible mode) | `https://dashscope.aliyuncs.com/compatible-mode/v1` |
//! | Moonshot | `https://api.moonshot.cn/v1` |
//! | Zhipu | `https://open.bigmodel.cn/api/paas/v4` |
//! | Ollama | `http://localhost:11434/v1` |
//! | vLLM | `http://host:8000/v1` |
//! | llama.cpp `llama-server` | `http://host:8080/v1` |

use std::fmt;
use std::time::Duration;

/// A provider API key. It has no `Serialize` impl and its `Debug`/`Display` print `***`, so
/// it cannot leak through logs, debug dumps or an API that echoes config back.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for building the auth header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to address and authenticate with a provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenAI and every compatible server: `Authorization: Bearer <key>` (omitted without a
    /// key, for local servers).
    OpenAiCompatible,
    /// Azure OpenAI: `api-key: <key>` header and an `api-version` query parameter.
    Azure { api_version: String },
}

/// Prices per 1M tokens, in whatever currency the site accounts in.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pricing {
    pub input_per_million: f64,
    pub output_per_million: f64,
}

/// A provider's timeouts. Streaming uses all four; a non-streaming call uses `connect` and
/// `total` (its body only arrives when generation ends, so there is no first token to time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// From sending the request to the first content token (covers queueing and prefill at the
    /// provider).
    pub first_token: Duration,
    /// Longest silence between two chunks once the stream has started.
    pub idle: Duration,
    /// One attempt, end to end. A stream that is still producing text at this point is cut and
    /// finishes with [`FinishReason::Timeout`](super::FinishReason::Timeout).
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            first_token: Duration::from_secs(20),
            idle: Duration::from_secs(15),
            total: Duration::from_secs(90),
        }
    }
}

/// One provider of the fallback chain.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// Unique name, used in logs, accounting and circuit state.
    pub name: String,
    pub kind: ProviderKind,
    /// The API root including its version path (see the module docs).
    pub base_url: String,
    pub model: String,
    pub api_key: Option<ApiKey>,
    pub pricing: Pricing,
    pub timeouts: Timeouts,
    /// Output cap sent as `max_tokens` (a request may ask for less).
    pub max_output_tokens: u32,
    /// Ask for usage in the last streamed chunk (`stream_options.include_usage`). Turn off for a
    /// server that rejects unknown fields; usage is then estimated.
    pub stream_usage: bool,
}

impl ProviderConfig {
    /// An OpenAI-compatible provider with default timeouts, no key and zero prices.
    pub fn new(
        name: impl Into<String>,
        base_url: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            kind: ProviderKind::OpenAiCompatible,
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            pricing: Pricing::default(),
            timeouts: Timeouts::default(),
            max_output_tokens: 1024,
            stream_usage: true,
        }
    }

    /// Sets the API key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// Sets prices per 1M input and output tokens.
    pub fn with_pricing(mut self, input_per_million: f64, output_per_million: f64) -> Self {
        self.pricing = Pricing {
            input_per_million,
            output_per_million,
        };
        self
    }

    /// Sets the timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Makes this an Azure OpenAI deployment (`base_url` is the deployment URL).
    pub fn azure(mut self, api_version: impl Into<String>) -> Self {
        self.kind = ProviderKind::Azure {
            api_version: api_version.into(),
        };
        self
    }
}

/// Retries on one provider before moving down the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per provider, first one included.
    pub max_attempts: u32,
    /// Backoff before retry `n` is uniform in `[0, min(max_delay, base_delay × 2ⁿ)]` ("full
    /// jitter"), so many callers retrying at once spread out instead of hitting together.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the call moves to the next provider.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(20),
        }
    }
}

/// Per-provider circuit breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failed attempts that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit skips the provider before one probe call is let through.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// Concurrency limit with a bounded wait queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcurrencyConfig {
    /// Calls talking to providers at once.
    pub max_in_flight: usize,
    /// Calls allowed to wait for a slot; one more fails at once with `queue_full`.
    pub max_queued: usize,
}

impl Default for ConcurrencyConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 64,
            max_queued: 256,
        }
    }
}

/// A token bucket: `per_minute` refill with room for `burst` calls at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

/// Rate limits on provider calls (cache hits are free and not limited).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    pub per_site: Option<RateLimit>,
    pub per_visitor: Option<RateLimit>,
}

/// The answer cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// Entries kept; 0 turns the cache off.
    pub capacity: usize,
    pub ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            capacity: 2048,
            ttl: Duration::from_secs(600),
        }
    }
}

/// Everything the gateway needs.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// The fallback chain, tried in order.
    pub providers: Vec<ProviderConfig>,
    pub retry: RetryPolicy,
    pub breaker: BreakerConfig,
    pub concurrency: ConcurrencyConfig,
    pub rate_limits: RateLimits,
    pub cache: CacheConfig,
    /// Bound on a whole call: queue wait, every attempt, every backoff. A call always reaches
    /// its terminal state by then (plus scheduling slack).
    pub deadline: Duration,
    /// How many times a stream may be restarted after it already emitted text (see
    /// [`StreamEvent::Restarted`](super::StreamEvent::Restarted)); 0 turns a mid-stream failure
    /// into an error at once.
    pub max_restarts: u32,
    /// Put prompt and answer text into the request log (admin opt-in; off by default).
    pub log_message_text: bool,
}

impl GatewayConfig {
    /// Defaults around the given chain.
    pub fn new(providers: Vec<ProviderConfig>) -> Self {
        Self {
            providers,
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
            concurrency: ConcurrencyConfig::default(),
            rate_limits: RateLimits::default(),
            cache: CacheConfig::default(),
            deadline: Duration::from_secs(120),
            max_restarts: 1,
            log_message_text: false,
        }
    }
}

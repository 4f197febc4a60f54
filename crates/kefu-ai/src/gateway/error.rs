//! Everything a gateway call can end in besides an answer, with stable snake_case codes the
//! answer engine maps to its `provider_error` hand-off (and the server to its error table).

use std::time::Duration;

/// Which limit refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitScope {
    Site,
    Visitor,
}

impl LimitScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Site => "site",
            Self::Visitor => "visitor",
        }
    }
}

/// Which timeout fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// No TCP/TLS connection in time.
    Connect,
    /// Connected, but no first content token in time.
    FirstToken,
    /// The stream went quiet between chunks.
    Idle,
    /// One attempt ran past the provider's total timeout without producing text.
    Total,
    /// The whole call (queue wait, retries, fallbacks) ran past the gateway deadline.
    Deadline,
}

impl TimeoutPhase {
    fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::FirstToken => "first_token",
            Self::Idle => "idle",
            Self::Total => "total",
            Self::Deadline => "deadline",
        }
    }
}

/// Why a gateway call produced no answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GatewayError {
    /// The configuration is unusable (no providers, a malformed URL, an unbuildable client).
    #[error("gateway configuration: {0}")]
    Config(String),
    /// A per-site or per-visitor token bucket is empty.
    #[error("{} rate limit reached; retry in {retry_after:?}", scope.as_str())]
    RateLimited {
        scope: LimitScope,
        retry_after: Duration,
    },
    /// Every concurrency slot is busy and the wait queue is full: fail fast rather than pile up.
    #[error("gateway busy: {in_flight} calls in flight and {queued} queued")]
    QueueFull { in_flight: usize, queued: usize },
    /// Every provider's circuit is open, so nothing was attempted.
    #[error("every provider's circuit is open")]
    CircuitOpen,
    /// A provider answered with an error status or an error object.
    #[error("provider {provider} failed ({}): {message}", status.map_or_else(|| "-".to_owned(), |s| s.to_string()))]
    Provider {
        provider: String,
        status: Option<u16>,
        message: String,
    },
    /// The connection failed or broke.
    #[error("provider {provider}: connection failed: {message}")]
    Connection { provider: String, message: String },
    /// A timeout fired.
    #[error("provider {provider}: {} timeout", phase.as_str())]
    Timeout {
        provider: String,
        phase: TimeoutPhase,
    },
    /// The provider sent something that is not the OpenAI wire format.
    #[error("provider {provider}: bad response: {message}")]
    BadResponse { provider: String, message: String },
    /// Every provider in the chain was tried (or skipped) and none produced an answer.
    #[error("all providers failed after {attempts} attempts; last: {last}")]
    AllProvidersFailed {
        attempts: u32,
        last: Box<GatewayError>,
    },
    /// The consumer dropped the stream.
    #[error("cancelled by the caller")]
    Cancelled,
}

impl GatewayError {
    /// A stable snake_case code: `config`, `rate_limited`, `queue_full`, `circuit_open`,
    /// `provider_error`, `connection_failed`, `timeout`, `bad_response`,
    /// `all_providers_failed`, `cancelled`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::RateLimited { .. } => "rate_limited",
            Self::QueueFull { .. } => "queue_full",
            Self::CircuitOpen => "circuit_open",
            Self::Provider { .. } => "provider_error",
            Self::Connection { .. } => "connection_failed",
            Self::Timeout { .. } => "timeout",
            Self::BadResponse { .. } => "bad_response",
            Self::AllProvidersFailed { .. } => "all_providers_failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether a person should take over: every failure except the caller's own cancellation.
    /// (Rate limits and a full queue hand off too: the visitor still deserves an answer.)
    pub fn hands_off(&self) -> bool {
        !matches!(self, Self::Cancelled)
    }
}

//! The gateway's request and response types: what the answer engine hands in and gets back,
//! independent of any provider's wire format (that lives in `wire.rs`).

use std::fmt;
use std::time::Duration;

use kefu_core::{SiteId, VisitorId};
use serde::Serialize;

use super::cache::CacheKey;

/// Who wrote a chat message, as the OpenAI chat format names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of the prompt. Its `Debug` shows the role and length only, so a stray `{:?}`
/// in a log line cannot leak what a visitor wrote.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    /// A system message (instructions, grounding passages).
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A visitor's (or agent's) message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An earlier assistant reply.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

impl fmt::Debug for ChatMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatMessage")
            .field("role", &self.role)
            .field("chars", &self.content.chars().count())
            .finish()
    }
}

/// One chat completion to run through the gateway.
#[derive(Clone, Debug)]
pub struct ChatRequest {
    /// The site pays for the call and is rate limited as a whole.
    pub site: SiteId,
    /// The visitor the answer is for; `None` for agent-side calls (copilot, summaries), which
    /// then skip the per-visitor limit.
    pub visitor: Option<VisitorId>,
    /// The prompt, already redacted by the caller.
    pub messages: Vec<ChatMessage>,
    /// Output cap; the provider's `max_output_tokens` applies when it is lower or this is
    /// `None`.
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    /// Set only when the answer depends on nothing but the question and the cited revisions
    /// (see [`CacheKey`]); `None` bypasses the cache.
    pub cache_key: Option<CacheKey>,
}

impl ChatRequest {
    /// A request with no limits of its own and no cache key.
    pub fn new(site: SiteId, messages: Vec<ChatMessage>) -> Self {
        Self {
            site,
            visitor: None,
            messages,
            max_tokens: None,
            temperature: None,
            cache_key: None,
        }
    }
}

/// Why generation stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinishReason {
    /// The model finished its answer.
    Stop,
    /// Cut at the output-token cap (by the provider, or by the gateway for a provider that
    /// ignores it).
    Length,
    /// Cut by the gateway at the total timeout while text was still arriving.
    Timeout,
    /// The provider's content filter stopped it.
    ContentFilter,
    /// Anything else a provider reports (`tool_calls`, vendor values), kept verbatim.
    Other(String),
}

impl FinishReason {
    pub(crate) fn from_wire(value: &str) -> Self {
        match value {
            "stop" | "eos" | "stop_sequence" => Self::Stop,
            "length" | "max_tokens" => Self::Length,
            "content_filter" | "sensitive" => Self::ContentFilter,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The snake_case name used in logs and metrics.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::Timeout => "timeout",
            Self::ContentFilter => "content_filter",
            Self::Other(s) => s,
        }
    }
}

/// Token counts of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// The provider reported no usage, so these are the gateway's estimate
    /// (see [`estimate_tokens`](super::usage::estimate_tokens)).
    pub estimated: bool,
}

/// A finished completion, with the metadata the caller stores or shows in a debug view.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatResponse {
    pub content: String,
    pub finish_reason: FinishReason,
    pub usage: Usage,
    /// The provider that produced it (after any fallback), by its configured name.
    pub provider: String,
    pub model: String,
    /// Cost in millionths of the price currency (prices are per 1M tokens, so this is
    /// `tokens × price` exactly for whole-number prices). Zero for a cache hit.
    pub cost_micros: u64,
    /// HTTP attempts made, over all providers (0 for a cache hit).
    pub attempts: u32,
    pub cache_hit: bool,
    /// From the call entering the gateway to the final result.
    pub latency: Duration,
    /// From the call entering the gateway to the first content delta (streaming only).
    pub first_token_latency: Option<Duration>,
}

/// One item of a streamed completion. A stream yields any number of `Delta`s and `Restarted`s
/// and then exactly one terminal item: `Ok(Done)` or `Err(GatewayError)`; nothing follows it.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// More text of the answer.
    Delta(String),
    /// The attempt that produced the deltas so far failed mid-stream and another attempt (same
    /// or next provider) is starting: the consumer must discard every delta received so far.
    /// Sent only just before the new attempt's first delta, at most `max_restarts` times.
    Restarted,
    /// The answer is complete; `content` is the whole text since the last `Restarted`.
    Done(ChatResponse),
}

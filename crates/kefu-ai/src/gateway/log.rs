//! The request log: one metadata record per finished call, emitted through `tracing` (target
//! `kefu_ai::gateway`) and an optional callback the server uses for its request-log table and
//! metrics. Prompt and answer text appear only when the admin turned
//! [`log_message_text`](super::GatewayConfig::log_message_text) on, and then only at `debug`.

use std::sync::Arc;
use std::time::Duration;

use kefu_core::SiteId;

use super::types::{ChatMessage, FinishReason};

/// Metadata of one finished call.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestLog {
    pub site: SiteId,
    /// The provider that answered or failed last; empty when none was tried.
    pub provider: String,
    pub model: String,
    /// `ok`, or the [`GatewayError::code`](super::GatewayError::code) of the failure.
    pub status: &'static str,
    pub streamed: bool,
    pub attempts: u32,
    pub restarts: u32,
    pub latency: Duration,
    pub first_token_latency: Option<Duration>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub estimated_usage: bool,
    pub cost_micros: u64,
    pub cache_hit: bool,
    pub finish_reason: Option<FinishReason>,
    /// The prompt, only with `log_message_text`.
    pub prompt: Option<Vec<ChatMessage>>,
    /// The answer, only with `log_message_text`.
    pub reply: Option<String>,
}

/// A callback receiving every [`RequestLog`]. Runs on the request path: keep it cheap.
pub type RequestLogFn = Arc<dyn Fn(&RequestLog) + Send + Sync>;

pub(crate) fn emit(record: &RequestLog, callback: Option<&RequestLogFn>) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    tracing::info!(
        target: "kefu_ai::gateway",
        site = %record.site,
        provider = %record.provider,
        model = %record.model,
        status = record.status,
        streamed = record.streamed,
        attempts = record.attempts,
        restarts = record.restarts,
        latency_ms = ms(record.latency),
        first_token_ms = record.first_token_latency.map(ms),
        prompt_tokens = record.prompt_tokens,
        completion_tokens = record.completion_tokens,
        estimated_usage = record.estimated_usage,
        cost_micros = record.cost_micros,
        cache_hit = record.cache_hit,
        finish_reason = record.finish_reason.as_ref().map(FinishReason::as_str),
        "llm call"
    );
    if let (Some(prompt), Some(reply)) = (&record.prompt, &record.reply) {
        let prompt: Vec<(&str, &str)> = prompt
            .iter()
            .map(|m| (role_name(m), m.content.as_str()))
            .collect();
        tracing::debug!(target: "kefu_ai::gateway", ?prompt, reply = %reply, "llm call text");
    }
    if let Some(cb) = callback {
        cb(record);
    }
}

fn role_name(m: &ChatMessage) -> &'static str {
    match m.role {
        super::types::Role::System => "system",
        super::types::Role::User => "user",
        super::types::Role::Assistant => "assistant",
    }
}

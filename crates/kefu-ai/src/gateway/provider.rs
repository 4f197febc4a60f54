//! One provider endpoint and one HTTP attempt against it, streamed or not. This file turns
//! every way an attempt can go wrong into a [`Failure`] that says whether retrying or falling
//! back could help; the retry loop, breaker and fallback live in `mod.rs`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use tokio::time::{Instant, timeout_at};

use super::breaker::Breaker;
use super::config::{BreakerConfig, ProviderConfig, ProviderKind};
use super::error::{GatewayError, TimeoutPhase};
use super::retry::parse_retry_after;
use super::sse::{SseDecoder, SseItem};
use super::stream::Emitter;
use super::types::{ChatRequest, FinishReason, Usage};
use super::usage::{estimate_prompt_tokens, estimate_tokens};
use super::wire::{StreamOptions, WireRequest, WireResponse, WireUsage, error_message};

/// Largest non-streamed body accepted (a chat answer is a few KB; this only stops a broken
/// server from exhausting memory).
const MAX_BODY: usize = 8 << 20;
/// Largest error body read for its message.
const MAX_ERROR_BODY: usize = 64 << 10;
/// How long to wait for the end of a streamed body after `[DONE]`.
const DRAIN_WAIT: Duration = Duration::from_millis(200);
/// How long to wait for an error body before giving up on its message.
const ERROR_BODY_WAIT: Duration = Duration::from_secs(2);

/// Why an attempt failed, and what that means for the next step.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: GatewayError,
    /// Another attempt on the same provider may succeed (429, 5xx, network, timeouts, broken
    /// streams). Otherwise the call moves to the next provider.
    pub retry: bool,
    pub retry_after: Option<Duration>,
    /// Counts against the provider's circuit (not so for a 400 the request itself caused).
    pub provider_fault: bool,
}

impl Failure {
    fn retryable(error: GatewayError) -> Self {
        Self {
            error,
            retry: true,
            retry_after: None,
            provider_fault: true,
        }
    }

    pub(crate) fn cancelled() -> Self {
        Self {
            error: GatewayError::Cancelled,
            retry: false,
            retry_after: None,
            provider_fault: false,
        }
    }
}

/// What a successful attempt produced.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub content: String,
    pub finish_reason: FinishReason,
    pub usage: Usage,
}

/// A configured provider with its HTTP client and circuit.
pub(crate) struct Provider {
    pub config: ProviderConfig,
    url: Url,
    headers: HeaderMap,
    client: reqwest::Client,
    pub breaker: Arc<Breaker>,
}

impl Provider {
    pub(crate) fn new(
        config: ProviderConfig,
        breaker: BreakerConfig,
    ) -> Result<Self, GatewayError> {
        let bad = |what: &str| GatewayError::Config(format!("provider {}: {what}", config.name));
        let mut url = Url::parse(&format!(
            "{}/chat/completions",
            config.base_url.trim_end_matches('/')
        ))
        .map_err(|e| bad(&format!("base_url: {e}")))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let key = config
            .api_key
            .as_ref()
            .map(|k| k.expose())
            .filter(|k| !k.is_empty());
        match &config.kind {
            ProviderKind::OpenAiCompatible => {
                if let Some(key) = key {
                    let mut v = HeaderValue::from_str(&format!("Bearer {key}"))
                        .map_err(|_| bad("api key is not a valid header value"))?;
                    // Sensitive values are masked in reqwest's and hyper's debug output.
                    v.set_sensitive(true);
                    headers.insert(header::AUTHORIZATION, v);
                }
            }
            ProviderKind::Azure { api_version } => {
                url.query_pairs_mut()
                    .append_pair("api-version", api_version);
                if let Some(key) = key {
                    let mut v = HeaderValue::from_str(key)
                        .map_err(|_| bad("api key is not a valid header value"))?;
                    v.set_sensitive(true);
                    headers.insert("api-key", v);
                }
            }
        }
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| bad(&format!("http client: {e}")))?;
        Ok(Self {
            config,
            url,
            headers,
            client,
            breaker: Breaker::new(breaker),
        })
    }

    fn err_timeout(&self, phase: TimeoutPhase) -> Failure {
        Failure::retryable(GatewayError::Timeout {
            provider: self.config.name.clone(),
            phase,
        })
    }

    fn err_bad(&self, message: impl Into<String>) -> Failure {
        Failure::retryable(GatewayError::BadResponse {
            provider: self.config.name.clone(),
            message: message.into(),
        })
    }

    fn err_network(&self, e: &reqwest::Error) -> Failure {
        if e.is_connect() && e.is_timeout() {
            return self.err_timeout(TimeoutPhase::Connect);
        }
        // The source chain names the real cause (reset, refused, closed early).
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        Failure::retryable(GatewayError::Connection {
            provider: self.config.name.clone(),
            message,
        })
    }

    /// The output cap for this provider: the request's, never above the provider's.
    pub(crate) fn max_tokens(&self, req: &ChatRequest) -> u32 {
        req.max_tokens
            .map_or(self.config.max_output_tokens, |m| {
                m.min(self.config.max_output_tokens)
            })
            .max(1)
    }

    async fn send(&self, req: &ChatRequest, stream: bool) -> Result<reqwest::Response, Failure> {
        let body = WireRequest {
            model: &self.config.model,
            messages: &req.messages,
            max_tokens: Some(self.max_tokens(req)),
            temperature: req.temperature,
            stream,
            stream_options: (stream && self.config.stream_usage).then_some(StreamOptions {
                include_usage: true,
            }),
        };
        let body = serde_json::to_vec(&body).map_err(|e| Failure {
            error: GatewayError::Config(format!("request body: {e}")),
            retry: false,
            retry_after: None,
            provider_fault: false,
        })?;
        let accept = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        self.client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(header::ACCEPT, accept)
            .body(body)
            .send()
            .await
            .map_err(|e| self.err_network(&e))
    }

    /// Passes a 2xx response through; turns anything else into the matching failure.
    async fn check_status(
        &self,
        response: reqwest::Response,
        end: Instant,
    ) -> Result<reqwest::Response, Failure> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let wait = end.min(Instant::now() + ERROR_BODY_WAIT);
        let body = read_capped(response, wait, MAX_ERROR_BODY)
            .await
            .unwrap_or_default();
        let error = GatewayError::Provider {
            provider: self.config.name.clone(),
            status: Some(status.as_u16()),
            message: error_message(&body),
        };
        let (retry, provider_fault) = match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT => {
                (true, true)
            }
            s if s.is_server_error() => (true, true),
            // The request itself is unacceptable (too long, bad parameter): the next provider
            // may still take it, but this provider is healthy.
            StatusCode::BAD_REQUEST
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNPROCESSABLE_ENTITY => (false, false),
            // 401/403/404/402…: this provider is misconfigured or out of credit.
            _ => (false, true),
        };
        Err(Failure {
            error,
            retry,
            retry_after,
            provider_fault,
        })
    }

    /// One non-streamed attempt, bounded by the provider's total timeout and `deadline`.
    pub(crate) async fn complete(
        &self,
        req: &ChatRequest,
        deadline: Instant,
    ) -> Result<Outcome, Failure> {
        let total_end = deadline.min(Instant::now() + self.config.timeouts.total);
        let phase = phase_at(total_end, deadline);
        let response = timeout_at(total_end, self.send(req, false))
            .await
            .map_err(|_| self.err_timeout(phase))??;
        let response = self.check_status(response, total_end).await?;
        let body = match read_capped(response, total_end, MAX_BODY).await {
            Ok(b) => b,
            Err(ReadError::Timeout) => return Err(self.err_timeout(phase)),
            Err(ReadError::TooLarge) => return Err(self.err_bad("response body too large")),
            Err(ReadError::Network(e)) => return Err(self.err_network(&e)),
        };
        let parsed: WireResponse = serde_json::from_slice(&body)
            .map_err(|e| self.err_bad(format!("not a chat completion: {e}")))?;
        if let Some(error) = parsed.error {
            return Err(self.err_in_body(&error));
        }
        let choice = parsed
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| self.err_bad("no choices"))?;
        let content = choice.message.and_then(|m| m.content).unwrap_or_default();
        let finish_reason = choice
            .finish_reason
            .as_deref()
            .map_or(FinishReason::Stop, FinishReason::from_wire);
        let usage = usage_or_estimate(parsed.usage, req, &content);
        Ok(Outcome {
            content,
            finish_reason,
            usage,
        })
    }

    fn err_in_body(&self, error: &serde_json::Value) -> Failure {
        let message = error
            .get("message")
            .and_then(|m| m.as_str())
            .map_or_else(|| error.to_string(), str::to_owned);
        Failure::retryable(GatewayError::Provider {
            provider: self.config.name.clone(),
            status: None,
            message,
        })
    }

    /// One streamed attempt. Deltas go to `em` as they arrive. Ends in:
    /// - `Ok` on `[DONE]` (or a finish reason then end of body), or when the gateway cuts the
    ///   stream: estimated output past the cap (`Length`) or text still flowing at the total
    ///   timeout (`Timeout`);
    /// - `Err` on a status error, a network error, a malformed chunk, an error object, a stall
    ///   (no first token in `first_token`, or silence longer than `idle`), or a body that ends
    ///   without finishing.
    pub(crate) async fn stream(
        &self,
        req: &ChatRequest,
        deadline: Instant,
        em: &mut Emitter,
    ) -> Result<Outcome, Failure> {
        let t = self.config.timeouts;
        let start = Instant::now();
        let total_end = deadline.min(start + t.total);
        let first_end = total_end.min(start + t.first_token);
        let first_phase = if first_end < total_end {
            TimeoutPhase::FirstToken
        } else {
            phase_at(total_end, deadline)
        };
        let response = timeout_at(first_end, self.send(req, true))
            .await
            .map_err(|_| self.err_timeout(first_phase))??;
        let response = self.check_status(response, first_end).await?;
        let mut body = response.bytes_stream();

        // Providers should stop at max_tokens themselves; this catches one that does not. The
        // margin absorbs the estimate's error so an honest answer is never cut.
        let max_tokens = self.max_tokens(req);
        let cut_at = max_tokens.saturating_add(max_tokens / 4).saturating_add(16);
        let mut decoder = SseDecoder::default();
        let mut items = Vec::new();
        let mut content = String::new();
        let mut estimated_out = 0u32;
        let mut finish: Option<FinishReason> = None;
        let mut usage: Option<WireUsage> = None;
        let mut got_token = false;
        let mut last_activity = Instant::now();
        let mut done = false;
        let mut eof = false;
        while !done && !eof {
            let until = if got_token {
                total_end.min(last_activity + t.idle)
            } else {
                first_end
            };
            match timeout_at(until, body.next()).await {
                Err(_) if got_token && Instant::now() >= total_end => {
                    // Still talking at the total timeout: keep what was said, mark it cut.
                    finish = Some(FinishReason::Timeout);
                    break;
                }
                Err(_) if got_token => return Err(self.err_timeout(TimeoutPhase::Idle)),
                Err(_) => return Err(self.err_timeout(first_phase)),
                Ok(Some(Err(e))) => return Err(self.err_network(&e)),
                Ok(Some(Ok(bytes))) => {
                    last_activity = Instant::now();
                    decoder
                        .feed(&bytes, &mut items)
                        .map_err(|_| self.err_bad("stream line too long"))?;
                }
                Ok(None) => {
                    decoder.finish(&mut items);
                    eof = true;
                }
            }
            for item in items.drain(..) {
                let SseItem::Data(data) = item else {
                    continue; // keep-alive comment: the idle timer was already reset
                };
                if data.trim() == "[DONE]" {
                    done = true;
                    break;
                }
                let chunk: WireResponse = serde_json::from_str(&data)
                    .map_err(|e| self.err_bad(format!("malformed stream chunk: {e}")))?;
                if let Some(error) = chunk.error {
                    return Err(self.err_in_body(&error));
                }
                if chunk.usage.is_some() {
                    usage = chunk.usage;
                }
                // Only the first choice: the gateway never asks for n > 1.
                if let Some(choice) = chunk.choices.into_iter().next() {
                    if let Some(text) = choice
                        .delta
                        .and_then(|d| d.content)
                        .filter(|s| !s.is_empty())
                    {
                        got_token = true;
                        estimated_out = estimated_out.saturating_add(estimate_tokens(&text));
                        content.push_str(&text);
                        em.delta(text).await.map_err(|_| Failure::cancelled())?;
                    }
                    if let Some(reason) = choice.finish_reason {
                        finish = Some(FinishReason::from_wire(&reason));
                    }
                }
                if estimated_out >= cut_at {
                    finish = Some(FinishReason::Length);
                    done = true;
                    break;
                }
            }
        }
        let finish_reason = match finish {
            Some(f) => f,
            None if done => FinishReason::Stop,
            None => return Err(self.err_bad("stream ended before it finished")),
        };
        if done && !eof {
            // Read the chunked-body terminator that follows `[DONE]` so the connection goes
            // back to the pool for the next call instead of being torn down. Servers send it
            // right after `[DONE]`; the bound only matters for one that does not.
            let drain = async { while let Some(Ok(_)) = body.next().await {} };
            let _ = tokio::time::timeout(DRAIN_WAIT.min(t.idle), drain).await;
        }
        Ok(Outcome {
            usage: usage_or_estimate(usage, req, &content),
            content,
            finish_reason,
        })
    }
}

/// Which timeout a bound that fired represents.
fn phase_at(end: Instant, deadline: Instant) -> TimeoutPhase {
    if end >= deadline {
        TimeoutPhase::Deadline
    } else {
        TimeoutPhase::Total
    }
}

/// Reported usage where the provider gave it, estimates for whatever is missing.
fn usage_or_estimate(reported: Option<WireUsage>, req: &ChatRequest, content: &str) -> Usage {
    let reported = reported.unwrap_or_default();
    let prompt = reported.prompt_tokens;
    let completion = reported.completion_tokens;
    Usage {
        prompt_tokens: prompt.unwrap_or_else(|| estimate_prompt_tokens(&req.messages)),
        completion_tokens: completion.unwrap_or_else(|| estimate_tokens(content)),
        estimated: prompt.is_none() || completion.is_none(),
    }
}

enum ReadError {
    Timeout,
    TooLarge,
    Network(reqwest::Error),
}

async fn read_capped(
    response: reqwest::Response,
    end: Instant,
    cap: usize,
) -> Result<Vec<u8>, ReadError> {
    let mut body = response.bytes_stream();
    let mut out = Vec::new();
    loop {
        match timeout_at(end, body.next()).await {
            Err(_) => return Err(ReadError::Timeout),
            Ok(None) => return Ok(out),
            Ok(Some(Err(e))) => return Err(ReadError::Network(e)),
            Ok(Some(Ok(bytes))) => {
                if out.len() + bytes.len() > cap {
                    return Err(ReadError::TooLarge);
                }
                out.extend_from_slice(&bytes);
            }
        }
    }
}

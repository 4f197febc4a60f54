//! Interoperability check: runs Kefu's real provider [`Gateway`] against a third-party
//! OpenAI-compatible server (llama.cpp's `llama-server`, LiteLLM's proxy, a vendor API) and
//! fails loudly when the two do not understand each other.
//!
//! ```text
//! cargo run --release -p kefu-ai --example interop -- BASE_URL MODEL [API_KEY]
//! ```
//!
//! `BASE_URL` is the API root including its version path, as in the provider config
//! (`http://127.0.0.1:8080/v1`). Three calls go through the gateway, each printed:
//!
//! 1. a non-streamed chat: it must end with text and a finish reason;
//! 2. a streamed chat: the deltas are collected and must be non-empty, join to the final
//!    `Done` text, and the stream must end in `Done` (never an error, never nothing);
//! 3. the gateway's usage ledger, to show what accounting recorded for both calls (reported
//!    by the server, or estimated when it sent none).
//!
//! Exits 0 when every check held, 1 when one failed, 2 on bad arguments. `bench/interop/run.sh`
//! runs it against real servers; it is opt-in and not part of CI because those servers are
//! not.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kefu_ai::gateway::{
    CacheConfig, ChatMessage, ChatRequest, ChatResponse, Gateway, GatewayConfig, ProviderConfig,
    RetryPolicy, StreamEvent, Timeouts,
};
use kefu_core::SiteId;

/// Short answers keep a CPU-only model's run to seconds; the checks need text, not essays.
const MAX_TOKENS: u32 = 48;

/// What the checks found; each failed check adds a line.
#[derive(Default)]
struct Verdict {
    failures: Vec<String>,
}

impl Verdict {
    fn check(&mut self, ok: bool, what: &str) {
        println!("  [{}] {what}", if ok { "ok" } else { "FAILED" });
        if !ok {
            self.failures.push(what.to_owned());
        }
    }
}

fn prompt(site: SiteId, question: &str) -> ChatRequest {
    ChatRequest {
        max_tokens: Some(MAX_TOKENS),
        temperature: Some(0.0),
        ..ChatRequest::new(
            site,
            vec![
                ChatMessage::system(
                    "You are a customer-service assistant. Answer in one short sentence.",
                ),
                ChatMessage::user(question),
            ],
        )
    }
}

fn describe(r: &ChatResponse) {
    println!(
        "  finish_reason={} prompt_tokens={} completion_tokens={} estimated={} attempts={} latency={:?} first_token={:?}",
        r.finish_reason.as_str(),
        r.usage.prompt_tokens,
        r.usage.completion_tokens,
        r.usage.estimated,
        r.attempts,
        r.latency,
        r.first_token_latency,
    );
    println!("  text: {:?}", r.content);
}

async fn run(gw: &Gateway, site: SiteId, v: &mut Verdict) {
    println!("== non-streamed chat");
    match gw.chat(prompt(site, "What are your opening hours?")).await {
        Ok(r) => {
            describe(&r);
            v.check(!r.content.trim().is_empty(), "non-empty answer");
            v.check(r.attempts == 1, "answered on the first attempt");
        }
        Err(e) => {
            println!("  error: {e} (code {})", e.code());
            v.check(false, "non-streamed chat succeeded");
        }
    }

    println!("== streamed chat");
    let started = Instant::now();
    let mut stream = gw.chat_stream(prompt(site, "How do I reset my password?"));
    let mut deltas: Vec<String> = Vec::new();
    let mut done: Option<ChatResponse> = None;
    let mut error = None;
    let mut restarts = 0;
    let mut after_terminal = 0;
    while let Some(item) = stream.next().await {
        if done.is_some() || error.is_some() {
            after_terminal += 1;
            continue;
        }
        match item {
            Ok(StreamEvent::Delta(d)) => deltas.push(d),
            Ok(StreamEvent::Restarted) => {
                restarts += 1;
                deltas.clear();
            }
            Ok(StreamEvent::Done(r)) => done = Some(r),
            Err(e) => error = Some(e),
        }
    }
    println!(
        "  {} deltas, {restarts} restarts, stream closed after {:?}",
        deltas.len(),
        started.elapsed()
    );
    if let Some(first) = deltas.first() {
        println!("  first delta: {first:?}");
    }
    let joined = deltas.concat();
    match (&done, &error) {
        (Some(r), _) => {
            describe(r);
            v.check(!deltas.is_empty(), "at least one delta");
            v.check(!joined.trim().is_empty(), "non-empty streamed text");
            v.check(joined == r.content, "deltas join to the final text");
            v.check(r.first_token_latency.is_some(), "first-token time recorded");
        }
        (None, Some(e)) => {
            println!("  error: {e} (code {})", e.code());
            v.check(false, "stream finished with Done");
        }
        (None, None) => v.check(false, "stream ended with a terminal item"),
    }
    v.check(restarts == 0, "no mid-stream restart");
    v.check(after_terminal == 0, "nothing after the terminal item");

    println!("== usage ledger");
    let rows = gw.usage().snapshot();
    for row in &rows {
        let t = row.totals;
        println!(
            "  {}: requests={} failures={} prompt_tokens={} completion_tokens={} estimated={}",
            row.day, t.requests, t.failures, t.prompt_tokens, t.completion_tokens, t.estimated
        );
    }
    let requests: u64 = rows.iter().map(|r| r.totals.requests).sum();
    let completion: u64 = rows.iter().map(|r| r.totals.completion_tokens).sum();
    v.check(requests == 2, "two calls in the ledger");
    v.check(completion > 0, "completion tokens accounted");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (base_url, model, key) = match args.as_slice() {
        [b, m] => (b.clone(), m.clone(), None),
        [b, m, k] => (b.clone(), m.clone(), Some(k.clone())),
        _ => {
            eprintln!("usage: interop BASE_URL MODEL [API_KEY]");
            return ExitCode::from(2);
        }
    };
    println!("interop check: base_url={base_url} model={model}");

    // A CPU-only model may take seconds before its first token; a failure should show as an
    // error at once, not hide behind retries, so one attempt and generous timeouts.
    let mut provider = ProviderConfig::new("interop", base_url, model).with_timeouts(Timeouts {
        connect: Duration::from_secs(5),
        first_token: Duration::from_secs(60),
        idle: Duration::from_secs(30),
        total: Duration::from_secs(120),
    });
    if let Some(key) = key {
        provider = provider.with_api_key(key);
    }
    let mut config = GatewayConfig::new(vec![provider]);
    config.retry = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    config.max_restarts = 0;
    config.cache = CacheConfig {
        capacity: 0,
        ..CacheConfig::default()
    };
    let gw = match Gateway::new(config) {
        Ok(gw) => gw,
        Err(e) => {
            eprintln!("gateway config: {e}");
            return ExitCode::from(2);
        }
    };

    let mut verdict = Verdict::default();
    run(&gw, SiteId::new(), &mut verdict).await;
    if verdict.failures.is_empty() {
        println!("RESULT: PASS");
        ExitCode::SUCCESS
    } else {
        println!("RESULT: FAIL ({})", verdict.failures.join("; "));
        ExitCode::FAILURE
    }
}

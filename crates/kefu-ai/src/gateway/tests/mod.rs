//! Gateway tests against a real local HTTP server speaking the OpenAI wire format
//! (`server.rs`), told per request how to behave. Timing assertions use generous bounds: they
//! prove that a wait happened or that a call ended within its bound, never exact durations.

mod server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use kefu_core::{KbEntryId, SiteId, VisitorId};
use tokio::time::Instant;

use super::*;
use server::{Answer, Behavior, MockServer};

const KEY: &str = "sk-test-SECRET-4f9a1c";

fn provider(name: &str, server: &MockServer) -> ProviderConfig {
    ProviderConfig::new(name, server.base_url(), format!("model-{name}"))
        .with_api_key(KEY)
        .with_timeouts(Timeouts {
            connect: Duration::from_secs(2),
            first_token: Duration::from_secs(3),
            idle: Duration::from_millis(400),
            total: Duration::from_secs(10),
        })
}

fn config(providers: Vec<ProviderConfig>) -> GatewayConfig {
    let mut c = GatewayConfig::new(providers);
    c.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(5),
    };
    c.deadline = Duration::from_secs(20);
    c
}

fn request(question: &str) -> ChatRequest {
    ChatRequest::new(
        SiteId::new(),
        vec![
            ChatMessage::system("Answer from the passages."),
            ChatMessage::user(question),
        ],
    )
}

/// Collects a stream to its end, checking the terminal-item contract on the way.
async fn collect(stream: GatewayStream) -> (Vec<StreamEvent>, Result<ChatResponse, GatewayError>) {
    let items: Vec<_> = stream.collect().await;
    let (last, events) = items
        .split_last()
        .expect("a stream always ends with a terminal item");
    let events: Vec<StreamEvent> = events
        .iter()
        .map(|e| match e {
            Ok(ev @ (StreamEvent::Delta(_) | StreamEvent::Restarted)) => ev.clone(),
            other => panic!("terminal item before the end: {other:?}"),
        })
        .collect();
    let terminal = match last {
        Ok(StreamEvent::Done(r)) => Ok(r.clone()),
        Err(e) => Err(e.clone()),
        Ok(other) => panic!("stream ended without a terminal item: {other:?}"),
    };
    (events, terminal)
}

fn text_since_restart(events: &[StreamEvent]) -> String {
    let mut text = String::new();
    for e in events {
        match e {
            StreamEvent::Delta(d) => text.push_str(d),
            StreamEvent::Restarted => text.clear(),
            StreamEvent::Done(_) => {}
        }
    }
    text
}

#[tokio::test]
async fn answers_and_the_provider_receives_the_openai_request() {
    let server = MockServer::start().await;
    let mut p = provider("main", &server);
    p.max_output_tokens = 300;
    let gw = Gateway::new(config(vec![p])).unwrap();
    let mut req = request("How do refunds work?");
    req.max_tokens = Some(500);
    req.temperature = Some(0.2);
    let resp = gw.chat(req).await.unwrap();
    assert_eq!(resp.content, "Hello");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(
        (resp.provider.as_str(), resp.model.as_str()),
        ("main", "model-main")
    );
    assert_eq!(resp.attempts, 1);
    assert_eq!(
        resp.usage,
        Usage {
            prompt_tokens: 10,
            completion_tokens: 2,
            estimated: false
        }
    );

    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/v1/chat/completions");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let body = &seen[0].body;
    assert_eq!(body["model"], "model-main");
    assert_eq!(body["stream"], false);
    assert_eq!(
        body["max_tokens"], 300,
        "capped at the provider's max_output_tokens"
    );
    assert!((body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "How do refunds work?");
}

#[tokio::test]
async fn azure_sends_the_api_key_header_and_api_version() {
    let server = MockServer::start().await;
    let p = provider("azure", &server).azure("2024-10-21");
    let gw = Gateway::new(config(vec![p])).unwrap();
    gw.chat(request("hi")).await.unwrap();
    let seen = &server.requests()[0];
    assert_eq!(seen.target, "/v1/chat/completions?api-version=2024-10-21");
    assert_eq!(seen.header("api-key"), Some(KEY));
    assert_eq!(seen.header("authorization"), None);
}

#[tokio::test]
async fn streams_llama_cpp_style_chunks_then_done_with_usage() {
    let server = MockServer::start().await;
    server.push(Behavior::Answer(Answer {
        usage: Some((42, 3)),
        ..Answer::new(&["退款", "需要", " 7 days"])
    }));
    let gw = Gateway::new(config(vec![provider("main", &server)])).unwrap();
    let (events, done) = collect(gw.chat_stream(request("退款？"))).await;
    assert_eq!(
        events,
        ["退款", "需要", " 7 days"].map(|d| StreamEvent::Delta(d.into()))
    );
    let done = done.unwrap();
    assert_eq!(done.content, "退款需要 7 days");
    assert_eq!(
        done.usage,
        Usage {
            prompt_tokens: 42,
            completion_tokens: 3,
            estimated: false
        }
    );
    assert!(done.first_token_latency.is_some());
    let body = &server.requests()[0].body;
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
}

/// The stream drives its call inside `poll_next` (no task of its own): each delta must be
/// handed over in the poll that parsed it, with nothing parsed ahead, even when the whole
/// answer arrived in one read; and the stream must stay `Send + Sync` as it was.
#[tokio::test]
async fn each_delta_is_handed_over_as_soon_as_it_is_parsed() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let server = MockServer::start().await;
    server.push(Behavior::Answer(Answer::new(&["a", "b", "c", "d", "e"])));
    let gw = Gateway::new(config(vec![provider("main", &server)])).unwrap();
    let mut stream = gw.chat_stream(request("hi"));
    send_sync(&stream);
    let mut deltas = 0;
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            StreamEvent::Delta(_) => {
                deltas += 1;
                assert_eq!(
                    stream.events_waiting(),
                    0,
                    "delta {deltas} was not handed over alone"
                );
            }
            StreamEvent::Done(done) => assert_eq!(done.content, "abcde"),
            StreamEvent::Restarted => panic!("no restart expected"),
        }
    }
    assert_eq!(deltas, 5);
}

#[tokio::test]
async fn a_quirky_stream_without_usage_decodes_and_usage_is_estimated() {
    let server = MockServer::start().await;
    server.push(Behavior::Answer(Answer {
        usage: None,
        quirky: true,
        ..Answer::new(&["Refunds take ", "7 days", "。好"])
    }));
    let gw = Gateway::new(config(vec![provider("main", &server)])).unwrap();
    let req = request("refund");
    let expected_prompt = estimate_prompt_tokens(&req.messages);
    let (events, done) = collect(gw.chat_stream(req)).await;
    assert_eq!(events.len(), 3);
    let done = done.unwrap();
    assert_eq!(done.content, "Refunds take 7 days。好");
    assert!(done.usage.estimated);
    assert_eq!(done.usage.prompt_tokens, expected_prompt);
    // 19 Latin characters → 5, plus "。好" → 2.
    assert_eq!(done.usage.completion_tokens, 7);
}

#[tokio::test]
async fn retries_500_and_a_reset_then_succeeds() {
    let server = MockServer::start().await;
    server.push(Behavior::Status {
        code: 500,
        retry_after: None,
    });
    server.push(Behavior::Reset);
    let gw = Gateway::new(config(vec![provider("main", &server)])).unwrap();
    let resp = gw.chat(request("hi")).await.unwrap();
    assert_eq!(resp.content, "Hello");
    assert_eq!(resp.attempts, 3);
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    server.push(Behavior::Status {
        code: 429,
        retry_after: Some("1".into()),
    });
    let gw = Gateway::new(config(vec![provider("main", &server)])).unwrap();
    let start = Instant::now();
    let resp = gw.chat(request("hi")).await.unwrap();
    let waited = start.elapsed();
    assert_eq!(resp.attempts, 2);
    // Backoff alone is at most 20 ms here, so ≥ 0.9 s can only be the Retry-After.
    assert!(
        waited >= Duration::from_millis(900),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_secs(10));
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_falls_back_at_once() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    a.push(Behavior::Status {
        code: 503,
        retry_after: Some("3600".into()),
    });
    let gw = Gateway::new(config(vec![provider("a", &a), provider("b", &b)])).unwrap();
    let start = Instant::now();
    let resp = gw.chat(request("hi")).await.unwrap();
    assert_eq!(resp.provider, "b");
    assert_eq!(a.hits(), 1);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn falls_back_to_the_second_provider_after_retries() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    a.set_default(Behavior::Status {
        code: 503,
        retry_after: None,
    });
    let gw = Gateway::new(config(vec![provider("a", &a), provider("b", &b)])).unwrap();
    let resp = gw.chat(request("hi")).await.unwrap();
    assert_eq!(resp.provider, "b");
    assert_eq!(resp.model, "model-b");
    assert_eq!(a.hits(), 3, "max_attempts on the first provider");
    assert_eq!(resp.attempts, 4);
}

#[tokio::test]
async fn an_auth_error_moves_to_the_next_provider_without_retrying() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    a.set_default(Behavior::Status {
        code: 401,
        retry_after: None,
    });
    let gw = Gateway::new(config(vec![provider("a", &a), provider("b", &b)])).unwrap();
    assert_eq!(gw.chat(request("hi")).await.unwrap().provider, "b");
    assert_eq!(a.hits(), 1);
}

#[tokio::test]
async fn when_everything_fails_the_error_says_so_and_hands_off() {
    let server = MockServer::start().await;
    server.set_default(Behavior::Status {
        code: 502,
        retry_after: None,
    });
    let gw = Gateway::new(config(vec![provider("only", &server)])).unwrap();
    let err = gw.chat(request("hi")).await.unwrap_err();
    assert_eq!(err.code(), "all_providers_failed");
    assert!(err.hands_off());
    assert!(
        matches!(&err, GatewayError::AllProvidersFailed { attempts: 3, last }
        if matches!(**last, GatewayError::Provider { status: Some(502), .. }))
    );
}

#[tokio::test]
async fn circuit_opens_after_failures_skips_the_provider_then_half_opens() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    a.set_default(Behavior::Status {
        code: 500,
        retry_after: None,
    });
    let mut c = config(vec![provider("a", &a), provider("b", &b)]);
    c.retry.max_attempts = 1;
    c.breaker = BreakerConfig {
        failure_threshold: 2,
        cool_down: Duration::from_millis(300),
    };
    let gw = Gateway::new(c).unwrap();

    for _ in 0..2 {
        assert_eq!(gw.chat(request("hi")).await.unwrap().provider, "b");
    }
    assert_eq!(a.hits(), 2);
    assert!(matches!(
        gw.circuit_state("a"),
        Some(CircuitState::Open { .. })
    ));

    let resp = gw.chat(request("hi")).await.unwrap();
    assert_eq!((resp.provider.as_str(), resp.attempts), ("b", 1));
    assert_eq!(a.hits(), 2, "an open circuit is skipped without a request");

    tokio::time::sleep(Duration::from_millis(450)).await;
    a.set_default(Behavior::Answer(Answer::new(&["back"])));
    let resp = gw.chat(request("hi")).await.unwrap();
    assert_eq!(
        (resp.provider.as_str(), resp.content.as_str()),
        ("a", "back")
    );
    assert_eq!(
        gw.circuit_state("a"),
        Some(CircuitState::Closed {
            consecutive_failures: 0
        })
    );
}

#[tokio::test]
async fn with_every_circuit_open_the_call_fails_fast_with_circuit_open() {
    let server = MockServer::start().await;
    server.set_default(Behavior::Status {
        code: 500,
        retry_after: None,
    });
    let mut c = config(vec![provider("only", &server)]);
    c.breaker = BreakerConfig {
        failure_threshold: 3,
        cool_down: Duration::from_secs(60),
    };
    let gw = Gateway::new(c).unwrap();
    assert_eq!(
        gw.chat(request("hi")).await.unwrap_err().code(),
        "all_providers_failed"
    );
    let err = gw.chat(request("hi")).await.unwrap_err();
    assert_eq!(err.code(), "circuit_open");
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn a_full_queue_fails_fast_with_queue_full() {
    let server = MockServer::start().await;
    server.set_default(Behavior::Answer(Answer {
        delay: Duration::from_millis(800),
        ..Answer::new(&["slow"])
    }));
    let mut c = config(vec![provider("main", &server)]);
    c.concurrency = ConcurrencyConfig {
        max_in_flight: 1,
        max_queued: 1,
    };
    let gw = Gateway::new(c).unwrap();
    let first = tokio::spawn({
        let gw = gw.clone();
        async move { gw.chat(request("1")).await }
    });
    while server.hits() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let second = tokio::spawn({
        let gw = gw.clone();
        async move { gw.chat(request("2")).await }
    });
    // Let the second call reach the queue.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = Instant::now();
    let err = gw.chat(request("3")).await.unwrap_err();
    assert_eq!(err.code(), "queue_full");
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "fails fast, not after the wait"
    );
    assert_eq!(first.await.unwrap().unwrap().content, "slow");
    assert_eq!(second.await.unwrap().unwrap().content, "slow");
}

#[tokio::test]
async fn the_per_visitor_limit_refuses_one_visitor_only() {
    let server = MockServer::start().await;
    let mut c = config(vec![provider("main", &server)]);
    c.rate_limits = RateLimits {
        per_site: Some(RateLimit {
            per_minute: 600,
            burst: 100,
        }),
        per_visitor: Some(RateLimit {
            per_minute: 2,
            burst: 2,
        }),
    };
    let gw = Gateway::new(c).unwrap();
    let site = SiteId::new();
    let (noisy, other) = (VisitorId::new(), VisitorId::new());
    let ask = |visitor| {
        let mut r = request("hi");
        r.site = site;
        r.visitor = Some(visitor);
        r
    };
    gw.chat(ask(noisy)).await.unwrap();
    gw.chat(ask(noisy)).await.unwrap();
    let err = gw.chat(ask(noisy)).await.unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    assert!(matches!(
        err,
        GatewayError::RateLimited {
            scope: LimitScope::Visitor,
            ..
        }
    ));
    gw.chat(ask(other)).await.unwrap();
    assert_eq!(
        server.hits(),
        3,
        "a refused call never reaches the provider"
    );
}

#[tokio::test]
async fn the_per_site_limit_applies_across_visitors() {
    let server = MockServer::start().await;
    let mut c = config(vec![provider("main", &server)]);
    c.rate_limits.per_site = Some(RateLimit {
        per_minute: 1,
        burst: 1,
    });
    let gw = Gateway::new(c).unwrap();
    let site = SiteId::new();
    let mut r = request("hi");
    r.site = site;
    gw.chat(r.clone()).await.unwrap();
    r.visitor = Some(VisitorId::new());
    let err = gw.chat(r).await.unwrap_err();
    assert!(matches!(
        err,
        GatewayError::RateLimited {
            scope: LimitScope::Site,
            ..
        }
    ));
}

#[tokio::test]
async fn cache_hits_the_same_question_and_revisions_and_misses_after_a_new_revision() {
    let server = MockServer::start().await;
    let gw = Gateway::new(config(vec![provider("main", &server)])).unwrap();
    let site = SiteId::new();
    let (refunds, shipping) = (KbEntryId::new(), KbEntryId::new());
    let ask = |q: &str, citations: Vec<(KbEntryId, i64)>| {
        let mut r = request(q);
        r.site = site;
        r.cache_key = Some(CacheKey::new(q, citations));
        r
    };

    let first = gw
        .chat(ask(
            "How do refunds work?",
            vec![(refunds, 1), (shipping, 4)],
        ))
        .await
        .unwrap();
    assert!(!first.cache_hit);
    let again = gw
        .chat(ask(
            "how do  REFUNDS work",
            vec![(shipping, 4), (refunds, 1)],
        ))
        .await
        .unwrap();
    assert!(again.cache_hit);
    assert_eq!(
        (again.content.as_str(), again.attempts, again.cost_micros),
        ("Hello", 0, 0)
    );
    assert_eq!(server.hits(), 1);

    // Streaming callers get the cached text as one delta.
    let (events, done) = collect(gw.chat_stream(ask(
        "How do refunds work",
        vec![(refunds, 1), (shipping, 4)],
    )))
    .await;
    assert_eq!(events, vec![StreamEvent::Delta("Hello".into())]);
    assert!(done.unwrap().cache_hit);

    // Revision 2 of the refunds entry is published: the old answer must not be served.
    let after = gw
        .chat(ask(
            "How do refunds work?",
            vec![(refunds, 2), (shipping, 4)],
        ))
        .await
        .unwrap();
    assert!(!after.cache_hit);
    assert_eq!(server.hits(), 2);
}

#[derive(Default)]
struct Recorder(Mutex<Vec<UsageRecord>>);

impl UsageSink for Recorder {
    fn record(&self, r: &UsageRecord) {
        self.0.lock().unwrap().push(r.clone());
    }
}

#[tokio::test]
async fn tokens_and_cost_are_accounted_per_site_and_day() {
    let server = MockServer::start().await;
    server.set_default(Behavior::Answer(Answer {
        usage: Some((1000, 250)),
        ..Answer::new(&["ok"])
    }));
    let p = provider("main", &server).with_pricing(2.0, 8.0);
    let sink = Arc::new(Recorder::default());
    let gw = Gateway::builder(config(vec![p]))
        .usage_sink(sink.clone())
        .build()
        .unwrap();
    let site = SiteId::new();
    let mut r = request("hi");
    r.site = site;
    let resp = gw.chat(r.clone()).await.unwrap();
    // 1000 × 2 + 250 × 8 per million = 0.004 → 4000 micro-units.
    assert_eq!(resp.cost_micros, 4000);
    gw.chat_stream(r.clone()).collect::<Vec<_>>().await;
    r.cache_key = Some(CacheKey::new("hi", []));
    gw.chat(r.clone()).await.unwrap();
    gw.chat(r).await.unwrap(); // cache hit: free
    server.set_default(Behavior::Status {
        code: 400,
        retry_after: None,
    });
    let mut bad = request("x");
    bad.site = site;
    gw.chat(bad).await.unwrap_err();

    let today = time::OffsetDateTime::now_utc().date();
    let totals = gw.usage().get(site, today);
    assert_eq!(
        totals,
        UsageTotals {
            requests: 5,
            cache_hits: 1,
            failures: 1,
            prompt_tokens: 3000,
            completion_tokens: 750,
            estimated: 0,
            cost_micros: 12_000,
        }
    );
    assert_eq!(gw.usage().snapshot().len(), 1);
    let records = sink.0.lock().unwrap();
    assert_eq!(records.len(), 5);
    assert_eq!(records[0].provider, "main");
    assert_eq!(records[0].day, today);
}

#[tokio::test]
async fn a_mid_stream_stall_restarts_the_answer_on_the_fallback_provider() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    a.set_default(Behavior::StallMidStream(vec!["Half an ".into()]));
    b.set_default(Behavior::Answer(Answer::new(&["Whole ", "answer"])));
    let mut c = config(vec![provider("a", &a), provider("b", &b)]);
    c.retry.max_attempts = 1;
    let gw = Gateway::new(c).unwrap();
    let start = Instant::now();
    let (events, done) = collect(gw.chat_stream(request("hi"))).await;
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "idle timeout is 400 ms"
    );
    assert_eq!(
        events,
        vec![
            StreamEvent::Delta("Half an ".into()),
            StreamEvent::Restarted,
            StreamEvent::Delta("Whole ".into()),
            StreamEvent::Delta("answer".into()),
        ]
    );
    assert_eq!(text_since_restart(&events), "Whole answer");
    let done = done.unwrap();
    assert_eq!(
        (done.provider.as_str(), done.content.as_str()),
        ("b", "Whole answer")
    );
}

#[tokio::test]
async fn a_mid_stream_stall_with_no_restart_left_ends_in_an_error_within_the_bound() {
    let server = MockServer::start().await;
    server.set_default(Behavior::StallMidStream(vec!["Half".into()]));
    let mut c = config(vec![provider("main", &server)]);
    c.max_restarts = 0;
    let gw = Gateway::new(c).unwrap();
    let start = Instant::now();
    let (events, end) = collect(gw.chat_stream(request("hi"))).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(events, vec![StreamEvent::Delta("Half".into())]);
    let err = end.unwrap_err();
    assert_eq!(
        err,
        GatewayError::Timeout {
            provider: "main".into(),
            phase: TimeoutPhase::Idle
        }
    );
    assert!(err.hands_off());
    assert_eq!(server.hits(), 1, "text was shown: no silent retry");
}

#[tokio::test]
async fn a_stall_before_the_first_byte_times_out_and_falls_back_invisibly() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    a.set_default(Behavior::Stall);
    let mut pa = provider("a", &a);
    pa.timeouts.first_token = Duration::from_millis(300);
    let mut c = config(vec![pa, provider("b", &b)]);
    c.retry.max_attempts = 1;
    let gw = Gateway::new(c).unwrap();
    let start = Instant::now();
    let (events, done) = collect(gw.chat_stream(request("hi"))).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(
        !events.contains(&StreamEvent::Restarted),
        "nothing was shown, nothing to restart"
    );
    assert_eq!(done.unwrap().provider, "b");

    // The same stall without streaming is bounded by the total timeout.
    let mut pa = provider("a", &a);
    pa.timeouts.total = Duration::from_millis(300);
    let mut c = config(vec![pa]);
    c.retry.max_attempts = 1;
    let err = Gateway::new(c)
        .unwrap()
        .chat(request("hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GatewayError::AllProvidersFailed { ref last, .. }
        if matches!(**last, GatewayError::Timeout { phase: TimeoutPhase::Total, .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_malformed_chunk_fails_the_attempt_and_the_retry_restarts_the_answer() {
    let server = MockServer::start().await;
    server.push(Behavior::Malformed(vec!["Par".into()]));
    server.push(Behavior::Answer(Answer::new(&["Full"])));
    let gw = Gateway::new(config(vec![provider("main", &server)])).unwrap();
    let (events, done) = collect(gw.chat_stream(request("hi"))).await;
    assert_eq!(
        events,
        vec![
            StreamEvent::Delta("Par".into()),
            StreamEvent::Restarted,
            StreamEvent::Delta("Full".into())
        ]
    );
    let done = done.unwrap();
    assert_eq!((done.content.as_str(), done.attempts), ("Full", 2));
}

#[tokio::test]
async fn an_endless_stream_is_cut_at_the_token_cap() {
    let server = MockServer::start().await;
    server.set_default(Behavior::Endless(Duration::from_millis(1)));
    let gw = Gateway::new(config(vec![provider("main", &server)])).unwrap();
    let mut req = request("hi");
    req.max_tokens = Some(40);
    let (events, done) = collect(gw.chat_stream(req)).await;
    let done = done.unwrap();
    assert_eq!(done.finish_reason, FinishReason::Length);
    // Cut at 40 + 25% + 16 = 66 estimated tokens; each delta is 3.
    assert!(
        events.len() >= 20 && events.len() <= 30,
        "{} deltas",
        events.len()
    );
}

#[tokio::test]
async fn an_endless_stream_is_cut_at_the_total_timeout() {
    let server = MockServer::start().await;
    server.set_default(Behavior::Endless(Duration::from_millis(20)));
    let mut p = provider("main", &server);
    p.timeouts.total = Duration::from_millis(600);
    p.max_output_tokens = 1_000_000;
    let gw = Gateway::new(config(vec![p])).unwrap();
    let start = Instant::now();
    let (events, done) = collect(gw.chat_stream(request("hi"))).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    let done = done.unwrap();
    assert_eq!(done.finish_reason, FinishReason::Timeout);
    assert!(!events.is_empty());
    assert_eq!(done.content, text_since_restart(&events));
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_provider_request() {
    let server = MockServer::start().await;
    server.set_default(Behavior::Endless(Duration::from_millis(5)));
    let mut c = config(vec![provider("main", &server)]);
    c.concurrency = ConcurrencyConfig {
        max_in_flight: 1,
        max_queued: 0,
    };
    let gw = Gateway::new(c).unwrap();
    let mut stream = gw.chat_stream(request("hi"));
    assert!(matches!(
        stream.next().await,
        Some(Ok(StreamEvent::Delta(_)))
    ));
    drop(stream);
    server.set_default(Behavior::Answer(Answer::new(&["next"])));
    // The endless call ended with its stream: its only slot is free again (with no queue, a
    // call that found the slot taken would fail with queue_full).
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(gw.chat(request("again")).await.unwrap().content, "next");
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_api_key_and_message_text_never_reach_debug_output_or_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (a, b) = (MockServer::start().await, MockServer::start().await);
    a.set_default(Behavior::Status {
        code: 401,
        retry_after: None,
    });
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&logs);
    let c = config(vec![
        provider("a", &a),
        provider("b", &b).azure("2024-10-21"),
    ]);
    let debug_config = format!("{c:?}");
    let gw = Gateway::builder(c)
        .request_log(Arc::new(move |r: &RequestLog| {
            sink.lock().unwrap().push(r.clone())
        }))
        .build()
        .unwrap();
    let secret_question = "my phone is 13812345678, refund?";
    let resp = gw.chat(request(secret_question)).await.unwrap();
    let (_, done) = collect(gw.chat_stream(request(secret_question))).await;
    let everything = format!(
        "{debug_config}\n{gw:?}\n{resp:?}\n{done:?}\n{:?}\n{}",
        request(secret_question),
        String::from_utf8_lossy(&captured.0.lock().unwrap())
    );
    assert!(
        everything.contains("llm call"),
        "the request log was captured"
    );
    assert!(everything.contains("ApiKey(***)"));
    assert!(
        !everything.contains("SECRET"),
        "API key leaked:\n{everything}"
    );
    assert!(
        !everything.contains("13812345678"),
        "message text leaked:\n{everything}"
    );

    let logs = logs.lock().unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(
        (logs[0].provider.as_str(), logs[0].status, logs[0].attempts),
        ("b", "ok", 2)
    );
    assert!(logs[1].streamed && logs[1].first_token_latency.is_some());
    assert!(logs.iter().all(|l| l.prompt.is_none() && l.reply.is_none()));
}

#[tokio::test]
async fn message_text_is_logged_only_when_the_flag_is_set() {
    let server = MockServer::start().await;
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&logs);
    let mut c = config(vec![provider("main", &server)]);
    c.log_message_text = true;
    let gw = Gateway::builder(c)
        .request_log(Arc::new(move |r: &RequestLog| {
            sink.lock().unwrap().push(r.clone())
        }))
        .build()
        .unwrap();
    gw.chat(request("where is my order")).await.unwrap();
    let logs = logs.lock().unwrap();
    assert_eq!(
        logs[0].prompt.as_ref().unwrap()[1].content,
        "where is my order"
    );
    assert_eq!(logs[0].reply.as_deref(), Some("Hello"));
}

#[tokio::test]
async fn a_bad_base_url_or_no_provider_is_a_config_error() {
    assert_eq!(
        Gateway::new(GatewayConfig::new(vec![])).unwrap_err().code(),
        "config"
    );
    let p = ProviderConfig::new("x", "not a url", "m");
    assert_eq!(
        Gateway::new(GatewayConfig::new(vec![p]))
            .unwrap_err()
            .code(),
        "config"
    );
}

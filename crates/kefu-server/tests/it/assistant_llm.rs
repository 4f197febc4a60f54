//! The assistant with a language model: a real local HTTP server speaking the OpenAI wire
//! format (the gateway's test server, streaming included) stands in for the provider. These
//! tests prove the answer streams as deltas and ends in one committed, cited message; that
//! what the provider receives is redacted; that keys are sealed and never returned; that a
//! failing provider falls back or hands off (`provider_error`) with no half message; that a
//! declined answer is not shown; that the cache serves a repeat until a new revision; that a
//! human request never reaches the provider; and that the bot stays silent once an agent holds
//! the conversation.

use std::time::Duration;

use kefu_core::protocol::ServerFrame;
use reqwest::Method;
use serde_json::{Value, json};

use crate::openai_wire::{Answer, Behavior, MockServer};
use crate::support::{AgentClient, Socket, TestApp, VisitorClient, uuid_like};

async fn settings(app: &TestApp, admin: &AgentClient, change: impl FnOnce(&mut Value)) {
    let (_, site) = admin.get(&format!("/api/v1/sites/{}", app.site_id)).await;
    let mut settings = site["settings"].clone();
    settings["bot_enabled"] = json!(true);
    change(&mut settings);
    let (status, body) = admin
        .send(
            Method::PATCH,
            &format!("/api/v1/sites/{}", app.site_id),
            Some(json!({ "settings": settings })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn providers(app: &TestApp, admin: &AgentClient, chain: Value) -> Value {
    let (status, body) = admin
        .send(
            Method::PUT,
            &format!("/api/v1/sites/{}/ai/providers", app.site_id),
            Some(json!({ "providers": chain })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn faq(app: &TestApp, admin: &AgentClient, q: &str, alts: &[&str], a: &str) -> String {
    let (code, entry) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/entries", app.site_id),
            json!({
                "category": "faq", "title": q, "visibility": "public", "status": "published",
                "faq": { "question": q, "alternatives": alts, "answer": a }
            }),
        )
        .await;
    assert_eq!(code, 201, "{entry}");
    entry["id"].as_str().unwrap().to_owned()
}

async fn refund_entry(app: &TestApp, admin: &AgentClient) -> String {
    faq(
        app,
        admin,
        "How do I get a refund?",
        &[
            "Can I get my money back?",
            "refund policy",
            "I want a refund",
        ],
        "You can request a refund within 30 days from the Orders page.",
    )
    .await
}

/// A visitor with an open conversation and a socket subscribed to it.
async fn visitor_watching(app: &TestApp) -> (VisitorClient, String, Socket) {
    let visitor = app.visitor().await;
    let (status, body) = visitor
        .post("/api/v1/visitor/conversations", json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    let conversation = body["conversation"]["id"].as_str().unwrap().to_owned();
    let mut socket = visitor.socket(app).await;
    socket.subscribe(&conversation, 0).await;
    (visitor, conversation, socket)
}

async fn say(visitor: &VisitorClient, conversation: &str, text: &str) -> Value {
    let (status, sent) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conversation}/messages"),
            json!({ "client_id": uuid_like(), "text": text }),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    sent
}

/// Frames until the bot's committed message: (streamed text as the client would show it, the
/// message).
async fn until_bot_message(socket: &mut Socket) -> (String, kefu_core::domain::Message, usize) {
    let mut shown = String::new();
    let mut deltas = 0;
    loop {
        match socket.next_frame().await {
            ServerFrame::AnswerDelta { text, reset, .. } => {
                if reset {
                    shown.clear();
                }
                shown.push_str(&text);
                deltas += 1;
            }
            ServerFrame::Message { message }
                if message.author_kind == kefu_core::domain::AuthorKind::Bot =>
            {
                return (shown, message, deltas);
            }
            _ => {}
        }
    }
}

fn streamed(deltas: &[&str]) -> Behavior {
    let mut answer = Answer::new(deltas);
    answer.delta_delay = Duration::from_millis(5);
    Behavior::Answer(answer)
}

#[tokio::test]
async fn streams_a_grounded_cited_answer_with_redacted_input_and_sealed_keys() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let refund = refund_entry(&app, &admin).await;
    settings(&app, &admin, |s| {
        s["system_prompt"] = json!("Sign off as Kefu Bot.");
    })
    .await;
    let mock = MockServer::start().await;
    let saved = providers(
        &app,
        &admin,
        json!([{ "name": "primary", "base_url": mock.base_url(), "model": "test-model",
                 "api_key": "sk-secret-123", "input_per_million": 1.0, "output_per_million": 2.0 }]),
    )
    .await;
    assert_eq!(saved[0]["has_api_key"], true);
    assert!(!saved.to_string().contains("sk-secret-123"));
    let (_, listed) = admin
        .get(&format!("/api/v1/sites/{}/ai/providers", app.site_id))
        .await;
    assert!(!listed.to_string().contains("sk-secret-123"));
    // At rest the key is sealed: the database file never holds it in clear.
    if let Some(dir) = &app._db.dir {
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(file.unwrap().path()).unwrap();
            let needle = b"sk-secret-123";
            assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        }
    }

    mock.push(streamed(&[
        "You can ",
        "ask for a refund ",
        "within 30 days [1].",
    ]));
    let (visitor, conversation, mut socket) = visitor_watching(&app).await;
    say(
        &visitor,
        &conversation,
        "Can I get my money back? I'm li.lei@example.com, 13812345678, card 4111 1111 1111 1111",
    )
    .await;
    let (shown, message, deltas) = until_bot_message(&mut socket).await;
    assert!(deltas >= 2, "streamed in pieces, got {deltas}");
    assert_eq!(shown, "You can ask for a refund within 30 days [1].");
    assert_eq!(message.text, "You can ask for a refund within 30 days.");
    let meta = message.answer.expect("answer metadata");
    assert_eq!(meta.kind, kefu_core::domain::AnswerKind::Answer);
    assert_eq!(meta.citations[0].entry_id.to_string(), refund);
    assert_eq!(meta.citations[0].revision, 1);
    let generation = meta.generation.expect("generation metadata");
    assert_eq!(
        (generation.provider.as_str(), generation.model.as_str()),
        ("primary", "test-model")
    );

    // What the provider received: grounded prompt, our key, nothing personal.
    let request = &mock.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk-secret-123")
    );
    assert_eq!(request.body["stream"], true);
    let sent = request.body["messages"].to_string();
    for personal in ["li.lei@example.com", "13812345678", "4111 1111 1111 1111"] {
        assert!(
            !sent.contains(personal),
            "{personal} reached the provider: {sent}"
        );
    }
    assert!(sent.contains("You can request a refund within 30 days from the Orders page."));
    assert!(sent.contains("Sign off as Kefu Bot."));
    assert!(sent.contains("NO_ANSWER"));

    // Exactly one bot message in the log, and usage accounted for the site.
    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    let bots = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author_kind"] == "bot")
        .count();
    assert_eq!(bots, 1);
    let mut requests = 0;
    for _ in 0..100 {
        let (_, usage) = admin
            .get(&format!("/api/v1/sites/{}/ai/usage", app.site_id))
            .await;
        requests = usage["totals"]["requests"].as_i64().unwrap();
        if requests >= 1 {
            assert!(usage["totals"]["prompt_tokens"].as_i64().unwrap() > 0);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(requests, 1);
    // The message was classified for analytics.
    let (_, counts) = admin
        .get(&format!("/api/v1/sites/{}/ai/classifications", app.site_id))
        .await;
    assert_eq!(counts[0]["intent"], "faq", "{counts}");
}

#[tokio::test]
async fn a_failing_provider_falls_back_then_hands_off_without_a_half_message() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    refund_entry(&app, &admin).await;
    // Nothing is confident enough for the offline fallback, so a dead chain must hand off.
    settings(&app, &admin, |s| {
        s["answer_threshold"] = json!(1.0);
        s["clarify_threshold"] = json!(0.0);
    })
    .await;
    let broken = MockServer::start().await;
    broken.set_default(Behavior::Status {
        code: 503,
        retry_after: None,
    });
    let backup = MockServer::start().await;
    providers(
        &app,
        &admin,
        json!([
            { "name": "primary", "base_url": broken.base_url(), "model": "m1" },
            { "name": "backup", "base_url": backup.base_url(), "model": "m2" }
        ]),
    )
    .await;
    backup.push(streamed(&["Refunds within ", "30 days [1]."]));
    let (visitor, conversation, mut socket) = visitor_watching(&app).await;
    say(&visitor, &conversation, "I want a refund").await;
    let (_, message, _) = until_bot_message(&mut socket).await;
    assert_eq!(message.text, "Refunds within 30 days.");
    assert_eq!(
        message.answer.unwrap().generation.unwrap().provider,
        "backup"
    );
    assert!(broken.hits() >= 1);

    // Now the backup dies mid-stream, every time: the visitor sees the partial text withdrawn
    // and a hand-off, never a half-written message.
    backup.set_default(Behavior::Malformed(vec!["Refunds wi".into()]));
    say(&visitor, &conversation, "I want a refund please").await;
    let (shown, message, _) = until_bot_message(&mut socket).await;
    assert_eq!(shown, "", "the partial answer was withdrawn");
    let meta = message.answer.unwrap();
    assert_eq!(meta.kind, kefu_core::domain::AnswerKind::Handoff);
    assert_eq!(
        meta.reason,
        Some(kefu_core::domain::HandoffReason::ProviderError)
    );
    assert!(!message.text.contains("Refunds wi"));
    // The hand-off's state change follows its message.
    let mut status = Value::Null;
    for _ in 0..100 {
        let (_, conv) = visitor
            .get(&format!("/api/v1/visitor/conversations/{conversation}"))
            .await;
        status = conv["status"].clone();
        if status != "bot" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_ne!(status, "bot", "handed to people");
}

#[tokio::test]
async fn declined_answers_are_never_shown_and_the_cache_follows_revisions() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let refund = refund_entry(&app, &admin).await;
    settings(&app, &admin, |_| {}).await;
    let mock = MockServer::start().await;
    providers(
        &app,
        &admin,
        json!([{ "name": "p", "base_url": mock.base_url(), "model": "m" }]),
    )
    .await;

    // The model declines: nothing streams, and the assistant does not pretend.
    mock.push(streamed(&["NO_", "ANSWER"]));
    let (visitor, conversation, mut socket) = visitor_watching(&app).await;
    say(&visitor, &conversation, "Can I get my money back?").await;
    let (shown, message, _) = until_bot_message(&mut socket).await;
    assert_eq!(shown, "");
    assert!(!message.text.contains("NO_ANSWER"));
    assert_ne!(
        message.answer.unwrap().kind,
        kefu_core::domain::AnswerKind::Answer
    );

    // A fresh conversation asking the same: answered, then served from the cache.
    let ask_fresh = |text: &'static str| {
        let app = &app;
        async move {
            let (visitor, conversation, mut socket) = visitor_watching(app).await;
            say(&visitor, &conversation, text).await;
            until_bot_message(&mut socket).await.1
        }
    };
    mock.set_default(streamed(&["Within 30 days [1]."]));
    let first = ask_fresh("Can I get my money back?").await;
    assert_eq!(first.text, "Within 30 days.");
    let hits = mock.hits();
    let second = ask_fresh("can i get my money back").await;
    assert_eq!(second.text, "Within 30 days.");
    assert!(second.answer.unwrap().generation.unwrap().cache_hit);
    assert_eq!(mock.hits(), hits, "served from the cache");

    // A new revision of the cited entry invalidates the cached answer.
    admin
        .set_faq_answer(&refund, "Refunds are now possible within 60 days.")
        .await;
    mock.set_default(streamed(&["Within 60 days [1]."]));
    let third = ask_fresh("Can I get my money back?").await;
    assert_eq!(third.text, "Within 60 days.");
    assert_eq!(third.answer.unwrap().citations[0].revision, 2);
    assert_eq!(mock.hits(), hits + 1);
}

#[tokio::test]
async fn a_human_request_skips_the_provider_and_the_bot_yields_to_an_agent() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    refund_entry(&app, &admin).await;
    settings(&app, &admin, |_| {}).await;
    let mock = MockServer::start().await;
    providers(
        &app,
        &admin,
        json!([{ "name": "p", "base_url": mock.base_url(), "model": "m" }]),
    )
    .await;

    let (visitor, conversation, mut socket) = visitor_watching(&app).await;
    say(&visitor, &conversation, "I want to talk to a human").await;
    let (_, message, _) = until_bot_message(&mut socket).await;
    assert_eq!(
        message.answer.unwrap().reason,
        Some(kefu_core::domain::HandoffReason::HumanRequested)
    );
    assert_eq!(mock.hits(), 0, "a human request never reaches the provider");

    // A slow answer in a second conversation; an agent takes over before it finishes.
    let mut slow = Answer::new(&["Refunds ", "take ", "30 days [1]."]);
    slow.delta_delay = Duration::from_millis(400);
    mock.push(Behavior::Answer(slow));
    let (visitor, conversation, mut socket) = visitor_watching(&app).await;
    say(&visitor, &conversation, "Can I get my money back?").await;
    // Wait for the first streamed words, then take over.
    socket
        .until(|f| matches!(f, ServerFrame::AnswerDelta { text, .. } if !text.is_empty()))
        .await;
    let (status, body) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/assign"),
            json!({ "agent_id": admin.agent.id }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The streamed text is withdrawn and no bot message is committed.
    socket
        .until(|f| matches!(f, ServerFrame::AnswerDelta { reset: true, .. }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["author_kind"] != "bot"),
        "{log}"
    );
}

#[tokio::test]
async fn provider_settings_are_validated() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let path = format!("/api/v1/sites/{}/ai/providers", app.site_id);
    for bad in [
        json!({ "providers": [{ "name": "", "base_url": "http://x", "model": "m" }] }),
        json!({ "providers": [{ "name": "a", "base_url": "ftp://x", "model": "m" }] }),
        json!({ "providers": [{ "name": "a", "base_url": "http://x", "model": "m", "api_key": "" }] }),
        json!({ "providers": [
            { "name": "a", "base_url": "http://x", "model": "m" },
            { "name": "A", "base_url": "http://y", "model": "m" }] }),
        json!({ "providers": [{ "name": "a", "base_url": "http://x", "model": "m", "surprise": 1 }] }),
    ] {
        let (status, body) = admin.send(Method::PUT, &path, Some(bad.clone())).await;
        assert_eq!(status, 422, "{bad} -> {body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    // Keys: kept when left out, removed by null.
    providers(
        &app,
        &admin,
        json!([{ "name": "a", "base_url": "http://127.0.0.1:9", "model": "m", "api_key": "k" }]),
    )
    .await;
    let kept = providers(
        &app,
        &admin,
        json!([{ "name": "a", "base_url": "http://127.0.0.1:9", "model": "m2" }]),
    )
    .await;
    assert_eq!(kept[0]["has_api_key"], true);
    assert_eq!(kept[0]["model"], "m2");
    let removed = providers(
        &app,
        &admin,
        json!([{ "name": "a", "base_url": "http://127.0.0.1:9", "model": "m2", "api_key": null }]),
    )
    .await;
    assert_eq!(removed[0]["has_api_key"], false);
    // Agents may not see or change the chain.
    let agent = app
        .agent("agent@example.com", kefu_core::domain::Role::Agent)
        .await;
    let (status, _) = agent.get(&path).await;
    assert_eq!(status, 403);
    // Site settings are range-checked too.
    let (_, site) = admin.get(&format!("/api/v1/sites/{}", app.site_id)).await;
    let mut s = site["settings"].clone();
    s["answer_threshold"] = json!(1.5);
    let (status, body) = admin
        .send(
            Method::PATCH,
            &format!("/api/v1/sites/{}", app.site_id),
            Some(json!({ "settings": s })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn conversation_summary_by_the_model_redacted_else_offline() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    settings(&app, &admin, |_| {}).await;
    let (visitor, conversation, mut socket) = visitor_watching(&app).await;
    say(
        &visitor,
        &conversation,
        "My parcel never arrived, call me at 13812345678",
    )
    .await;
    until_bot_message(&mut socket).await;
    let path = format!("/api/v1/conversations/{conversation}/summary");

    // No provider: assembled from the conversation.
    let (status, offline) = admin.get(&path).await;
    assert_eq!(status, 200, "{offline}");
    assert_eq!(offline["source"], "offline");
    assert!(
        offline["summary"]
            .as_str()
            .unwrap()
            .contains("My parcel never arrived"),
        "{offline}"
    );

    // With a provider: the model's summary; the transcript it got was redacted.
    let mock = MockServer::start().await;
    providers(
        &app,
        &admin,
        json!([{ "name": "p", "base_url": mock.base_url(), "model": "m" }]),
    )
    .await;
    mock.push(Behavior::Answer(Answer::new(&[
        "- Parcel missing; wants a call back.",
    ])));
    let (status, summary) = admin.get(&path).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["source"], "model");
    assert_eq!(summary["summary"], "- Parcel missing; wants a call back.");
    assert_eq!(summary["generation"]["provider"], "p");
    let sent = mock.requests()[0].body["messages"].to_string();
    assert!(sent.contains("My parcel never arrived"));
    assert!(!sent.contains("13812345678"), "{sent}");

    // A failing provider degrades to the offline summary, not an error.
    mock.set_default(Behavior::Status {
        code: 400,
        retry_after: None,
    });
    let (status, fallback) = admin.get(&path).await;
    assert_eq!(status, 200);
    assert_eq!(fallback["source"], "offline");
    // Members of other sites cannot read it.
    let (status, _) = visitor
        .get(&path.replace("/api/v1/", "/api/v1/visitor/"))
        .await;
    assert_eq!(status, 404);
}

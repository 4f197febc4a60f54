//! The assistant in conversations: answers from published public FAQ entries citing the entry
//! and revision, hands off with a reason when unsure or asked, never uses internal or draft
//! entries for visitors, stays silent while an agent holds the conversation, and picks up a new
//! revision at once.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp, VisitorClient, uuid_like};

async fn enable_bot(app: &TestApp, admin: &AgentClient) {
    let (_, site) = admin.get(&format!("/api/v1/sites/{}", app.site_id)).await;
    let mut settings = site["settings"].clone();
    settings["bot_enabled"] = json!(true);
    let (status, _) = admin
        .send(
            Method::PATCH,
            &format!("/api/v1/sites/{}", app.site_id),
            Some(json!({ "settings": settings })),
        )
        .await;
    assert_eq!(status, 200);
}

async fn add_faq(
    app: &TestApp,
    admin: &AgentClient,
    question: &str,
    alternatives: &[&str],
    answer: &str,
    visibility: &str,
    status: &str,
) -> String {
    let (code, entry) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/entries", app.site_id),
            json!({
                "category": "faq", "title": question, "visibility": visibility, "status": status,
                "faq": { "question": question, "alternatives": alternatives, "answer": answer }
            }),
        )
        .await;
    assert_eq!(code, 201, "{entry}");
    entry["id"].as_str().unwrap().to_owned()
}

async fn knowledge(app: &TestApp, admin: &AgentClient) -> (String, String) {
    let refund = add_faq(
        app,
        admin,
        "How do I get a refund?",
        &[
            "Can I get my money back?",
            "I want a refund for my order",
            "refund policy",
        ],
        "You can request a refund within 30 days from the Orders page.",
        "public",
        "published",
    )
    .await;
    let shipping = add_faq(
        app,
        admin,
        "How long does shipping take?",
        &[
            "When will my parcel arrive?",
            "delivery time",
            "how long until my order arrives",
        ],
        "Orders arrive in 3-5 working days.",
        "public",
        "published",
    )
    .await;
    add_faq(
        app,
        admin,
        "How do I override the refund limit?",
        &["refund limit override", "approve a refund above the limit"],
        "INTERNAL: ask finance for a limit override code.",
        "internal",
        "published",
    )
    .await;
    add_faq(
        app,
        admin,
        "Do you ship to the moon?",
        &["lunar delivery", "moon shipping"],
        "DRAFT: not yet.",
        "public",
        "draft",
    )
    .await;
    (refund, shipping)
}

/// Sends a visitor message and waits for the log to hold a bot entry after it.
async fn ask(visitor: &VisitorClient, conversation: &str, text: &str) -> Value {
    let path = format!("/api/v1/visitor/conversations/{conversation}/messages");
    let (status, sent) = visitor
        .post(&path, json!({ "client_id": uuid_like(), "text": text }))
        .await;
    assert_eq!(status, 201, "{sent}");
    let seq = sent["seq"].as_i64().unwrap();
    wait_for(visitor, conversation, seq, |m| m["author_kind"] == "bot")
        .await
        .unwrap_or_else(|| panic!("no bot reply to {text:?}"))
}

async fn wait_for(
    visitor: &VisitorClient,
    conversation: &str,
    after: i64,
    pred: impl Fn(&Value) -> bool,
) -> Option<Value> {
    let path = format!("/api/v1/visitor/conversations/{conversation}/messages?after_seq={after}");
    for _ in 0..100 {
        let (_, log) = visitor.get(&path).await;
        if let Some(m) = log["items"].as_array().unwrap().iter().find(|m| pred(m)) {
            return Some(m.clone());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

async fn open(visitor: &VisitorClient) -> String {
    let (status, body) = visitor
        .post("/api/v1/visitor/conversations", json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["conversation"]["status"], "bot");
    body["conversation"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn answers_confidently_with_a_citation_of_the_revision() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    enable_bot(&app, &admin).await;
    let (refund, _) = knowledge(&app, &admin).await;
    let visitor = app.visitor().await;
    let conversation = open(&visitor).await;
    let reply = ask(&visitor, &conversation, "can i get my money back").await;
    assert_eq!(reply["answer"]["kind"], "answer", "{reply}");
    assert_eq!(
        reply["text"],
        "You can request a refund within 30 days from the Orders page."
    );
    assert_eq!(reply["answer"]["citations"][0]["entry_id"], refund);
    assert_eq!(reply["answer"]["citations"][0]["revision"], 1);
    assert!(reply["answer"]["confidence"].as_f64().unwrap() >= 0.45);
    let (_, conv) = visitor
        .get(&format!("/api/v1/visitor/conversations/{conversation}"))
        .await;
    assert_eq!(conv["status"], "bot", "answered, still with the bot");
    let (_, entry) = admin.get(&format!("/api/v1/kb/entries/{refund}")).await;
    assert_eq!(entry["hit_count"], 1);

    // A new revision is used at once, and the citation names it.
    admin
        .set_faq_answer(&refund, "Refunds are now possible within 60 days.")
        .await;
    let reply = ask(&visitor, &conversation, "I want a refund for my order").await;
    assert_eq!(reply["text"], "Refunds are now possible within 60 days.");
    assert_eq!(reply["answer"]["citations"][0]["revision"], 2);
}

#[tokio::test]
async fn unsure_or_asked_for_a_person_hands_off_with_a_reason() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    enable_bot(&app, &admin).await;
    knowledge(&app, &admin).await;

    let visitor = app.visitor().await;
    let conversation = open(&visitor).await;
    let reply = ask(&visitor, &conversation, "what is the capital of Mongolia").await;
    assert_ne!(reply["answer"]["kind"], "answer", "{reply}");
    let reply = if reply["answer"]["kind"] == "clarify" {
        ask(
            &visitor,
            &conversation,
            "the weather in Ulaanbaatar tomorrow",
        )
        .await
    } else {
        reply
    };
    assert_eq!(reply["answer"]["kind"], "handoff", "{reply}");
    let reason = reply["answer"]["reason"].as_str().unwrap();
    assert!(
        ["low_confidence", "no_knowledge", "repeated_failure"].contains(&reason),
        "{reason}"
    );
    let event = wait_for(&visitor, &conversation, 0, |m| {
        m["event"]["type"] == "handoff_requested"
    })
    .await
    .unwrap();
    assert_eq!(event["event"]["reason"], reason);
    let (_, conv) = visitor
        .get(&format!("/api/v1/visitor/conversations/{conversation}"))
        .await;
    assert_eq!(conv["status"], "waiting");

    // The question waits in the editors' unanswered queue.
    let (_, queue) = admin
        .get(&format!("/api/v1/sites/{}/kb/unanswered", app.site_id))
        .await;
    assert!(!queue.as_array().unwrap().is_empty(), "{queue}");
    assert_eq!(queue[0]["conversation_id"], conversation);

    let other = app.visitor().await;
    let conversation = open(&other).await;
    let reply = ask(&other, &conversation, "退款 转人工").await;
    assert_eq!(reply["answer"]["reason"], "human_requested");
    assert!(
        reply["text"].as_str().unwrap().contains("人工"),
        "replies in the visitor's language"
    );
}

#[tokio::test]
async fn internal_and_draft_entries_never_answer_visitors() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    enable_bot(&app, &admin).await;
    knowledge(&app, &admin).await;
    for question in [
        "How do I override the refund limit?",
        "refund limit override",
        "Do you ship to the moon?",
        "lunar delivery",
    ] {
        let visitor = app.visitor().await;
        let conversation = open(&visitor).await;
        let reply = ask(&visitor, &conversation, question).await;
        let text = reply["text"].as_str().unwrap();
        assert!(
            !text.contains("INTERNAL") && !text.contains("DRAFT"),
            "{question}: {reply}"
        );
    }
}

#[tokio::test]
async fn the_bot_is_silent_while_an_agent_holds_the_conversation() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    enable_bot(&app, &admin).await;
    knowledge(&app, &admin).await;
    let visitor = app.visitor().await;
    let conversation = open(&visitor).await;
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/assign"),
            json!({ "agent_id": admin.agent.id }),
        )
        .await;
    assert_eq!(status, 200);
    let path = format!("/api/v1/visitor/conversations/{conversation}/messages");
    let (_, sent) = visitor
        .post(
            &path,
            json!({ "client_id": "q", "text": "How do I get a refund?" }),
        )
        .await;
    let seq = sent["seq"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, log) = visitor.get(&format!("{path}?after_seq={seq}")).await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["author_kind"] != "bot"),
        "{log}"
    );

    // Handed back to the bot, it answers again.
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/hand-to-bot"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let reply = ask(&visitor, &conversation, "How long does shipping take?").await;
    assert_eq!(reply["text"], "Orders arrive in 3-5 working days.");
}

#[tokio::test]
async fn the_copilot_suggests_replies_from_internal_knowledge_too() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    knowledge(&app, &admin).await;
    let visitor = app.visitor().await;
    let conversation = visitor
        .open_conversation("can you override the refund limit for me?")
        .await;
    let (status, body) = admin
        .get(&format!("/api/v1/conversations/{conversation}/suggestions"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["question"],
        "can you override the refund limit for me?"
    );
    let top = &body["suggestions"][0];
    assert_eq!(
        top["text"],
        "INTERNAL: ask finance for a limit override code."
    );
    assert_eq!(top["internal"], true);
    assert_eq!(top["citation"]["revision"], 1);
    // Visitors never get that text from the assistant (see internal_and_draft_entries_never_answer_visitors).
}

#[tokio::test]
async fn visitors_rate_answers_and_entries_count_it() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    enable_bot(&app, &admin).await;
    let (refund, _) = knowledge(&app, &admin).await;
    let visitor = app.visitor().await;
    let conversation = open(&visitor).await;
    let reply = ask(&visitor, &conversation, "can i get my money back").await;
    let path = format!(
        "/api/v1/visitor/conversations/{conversation}/messages/{}/feedback",
        reply["id"].as_str().unwrap()
    );
    let (status, _) = visitor
        .post(&path, json!({ "rating": "down", "reason": "too vague" }))
        .await;
    assert_eq!(status, 204);
    let (_, entry) = admin.get(&format!("/api/v1/kb/entries/{refund}")).await;
    assert_eq!(
        (entry["thumbs_up"].as_i64(), entry["thumbs_down"].as_i64()),
        (Some(0), Some(1))
    );
    // Changing one's mind moves the count; repeating it does not.
    visitor.post(&path, json!({ "rating": "up" })).await;
    visitor.post(&path, json!({ "rating": "up" })).await;
    let (_, entry) = admin.get(&format!("/api/v1/kb/entries/{refund}")).await;
    assert_eq!(
        (entry["thumbs_up"].as_i64(), entry["thumbs_down"].as_i64()),
        (Some(1), Some(0))
    );
    let (status, err) = visitor.post(&path, json!({ "rating": "meh" })).await;
    assert_eq!(
        (status.as_u16(), err["error"]["code"].as_str()),
        (422, Some("invalid_field"))
    );
    // Only the assistant's answers can be rated.
    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages?after_seq=0"
        ))
        .await;
    let own = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["author_kind"] == "visitor")
        .unwrap();
    let path = format!(
        "/api/v1/visitor/conversations/{conversation}/messages/{}/feedback",
        own["id"].as_str().unwrap()
    );
    let (status, _) = visitor.post(&path, json!({ "rating": "up" })).await;
    assert_eq!(status, 409);
}

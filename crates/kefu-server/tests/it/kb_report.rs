//! The upkeep report: overdue reviews, entries never used, entries rated down, and the size
//! of the unanswered queue, each drawn from what really happened through the API.

use kefu_core::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp, VisitorClient, uuid_like};

async fn faq(app: &TestApp, admin: &AgentClient, question: &str, extra: Value) -> String {
    let mut body = json!({
        "category": "faq", "title": question, "visibility": "public", "status": "published",
        "faq": { "question": question, "alternatives": [], "answer": format!("Answer: {question}") }
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, entry) = admin
        .post(&format!("/api/v1/sites/{}/kb/entries", app.site_id), body)
        .await;
    assert_eq!(status, 201, "{entry}");
    entry["id"].as_str().unwrap().to_owned()
}

async fn bot_reply(visitor: &VisitorClient, conversation: &str, text: &str) -> Value {
    let path = format!("/api/v1/visitor/conversations/{conversation}/messages");
    let (status, sent) = visitor
        .post(&path, json!({ "client_id": uuid_like(), "text": text }))
        .await;
    assert_eq!(status, 201, "{sent}");
    let seq = sent["seq"].as_i64().unwrap();
    for _ in 0..100 {
        let (_, log) = visitor.get(&format!("{path}?after_seq={seq}")).await;
        if let Some(m) = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["author_kind"] == "bot")
        {
            return m.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no bot reply to {text:?}");
}

fn ids(section: &Value) -> Vec<String> {
    section["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn report_lists_overdue_unused_and_disliked_entries_and_counts_unanswered() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
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

    let refund = faq(&app, &admin, "How do I get a refund?", json!({})).await;
    let shipping = faq(&app, &admin, "How long does shipping take?", json!({})).await;
    let overdue = faq(
        &app,
        &admin,
        "Which payment cards do you accept?",
        json!({ "review_due": "2020-01-01T00:00:00Z" }),
    )
    .await;
    let future = faq(
        &app,
        &admin,
        "Do you ship abroad?",
        json!({ "review_due": "2999-01-01T00:00:00Z", "status": "draft" }),
    )
    .await;

    // A visitor gets the refund answer and rates it down; another question finds nothing.
    let visitor = app.visitor().await;
    let (status, body) = visitor
        .post("/api/v1/visitor/conversations", json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    let conversation = body["conversation"]["id"].as_str().unwrap().to_owned();
    let reply = bot_reply(&visitor, &conversation, "how do i get a refund").await;
    let (status, _) = visitor
        .post(
            &format!(
                "/api/v1/visitor/conversations/{conversation}/messages/{}/feedback",
                reply["id"].as_str().unwrap()
            ),
            json!({ "rating": "down" }),
        )
        .await;
    assert_eq!(status, 204);
    bot_reply(&visitor, &conversation, "Do you repair submarine engines?").await;

    let path = format!("/api/v1/sites/{}/kb/report?never_hit_days=0", app.site_id);
    let (status, report) = admin.get(&path).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        ids(&report["review_overdue"]),
        std::slice::from_ref(&overdue)
    );
    assert_eq!(report["review_overdue"]["total"], 1);
    assert_eq!(
        ids(&report["negative_feedback"]),
        std::slice::from_ref(&refund)
    );
    let never = ids(&report["never_hit"]);
    assert!(
        never.contains(&shipping) && never.contains(&overdue),
        "{report}"
    );
    assert!(!never.contains(&refund), "answered, so hit: {report}");
    assert!(
        !never.contains(&future),
        "drafts are not published: {report}"
    );

    let (_, unanswered) = admin
        .get(&format!("/api/v1/sites/{}/kb/unanswered", app.site_id))
        .await;
    let queued = unanswered.as_array().unwrap().len() as u64;
    assert!(queued >= 1, "{unanswered}");
    assert_eq!(report["unanswered"].as_u64(), Some(queued));

    // With the default 30-day grace, entries made just now are not "never hit" yet.
    let (_, report) = admin
        .get(&format!("/api/v1/sites/{}/kb/report", app.site_id))
        .await;
    assert_eq!(report["never_hit"]["total"], 0, "{report}");
    assert_eq!(report["never_hit_days"], 30);

    let agent = app.agent("agent@kefu.local", Role::Agent).await;
    let (status, _) = agent.get(&path).await;
    assert_eq!(status, 403);
    let (status, body) = admin
        .get(&format!("/api/v1/sites/{}/kb/report?days=3", app.site_id))
        .await;
    assert_eq!(status, 400, "{body}");
}

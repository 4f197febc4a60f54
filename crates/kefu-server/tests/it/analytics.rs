//! Site analytics over real conversations: one the assistant settles, one handed to a human
//! who answers and resolves it and gets rated; figures as JSON and CSV, and bad periods.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp, VisitorClient, uuid_like};

async fn enable_bot_with_faq(app: &TestApp, admin: &AgentClient) {
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
    let (status, _) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/entries", app.site_id),
            json!({
                "category": "faq", "title": "Refunds", "visibility": "public", "status": "published",
                "faq": { "question": "How do I get a refund?",
                         "alternatives": ["Can I get my money back?", "refund policy"],
                         "answer": "Within 30 days from the Orders page." }
            }),
        )
        .await;
    assert_eq!(status, 201);
}

/// Sends a visitor message and waits for the entry `pred` picks after it.
async fn say(
    visitor: &VisitorClient,
    conversation: &str,
    text: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let path = format!("/api/v1/visitor/conversations/{conversation}/messages");
    let (status, sent) = visitor
        .post(&path, json!({ "client_id": uuid_like(), "text": text }))
        .await;
    assert_eq!(status, 201, "{sent}");
    let after = sent["seq"].as_i64().unwrap();
    for _ in 0..200 {
        let (_, log) = visitor.get(&format!("{path}?after_seq={after}")).await;
        if let Some(m) = log["items"].as_array().unwrap().iter().find(|m| pred(m)) {
            return m.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing answered {text:?}");
}

#[tokio::test]
async fn figures_count_automated_and_human_conversations() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    enable_bot_with_faq(&app, &admin).await;

    // Settled by the assistant, and rated up.
    let happy = app.visitor().await;
    let (_, opened) = happy.post("/api/v1/visitor/conversations", json!({})).await;
    let settled = opened["conversation"]["id"].as_str().unwrap().to_owned();
    let answer = say(&happy, &settled, "Can I get my money back?", |m| {
        m["author_kind"] == "bot"
    })
    .await;
    assert_eq!(answer["answer"]["kind"], "answer", "{answer}");
    let (status, _) = happy
        .post(
            &format!(
                "/api/v1/visitor/conversations/{settled}/messages/{}/feedback",
                answer["id"].as_str().unwrap()
            ),
            json!({ "rating": "up" }),
        )
        .await;
    assert_eq!(status, 204);

    // Asked for a person: an agent answers, resolves, and is rated 4.
    let other = app.visitor().await;
    let (_, opened) = other.post("/api/v1/visitor/conversations", json!({})).await;
    let human = opened["conversation"]["id"].as_str().unwrap().to_owned();
    let (status, _) = other
        .post(
            &format!("/api/v1/visitor/conversations/{human}/handoff"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = other
        .post(
            &format!("/api/v1/visitor/conversations/{human}/messages"),
            json!({ "client_id": uuid_like(), "text": "my parcel is lost" }),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{human}/messages"),
            json!({ "client_id": uuid_like(), "text": "Sorry! Sending a new one today." }),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = admin
        .post(&format!("/api/v1/conversations/{human}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = other
        .post(
            &format!("/api/v1/visitor/conversations/{human}/csat"),
            json!({ "rating": 4 }),
        )
        .await;
    assert!(status.is_success(), "{status}");

    let base = format!("/api/v1/sites/{}/analytics", app.site_id);
    let (status, a) = admin.get(&base).await;
    assert_eq!(status, 200, "{a}");
    let t = &a["totals"];
    assert_eq!(t["conversations"], 2, "{a}");
    assert_eq!(t["with_visitor_messages"], 2);
    assert_eq!(t["automated"], 1);
    assert_eq!(t["handed_off"], 1);
    assert_eq!(t["human_handled"], 1);
    assert_eq!(t["resolved"], 1);
    assert_eq!(t["automation_rate"], 0.5);
    assert!(t["first_response_median_secs"].as_i64().unwrap() >= 0);
    assert!(t["resolution_median_secs"].as_i64().unwrap() >= 0);
    assert_eq!(t["ratings"], 1);
    assert_eq!(t["rating_average"], 4.0);
    assert_eq!(t["rating_distribution"], json!([0, 0, 0, 1, 0]));
    assert_eq!(
        (t["thumbs_up"].as_i64(), t["thumbs_down"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(a["handoff_reasons"][0]["key"], "human_requested", "{a}");
    // The default period: 30 days ending today, today's row holding both conversations.
    let days = a["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["conversations"], 2);
    assert_eq!(days[29]["automated"], 1);
    let hours: i64 = a["busiest_hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_i64().unwrap())
        .sum();
    assert_eq!(hours, 2, "one visitor message in each conversation");

    // An agent sees the same figures; a period before anything happened is empty.
    let agent = app
        .agent("agent@shop.example", kefu_core::domain::Role::Agent)
        .await;
    let (status, same) = agent.get(&base).await;
    assert_eq!(status, 200);
    assert_eq!(same["totals"], a["totals"]);
    let (_, empty) = admin
        .get(&format!("{base}?from=2020-01-01&to=2020-01-31"))
        .await;
    assert_eq!(empty["totals"]["conversations"], 0);
    assert_eq!(empty["totals"]["automation_rate"], Value::Null);
    assert_eq!(empty["days"].as_array().unwrap().len(), 31);

    // CSV: a header and one line per day.
    let res = admin
        .http
        .get(app.url(&format!("{base}?format=csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 31);
    assert!(lines[0].starts_with("day,conversations,automated,handed_off,resolved"));
    assert!(lines[30].contains(",2,1,1,1,"), "{}", lines[30]);
}

#[tokio::test]
async fn bad_periods_are_refused_with_the_field_named() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let base = format!("/api/v1/sites/{}/analytics", app.site_id);
    for (query, word) in [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-02-01&to=2026-01-01", "after"),
        ("from=2024-01-01&to=2026-01-01", "366"),
        ("offset=9999", "offset"),
        ("format=xml", "format"),
    ] {
        let (status, body) = admin.get(&format!("{base}?{query}")).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_field");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(word),
            "{query}: {body}"
        );
    }
    let (status, body) = admin.get(&format!("{base}?days=7")).await;
    assert_eq!(status, 400, "unknown parameters are refused: {body}");
}

//! Evaluation runs from the console API: a suite uploaded as JSONL or CSV runs in the
//! background through the same engine visitors get; the stored figures match what the engine
//! does (right entries found and answered, an out-of-scope question handed off), runs list
//! newest first so a knowledge change shows up as a change in the figures, and bad suites,
//! roles and other sites' runs are refused.

use std::time::Duration;

use kefu_core::domain::Role;
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp};

async fn add_faq(
    app: &TestApp,
    admin: &AgentClient,
    question: &str,
    alts: &[&str],
    answer: &str,
) -> String {
    let (status, entry) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/entries", app.site_id),
            json!({
                "category": "faq", "title": question, "visibility": "public", "status": "published",
                "faq": { "question": question, "alternatives": alts, "answer": answer }
            }),
        )
        .await;
    assert_eq!(status, 201, "{entry}");
    entry["id"].as_str().unwrap().to_owned()
}

async fn finished(client: &AgentClient, site: &str, run: &str) -> Value {
    for _ in 0..600 {
        let (status, body) = client
            .get(&format!("/api/v1/sites/{site}/eval/runs/{run}"))
            .await;
        assert_eq!(status, 200, "{body}");
        if body["status"] == "done" || body["status"] == "failed" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run never finished");
}

#[tokio::test]
async fn a_suite_runs_through_the_engine_and_runs_compare_over_time() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let editor = app.agent("editor@shop.example", Role::Editor).await;
    let refund = add_faq(
        &app,
        &admin,
        "How do I get a refund?",
        &[
            "Can I get my money back?",
            "I want a refund for my order",
            "refund policy",
        ],
        "You can request a refund within 30 days from the Orders page.",
    )
    .await;
    let shipping = add_faq(
        &app,
        &admin,
        "How long does shipping take?",
        &[
            "When will my parcel arrive?",
            "delivery time",
            "how long until my order arrives",
        ],
        "Orders arrive in 3-5 working days.",
    )
    .await;
    let suite = [
        json!({ "question": "I would like a refund for my order", "expected_entry_ids": refund }),
        json!({ "question": "can I have my money back", "expected_entry_ids": [refund] }),
        json!({ "question": "when will my parcel arrive", "expected_entry_ids": shipping,
                "keywords": ["working days"] }),
        json!({ "question": "what is the capital of France", "should_handoff": true }),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let base = format!("/api/v1/sites/{}/eval/runs", app.site_id);
    let (status, run) = editor
        .post(
            &base,
            json!({ "name": "baseline", "format": "jsonl", "suite": suite }),
        )
        .await;
    assert_eq!(status, 202, "{run}");
    assert_eq!(run["questions"], 4);
    assert_eq!(run["mode"], "offline");
    let first = run["id"].as_str().unwrap().to_owned();
    let done = finished(&editor, &app.site_id, &first).await;
    assert_eq!(done["status"], "done", "{done}");
    let m = &done["metrics"];
    assert_eq!(m["questions"], 4);
    assert_eq!(m["retrieval_questions"], 3);
    assert_eq!(m["hit_at_1"], 1.0, "{m}");
    assert_eq!(m["correct_answers"], 3, "{m}");
    assert_eq!(m["wrong_answers"], 0, "{m}");
    assert_eq!(m["handoff"]["recall"], 1.0, "{m}");
    assert_eq!(done["report"]["metrics"], *m);
    assert!(
        done["report"]["answerer"]
            .as_str()
            .unwrap()
            .contains("offline")
    );
    assert!(!done["report"]["sweep"].as_array().unwrap().is_empty());

    // The shipping answer is archived; the same questions, run again, show the loss.
    let (status, body) = admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/kb/entries/{shipping}"),
            Some(json!({
                "category": "faq", "title": "How long does shipping take?",
                "visibility": "public", "status": "archived", "expected_revision": 1,
                "faq": { "question": "How long does shipping take?", "alternatives": [],
                         "answer": "Orders arrive in 3-5 working days." }
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let csv = format!(
        "question,expected_entry_ids\nI would like a refund for my order,{refund}\n\
         when will my parcel arrive,{shipping}\n"
    );
    let (status, run) = editor
        .post(
            &base,
            json!({ "name": "after removing shipping", "format": "csv", "suite": csv }),
        )
        .await;
    assert_eq!(status, 202, "{run}");
    let second = run["id"].as_str().unwrap().to_owned();
    let done = finished(&editor, &app.site_id, &second).await;
    assert_eq!(done["metrics"]["hit_at_1"], 0.5, "{}", done["metrics"]);

    let (status, list) = editor.get(&base).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()]);
    assert!(list[1]["metrics"]["hit_at_1"].is_number());
}

#[tokio::test]
async fn bad_suites_roles_and_other_sites_are_refused() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agent = app.agent("agent@shop.example", Role::Agent).await;
    let base = format!("/api/v1/sites/{}/eval/runs", app.site_id);
    let ok = json!({ "name": "n", "format": "jsonl", "suite": "{\"question\":\"hi\"}" });
    for (body, why) in [
        (
            json!({ "name": "n", "format": "xml", "suite": "x" }),
            "format",
        ),
        (
            json!({ "name": "n", "format": "jsonl", "suite": "" }),
            "empty",
        ),
        (
            json!({ "name": "n", "format": "jsonl", "suite": "{not json" }),
            "bad line",
        ),
        (
            json!({ "name": "n", "format": "csv", "suite": "answer\nx\n" }),
            "no question column",
        ),
        (
            json!({ "name": " ", "format": "jsonl", "suite": "{\"question\":\"hi\"}" }),
            "name",
        ),
        (
            json!({ "name": "n", "format": "jsonl", "suite": "{\"question\":\" \"}" }),
            "blank",
        ),
    ] {
        let (status, err) = admin.post(&base, body).await;
        assert_eq!(status, 422, "{why}: {err}");
        assert_eq!(err["error"]["code"], "invalid_field", "{why}");
    }
    let mut llm = ok.clone();
    llm["use_llm"] = json!(true);
    let (status, err) = admin.post(&base, llm).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "no_provider");
    assert_eq!(agent.post(&base, ok.clone()).await.0, 403);
    assert_eq!(agent.get(&base).await.0, 403);

    // A run of one site is not readable through another site's path.
    let (status, run) = admin.post(&base, ok).await;
    assert_eq!(status, 202);
    let (status, other) = admin
        .post("/api/v1/sites", json!({ "name": "Other shop" }))
        .await;
    assert_eq!(status, 201, "{other}");
    let (status, _) = admin
        .get(&format!(
            "/api/v1/sites/{}/eval/runs/{}",
            other["id"].as_str().unwrap(),
            run["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 404);
}

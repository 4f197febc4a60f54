//! Bad input over REST: each gets a clear 4xx with a stable code, and nothing stored is lost
//! or altered.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, uuid_like};

#[tokio::test]
async fn bad_messages_are_refused_with_clear_codes_and_nothing_changes() {
    let app = TestApp::new().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("the original").await;
    let url = format!(
        "{}/api/v1/visitor/conversations/{conversation}/messages",
        visitor.base
    );
    let post_raw = |body: Vec<u8>, content_type: &'static str| {
        visitor
            .http
            .post(&url)
            .bearer_auth(&visitor.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: Vec<(Vec<u8>, &str, u16, &str)> = vec![
        (
            json!({ "client_id": "a", "text": "x".repeat(4001) })
                .to_string()
                .into(),
            "application/json",
            413,
            "message_too_long",
        ),
        (
            json!({ "client_id": "a", "text": "" }).to_string().into(),
            "application/json",
            422,
            "message_empty",
        ),
        (
            json!({ "client_id": "a", "text": "hi", "sender": "admin" })
                .to_string()
                .into(),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            json!({ "client_id": "", "text": "hi" }).to_string().into(),
            "application/json",
            422,
            "invalid_client_id",
        ),
        (
            json!({ "text": "no client id" }).to_string().into(),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            b"{\"client_id\":\"a\",\"text\":\"\xff\xfe\"}".to_vec(),
            "application/json",
            400,
            "invalid_json",
        ),
        (
            b"{\"client_id\":".to_vec(),
            "application/json",
            400,
            "invalid_json",
        ),
        (
            json!({ "client_id": "a", "text": "hi" }).to_string().into(),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            json!({ "client_id": "a", "text": "hi", "private": true })
                .to_string()
                .into(),
            "application/json",
            403,
            "forbidden",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let res = post_raw(body, content_type).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "expected {code}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // 4,000 characters of Chinese are fine: the limit counts characters, not bytes.
    let (status, _) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conversation}/messages"),
            json!({ "client_id": "long", "text": "好".repeat(4000) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages?after_seq=0"
        ))
        .await;
    let visitor_texts: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author_kind"] == "visitor")
        .collect();
    assert_eq!(visitor_texts.len(), 2);
    assert_eq!(
        visitor_texts[0]["text"], "the original",
        "stored message untouched"
    );
}

#[tokio::test]
async fn unknown_ids_and_malformed_paths() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let visitor = app.visitor().await;
    let (status, body) = admin
        .get(&format!("/api/v1/conversations/{}", uuid_like()))
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = admin.get("/api/v1/conversations/not-a-uuid").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (400, Some("invalid_path"))
    );
    let (status, _) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{}/messages",
            uuid_like()
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = admin.get("/api/v1/conversations?cursor=bogus").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    let (status, body) = admin.get("/api/v1/no/such/route").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let http = reqwest::Client::new();
    let res = http
        .post(app.url("/api/v1/visitor/sessions"))
        .json(&json!({ "site_id": uuid_like() }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

//! Per-site search vocabulary: synonyms widen searches at once (no re-index), custom words
//! are kept whole by the segmenter after the background re-index, bad lexicons are refused,
//! and only editors may change it.

use std::time::Duration;

use kefu_core::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp};

async fn article(app: &TestApp, admin: &AgentClient, title: &str, body: &str) -> String {
    let (status, entry) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/entries", app.site_id),
            json!({
                "category": "policy", "title": title, "body": body,
                "visibility": "public", "status": "published"
            }),
        )
        .await;
    assert_eq!(status, 201, "{entry}");
    entry["id"].as_str().unwrap().to_owned()
}

async fn search(app: &TestApp, admin: &AgentClient, q: &str) -> Vec<Value> {
    let (status, hits) = admin
        .get(&format!(
            "/api/v1/sites/{}/kb/search?q={}&audience=visitor",
            app.site_id,
            urlencode(q)
        ))
        .await;
    assert_eq!(status, 200, "{hits}");
    hits.as_array().unwrap().clone()
}

fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn finds<'a>(hits: &'a [Value], entry: &str) -> Option<&'a Value> {
    hits.iter().find(|h| h["entry_id"] == entry)
}

async fn put_lexicon(admin: &AgentClient, app: &TestApp, lexicon: Value) -> (u16, Value) {
    let (status, body) = admin
        .send(
            Method::PUT,
            &format!("/api/v1/sites/{}/kb/lexicon", app.site_id),
            Some(lexicon),
        )
        .await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn synonyms_find_entries_written_with_the_other_form_without_reindexing() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let instalments = article(&app, &admin, "账单说明", "按揭每月10号自动扣除。").await;
    let refunds = article(
        &app,
        &admin,
        "Returns",
        "You get your money back within 30 days of delivery.",
    )
    .await;

    assert!(finds(&search(&app, &admin, "分期付款").await, &instalments).is_none());
    assert!(finds(&search(&app, &admin, "refund").await, &refunds).is_none());

    let (status, saved) = put_lexicon(
        &admin,
        &app,
        json!({ "synonyms": [["分期付款", "按揭"], ["refund", "money back"]] }),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["reindexing"], false,
        "synonyms alone need no re-index"
    );

    let hits = search(&app, &admin, "分期付款怎么扣").await;
    let hit = finds(&hits, &instalments).expect("the 按揭 entry for a 分期付款 query");
    assert!(
        hit["matched_terms"]
            .as_array()
            .unwrap()
            .contains(&json!("按揭")),
        "{hit}"
    );
    let hits = search(&app, &admin, "Refunds?").await;
    let hit = finds(&hits, &refunds).expect("the money-back entry for a refund query");
    let matched = hit["matched_terms"].as_array().unwrap();
    assert!(
        matched.contains(&json!("money")) && matched.contains(&json!("back")),
        "{hit}"
    );

    // Removing the synonyms takes effect at once too.
    let (status, _) = put_lexicon(&admin, &app, json!({})).await;
    assert_eq!(status, 200);
    assert!(finds(&search(&app, &admin, "分期付款").await, &instalments).is_none());
}

#[tokio::test]
async fn a_custom_word_is_segmented_whole_after_the_background_reindex() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let entry = article(
        &app,
        &admin,
        "开通说明",
        "蚂蚁花呗怎么开通？在支付宝首页开通。",
    )
    .await;
    let before = search(&app, &admin, "蚂蚁花呗").await;
    let hit = finds(&before, &entry).expect("found by its parts before");
    assert!(
        !hit["matched_terms"]
            .as_array()
            .unwrap()
            .contains(&json!("蚂蚁花呗")),
        "not a dictionary word yet: {hit}"
    );

    let (status, saved) = put_lexicon(&admin, &app, json!({ "words": ["蚂蚁花呗"] })).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["words"], json!(["蚂蚁花呗"]));

    let mut whole = false;
    for _ in 0..100 {
        let (_, lexicon) = admin
            .get(&format!("/api/v1/sites/{}/kb/lexicon", app.site_id))
            .await;
        let hits = search(&app, &admin, "蚂蚁花呗").await;
        if lexicon["reindexing"] == false
            && finds(&hits, &entry).is_some_and(|h| {
                h["matched_terms"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("蚂蚁花呗"))
            })
        {
            whole = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(whole, "蚂蚁花呗 indexed and matched as one term");
}

#[tokio::test]
async fn lexicons_are_validated_and_only_editors_change_them() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for bad in [
        json!({ "words": ["two words"] }),
        json!({ "words": ["<b>"] }),
        json!({ "synonyms": [["只有一个"]] }),
        json!({ "synonyms": [["", "x"]] }),
        json!({ "words": ["x".repeat(51)] }),
    ] {
        let (status, body) = put_lexicon(&admin, &app, bad.clone()).await;
        assert_eq!(status, 422, "{bad} -> {body}");
        assert_eq!(body["error"]["code"], "invalid_field");
    }
    let (status, body) = put_lexicon(&admin, &app, json!({ "word": ["typo"] })).await;
    assert!(status == 400 || status == 422, "{status} {body}");

    let agent = app.agent("agent@kefu.local", Role::Agent).await;
    let (status, _) = put_lexicon(&agent, &app, json!({ "words": ["花呗"] })).await;
    assert_eq!(status, 403);
    let (status, lexicon) = agent
        .get(&format!("/api/v1/sites/{}/kb/lexicon", app.site_id))
        .await;
    assert_eq!(status, 200);
    assert_eq!(lexicon["words"], json!([]));

    let editor = app.agent("editor@kefu.local", Role::Editor).await;
    let (status, saved) = put_lexicon(
        &editor,
        &app,
        json!({ "words": [" 花呗 ", "花呗"], "synonyms": [["退款", "退钱", "退款"]] }),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["words"], json!(["花呗"]));
    assert_eq!(saved["synonyms"], json!([["退款", "退钱"]]));
}

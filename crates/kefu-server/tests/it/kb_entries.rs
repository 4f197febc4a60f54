//! Knowledge-base entry routes: create, edit, history, diff, rollback, permissions, bad input.

use kefu_core::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::TestApp;

fn faq_body(answer: &str) -> Value {
    json!({
        "category": "faq", "title": "花呗怎么还款", "language": "zh-CN",
        "visibility": "public", "status": "published",
        "faq": { "question": "花呗怎么还款？", "alternatives": ["蚂蚁花呗如何还钱"], "answer": answer },
        "note": "first version"
    })
}

#[tokio::test]
async fn edit_history_diff_and_rollback() {
    let app = TestApp::new().await;
    let editor = app.agent("editor@shop.example", Role::Editor).await;
    let base = format!("/api/v1/sites/{}/kb/entries", app.site_id);
    let (status, created) = editor
        .post(&base, faq_body("在支付宝首页点击花呗还款"))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["revision"], 1);
    let id = created["id"].as_str().unwrap().to_owned();
    let entry = format!("/api/v1/kb/entries/{id}");

    let mut update = faq_body("在支付宝App的花呗页面点击“还款”");
    update["expected_revision"] = json!(1);
    update["note"] = json!("clearer steps");
    let (status, updated) = editor.send(Method::PUT, &entry, Some(update.clone())).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["revision"], 2);

    // Someone still editing revision 1 is stopped, not silently overwriting revision 2.
    let (status, conflict) = editor.send(Method::PUT, &entry, Some(update)).await;
    assert_eq!(status, 409);
    assert_eq!(conflict["error"]["code"], "revision_conflict");

    let (_, history) = editor.get(&format!("{entry}/revisions")).await;
    let revisions: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(revisions, vec![2, 1]);
    assert_eq!(history[0]["note"], "clearer steps");

    let (status, diff) = editor.get(&format!("{entry}/diff?from=1")).await;
    assert_eq!(status, 200);
    assert_eq!(diff["changed_fields"], json!(["faq"]));
    assert!(
        diff["unified"]
            .as_str()
            .unwrap()
            .contains("-在支付宝首页点击花呗还款")
    );

    let (status, rolled) = editor
        .post(&format!("{entry}/rollback"), json!({ "revision": 1 }))
        .await;
    assert_eq!(status, 200, "{rolled}");
    assert_eq!(rolled["revision"], 3, "a rollback is a new revision");
    assert_eq!(rolled["faq"]["answer"], "在支付宝首页点击花呗还款");
    let (_, r2) = editor.get(&format!("{entry}/revisions/2")).await;
    assert_eq!(
        r2["content"]["faq"]["answer"], "在支付宝App的花呗页面点击“还款”",
        "history kept"
    );
    let (_, r3) = editor.get(&format!("{entry}/revisions/3")).await;
    assert_eq!(r3["note"], "rollback to revision 1");
}

#[tokio::test]
async fn agents_read_but_only_editors_write() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agent = app.agent("agent@shop.example", Role::Agent).await;
    let base = format!("/api/v1/sites/{}/kb/entries", app.site_id);
    let (status, _) = agent.post(&base, faq_body("x")).await;
    assert_eq!(status, 403);
    let mut internal = faq_body("内部流程：先核实身份");
    internal["visibility"] = json!("internal");
    let (status, created) = admin.post(&base, internal).await;
    assert_eq!(status, 201);
    let (status, list) = agent.get(&format!("{base}?visibility=internal")).await;
    assert_eq!(status, 200);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "agents read internal entries"
    );
    let id = created["id"].as_str().unwrap();
    let (status, _) = agent
        .post(
            &format!("/api/v1/kb/entries/{id}/rollback"),
            json!({ "revision": 1 }),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn bad_entries_are_refused() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let base = format!("/api/v1/sites/{}/kb/entries", app.site_id);
    let mut no_answer = faq_body("");
    no_answer["faq"]["answer"] = json!("  ");
    let cases = [
        (
            json!({ "category": "faq", "title": "t", "visibility": "public", "status": "published" }),
            422,
            "invalid_field",
        ),
        (no_answer, 422, "invalid_field"),
        (
            {
                let mut v = faq_body("a");
                v["category"] = json!("Bad Category!");
                v
            },
            422,
            "invalid_field",
        ),
        (
            {
                let mut v = faq_body("a");
                v["visibility"] = json!("secret");
                v
            },
            422,
            "invalid_body",
        ),
        (
            {
                let mut v = faq_body("a");
                v["colour"] = json!("red");
                v
            },
            422,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let (got, err) = admin.post(&base, body.clone()).await;
        assert_eq!(
            (got.as_u16(), err["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let (status, _) = admin
        .get(&format!(
            "/api/v1/kb/entries/{}/revisions/9",
            kefu_core::KbEntryId::new()
        ))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn retrieval_test_searches_chinese_and_english_and_respects_the_audience() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let base = format!("/api/v1/sites/{}/kb/entries", app.site_id);
    let article = json!({
        "category": "policy", "title": "退货政策", "visibility": "public", "status": "published",
        "body": "# 退货\n\n## 时限\n\n签收后七天内可以无理由退货。超过七天请联系客服。\n\n## Shipping\n\nReturns are shipped back free of charge within mainland China."
    });
    let (status, created) = admin.post(&base, article).await;
    assert_eq!(status, 201, "{created}");
    let internal = json!({
        "category": "tech_doc", "title": "退货审核流程", "visibility": "internal", "status": "published",
        "body": "内部：退货超过七天需要主管审批。"
    });
    admin.post(&base, internal).await;

    let search = |q: &str, audience: &str| {
        format!(
            "/api/v1/sites/{}/kb/search?q={q}&audience={audience}",
            app.site_id
        )
    };
    let (status, hits) = admin.get(&search("七天退货", "visitor")).await;
    assert_eq!(status, 200, "{hits}");
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty());
    assert_eq!(hits[0]["entry_id"], created["id"]);
    assert_eq!(hits[0]["revision"], 1);
    assert_eq!(hits[0]["heading_path"], json!(["退货", "时限"]));
    assert!(
        hits[0]["matched_terms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "退货")
    );
    assert!(
        hits.iter().all(|h| h["title"] != "退货审核流程"),
        "internal never for visitors"
    );

    let (_, agent_hits) = admin.get(&search("主管审批", "agent")).await;
    assert_eq!(
        agent_hits[0]["title"], "退货审核流程",
        "agents see internal entries"
    );
    let (_, english) = admin.get(&search("returns%20shipping", "visitor")).await;
    assert!(
        english[0]["text"]
            .as_str()
            .unwrap()
            .contains("free of charge"),
        "{english}"
    );

    // A new revision is searchable at once and the old text is gone.
    let id = created["id"].as_str().unwrap();
    let mut update = json!({
        "category": "policy", "title": "退货政策", "visibility": "public", "status": "published",
        "body": "签收后十五天内可以无理由退货。"
    });
    update["expected_revision"] = json!(1);
    let (status, _) = admin
        .send(
            Method::PUT,
            &format!("/api/v1/kb/entries/{id}"),
            Some(update),
        )
        .await;
    assert_eq!(status, 200);
    let (_, hits) = admin.get(&search("十五天", "visitor")).await;
    assert_eq!(hits[0]["revision"], 2);
    let (_, old) = admin.get(&search("主管", "visitor")).await;
    assert!(old.as_array().unwrap().is_empty());
    let (status, err) = admin
        .get(&format!(
            "/api/v1/sites/{}/kb/search?q=x&audience=robots",
            app.site_id
        ))
        .await;
    assert_eq!(
        (status.as_u16(), err["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
}

//! Imports as background jobs: progress and per-file outcomes over the API, one bad file never
//! stops the batch, re-importing updates instead of duplicating, and imported knowledge is
//! searchable and answers visitors.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp};

fn file(name: &str, bytes: &[u8]) -> Value {
    json!({ "name": name, "content_base64": STANDARD.encode(bytes) })
}

async fn import(app: &TestApp, admin: &AgentClient, files: Vec<Value>) -> Value {
    let (status, job) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/imports", app.site_id),
            json!({ "files": files }),
        )
        .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        let (_, job) = admin.get(&format!("/api/v1/kb/imports/{id}")).await;
        if job["status"] == "done" || job["status"] == "failed" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

const GUIDE: &str = "# 配送说明\n\n## 时效\n\n下单后48小时内发货，偏远地区需要五到七天。\n\n## Returns\n\nReturns are free within 7 days.\n";
const QA: &str = "问题,答案,相似问题,分类\n花呗怎么还款,在支付宝首页点击花呗进行还款,蚂蚁花呗如何还钱|花呗还款方式,支付\n发票怎么开,在订单详情页申请电子发票,如何开发票,售后\n";

#[tokio::test]
async fn a_batch_imports_good_files_and_reports_bad_ones() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let job = import(
        &app,
        &admin,
        vec![
            file("guide.md", GUIDE.as_bytes()),
            file("broken.pdf", b"definitely not a pdf"),
            file("faq.csv", QA.as_bytes()),
            file("setup.exe", b"MZ\x90\x00"),
        ],
    )
    .await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        (
            job["total"].as_i64(),
            job["done"].as_i64(),
            job["failed"].as_i64()
        ),
        (Some(4), Some(4), Some(2))
    );
    let files = job["files"].as_array().unwrap();
    assert_eq!(files[0]["result"]["ok"], true);
    assert_eq!(files[0]["result"]["created"].as_array().unwrap().len(), 1);
    assert_eq!(
        files[1]["result"]["error_code"], "corrupt_file",
        "{}",
        files[1]
    );
    assert_eq!(files[2]["result"]["created"].as_array().unwrap().len(), 2);
    assert_eq!(files[3]["result"]["error_code"], "unsupported_type");

    let (_, hits) = admin
        .get(&format!(
            "/api/v1/sites/{}/kb/search?q=发货&audience=visitor",
            app.site_id
        ))
        .await;
    assert_eq!(hits[0]["title"], "配送说明", "{hits}");
    assert_eq!(hits[0]["heading_path"], json!(["配送说明", "时效"]));
    let (_, faqs) = admin
        .get(&format!(
            "/api/v1/sites/{}/kb/entries?category=支付",
            app.site_id
        ))
        .await;
    assert_eq!(
        faqs["items"][0]["faq"]["alternatives"],
        json!(["蚂蚁花呗如何还钱", "花呗还款方式"])
    );

    // The same files again: nothing duplicated, nothing rewritten.
    let again = import(
        &app,
        &admin,
        vec![
            file("guide.md", GUIDE.as_bytes()),
            file("faq.csv", QA.as_bytes()),
        ],
    )
    .await;
    for f in again["files"].as_array().unwrap() {
        assert!(f["result"]["created"].as_array().unwrap().is_empty(), "{f}");
        assert!(f["result"]["updated"].as_array().unwrap().is_empty());
    }
    assert_eq!(again["files"][1]["result"]["unchanged"], 2);
    let (_, all) = admin
        .get(&format!(
            "/api/v1/sites/{}/kb/entries?limit=100",
            app.site_id
        ))
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);

    // An edited answer becomes a new revision of the same entry.
    let edited = QA.replace("在订单详情页申请电子发票", "在“我的-发票”页面申请电子发票");
    let third = import(&app, &admin, vec![file("faq.csv", edited.as_bytes())]).await;
    let updated = third["files"][0]["result"]["updated"].as_array().unwrap();
    assert_eq!(updated.len(), 1);
    let (_, entry) = admin
        .get(&format!(
            "/api/v1/kb/entries/{}",
            updated[0].as_str().unwrap()
        ))
        .await;
    assert_eq!(entry["revision"], 2);
}

#[tokio::test]
async fn imports_need_an_editor_and_valid_files() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agent = app
        .agent("a@shop.example", kefu_core::domain::Role::Agent)
        .await;
    let path = format!("/api/v1/sites/{}/kb/imports", app.site_id);
    let (status, _) = agent
        .post(&path, json!({ "files": [file("a.md", b"# a\n\nb")] }))
        .await;
    assert_eq!(status, 403);
    let (status, err) = admin.post(&path, json!({ "files": [] })).await;
    assert_eq!(
        (status.as_u16(), err["error"]["code"].as_str()),
        (422, Some("invalid_field"))
    );
    let (status, err) = admin
        .post(
            &path,
            json!({ "files": [{ "name": "a.md", "content_base64": "!!!" }] }),
        )
        .await;
    assert_eq!(
        (status.as_u16(), err["error"]["code"].as_str()),
        (422, Some("invalid_field"))
    );
    let (status, _) = admin
        .get(&format!("/api/v1/kb/imports/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, 404);
}

//! URL and sitemap imports against a real local web server: only allowed hosts are fetched
//! (on every redirect hop too), one bad page never stops the batch, boilerplate is dropped,
//! and fetching again updates entries instead of duplicating them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp};

/// The refund page's text, changed by the test between imports.
#[derive(Clone)]
struct Site {
    refund_text: Arc<Mutex<String>>,
    port: u16,
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>{title}</title></head><body>\
         <nav class=\"menu\"><a href=\"/\">Home</a> | <a href=\"/about\">About our company</a></nav>\
         <main><h1>{title}</h1><p>{body}</p></main>\
         <footer>Copyright Example Shop</footer></body></html>"
    )
}

async fn sitemap(State(site): State<Site>) -> Response {
    let base = format!("http://127.0.0.1:{}", site.port);
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{base}/help/refunds</loc></url>
  <url><loc>{base}/help/shipping</loc></url>
  <url><loc>{base}/help/missing</loc></url>
  <url><loc>{base}/help/moved</loc></url>
  <url><loc>{base}/help/elsewhere</loc></url>
</urlset>"#
    );
    ([(header::CONTENT_TYPE, "application/xml")], xml).into_response()
}

async fn start_site() -> (SocketAddr, Site) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let site = Site {
        refund_text: Arc::new(Mutex::new(
            "Refunds are paid back to your card within 7 days.".to_owned(),
        )),
        port: addr.port(),
    };
    let app = Router::new()
        .route("/sitemap.xml", get(sitemap))
        .route(
            "/help/refunds",
            get(|State(site): State<Site>| async move {
                let text = site.refund_text.lock().unwrap().clone();
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    page("Refund policy", &text),
                )
            }),
        )
        .route(
            "/help/shipping",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    page("配送说明", "下单后48小时内发货，偏远地区需要五到七天。"),
                )
            }),
        )
        .route("/help/missing", get(|| async { StatusCode::NOT_FOUND }))
        // Same server, other host name: the allow-list must be checked on the redirect too.
        .route(
            "/help/moved",
            get(|State(site): State<Site>| async move {
                Redirect::temporary(&format!("http://localhost:{}/help/refunds", site.port))
            }),
        )
        .route(
            "/help/elsewhere",
            get(|| async { Redirect::temporary("/help/shipping") }),
        )
        .with_state(site.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, site)
}

async fn allow_hosts(app: &TestApp, admin: &AgentClient, hosts: Value) -> (u16, Value) {
    let (_, site) = admin.get(&format!("/api/v1/sites/{}", app.site_id)).await;
    let mut settings = site["settings"].clone();
    settings["import_allowed_hosts"] = hosts;
    let (status, body) = admin
        .send(
            Method::PATCH,
            &format!("/api/v1/sites/{}", app.site_id),
            Some(json!({ "settings": settings })),
        )
        .await;
    (status.as_u16(), body)
}

async fn import(app: &TestApp, admin: &AgentClient, sources: Value) -> Value {
    let (status, job) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/imports", app.site_id),
            json!({ "sources": sources }),
        )
        .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    for _ in 0..400 {
        let (_, job) = admin.get(&format!("/api/v1/kb/imports/{id}")).await;
        if job["status"] == "done" || job["status"] == "failed" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

fn outcome<'a>(job: &'a Value, name_suffix: &str) -> &'a Value {
    job["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"].as_str().unwrap().ends_with(name_suffix))
        .unwrap_or_else(|| panic!("no input {name_suffix} in {job}"))
}

#[tokio::test]
async fn a_sitemap_imports_its_allowed_pages_and_reimporting_updates() {
    let (addr, site) = start_site().await;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (status, _) = allow_hosts(&app, &admin, json!(["127.0.0.1"])).await;
    assert_eq!(status, 200);
    let sitemap_url = format!("http://{addr}/sitemap.xml");

    let job = import(
        &app,
        &admin,
        json!([{ "kind": "sitemap", "url": sitemap_url }]),
    )
    .await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        job["total"], 6,
        "the sitemap and the five pages it lists: {job}"
    );
    assert_eq!(job["failed"], 2, "{job}");
    let map = outcome(&job, "/sitemap.xml");
    assert_eq!(
        (map["kind"].as_str(), map["status"].as_str()),
        (Some("sitemap"), Some("done"))
    );
    let refunds = outcome(&job, "/help/refunds");
    assert_eq!(refunds["kind"], "url");
    assert_eq!(refunds["result"]["format"], "HTML", "{refunds}");
    assert_eq!(refunds["result"]["created"].as_array().unwrap().len(), 1);
    assert_eq!(
        outcome(&job, "/help/missing")["result"]["error_code"],
        "http_status"
    );
    let moved = &outcome(&job, "/help/moved")["result"];
    assert_eq!(moved["error_code"], "fetch_failed", "{moved}");
    assert!(
        moved["error"].as_str().unwrap().contains("localhost"),
        "names the refused host: {moved}"
    );
    // A redirect within the allowed host is followed; the page lands under the address asked.
    let elsewhere = &outcome(&job, "/help/elsewhere")["result"];
    assert_eq!(elsewhere["ok"], true, "{elsewhere}");

    let refund_id = refunds["result"]["created"][0].as_str().unwrap().to_owned();
    let (_, entry) = admin.get(&format!("/api/v1/kb/entries/{refund_id}")).await;
    assert_eq!(entry["title"], "Refund policy");
    assert_eq!(entry["source"], format!("http://{addr}/help/refunds"));
    let body = entry["body"].as_str().unwrap();
    assert!(body.contains("within 7 days"), "{body}");
    assert!(
        !body.contains("About our company") && !body.contains("Copyright"),
        "chrome dropped: {body}"
    );

    let (_, hits) = admin
        .get(&format!(
            "/api/v1/sites/{}/kb/search?q=发货&audience=visitor",
            app.site_id
        ))
        .await;
    assert_eq!(hits[0]["title"], "配送说明", "{hits}");
    let link = hits[0]["link"].as_str().unwrap();
    assert!(
        link.ends_with("/help/shipping") || link.ends_with("/help/elsewhere"),
        "{hits}"
    );

    // The refund page changes; everything else stays. Re-importing updates, never duplicates.
    *site.refund_text.lock().unwrap() =
        "Refunds are paid back to your card within 3 days.".to_owned();
    let again = import(
        &app,
        &admin,
        json!([{ "kind": "sitemap", "url": sitemap_url }]),
    )
    .await;
    let refunds = &outcome(&again, "/help/refunds")["result"];
    assert_eq!(refunds["updated"], json!([refund_id]), "{refunds}");
    assert_eq!(refunds["created"], json!([]));
    assert_eq!(outcome(&again, "/help/shipping")["result"]["unchanged"], 1);
    let (_, entry) = admin.get(&format!("/api/v1/kb/entries/{refund_id}")).await;
    assert_eq!(entry["revision"], 2);
    assert!(entry["body"].as_str().unwrap().contains("within 3 days"));
    let (_, list) = admin
        .get(&format!(
            "/api/v1/sites/{}/kb/entries?limit=100",
            app.site_id
        ))
        .await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        3,
        "refunds, shipping, elsewhere: {list}"
    );
}

#[tokio::test]
async fn only_configured_hosts_are_fetched_and_private_names_are_refused() {
    let (addr, _site) = start_site().await;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let page = format!("http://{addr}/help/refunds");

    // Nothing allowed yet: refused before a job is made.
    let (status, body) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/imports", app.site_id),
            json!({ "sources": [{ "kind": "url", "url": page }] }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_field");

    for bad in [
        json!(["*"]),
        json!(["http://127.0.0.1"]),
        json!(["127.0.0.1:8080"]),
    ] {
        let (status, body) = allow_hosts(&app, &admin, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    let (status, body) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/imports", app.site_id),
            json!({ "sources": [{ "kind": "feed", "url": page }] }),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    // A listed *name* that resolves to a loopback address is still refused at connect time:
    // only the address itself, listed literally, opens private networks.
    let (status, _) = allow_hosts(&app, &admin, json!(["localhost"])).await;
    assert_eq!(status, 200);
    let job = import(
        &app,
        &admin,
        json!([{ "kind": "url", "url": format!("http://localhost:{}/help/refunds", addr.port()) }]),
    )
    .await;
    let result = &job["files"][0]["result"];
    assert_eq!(result["error_code"], "fetch_failed", "{job}");
    assert!(
        result["error"]
            .as_str()
            .unwrap()
            .contains("private or loopback"),
        "{result}"
    );
    assert_eq!(job["failed"], 1);
}

//! The optional rerank endpoint, served by a local test server speaking the Cohere/Jina wire
//! format: it reorders the best hits; when it fails or is too slow the fused order stands.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use kefu_core::config::Config;
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp};

/// Scores documents by whether they mention "banana": the reranker knows best.
async fn rerank(Json(req): Json<Value>) -> Json<Value> {
    assert!(req["query"].is_string() && req["top_n"].is_u64(), "{req}");
    let results: Vec<Value> = req["documents"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(index, doc)| {
            let score = if doc.as_str().unwrap().contains("banana") {
                0.9
            } else {
                0.1
            };
            json!({ "index": index, "relevance_score": score })
        })
        .collect();
    Json(json!({ "model": req["model"], "results": results }))
}

async fn start_reranker() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/rerank", post(rerank))
        .route(
            "/slow",
            post(|body: Json<Value>| async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                rerank(body).await
            }),
        )
        .route(
            "/broken",
            post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn app_with(url: String) -> (TestApp, AgentClient) {
    let app = TestApp::with_config(Config {
        rerank_url: url,
        rerank_model: "test-reranker".into(),
        rerank_timeout_ms: 500,
        ..Config::default()
    })
    .await;
    let admin = app.admin().await;
    for (title, body) in [
        (
            "Refund policy",
            "Refund refund refund: a refund is paid within 7 days of the refund request.",
        ),
        (
            "Refund for fruit",
            "A refund for a banana that arrived bruised.",
        ),
        (
            "Shipping",
            "Parcels ship in two days. Refund questions: see the refund policy.",
        ),
    ] {
        let (status, e) = admin
            .post(
                &format!("/api/v1/sites/{}/kb/entries", app.site_id),
                json!({ "category": "policy", "title": title, "body": body,
                        "visibility": "public", "status": "published" }),
            )
            .await;
        assert_eq!(status, 201, "{e}");
    }
    (app, admin)
}

async fn titles(app: &TestApp, admin: &AgentClient) -> (Vec<String>, Value) {
    let (status, hits) = admin
        .get(&format!(
            "/api/v1/sites/{}/kb/search?q=refund&limit=2",
            app.site_id
        ))
        .await;
    assert_eq!(status, 200, "{hits}");
    let titles = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_owned())
        .collect();
    (titles, hits)
}

#[tokio::test]
async fn the_reranker_reorders_the_best_hits_and_failures_keep_the_fused_order() {
    let server = start_reranker().await;

    // Without reranking, BM25 puts the refund-heavy policy first.
    let (plain, admin) = app_with(String::new()).await;
    let (fused, hits) = titles(&plain, &admin).await;
    assert_eq!(fused[0], "Refund policy", "{hits}");
    assert!(hits[0].get("rerank_score").is_none());

    let (app, admin) = app_with(format!("http://{server}/rerank")).await;
    let (reranked, hits) = titles(&app, &admin).await;
    assert_eq!(reranked.len(), 2, "limit still applies: {hits}");
    assert_eq!(reranked[0], "Refund for fruit", "{hits}");
    assert!((hits[0]["rerank_score"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    assert!(
        hits[0]["text_score"].is_number(),
        "fused scores kept: {hits}"
    );

    for broken in ["slow", "broken"] {
        let (app, admin) = app_with(format!("http://{server}/{broken}")).await;
        let started = std::time::Instant::now();
        let (order, hits) = titles(&app, &admin).await;
        assert_eq!(order, fused, "{broken}: {hits}");
        assert!(hits[0].get("rerank_score").is_none());
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{broken} timed out fast"
        );
    }
}

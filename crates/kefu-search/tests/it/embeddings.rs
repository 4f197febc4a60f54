//! The OpenAI-compatible embeddings client against a real HTTP server started by each test
//! (a few lines of HTTP/1.1 over a tokio TcpListener on 127.0.0.1).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kefu_search::{EmbedError, Embedder, OpenAiEmbedder, OpenAiEmbedderConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const DIMS: usize = 4;

/// How the fake provider answers.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Correct embeddings, returned in reverse order (clients must sort by `index`).
    Ok,
    /// HTTP 500 with an OpenAI-style error body.
    ServerError,
    /// Embeddings one element too short.
    WrongDimensions,
    /// One embedding fewer than inputs.
    WrongCount,
    /// Accept the connection and never answer.
    Hang,
}

/// Each request's parsed JSON body and Authorization header, shared with the test.
type Recorded = Arc<Mutex<Vec<(Value, Option<String>)>>>;

struct Server {
    base_url: String,
    /// Each request's parsed JSON body and Authorization header.
    requests: Recorded,
}

async fn start(behaviour: Behaviour) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let seen = Arc::clone(&seen);
            tokio::spawn(async move { serve(socket, behaviour, seen).await });
        }
    });
    Server { base_url, requests }
}

/// Embedding of a text: its length, then fixed values, so tests can check the order.
fn fake_embedding(text: &str, dims: usize) -> Vec<f32> {
    let mut v = vec![text.chars().count() as f32];
    v.extend((1..dims).map(|i| i as f32 * 0.5));
    v
}

async fn serve(mut socket: TcpStream, behaviour: Behaviour, seen: Recorded) {
    let mut buf = Vec::new();
    let header_end = loop {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    assert!(head.starts_with("POST /v1/embeddings "), "{head}");
    let body: Value = serde_json::from_slice(&buf[header_end..header_end + length]).unwrap();
    seen.lock()
        .unwrap()
        .push((body.clone(), header("authorization")));

    let inputs: Vec<String> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let item = |i: usize, dims: usize| json!({"object": "embedding", "index": i, "embedding": fake_embedding(&inputs[i], dims)});
    let (status, response) = match behaviour {
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
        Behaviour::ServerError => (
            "500 Internal Server Error",
            json!({"error": {"message": "model overloaded, try later", "type": "server_error"}}),
        ),
        Behaviour::Ok => (
            "200 OK",
            json!({
                "object": "list",
                "data": (0..inputs.len()).rev().map(|i| item(i, DIMS)).collect::<Vec<_>>(),
                "model": body["model"],
                "usage": {"prompt_tokens": 3, "total_tokens": 3}
            }),
        ),
        Behaviour::WrongDimensions => (
            "200 OK",
            json!({"data": (0..inputs.len()).map(|i| item(i, DIMS - 1)).collect::<Vec<_>>()}),
        ),
        Behaviour::WrongCount => (
            "200 OK",
            json!({"data": (0..inputs.len().saturating_sub(1)).map(|i| item(i, DIMS)).collect::<Vec<_>>()}),
        ),
    };
    let payload = response.to_string();
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}",
        payload.len()
    );
    let _ = socket.write_all(reply.as_bytes()).await;
    let _ = socket.shutdown().await;
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| "字".repeat(i + 1)).collect()
}

fn client(server: &Server, batch_size: usize) -> Arc<dyn Embedder> {
    let config = OpenAiEmbedderConfig::new(&server.base_url, "bge-small-zh", DIMS)
        .with_api_key("sk-test")
        .with_batch_size(batch_size)
        .with_timeout(Duration::from_millis(500));
    Arc::new(OpenAiEmbedder::new(config).unwrap())
}

#[tokio::test]
async fn embeds_in_input_order_with_auth_and_model() {
    let server = start(Behaviour::Ok).await;
    let embedder = client(&server, 16);
    assert_eq!(embedder.model(), "bge-small-zh");
    assert_eq!(embedder.dimensions(), DIMS);
    let input = texts(3);
    let vectors = embedder.embed(&input).await.unwrap();
    assert_eq!(vectors.len(), 3);
    for (text, vector) in input.iter().zip(&vectors) {
        assert_eq!(vector, &fake_embedding(text, DIMS));
    }
    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0["model"], "bge-small-zh");
    assert_eq!(requests[0].1.as_deref(), Some("Bearer sk-test"));
}

#[tokio::test]
async fn splits_input_into_batches() {
    let server = start(Behaviour::Ok).await;
    let embedder = client(&server, 4);
    let input = texts(10);
    let vectors = embedder.embed(&input).await.unwrap();
    assert_eq!(vectors.len(), 10);
    assert_eq!(vectors[9], fake_embedding(&input[9], DIMS));
    let sizes: Vec<usize> = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|(body, _)| body["input"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, [4, 4, 2]);
}

#[tokio::test]
async fn empty_input_makes_no_request() {
    let server = start(Behaviour::Ok).await;
    let vectors = client(&server, 4).embed(&[]).await.unwrap();
    assert!(vectors.is_empty());
    assert!(server.requests.lock().unwrap().is_empty());
}

#[tokio::test]
async fn server_error_reports_status_and_message() {
    let server = start(Behaviour::ServerError).await;
    let err = client(&server, 4).embed(&texts(2)).await.unwrap_err();
    match &err {
        EmbedError::Status { status, message } => {
            assert_eq!(*status, 500);
            assert_eq!(message, "model overloaded, try later");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("500"));
}

#[tokio::test]
async fn wrong_dimensions_are_rejected() {
    let server = start(Behaviour::WrongDimensions).await;
    let err = client(&server, 4).embed(&texts(2)).await.unwrap_err();
    assert!(
        matches!(
            err,
            EmbedError::WrongDimensions {
                expected: 4,
                got: 3,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_count_is_rejected() {
    let server = start(Behaviour::WrongCount).await;
    let err = client(&server, 8).embed(&texts(3)).await.unwrap_err();
    assert!(
        matches!(
            err,
            EmbedError::WrongCount {
                expected: 3,
                got: 2
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let server = start(Behaviour::Hang).await;
    let started = std::time::Instant::now();
    let err = client(&server, 4).embed(&texts(1)).await.unwrap_err();
    assert!(matches!(err, EmbedError::Transport { .. }), "{err:?}");
    // Generous bound: proves the timeout fired rather than the server's 30 s sleep ending.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error() {
    // Bind then drop to get a port nobody listens on.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = OpenAiEmbedderConfig::new(format!("http://127.0.0.1:{port}"), "m", DIMS);
    let err = OpenAiEmbedder::new(config)
        .unwrap()
        .embed(&texts(1))
        .await
        .unwrap_err();
    assert!(matches!(err, EmbedError::Transport { .. }), "{err:?}");
}

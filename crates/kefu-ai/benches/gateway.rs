//! Benchmark (not a test): what the provider gateway adds on top of calling an OpenAI-wire
//! server directly with reqwest. Both clients hit the same in-process mock server
//! (`src/gateway/tests/server.rs`, included by path), in the same run, on the same runtimes:
//!
//! - non-streamed latency p50/p99 at 1 connection, and throughput plus p50/p99 at 32;
//! - time to the first streamed content byte at 1 connection. The mock writes the response
//!   head, the role chunk and the first delta in one segment (a server whose first token is
//!   ready), so both clients get the first text in their first read; when they arrive in
//!   separate segments, the measure mostly shows how often a client happens to find two of
//!   them in one read, each extra wake-up costing ~30 µs on this VM.
//!
//! "Added" is the gateway's percentile minus the direct percentile. The server runs on its own
//! thread and runtime, the clients on another, so on a 2-core machine each side has a core.
//! Run: `cargo bench -p kefu-ai --bench gateway` (release profile). Nothing is asserted.

// A benchmark harness: a panic is a failed run, not a crashed request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../src/gateway/tests/server.rs"]
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kefu_ai::gateway::{
    CacheConfig, ChatMessage, ChatRequest, ConcurrencyConfig, Gateway, GatewayConfig,
    ProviderConfig, StreamEvent,
};
use kefu_core::SiteId;
use server::{Answer, Behavior, MockServer};

const ONE_CONN_REQUESTS: usize = 20_000;
const MANY_CONN: usize = 32;
const MANY_CONN_REQUESTS_EACH: usize = 2_000;
const STREAM_REQUESTS: usize = 5_000;
const ROUNDS: usize = 10;

fn messages() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system(
            "You answer from the passages below and cite them. [1] Refunds: 7 days.",
        ),
        ChatMessage::user("How do refunds work?"),
    ]
}

fn direct_body(stream: bool) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "bench",
        "messages": [
            { "role": "system", "content": "You answer from the passages below and cite them. [1] Refunds: 7 days." },
            { "role": "user", "content": "How do refunds work?" }
        ],
        "max_tokens": 256,
        "stream": stream,
    }))
    .unwrap()
}

#[derive(Clone)]
struct Direct {
    client: reqwest::Client,
    url: String,
}

impl Direct {
    async fn call(&self, body: &[u8]) {
        let resp = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
        let bytes = resp.bytes().await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(v["choices"][0]["message"]["content"].is_string());
    }

    /// Time to the first SSE chunk with content, then reads the rest.
    async fn first_byte(&self, body: &[u8]) -> Duration {
        let start = Instant::now();
        let resp = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let mut stream = resp.bytes_stream();
        let mut first = None;
        let mut seen = Vec::new();
        while let Some(chunk) = stream.next().await {
            seen.extend_from_slice(&chunk.unwrap());
            if first.is_none() && contains(&seen, b"\"content\":\"") {
                first = Some(start.elapsed());
            }
        }
        first.unwrap()
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn pct(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

struct Stats {
    p50: Duration,
    p99: Duration,
    rps: f64,
}

fn stats(mut lat: Vec<Duration>, wall: Duration) -> Stats {
    lat.sort_unstable();
    Stats {
        p50: pct(&lat, 0.50),
        p99: pct(&lat, 0.99),
        rps: lat.len() as f64 / wall.as_secs_f64(),
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn added(gw: Duration, direct: Duration) -> f64 {
    us(gw) - us(direct)
}

fn report(name: &str, direct: &Stats, gw: &Stats) {
    println!(
        "{name:<28} direct p50 {:>7.1} µs p99 {:>7.1} µs {:>8.0} req/s | gateway p50 {:>7.1} µs p99 {:>7.1} µs {:>8.0} req/s | added p50 {:>+6.1} µs p99 {:>+6.1} µs",
        us(direct.p50),
        us(direct.p99),
        direct.rps,
        us(gw.p50),
        us(gw.p99),
        gw.rps,
        added(gw.p50, direct.p50),
        added(gw.p99, direct.p99),
    );
}

/// Latencies of many runs and their total wall time.
#[derive(Default)]
struct Samples {
    lat: Vec<Duration>,
    wall: Duration,
}

impl Samples {
    fn add(&mut self, (lat, wall): (Vec<Duration>, Duration)) {
        self.lat.extend(lat);
        self.wall += wall;
    }

    fn stats(&self) -> Stats {
        stats(self.lat.clone(), self.wall)
    }
}

async fn run_concurrent<F, Fut>(conns: usize, each: usize, f: F) -> (Vec<Duration>, Duration)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let f = f.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(each);
                for _ in 0..each {
                    let t = Instant::now();
                    f().await;
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::with_capacity(conns * each);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, start.elapsed())
}

fn main() {
    // The mock provider: its own thread and single-threaded runtime.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = MockServer::start_with(false).await;
            server.set_default(Behavior::Answer(Answer {
                usage: Some((40, 12)),
                ..Answer::new(&["Refunds ", "take ", "7 ", "days ", "[1]."])
            }));
            tx.send(server.clone()).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let server: MockServer = rx.recv().unwrap();
    let base = server.base_url();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let direct = Direct {
            client: reqwest::Client::builder()
                .tcp_nodelay(true)
                .build()
                .unwrap(),
            url: format!("{base}/chat/completions"),
        };
        let mut config = GatewayConfig::new(vec![
            ProviderConfig::new("bench", base.clone(), "bench").with_api_key("sk-bench"),
        ]);
        config.cache = CacheConfig {
            capacity: 0,
            ..CacheConfig::default()
        };
        config.concurrency = ConcurrencyConfig {
            max_in_flight: 64,
            max_queued: 256,
        };
        let gw = Gateway::new(config).unwrap();
        let site = SiteId::new();
        let request = move || ChatRequest {
            max_tokens: Some(256),
            ..ChatRequest::new(site, messages())
        };
        let unary = Arc::new(direct_body(false));
        let streamed = Arc::new(direct_body(true));

        // Warm-up: connections, allocator, branch predictors.
        for _ in 0..2_000 {
            direct.call(&unary).await;
            gw.chat(request()).await.unwrap();
        }

        // Direct and gateway alternate in rounds, so load from anything else on the machine
        // falls on both sides alike.
        let mut d1 = Samples::default();
        let mut g1 = Samples::default();
        let mut d32 = Samples::default();
        let mut g32 = Samples::default();
        for _ in 0..ROUNDS {
            let (d, b) = (direct.clone(), unary.clone());
            d1.add(
                run_concurrent(1, ONE_CONN_REQUESTS / ROUNDS, move || {
                    let (d, b) = (d.clone(), b.clone());
                    async move { d.call(&b).await }
                })
                .await,
            );
            let g = gw.clone();
            g1.add(
                run_concurrent(1, ONE_CONN_REQUESTS / ROUNDS, move || {
                    let g = g.clone();
                    async move {
                        g.chat(request()).await.unwrap();
                    }
                })
                .await,
            );
        }
        for _ in 0..ROUNDS {
            let (d, b) = (direct.clone(), unary.clone());
            d32.add(
                run_concurrent(MANY_CONN, MANY_CONN_REQUESTS_EACH / ROUNDS, move || {
                    let (d, b) = (d.clone(), b.clone());
                    async move { d.call(&b).await }
                })
                .await,
            );
            let g = gw.clone();
            g32.add(
                run_concurrent(MANY_CONN, MANY_CONN_REQUESTS_EACH / ROUNDS, move || {
                    let g = g.clone();
                    async move {
                        g.chat(request()).await.unwrap();
                    }
                })
                .await,
            );
        }

        // First streamed content byte, one connection.
        for _ in 0..500 {
            direct.first_byte(&streamed).await;
            gw.chat_stream(request()).for_each(|_| async {}).await;
        }
        let c0 = server.connections();
        let mut dfb = Samples::default();
        let mut gfb = Samples::default();
        let mut c_direct = 0;
        for _ in 0..ROUNDS {
            let before = server.connections();
            let start = Instant::now();
            let mut lat = Vec::new();
            for _ in 0..STREAM_REQUESTS / ROUNDS {
                lat.push(direct.first_byte(&streamed).await);
            }
            dfb.add((lat, start.elapsed()));
            c_direct += server.connections() - before;
            let start = Instant::now();
            let mut lat = Vec::new();
            for _ in 0..STREAM_REQUESTS / ROUNDS {
                let t = Instant::now();
                let mut s = gw.chat_stream(request());
                let mut first = None;
                while let Some(ev) = s.next().await {
                    if matches!(ev.unwrap(), StreamEvent::Delta(_)) && first.is_none() {
                        first = Some(t.elapsed());
                    }
                }
                lat.push(first.unwrap());
            }
            gfb.add((lat, start.elapsed()));
        }
        let c1 = c0 + c_direct;
        let c2 = server.connections();

        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
            })
            .unwrap_or_default();
        println!(
            "kefu-ai gateway benchmark — {} cores, {cpu}; mock OpenAI-wire server in-process",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        report("unary, 1 connection", &d1.stats(), &g1.stats());
        report("unary, 32 connections", &d32.stats(), &g32.stats());
        report("stream first byte, 1 conn", &dfb.stats(), &gfb.stats());
        println!(
            "new TCP connections during the {STREAM_REQUESTS} streamed calls: direct {}, gateway {}",
            c1 - c0,
            c2 - c1
        );
    });
}

//! Benchmark (not a test): what the provider gateway adds on top of calling an OpenAI-wire
//! server directly with reqwest, and, when a LiteLLM proxy is given, what that proxy adds on
//! the same server in the same run. All clients hit the same mock server
//! (`src/gateway/tests/server.rs`): in-process by default, or the standalone
//! `examples/mock_openai.rs` that `bench/gateway_litellm.sh` starts (LiteLLM needs to reach it
//! over TCP).
//!
//! For each connection count it measures, per client:
//! - non-streamed calls: latency p50/p99 and throughput (calls/s over the measuring time);
//! - streamed calls: time to the first content delta, p50/p99. The mock writes the response
//!   head, the role chunk and the first delta in one segment (a server whose first token is
//!   ready), so each client gets the first text in its first read.
//!
//! "Added" is a client's percentile minus the direct percentile at the same connection count.
//! The gateway is a library, so its client is the gateway called in-process, exactly as the
//! answer engine calls it; LiteLLM is a proxy, so its client is reqwest calling the proxy,
//! which calls the mock. Clients alternate in short time-boxed rounds, in a rotating order, so
//! load from anything else on the machine falls on all of them alike. The client runtime has one thread and the
//! mock another (or its own process), so on a 2-core machine each side has a core; LiteLLM,
//! when measured, competes with both.
//!
//! Run: `cargo bench -p kefu-ai --bench gateway` (release profile). Nothing is asserted.
//! Environment (all optional):
//! - `KEFU_BENCH_UPSTREAM`: base URL of an already running mock (`http://127.0.0.1:P/v1`);
//! - `KEFU_BENCH_LITELLM`: base URL of a LiteLLM proxy forwarding to that mock, and
//!   `KEFU_BENCH_LITELLM_MODEL`, its model name (default `bench`), and
//!   `KEFU_BENCH_LITELLM_KEY`, its master key;
//! - `KEFU_BENCH_CONNS`: connection counts, comma-separated (default `1,8,32,64`);
//! - `KEFU_BENCH_ONLY`: measure only these clients (`gateway` alone, to profile it with
//!   `perf`); "added" is then relative to the first one kept;
//! - `KEFU_BENCH_ROUNDS` (default 10), `KEFU_BENCH_ROUND_MS` (per client and round, half
//!   unary and half streamed, default 600) and `KEFU_BENCH_PROXY_ROUND_MS` (LiteLLM's,
//!   default 3000: it is ~500× slower, and a p99 needs several hundred samples). Many short
//!   rounds spread a burst of outside load over all clients instead of one.

// A benchmark harness: a panic is a failed run, not a crashed request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../src/gateway/tests/server.rs"]
mod server;

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kefu_ai::gateway::{
    CacheConfig, ChatMessage, ChatRequest, ConcurrencyConfig, Gateway, GatewayConfig,
    ProviderConfig, StreamEvent,
};
use kefu_core::SiteId;
use server::{Answer, Behavior, MockServer};

const SYSTEM: &str = "You answer from the passages below and cite them. [1] Refunds: 7 days.";
const QUESTION: &str = "How do refunds work?";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A request body as any OpenAI client would send it. `'static` so every call can hand
/// reqwest the same bytes without copying them.
fn body(model: &str, stream: bool) -> &'static [u8] {
    let v = serde_json::to_vec(&serde_json::json!({
        "model": model,
        "messages": [
            { "role": "system", "content": SYSTEM },
            { "role": "user", "content": QUESTION }
        ],
        "max_tokens": 256,
        "stream": stream,
    }))
    .unwrap();
    Vec::leak(v)
}

/// A plain HTTP client of an OpenAI-wire endpoint: the mock itself ("direct") or LiteLLM.
#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    url: String,
    auth: String,
    unary: &'static [u8],
    streamed: &'static [u8],
}

impl Http {
    fn new(base: &str, model: &str, key: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .tcp_nodelay(true)
                .pool_max_idle_per_host(256)
                .build()
                .unwrap(),
            url: format!("{}/chat/completions", base.trim_end_matches('/')),
            auth: format!("Bearer {key}"),
            unary: body(model, false),
            streamed: body(model, true),
        }
    }

    async fn post(&self, body: &'static [u8]) -> reqwest::Response {
        let resp = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("authorization", &self.auth)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "{}: {}",
            self.url,
            resp.status()
        );
        resp
    }

    async fn call(&self) {
        let bytes = self.post(self.unary).await.bytes().await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(
            v["choices"][0]["message"]["content"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "no content: {v}"
        );
    }

    /// Time to the first SSE event with delta content, then reads the rest.
    async fn first_byte(&self) -> Duration {
        let start = Instant::now();
        let mut stream = self.post(self.streamed).await.bytes_stream();
        let mut first = None;
        let mut pending = Vec::new();
        let mut done = false;
        while let Some(chunk) = stream.next().await {
            pending.extend_from_slice(&chunk.unwrap());
            // Whole events only: split on the blank line that ends each one.
            while let Some(end) = find(&pending, b"\n\n") {
                let event: Vec<u8> = pending.drain(..end + 2).collect();
                let Some(data) = event.strip_prefix(b"data: ") else {
                    continue;
                };
                let data = data.trim_ascii();
                if data == b"[DONE]" {
                    done = true;
                } else if first.is_none() {
                    let v: serde_json::Value = serde_json::from_slice(data).unwrap();
                    if v["choices"][0]["delta"]["content"]
                        .as_str()
                        .is_some_and(|s| !s.is_empty())
                    {
                        first = Some(start.elapsed());
                    }
                }
            }
        }
        assert!(done, "{}: stream ended without [DONE]", self.url);
        first.expect("no content in the stream")
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One measured client.
#[derive(Clone)]
enum Client {
    Http(Http),
    Gateway(Gateway, SiteId),
}

impl Client {
    fn request(site: SiteId) -> ChatRequest {
        ChatRequest {
            max_tokens: Some(256),
            ..ChatRequest::new(
                site,
                vec![ChatMessage::system(SYSTEM), ChatMessage::user(QUESTION)],
            )
        }
    }

    async fn call(&self) {
        match self {
            Self::Http(h) => h.call().await,
            Self::Gateway(g, site) => {
                g.chat(Self::request(*site)).await.unwrap();
            }
        }
    }

    async fn first_byte(&self) -> Duration {
        match self {
            Self::Http(h) => h.first_byte().await,
            Self::Gateway(g, site) => {
                let t = Instant::now();
                let mut s = g.chat_stream(Self::request(*site));
                let mut first = None;
                let mut done = false;
                while let Some(ev) = s.next().await {
                    match ev.unwrap() {
                        StreamEvent::Delta(_) => {
                            first.get_or_insert_with(|| t.elapsed());
                        }
                        StreamEvent::Done(_) => done = true,
                        StreamEvent::Restarted => panic!("restarted"),
                    }
                }
                assert!(done);
                first.unwrap()
            }
        }
    }
}

fn pct(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Latencies of many rounds and their total wall time.
#[derive(Default)]
struct Samples {
    lat: Vec<Duration>,
    wall: Duration,
}

struct Stats {
    n: usize,
    p50: Duration,
    p99: Duration,
    rps: f64,
}

impl Samples {
    fn add(&mut self, (lat, wall): (Vec<Duration>, Duration)) {
        self.lat.extend(lat);
        self.wall += wall;
    }

    fn stats(&self) -> Stats {
        let mut lat = self.lat.clone();
        lat.sort_unstable();
        Stats {
            n: lat.len(),
            p50: pct(&lat, 0.50),
            p99: pct(&lat, 0.99),
            rps: lat.len() as f64 / self.wall.as_secs_f64(),
        }
    }
}

/// `conns` workers each running `f` back to back until `budget` has passed; every call's
/// result (its latency) is kept, and the wall time runs until the last call ended.
async fn run_for<F, Fut>(conns: usize, budget: Duration, f: F) -> (Vec<Duration>, Duration)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Duration> + Send,
{
    let start = Instant::now();
    let end = start + budget;
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let f = f.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < end {
                    lat.push(f().await);
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, start.elapsed())
}

async fn unary_for(client: &Client, conns: usize, budget: Duration) -> (Vec<Duration>, Duration) {
    let c = client.clone();
    run_for(conns, budget, move || {
        let c = c.clone();
        async move {
            let t = Instant::now();
            c.call().await;
            t.elapsed()
        }
    })
    .await
}

async fn stream_for(client: &Client, conns: usize, budget: Duration) -> (Vec<Duration>, Duration) {
    let c = client.clone();
    run_for(conns, budget, move || {
        let c = c.clone();
        async move { c.first_byte().await }
    })
    .await
}

struct Measured {
    name: &'static str,
    budget: Duration,
    client: Client,
}

/// What one connection count produced, per client in `Measured` order.
struct Level {
    conns: usize,
    unary: Vec<Stats>,
    first: Vec<Stats>,
}

fn print_level(level: &Level, names: &[&str]) {
    let d = &level.unary[0];
    let df = &level.first[0];
    println!("\n{} connection(s)", level.conns);
    for (i, name) in names.iter().enumerate() {
        let u = &level.unary[i];
        let f = &level.first[i];
        println!(
            "  {name:<8} unary p50 {:>9.1} µs p99 {:>9.1} µs {:>8.0} req/s (n={:>6}) added p50 {:>+9.1} p99 {:>+9.1} µs | first byte p50 {:>9.1} p99 {:>9.1} µs (n={:>6}) added p50 {:>+9.1} p99 {:>+9.1} µs",
            us(u.p50),
            us(u.p99),
            u.rps,
            u.n,
            us(u.p50) - us(d.p50),
            us(u.p99) - us(d.p99),
            us(f.p50),
            us(f.p99),
            f.n,
            us(f.p50) - us(df.p50),
            us(f.p99) - us(df.p99),
        );
    }
}

/// A duration for the markdown table: µs below 1 ms, ms above.
fn fmt_d(us_: f64) -> String {
    if us_.abs() >= 1000.0 {
        format!("{:.2} ms", us_ / 1000.0)
    } else {
        format!("{us_:.0} µs")
    }
}

fn fmt_added(us_: f64) -> String {
    let sign = if us_ < 0.0 { "−" } else { "+" };
    format!("{sign}{}", fmt_d(us_.abs()))
}

fn print_markdown(levels: &[Level], names: &[&str]) {
    println!(
        "\n| conns | client | p50 / p99 | added p50 / p99 | req/s | first byte p50 / p99 | first byte added p50 / p99 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for level in levels {
        let d = &level.unary[0];
        let df = &level.first[0];
        for (i, name) in names.iter().enumerate() {
            let u = &level.unary[i];
            let f = &level.first[i];
            let (added, added_first) = if i == 0 {
                ("—".to_owned(), "—".to_owned())
            } else {
                (
                    format!(
                        "{} / {}",
                        fmt_added(us(u.p50) - us(d.p50)),
                        fmt_added(us(u.p99) - us(d.p99))
                    ),
                    format!(
                        "{} / {}",
                        fmt_added(us(f.p50) - us(df.p50)),
                        fmt_added(us(f.p99) - us(df.p99))
                    ),
                )
            };
            println!(
                "| {} | {name} | {} / {} | {added} | {:.0} | {} / {} | {added_first} |",
                level.conns,
                fmt_d(us(u.p50)),
                fmt_d(us(u.p99)),
                u.rps,
                fmt_d(us(f.p50)),
                fmt_d(us(f.p99)),
            );
        }
    }
}

fn main() {
    let conns: Vec<usize> = std::env::var("KEFU_BENCH_CONNS")
        .unwrap_or_else(|_| "1,8,32,64".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rounds: usize = env_or("KEFU_BENCH_ROUNDS", 10);
    let round = Duration::from_millis(env_or("KEFU_BENCH_ROUND_MS", 600));
    let proxy_round = Duration::from_millis(env_or("KEFU_BENCH_PROXY_ROUND_MS", 3000));
    let litellm = std::env::var("KEFU_BENCH_LITELLM").ok();
    let litellm_model =
        std::env::var("KEFU_BENCH_LITELLM_MODEL").unwrap_or_else(|_| "bench".into());
    let litellm_key = std::env::var("KEFU_BENCH_LITELLM_KEY").unwrap_or_default();

    // The mock provider: a given one, or our own on its own thread and single-threaded runtime.
    let (base, mock) = match std::env::var("KEFU_BENCH_UPSTREAM") {
        Ok(url) => (url, None),
        Err(_) => {
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
            (server.base_url(), Some(server))
        }
    };

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut config = GatewayConfig::new(vec![
            ProviderConfig::new("bench", base.clone(), "bench").with_api_key("sk-bench"),
        ]);
        // Every call must reach the provider: a cache hit would measure nothing.
        config.cache = CacheConfig {
            capacity: 0,
            ..CacheConfig::default()
        };
        // Room for the largest connection count without queueing: the benchmark measures
        // the path, not the admission limit.
        let most = conns.iter().copied().max().unwrap_or(1);
        config.concurrency = ConcurrencyConfig {
            max_in_flight: most.max(64),
            max_queued: 256,
        };
        let gw = Gateway::new(config).unwrap();
        let mut clients = vec![
            Measured {
                name: "direct",
                budget: round,
                client: Client::Http(Http::new(&base, "bench", "sk-bench")),
            },
            Measured {
                name: "gateway",
                budget: round,
                client: Client::Gateway(gw, SiteId::new()),
            },
        ];
        if let Some(url) = &litellm {
            clients.push(Measured {
                name: "litellm",
                budget: proxy_round,
                client: Client::Http(Http::new(url, &litellm_model, &litellm_key)),
            });
        }
        if let Ok(only) = std::env::var("KEFU_BENCH_ONLY") {
            clients.retain(|m| only.split(',').any(|n| n.trim() == m.name));
            assert!(!clients.is_empty(), "KEFU_BENCH_ONLY={only} keeps no client");
        }
        let names: Vec<&str> = clients.iter().map(|m| m.name).collect();

        // Warm-up: connections, allocator, branch predictors, LiteLLM's first-call setup.
        for m in &clients {
            let warm = Duration::from_millis(500);
            unary_for(&m.client, most, warm).await;
            stream_for(&m.client, most, warm).await;
        }

        // New TCP connections the mock accepted during each client's streamed calls (in-process
        // mock only): a client that does not read a stream to its end loses the connection.
        let mut new_conns = vec![0; clients.len()];
        let mut levels = Vec::new();
        for &c in &conns {
            let mut unary: Vec<Samples> = clients.iter().map(|_| Samples::default()).collect();
            let mut first: Vec<Samples> = clients.iter().map(|_| Samples::default()).collect();
            for round in 0..rounds {
                // Each round starts with the next client, so whatever a client leaves behind
                // (LiteLLM keeps working for a while after a burst) falls on every client in
                // turn, not always on the one measured after it.
                for k in 0..clients.len() {
                    let i = (round + k) % clients.len();
                    let m = &clients[i];
                    unary[i].add(unary_for(&m.client, c, m.budget / 2).await);
                    let before = mock.as_ref().map_or(0, MockServer::connections);
                    first[i].add(stream_for(&m.client, c, m.budget / 2).await);
                    new_conns[i] += mock.as_ref().map_or(0, MockServer::connections) - before;
                }
            }
            let level = Level {
                conns: c,
                unary: unary.iter().map(Samples::stats).collect(),
                first: first.iter().map(Samples::stats).collect(),
            };
            print_level(&level, &names);
            levels.push(level);
        }

        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
            })
            .unwrap_or_default();
        println!(
            "\nkefu-ai gateway benchmark — {} cores, {cpu}; mock OpenAI-wire server {}; {rounds} rounds, {} ms per client and round ({} ms LiteLLM), half unary, half streamed",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            if mock.is_some() {
                "in-process"
            } else {
                "in its own process"
            },
            round.as_millis(),
            proxy_round.as_millis(),
        );
        if mock.is_some() {
            let counts: Vec<String> = names
                .iter()
                .zip(&new_conns)
                .map(|(n, c)| format!("{n} {c}"))
                .collect();
            println!(
                "new TCP connections during the streamed calls: {}",
                counts.join(", ")
            );
        }
        print_markdown(&levels, &names);
    });
}

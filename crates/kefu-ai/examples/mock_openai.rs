//! A fast local OpenAI-wire server for benchmarks that need the provider in another process
//! (LiteLLM's proxy must reach it over TCP): the same hand-written mock the gateway tests and
//! `benches/gateway.rs` use (`src/gateway/tests/server.rs`, included by path), answering every
//! request with the benchmark's five-delta reply and usage.
//!
//! ```text
//! cargo run --release -p kefu-ai --example mock_openai -- [PORT]
//! ```
//!
//! Prints `listening http://127.0.0.1:PORT/v1` once it accepts connections (PORT 0 or none
//! picks a free port, which the line then names) and serves until killed. It runs on one
//! thread, as in the benchmark, so on a 2-core machine the client side keeps the other core.

// An example harness: failing to bind is a failed run, not a crashed request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../src/gateway/tests/server.rs"]
mod server;

use std::io::Write;

use server::{Answer, Behavior, MockServer};

fn main() {
    let port: u16 = match std::env::args().nth(1) {
        Some(p) => p.parse().expect("PORT must be a number"),
        None => 0,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let server = MockServer::start_on(port, false).await;
        server.set_default(Behavior::Answer(Answer {
            usage: Some((40, 12)),
            ..Answer::new(&["Refunds ", "take ", "7 ", "days ", "[1]."])
        }));
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening {}", server.base_url()).unwrap();
        out.flush().unwrap();
        drop(out);
        std::future::pending::<()>().await;
    });
}

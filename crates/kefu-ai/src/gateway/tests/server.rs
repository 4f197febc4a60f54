//! A local HTTP/1.1 server speaking the OpenAI chat-completions wire format, for the gateway
//! tests and benchmark (which includes this file by path, so it uses nothing from the crate).
//! Each request takes the next scripted [`Behavior`], or the default one when the script is
//! empty, and is recorded (path, headers, JSON body) so tests can check what a provider
//! receives. HTTP is hand-written on a `TcpListener` so the tests control every byte: resets,
//! stalls, split writes, malformed chunks.

#![allow(dead_code)] // the benchmark uses only part of it

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A normal answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The text in pieces: one SSE chunk each, joined for a non-streamed request.
    pub deltas: Vec<String>,
    /// `(prompt, completion)` tokens to report; `None` reports no usage at all.
    pub usage: Option<(u32, u32)>,
    /// Wait before the response headers.
    pub delay: Duration,
    /// Wait between streamed chunks.
    pub delta_delay: Duration,
    /// Stream with CRLF line endings and keep-alive comments, each event split over several
    /// writes (mid-line and between `\r` and `\n`) that arrive as separate TCP reads.
    pub quirky: bool,
}

impl Answer {
    pub fn new(deltas: &[&str]) -> Self {
        Self {
            deltas: deltas.iter().map(|s| (*s).to_owned()).collect(),
            usage: Some((10, deltas.len() as u32)),
            delay: Duration::ZERO,
            delta_delay: Duration::ZERO,
            quirky: false,
        }
    }
}

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Behavior {
    Answer(Answer),
    /// An error status with a JSON error body and an optional `Retry-After`.
    Status {
        code: u16,
        retry_after: Option<String>,
    },
    /// Close the connection with a TCP reset before answering.
    Reset,
    /// Never send a byte.
    Stall,
    /// Stream these deltas, then go silent with the connection open.
    StallMidStream(Vec<String>),
    /// Stream these deltas, then a chunk that is not JSON.
    Malformed(Vec<String>),
    /// Stream a delta every `0` forever.
    Endless(Duration),
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub target: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    script: Mutex<VecDeque<Behavior>>,
    default: Mutex<Behavior>,
    requests: Mutex<Vec<Recorded>>,
    record: bool,
    connections: AtomicUsize,
}

/// A running mock provider; it lives as long as the runtime it was started on.
#[derive(Clone)]
pub struct MockServer {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl MockServer {
    /// Starts a recording server answering "Hello" by default.
    pub async fn start() -> Self {
        Self::start_with(true).await
    }

    /// Starts a server; `record: false` keeps memory flat under a benchmark's load.
    pub async fn start_with(record: bool) -> Self {
        Self::start_on(0, record).await
    }

    /// Starts a server on a given loopback port (0: any free one), for the standalone mock.
    pub async fn start_on(port: u16, record: bool) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(Behavior::Answer(Answer::new(&["Hel", "lo"]))),
            requests: Mutex::new(Vec::new()),
            record,
            connections: AtomicUsize::new(0),
        });
        let s = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let _ = sock.set_nodelay(true);
                s.connections.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(serve(sock, Arc::clone(&s)));
            }
        });
        Self { addr, state }
    }

    /// The base URL a provider config takes.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues a behaviour for the next request.
    pub fn push(&self, b: Behavior) {
        self.state.script.lock().unwrap().push_back(b);
    }

    /// What requests get once the script is used up.
    pub fn set_default(&self, b: Behavior) {
        *self.state.default.lock().unwrap() = b;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// TCP connections accepted so far (to see whether clients reuse them).
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::Relaxed)
    }

    pub fn hits(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn serve(mut sock: TcpStream, state: Arc<State>) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    loop {
        let head_end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p + 4;
            }
            match sock.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let target = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("")
            .to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match sock.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
        let body: serde_json::Value =
            serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or_default();
        buf.drain(..head_end + len);
        let stream = body["stream"].as_bool() == Some(true);
        let behavior = {
            let next = state.script.lock().unwrap().pop_front();
            next.unwrap_or_else(|| state.default.lock().unwrap().clone())
        };
        if state.record {
            state.requests.lock().unwrap().push(Recorded {
                target,
                headers,
                body,
            });
        }
        let keep_alive = match respond(&mut sock, behavior, stream).await {
            Ok(k) => k,
            Err(_) => return,
        };
        if !keep_alive {
            return;
        }
    }
}

fn chunk_json(content: Option<&str>, finish: Option<&str>) -> String {
    let delta = match content {
        Some(c) => serde_json::json!({ "content": c }),
        None => serde_json::json!({ "role": "assistant", "content": null }),
    };
    // Extra fields the way llama.cpp sends them; clients must ignore them.
    serde_json::json!({
        "choices": [{ "finish_reason": finish, "index": 0, "delta": if finish.is_some() { serde_json::json!({}) } else { delta } }],
        "created": 1_764_000_000,
        "id": "chatcmpl-mock",
        "model": "mock",
        "system_fingerprint": "b1-mock",
        "object": "chat.completion.chunk",
        "timings": { "prompt_n": 3, "predicted_per_second": 99.5 }
    })
    .to_string()
}

/// A chunked SSE response. The head goes out with the first chunk; with `holding` set,
/// chunks are also held back and go out together with the first one written after it is
/// cleared (so head, role chunk and first delta arrive in one segment, as from a real server
/// whose first token is ready when it starts answering).
struct Chunked<'a> {
    sock: &'a mut TcpStream,
    quirky: bool,
    held: Vec<u8>,
    holding: bool,
}

impl<'a> Chunked<'a> {
    fn new(sock: &'a mut TcpStream, quirky: bool) -> Self {
        Self {
            sock,
            quirky,
            held: b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n".to_vec(),
            holding: false,
        }
    }

    async fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut out = std::mem::take(&mut self.held);
        out.extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
        if self.holding {
            self.held = out;
            return Ok(());
        }
        self.sock.write_all(&out).await?;
        self.sock.flush().await
    }

    async fn event(&mut self, data: &str) -> std::io::Result<()> {
        if !self.quirky {
            return self.raw(format!("data: {data}\n\n").as_bytes()).await;
        }
        let text = format!(": keep-alive\r\n\r\ndata: {data}\r\n\r\n");
        let bytes = text.as_bytes();
        // Split mid-line and between the last `\r` and `\n`, each piece its own TCP read.
        let cuts = [bytes.len() / 3, bytes.len() - 1];
        let mut last = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            self.raw(&bytes[last..cut]).await?;
            last = cut;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(())
    }

    async fn end(&mut self) -> std::io::Result<()> {
        self.sock.write_all(b"0\r\n\r\n").await?;
        self.sock.flush().await
    }
}

/// Serves one behaviour; returns whether the connection stays usable.
async fn respond(sock: &mut TcpStream, behavior: Behavior, stream: bool) -> std::io::Result<bool> {
    match behavior {
        Behavior::Answer(a) => {
            if !a.delay.is_zero() {
                tokio::time::sleep(a.delay).await;
            }
            if !stream {
                let mut body = serde_json::json!({
                    "id": "chatcmpl-mock",
                    "object": "chat.completion",
                    "model": "mock",
                    "choices": [{ "index": 0, "finish_reason": "stop",
                        "message": { "role": "assistant", "content": a.deltas.concat() } }],
                });
                if let Some((p, c)) = a.usage {
                    body["usage"] = serde_json::json!({ "prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c });
                }
                let body = body.to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                sock.write_all(format!("{head}{body}").as_bytes()).await?;
                return Ok(true);
            }
            let mut w = Chunked::new(sock, a.quirky);
            w.holding = !a.quirky;
            w.event(&chunk_json(None, None)).await?;
            w.holding = false;
            for (i, d) in a.deltas.iter().enumerate() {
                if i > 0 && !a.delta_delay.is_zero() {
                    tokio::time::sleep(a.delta_delay).await;
                }
                w.event(&chunk_json(Some(d), None)).await?;
            }
            w.event(&chunk_json(None, Some("stop"))).await?;
            if let Some((p, c)) = a.usage {
                w.event(&serde_json::json!({ "choices": [], "usage": { "prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c } }).to_string()).await?;
            }
            w.event("[DONE]").await?;
            w.end().await?;
            Ok(true)
        }
        Behavior::Status { code, retry_after } => {
            let body = format!(r#"{{"error":{{"message":"mock status {code}","type":"mock"}}}}"#);
            let retry = retry_after
                .map(|r| format!("retry-after: {r}\r\n"))
                .unwrap_or_default();
            let head = format!(
                "HTTP/1.1 {code} Mock\r\ncontent-type: application/json\r\n{retry}content-length: {}\r\n\r\n",
                body.len()
            );
            sock.write_all(format!("{head}{body}").as_bytes()).await?;
            Ok(true)
        }
        Behavior::Reset => {
            sock.set_zero_linger()?;
            Ok(false)
        }
        Behavior::Stall => {
            std::future::pending::<()>().await;
            Ok(false)
        }
        Behavior::StallMidStream(deltas) | Behavior::Malformed(deltas) if !stream => {
            // Only meaningful for streams; a plain request just stalls.
            let _ = deltas;
            std::future::pending::<()>().await;
            Ok(false)
        }
        Behavior::StallMidStream(deltas) => {
            let mut w = Chunked::new(sock, false);
            w.event(&chunk_json(None, None)).await?;
            for d in &deltas {
                w.event(&chunk_json(Some(d), None)).await?;
            }
            std::future::pending::<()>().await;
            Ok(false)
        }
        Behavior::Malformed(deltas) => {
            let mut w = Chunked::new(sock, false);
            for d in &deltas {
                w.event(&chunk_json(Some(d), None)).await?;
            }
            w.event(r#"{"choices":[{"delta":{"content":"x"#).await?;
            w.end().await?;
            Ok(true)
        }
        Behavior::Endless(every) => {
            let mut w = Chunked::new(sock, false);
            loop {
                w.event(&chunk_json(Some("more words "), None)).await?;
                tokio::time::sleep(every).await;
            }
        }
    }
}

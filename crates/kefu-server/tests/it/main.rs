//! The server's integration tests: the real server on port 0 over real HTTP and WebSocket,
//! on a temp SQLite file, or a fresh PostgreSQL schema when `KEFU_TEST_DATABASE_URL` is set.
//! Modules mirror the routes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

/// The gateway's OpenAI-wire test server, shared by path so there is one of it.
#[path = "../../../kefu-ai/src/gateway/tests/server.rs"]
mod openai_wire;

mod accounts;
mod analytics;
mod api_tokens;
mod assistant;
mod assistant_llm;
mod attachments;
mod auth;
mod authz_matrix;
mod bad_input;
mod conversations;
mod eval_runs;
mod kb_entries;
mod kb_imports;
mod kb_lexicon;
mod kb_report;
mod kb_rerank;
mod kb_url_import;
mod kb_vectors;
mod privacy;
mod realtime;
mod security_headers;
mod visitor;
mod widget_origin;

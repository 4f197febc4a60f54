//! The server's integration tests: the real server on port 0 over real HTTP and WebSocket,
//! on a temp SQLite file, or a fresh PostgreSQL schema when `KEFU_TEST_DATABASE_URL` is set.
//! Modules mirror the routes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod assistant;
mod auth;
mod bad_input;
mod conversations;
mod kb_entries;
mod kb_imports;
mod realtime;
mod visitor;

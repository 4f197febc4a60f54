//! The store's story tests, run against SQLite always and against PostgreSQL when
//! `KEFU_TEST_DATABASE_URL` is set (each test gets a fresh schema there).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod agents;
mod conversations;
mod kb_entries;
mod login_security;
mod messages;

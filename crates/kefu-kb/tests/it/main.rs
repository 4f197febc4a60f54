//! kefu-kb's integration tests against a real store (SQLite, or PostgreSQL when
//! `KEFU_TEST_DATABASE_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod search;

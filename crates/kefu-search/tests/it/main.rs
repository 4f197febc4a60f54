//! Integration tests of kefu-search, compiled into one binary; one module per concern.

// Helpers outside #[test] functions unwrap too: a panic anywhere here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod embeddings;
mod filters;
mod hybrid;
mod index_lifecycle;
#[cfg(feature = "local-embeddings")]
mod local_embedder;
mod support;
mod text_search;
mod vectors;

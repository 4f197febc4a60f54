//! Integration tests for kefu-import: one binary, one module per concern.
//!
//! Fixture builders are plain helper functions, outside the reach of clippy's
//! `allow-unwrap-in-tests`; a panic there is a failed test, as in a `#[test]` body.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch;
mod chunking;
mod fixtures;
mod formats;
mod props;

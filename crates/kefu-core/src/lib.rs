//! Kefu's vocabulary: ids, timestamps, the domain types every other crate speaks, the realtime
//! protocol frames and the typed configuration.
//!
//! This crate does no I/O and knows no database, HTTP stack or async runtime, so that every
//! layer above it (store, knowledge base, AI, server) can share one set of types without
//! pulling in each other's dependencies.

pub mod config;
pub mod domain;
pub mod ids;
pub mod protocol;
pub mod time;
pub mod validate;

pub use ids::{
    AgentId, ApiTokenId, AttachmentId, CannedReplyId, ConversationId, KbEntryId, MessageId, SiteId,
    TagId, VisitorId,
};
pub use time::Timestamp;

//! Kefu's answer engine. For each visitor question it decides — answer from the knowledge
//! base with citations, ask the visitor to clarify, or hand the conversation to a human with a
//! reason — and it never improvises beyond what retrieval found.
//!
//! The engine reaches the knowledge base only through the [`Retriever`] trait, so it can be
//! tested with any retriever and the knowledge base can be used without it. With no provider it runs
//! the offline answerer (no language model, no API key); with a site's provider chain it
//! generates grounded, cited answers through the [`gateway`], streaming them as they come.

pub mod context;
pub mod engine;
pub mod followup;
pub mod gateway;
pub mod generate;
pub mod human_request;
pub mod language;
pub mod redact;
pub mod retrieval;
pub mod sentiment;
pub mod summary;

pub use context::{Speaker, Turn};
pub use engine::{AnswerEngine, AnswerRequest, BotReply, Policy, Thresholds};
pub use generate::AnswerUpdate;
pub use retrieval::{Candidate, RetrievalError, Retriever};

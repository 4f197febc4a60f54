//! Kefu's answer engine. For each visitor question it decides — answer from the knowledge
//! base with citations, ask the visitor to clarify, or hand the conversation to a human with a
//! reason — and it never improvises beyond what retrieval found.
//!
//! The engine reaches the knowledge base only through the [`Retriever`] trait, so it can be
//! tested with any retriever and the knowledge base can be used without it. Today it runs the
//! offline answerer (no language model, no API key); the provider gateway and LLM answerer
//! plug in behind the same [`AnswerEngine`].

pub mod engine;
pub mod gateway;
pub mod human_request;
pub mod language;
pub mod redact;
pub mod retrieval;

pub use engine::{AnswerEngine, AnswerRequest, BotReply, Thresholds};
pub use retrieval::{Candidate, RetrievalError, Retriever};

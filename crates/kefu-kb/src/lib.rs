//! Kefu knowledge base.
//!
//! This crate holds everything that turns knowledge-base content into answers without any
//! network service. Today that is the offline FAQ matcher ([`faq_matcher`]), which the offline
//! answerer uses to decide which FAQ entry a visitor question matches and how sure it is, plus
//! the text normalisation it relies on ([`text_normalise`]).

pub mod faq_index;
pub mod faq_matcher;
pub mod import;
pub mod lexical_support;
pub mod lexicon;
pub mod rerank;
pub mod revisions;
pub mod search;
pub mod text_normalise;
pub mod url_fetch;
pub mod vectors;

pub use faq_index::{Audience, FaqCandidate, FaqIndexError, FaqIndexes, SiteFaqIndex};
pub use faq_matcher::{FaqExample, FaqMatcher, Match, MatcherConfig, MatcherError};

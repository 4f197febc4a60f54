//! The seam between the answer engine and the knowledge base.

use std::future::Future;
use std::pin::Pin;

use kefu_core::{KbEntryId, SiteId};

/// A knowledge-base entry ranked for a question, as the engine needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub entry_id: KbEntryId,
    /// The revision whose text `answer` is.
    pub revision: i64,
    pub title: String,
    /// The question this entry answers (shown when asking the visitor to clarify).
    pub question: String,
    pub answer: String,
    pub link: Option<String>,
    /// Calibrated confidence, 0–1.
    pub confidence: f32,
    /// The entry's category (`faq`, `policy`, …): the intent recorded for analytics.
    pub category: String,
}

/// Retrieval failed (the engine hands off rather than guess).
#[derive(Debug, thiserror::Error)]
#[error("retrieval failed: {0}")]
pub struct RetrievalError(pub String);

/// Boxed future, so retrievers can live behind `Arc<dyn Retriever>`.
pub type RetrievalFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Candidate>, RetrievalError>> + Send + 'a>>;

/// Finds what the knowledge base knows about a question, for visitors: implementations must
/// only ever return published, public knowledge.
pub trait Retriever: Send + Sync {
    /// The best `k` candidates, best first.
    fn retrieve<'a>(&'a self, site: SiteId, question: &'a str, k: usize) -> RetrievalFuture<'a>;
}

//! Kefu evaluation harness: how well does an answerer handle a suite of real questions?
//!
//! The pieces, one module each, in the order a run uses them:
//!
//! - [`suite`]: load test questions (JSONL or CSV) with their expected entries, keywords and
//!   hand-off labels; [`banking77`] loads the BANKING77 files as knowledge plus suite.
//! - [`answerer`]: the [`Answerer`] trait the harness drives (so the real answer engine can plug
//!   in later) and [`MatcherAnswerer`], the offline FAQ matcher with a confidence threshold.
//! - [`harness`]: runs every question through an answerer, timing each, reporting progress.
//! - [`metrics`]: retrieval (hit@k, MRR), answering (accuracy, automation, wrong answers),
//!   hand-off precision/recall, latency and the most-confused pairs.
//! - [`sweep`]: automation versus wrong answers across confidence thresholds, and the choice of
//!   an operating threshold.
//! - [`cv`]: stratified k-fold cross-validation of the matcher on the knowledge itself, which is
//!   how hyper-parameters, confidence calibration and the threshold are chosen without ever
//!   looking at test questions.
//! - [`hybrid`]: the matcher's scores fused with sentence-embedding kNN over the phrasings,
//!   with the fusion weights chosen by the same cross-validation.
//! - [`search`]: greedy coordinate search of matcher settings by cross-validation.
//! - [`report`]: the plain-text, JSON and self-contained HTML renderings.
//!
//! The library draws nothing on the terminal; callers pass a progress callback instead.

pub mod answerer;
pub mod banking77;
pub mod cv;
pub mod harness;
pub mod hybrid;
pub mod metrics;
pub mod report;
pub mod search;
pub mod suite;
pub mod sweep;

pub use answerer::{Answer, Answerer, Candidate, Decision, MatcherAnswerer};
pub use banking77::{Banking77, load_banking77};
pub use cv::{CvOptions, CvResult, cross_validate};
pub use harness::{Evaluation, Outcome, evaluate, run_suite};
pub use hybrid::{
    HybridAnswerer, HybridCvResult, HybridError, HybridGrid, HybridMatcher, HybridWeights,
    TextEmbedder, cross_validate_hybrid, embed_all,
};
// The embedding clients the hybrid runs with, so tools need no kefu-search dependency of their own.
pub use kefu_search::{EmbedError, Embedder, LocalEmbedder, OpenAiEmbedder, OpenAiEmbedderConfig};
pub use metrics::{ConfusionPair, Metrics, confusion_summary};
pub use report::EvalReport;
pub use search::{SearchAxis, Trial, coordinate_search};
pub use suite::{SuiteError, SuiteRow, load_suite};
pub use sweep::{SweepPoint, SweepSpec, choose_threshold, sweep};

/// A progress callback: `(done, total)` after each question (or fold step).
pub type Progress<'a> = &'a dyn Fn(usize, usize);

/// A progress callback that ignores progress.
pub fn no_progress(_done: usize, _total: usize) {}

//! Importing many files as one job, with progress and a per-file report.
//!
//! The lesson from other knowledge-base tools: one bad file must never stop (or hang) a batch
//! of hundreds. Each file goes through [`import_file`], which turns every failure, panics
//! included, into that file's error; the batch only collects. Files are taken from the
//! iterator one at a time and their bytes dropped after parsing, so a lazy iterator (reading
//! from disk or object storage) keeps memory at one file's worth.

use serde::{Deserialize, Serialize};

use crate::document::ImportedDocument;
use crate::formats::{ImportOutcome, import_file};
use crate::options::ImportOptions;

/// Progress of a batch, reported before and after each file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// 0-based position of the current file.
    pub index: usize,
    /// Number of files, when the iterator knows it exactly.
    pub total: Option<usize>,
    /// Name of the current file.
    pub name: String,
    /// Whether the file is starting or done.
    pub stage: ProgressStage,
    /// Files finished so far with documents.
    pub succeeded: usize,
    /// Files finished so far with an error.
    pub failed: usize,
}

/// Where in its processing a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProgressStage {
    /// About to be parsed.
    Started,
    /// Parsed; `ok` says whether it produced documents.
    Finished {
        /// The file produced documents.
        ok: bool,
    },
}

/// Outcome of a whole batch: one entry per input file, in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    /// Per-file outcomes.
    pub files: Vec<ImportOutcome>,
}

impl BatchReport {
    /// Files that produced documents.
    pub fn succeeded(&self) -> impl Iterator<Item = &ImportOutcome> {
        self.files.iter().filter(|f| f.is_ok())
    }

    /// Files that failed, each with its reason.
    pub fn failed(&self) -> impl Iterator<Item = &ImportOutcome> {
        self.files.iter().filter(|f| !f.is_ok())
    }

    /// All documents of all successful files.
    pub fn documents(&self) -> impl Iterator<Item = &ImportedDocument> {
        self.files.iter().flat_map(|f| f.documents().iter())
    }
}

/// Imports every file; never stops early and never panics.
pub fn import_batch(
    files: impl IntoIterator<Item = (String, Vec<u8>)>,
    opts: &ImportOptions,
    progress: &dyn Fn(Progress),
) -> BatchReport {
    let iter = files.into_iter();
    let total = match iter.size_hint() {
        (lower, Some(upper)) if lower == upper => Some(lower),
        _ => None,
    };
    let mut report = BatchReport::default();
    let (mut succeeded, mut failed) = (0usize, 0usize);
    for (index, (name, bytes)) in iter.enumerate() {
        progress(Progress {
            index,
            total,
            name: name.clone(),
            stage: ProgressStage::Started,
            succeeded,
            failed,
        });
        let outcome = import_file(&name, &bytes, opts);
        drop(bytes);
        let ok = outcome.is_ok();
        if ok {
            succeeded += 1;
        } else {
            failed += 1;
        }
        progress(Progress {
            index,
            total,
            name,
            stage: ProgressStage::Finished { ok },
            succeeded,
            failed,
        });
        report.files.push(outcome);
    }
    report
}

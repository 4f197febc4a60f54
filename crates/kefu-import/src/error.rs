//! Why a file could not be imported.
//!
//! One enum for every format, so a batch report and the HTTP layer can show a clear,
//! translated reason per file (see [`ImportError::code`]) without knowing which parser ran.
//! Problems that only affect part of a file (a Q&A row without an answer) are not errors:
//! they are [`crate::ImportWarning`]s attached to the document.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A whole file failed to import. Every variant names a cause a person can act on.
///
/// Serialises with a `code` tag equal to [`ImportError::code`], so stored job reports keep
/// the stable code next to the details.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "code")]
pub enum ImportError {
    /// The file is of a type we do not read (by extension and content).
    #[error("unsupported file type: {reason}")]
    #[serde(rename = "unsupported_type")]
    Unsupported {
        /// What was detected, and what to do instead when we know.
        reason: String,
    },
    /// The file is bigger than [`crate::ImportOptions::max_file_bytes`].
    #[error("file is {size} bytes, over the {limit}-byte import limit")]
    #[serde(rename = "too_large")]
    TooLarge {
        /// Size of the file in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The file claims a format but its content cannot be read as that format.
    #[error("corrupt or unreadable {format} file: {reason}")]
    #[serde(rename = "corrupt_file")]
    Corrupt {
        /// Format name, e.g. "PDF".
        format: String,
        /// The parser's explanation.
        reason: String,
    },
    /// A PDF with pages but no extractable text, usually a scan; OCR is not done here.
    #[error(
        "the PDF has no text layer (probably a scanned image); OCR is not supported, export it with text or upload the source document"
    )]
    #[serde(rename = "no_text_layer")]
    NoTextLayer,
    /// The file was read but contains no text worth indexing.
    #[error("no text found in file{}", detail_suffix(.detail))]
    #[serde(rename = "empty_text")]
    Empty {
        /// Extra context, e.g. how many Q&A rows were skipped and why.
        detail: Option<String>,
    },
    /// A CSV/XLSX file whose header row has no question or answer column.
    #[error(
        "no question/answer columns found (expected headers such as question/问题 and answer/答案; found: {})",
        .found.join(", ")
    )]
    #[serde(rename = "missing_columns")]
    MissingColumns {
        /// The header cells that were present.
        found: Vec<String>,
    },
    /// A third-party parser panicked on this input; the panic was contained.
    #[error("the {format} parser crashed on this file (it is probably malformed): {message}")]
    #[serde(rename = "parser_crashed")]
    ParserPanic {
        /// Format name, e.g. "PDF".
        format: String,
        /// The panic message, if it was a string.
        message: String,
    },
}

fn detail_suffix(detail: &Option<String>) -> String {
    match detail {
        Some(d) => format!(": {d}"),
        None => String::new(),
    }
}

impl ImportError {
    /// Stable snake_case code for APIs and UIs to translate; never changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Unsupported { .. } => "unsupported_type",
            ImportError::TooLarge { .. } => "too_large",
            ImportError::Corrupt { .. } => "corrupt_file",
            ImportError::NoTextLayer => "no_text_layer",
            ImportError::Empty { .. } => "empty_text",
            ImportError::MissingColumns { .. } => "missing_columns",
            ImportError::ParserPanic { .. } => "parser_crashed",
        }
    }

    pub(crate) fn corrupt(format: &str, reason: impl std::fmt::Display) -> Self {
        ImportError::Corrupt {
            format: format.to_string(),
            reason: reason.to_string(),
        }
    }
}

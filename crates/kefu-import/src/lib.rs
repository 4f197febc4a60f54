//! Kefu knowledge-base import: files in, documents and retrieval chunks out.
//!
//! Pure, synchronous functions with no I/O of their own: the server's background jobs read the
//! uploads, call [`import_batch`] (or [`import_file`]) with a progress callback, store the
//! [`ImportedDocument`]s (keyed by source and [`ImportedDocument::content_hash`], so a
//! re-import updates instead of duplicating) and index the [`Chunk`]s from [`chunk_document`].
//!
//! - [`formats`]: one parser per format (Markdown, text, HTML, PDF, DOCX, CSV/XLSX Q&A) and
//!   detection by extension and content.
//! - [`batch`]: many files, one bad file never stopping the rest.
//! - [`chunking`]: structure-respecting chunks (headings, lists, table rows, Chinese and English
//!   sentences), sized in characters.
//! - [`document`]: the output types, body normalisation, language guess and hashing.
//! - [`sitemap`]: the page addresses a sitemap lists (URL imports).

pub mod batch;
pub mod chunking;
mod decode;
pub mod document;
pub mod error;
pub mod formats;
pub mod options;
pub mod sitemap;

pub use batch::{BatchReport, Progress, ProgressStage, import_batch};
pub use chunking::{Chunk, ChunkOptions, chunk, chunk_document};
pub use document::{
    DocumentKind, ImportWarning, ImportedDocument, QaPair, content_hash, detect_language,
    normalise_markdown,
};
pub use error::ImportError;
pub use formats::{Format, ImportOutcome, detect_format, import_as, import_file};
pub use options::{DEFAULT_MAX_FILE_BYTES, ImportOptions};
pub use sitemap::{Sitemap, parse_sitemap};

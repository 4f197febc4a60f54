//! Error types of the retrieval engine: [`SearchError`] for indexing and search,
//! [`EmbedError`] for embedding providers (kept apart because callers handle provider outages
//! differently from index faults: fall back to text-only search instead of failing).

use std::path::PathBuf;

/// Errors from the full-text index, the vector index and their persistence.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The search library failed (I/O under the index, corrupt segment, writer failure).
    #[error("full-text index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index directory could not be opened.
    #[error("cannot open index directory: {0}")]
    OpenDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// A file operation on the index or vector file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing ("reading", "writing", …).
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The directory exists, holds files, and is not one of our indexes: refuse to wipe it.
    #[error("{} is not empty and does not look like a Kefu search index; refusing to overwrite it", .0.display())]
    ForeignDirectory(PathBuf),
    /// The caller passed inconsistent data (e.g. a chunk of another entry in an upsert).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A vector has the wrong length for the index.
    #[error("vector has {got} dimensions, the index expects {expected}")]
    Dimensions {
        /// Dimensions of the index.
        expected: usize,
        /// Dimensions of the offending vector.
        got: usize,
    },
    /// A vector cannot be normalised (all zeros, NaN or infinite values).
    #[error("vector for chunk {chunk_id} is zero or not finite")]
    BadVector {
        /// The chunk it belongs to (empty for a query vector).
        chunk_id: String,
    },
    /// Vectors from different embedding models must never be compared.
    #[error("vectors are from model {found:?}, expected {expected:?}")]
    ModelMismatch {
        /// The model the caller uses.
        expected: String,
        /// The model the stored vectors come from.
        found: String,
    },
    /// A vector file is truncated or not in our format.
    #[error("vector file {} is corrupt: {reason}", path.display())]
    CorruptVectorFile {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A thread panicked while holding the index writer; the index must be reopened.
    #[error("index writer lock poisoned by an earlier panic")]
    Poisoned,
}

/// Errors from an [`Embedder`](crate::Embedder).
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The client could not be built from its configuration.
    #[error("embedder configuration: {0}")]
    Config(String),
    /// The request failed before a response (connect error, timeout, TLS).
    #[error("embedding request to {url} failed: {source}")]
    Transport {
        /// The endpoint.
        url: String,
        /// The underlying error.
        source: reqwest::Error,
    },
    /// The provider answered with a non-2xx status.
    #[error("embedding provider returned HTTP {status}: {message}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// The provider's error message (from `{"error":{"message":…}}` or the raw body).
        message: String,
    },
    /// The response was not the expected JSON.
    #[error("embedding response could not be parsed: {0}")]
    Decode(String),
    /// The provider returned a different number of embeddings than inputs.
    #[error("embedding provider returned {got} embeddings for {expected} inputs")]
    WrongCount {
        /// Inputs sent.
        expected: usize,
        /// Embeddings received.
        got: usize,
    },
    /// A local (in-process) embedding model could not be loaded or failed while running.
    #[error("local embedding model: {0}")]
    Model(String),
    /// An embedding has the wrong length (wrong model configured, or model changed).
    #[error("embedding has {got} dimensions, model {model:?} is configured for {expected}")]
    WrongDimensions {
        /// The configured model.
        model: String,
        /// Configured dimensions.
        expected: usize,
        /// Received dimensions.
        got: usize,
    },
}

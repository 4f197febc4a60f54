//! Kefu's knowledge-base retrieval engine: it indexes chunks of knowledge-base entries and
//! finds them again, for the answer engine and the retrieval-test page.
//!
//! - [`text_analysis`]: Chinese/English segmentation with per-site words and synonyms.
//! - [`index`]: the tantivy full-text index of chunks, with filters enforced in the query and
//!   self-diagnosis so the caller can rebuild it from the database.
//! - [`vectors`]: exact cosine search over embeddings of one model.
//! - [`embedder`]: the embedding trait and an OpenAI-compatible HTTP client.
//! - `local_embedder` (feature `local-embeddings`, on by default): a sentence-embedding model
//!   run in-process on the CPU, behind the same trait.
//! - [`hybrid`]: reciprocal rank fusion of text and vector results.
//! - [`rerank`]: an optional cross-encoder endpoint that reorders the best fused hits.
//!
//! The crate holds no HTTP server and no database; the knowledge-base crate owns the data and
//! feeds this one.

pub mod chunk;
pub mod embedder;
pub mod error;
pub mod filter;
pub mod hybrid;
pub mod index;
#[cfg(feature = "local-embeddings")]
pub mod local_embedder;
pub mod rerank;
pub mod text_analysis;
pub mod vectors;

pub use chunk::{ChunkDoc, ChunkMeta, Status, Visibility};
pub use embedder::{EmbedFuture, Embedder, OpenAiEmbedder, OpenAiEmbedderConfig};
pub use error::{EmbedError, SearchError};
pub use filter::Filter;
pub use hybrid::{FusedHit, FusionWeights, fuse};
pub use index::{ChunkIndex, Hit, IndexState, SCHEMA_VERSION, SearchQuery};
#[cfg(feature = "local-embeddings")]
pub use local_embedder::{LocalEmbedder, LocalEmbedderConfig, Pooling};
pub use rerank::{Reranker, RerankerConfig};
pub use text_analysis::{AnalyzedQuery, Analyzer, Lexicon};
pub use vectors::{VectorHit, VectorIndex};

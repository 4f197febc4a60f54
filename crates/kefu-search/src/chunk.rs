//! The unit of retrieval: a chunk of one knowledge-base entry revision, with the metadata every
//! search filters on. Shared by the full-text index and the vector index so both enforce the
//! same rules on the same fields.

use serde::{Deserialize, Serialize};

/// Who may see an entry. Visitors only ever get [`Visibility::Public`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Shown to visitors and used by the assistant when answering them.
    Public,
    /// For agents only (internal notes, procedures).
    Internal,
}

impl Visibility {
    /// The stable string stored in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
        }
    }
}

/// Lifecycle state of the entry revision a chunk belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Live: answers may use it.
    Published,
    /// Being edited: searchable only by editors previewing their work.
    Draft,
    /// Retired: kept for history and citations of old answers.
    Archived,
}

impl Status {
    /// The stable string stored in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Published => "published",
            Status::Draft => "draft",
            Status::Archived => "archived",
        }
    }
}

/// Identity and filterable attributes of a chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkMeta {
    /// Unique id of the chunk (UUIDv7 text in Kefu, any string here).
    pub chunk_id: String,
    /// The entry the chunk belongs to; all chunks of an entry are replaced together.
    pub entry_id: String,
    /// The entry revision the chunk was cut from, so citations name what was used.
    pub revision: u64,
    /// The site (tenant) owning the entry; searches never cross sites.
    pub site_id: String,
    /// Category slug or id, for narrowing searches.
    pub category: String,
    /// Language tag such as `zh`, `en`.
    pub language: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// Lifecycle state.
    pub status: Status,
}

/// A chunk as handed to the full-text index: metadata plus the searchable text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkDoc {
    /// Identity and filter fields.
    pub meta: ChunkMeta,
    /// The entry's title (weighted higher than body text).
    pub title: String,
    /// Headings above the chunk, joined (e.g. `Billing > Refunds`).
    pub heading_path: String,
    /// The chunk's body text.
    pub text: String,
}

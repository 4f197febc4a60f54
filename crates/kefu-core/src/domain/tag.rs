//! Tags: per-site labels agents put on conversations.

use serde::{Deserialize, Serialize};

use crate::{SiteId, TagId, Timestamp};

/// A site's tag.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Tag {
    pub id: TagId,
    pub site_id: SiteId,
    pub name: String,
    pub created_at: Timestamp,
}

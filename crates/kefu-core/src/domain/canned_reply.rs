//! Canned replies: saved answers agents insert by typing a shortcut such as `/refund`.

use serde::{Deserialize, Serialize};

use crate::{CannedReplyId, SiteId, Timestamp};

/// A saved reply.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CannedReply {
    pub id: CannedReplyId,
    pub site_id: SiteId,
    /// Unique per site, without the leading slash: `refund`.
    pub shortcut: String,
    pub title: String,
    pub text: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

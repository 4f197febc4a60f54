//! Conversations and their life cycle: bot → waiting for a human → assigned → resolved, and
//! reopened back to waiting (or assigned, when its agent reopens it).

use serde::{Deserialize, Serialize};

use super::text_enum;
use crate::{AgentId, ConversationId, SiteId, Timestamp, VisitorId};

text_enum!(
    /// Where a conversation is in its life cycle.
    ConversationStatus {
        /// The assistant is answering.
        Bot => "bot",
        /// Needs a human; in the queue.
        Waiting => "waiting",
        /// A human holds it.
        Assigned => "assigned",
        /// Done; a new visitor message or an agent reopens it.
        Resolved => "resolved",
    }
);

impl ConversationStatus {
    /// Whether the conversation still needs attention (counts towards an agent's load).
    pub fn is_open(self) -> bool {
        !matches!(self, ConversationStatus::Resolved)
    }
}

/// A conversation as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Conversation {
    pub id: ConversationId,
    pub site_id: SiteId,
    pub visitor_id: VisitorId,
    pub status: ConversationStatus,
    pub assignee_id: Option<AgentId>,
    /// Where it came from: `web` (the widget) or `api`.
    pub channel: String,
    /// Sequence number of the newest log entry.
    pub last_seq: i64,
    pub last_message_at: Option<Timestamp>,
    /// The first characters of the newest public message, for inbox lists.
    pub last_message_preview: Option<String>,
    pub visitor_last_read_seq: i64,
    pub agent_last_read_seq: i64,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}

text_enum!(
    /// The inbox views agents filter by.
    ConversationFilter {
        /// Every conversation.
        All => "all",
        /// Needs a human and nobody holds it.
        Unassigned => "unassigned",
        /// Held by the agent asking.
        Mine => "mine",
        /// In the queue for a human (unassigned or not yet picked).
        Waiting => "waiting",
        /// Being answered by the assistant.
        Bot => "bot",
        /// Open (not resolved).
        Open => "open",
        /// Done.
        Resolved => "resolved",
    }
);

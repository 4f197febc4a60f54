//! Messages: the entries of a conversation's log. Every entry (a visitor's text, an agent's
//! reply or private note, a bot answer, or a system event such as an assignment) has a
//! per-conversation sequence number, so one ordered log is the single truth that clients
//! resume from.

use serde::{Deserialize, Serialize};

use super::text_enum;
use crate::{AgentId, ConversationId, MessageId, Timestamp};

text_enum!(
    /// Who wrote a log entry.
    AuthorKind {
        Visitor => "visitor",
        Agent => "agent",
        Bot => "bot",
        System => "system",
    }
);

/// A file attached to a message, by reference: the upload itself lives elsewhere.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// Set for files uploaded to Kefu (`url` is then `/api/v1/attachments/{id}`); absent for
    /// links to files elsewhere. Only the server sets it, from a sender's `attachment_ids`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<crate::AttachmentId>,
    pub url: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

/// What a system entry records. Stored with the entry so history explains itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SystemEvent {
    /// A human was asked for (by the visitor, an agent or the assistant).
    HandoffRequested { reason: String },
    /// Nobody was online to take it; the visitor may leave an e-mail.
    NoAgentOnline,
    /// The visitor left an e-mail address for a reply.
    ContactLeft { email: String },
    /// An agent took the conversation (by auto-assignment, transfer or themselves).
    Assigned {
        agent_id: AgentId,
        agent_name: String,
        by: Option<AgentId>,
    },
    /// Nobody holds it any more; back in the queue.
    Unassigned { by: Option<AgentId> },
    /// Given back to the assistant.
    HandedToBot { by: Option<AgentId> },
    /// Marked done.
    Resolved { by: Option<AgentId> },
    /// Opened again.
    Reopened { by: Option<AgentId> },
}

/// One committed entry of a conversation's log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub author_kind: AuthorKind,
    /// Agent id for agents, visitor id for visitors; none for bot and system.
    pub author_id: Option<String>,
    /// Display name of an agent author, so clients need no second lookup.
    pub author_name: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Private notes are visible to agents only.
    pub private: bool,
    pub event: Option<SystemEvent>,
    /// The id the sender generated, used to make retries idempotent.
    pub client_id: Option<String>,
    /// The assistant's sources, confidence and hand-off reason (bot messages).
    pub answer: Option<super::AnswerMeta>,
    pub created_at: Timestamp,
}

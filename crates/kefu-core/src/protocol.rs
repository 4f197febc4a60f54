//! The WebSocket protocol's frames (see docs/PROTOCOL.md): JSON text frames with a `type`
//! field. The codec lives here, without I/O, so it can be property-tested and shared by the
//! server and any Rust client.

use serde::{Deserialize, Serialize};

use crate::domain::{Attachment, AuthorKind, Conversation, Message, Presence};
use crate::{AgentId, AttachmentId, ConversationId, MessageId};

/// Largest text frame a client may send, in bytes. A 4,000-character message in four-byte
/// characters plus its envelope fits comfortably.
pub const MAX_CLIENT_FRAME_BYTES: usize = 64 * 1024;

/// A frame sent by a client (widget, console or integration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Authenticates the connection; the first frame unless the upgrade carried a session
    /// cookie. Visitors send their visitor token, integrations an API token.
    Auth { token: String },
    /// Start receiving a conversation's log: everything after `after_seq` from the database,
    /// then live entries, with no gap and no repeat.
    Subscribe {
        conversation_id: ConversationId,
        #[serde(default)]
        after_seq: i64,
    },
    /// Stop receiving a conversation's log.
    Unsubscribe { conversation_id: ConversationId },
    /// Send a message. Acknowledged with `ack` only after it is committed; resending the same
    /// `client_id` returns the original message instead of creating a second one.
    Send {
        conversation_id: ConversationId,
        client_id: String,
        text: String,
        /// Agents only: a note the visitor never sees.
        #[serde(default)]
        private: bool,
        #[serde(default)]
        attachments: Vec<Attachment>,
        /// Files uploaded beforehand (`POST …/attachments`) to carry on this message.
        #[serde(default)]
        attachment_ids: Vec<AttachmentId>,
    },
    /// Typing started or stopped.
    Typing {
        conversation_id: ConversationId,
        typing: bool,
    },
    /// Everything up to `seq` has been read.
    Read {
        conversation_id: ConversationId,
        seq: i64,
    },
    /// Application-level keep-alive for clients that cannot see WebSocket pings.
    Ping {
        #[serde(default)]
        nonce: Option<String>,
    },
}

/// A frame sent by the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Authenticated; says who the server thinks the client is.
    Ready {
        connection_id: String,
        /// `visitor` or `agent`.
        role: String,
        heartbeat_secs: u64,
    },
    /// A committed log entry.
    Message { message: Message },
    /// The backlog after a subscribe's `after_seq` has been sent; live entries follow.
    Synced {
        conversation_id: ConversationId,
        last_seq: i64,
    },
    /// A `send` was committed (or was a resend of a committed one: `duplicate`).
    Ack {
        client_id: String,
        message: Message,
        duplicate: bool,
    },
    /// A frame was refused. The connection stays open unless the close frame says otherwise.
    Error {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    /// Someone is typing (never persisted).
    Typing {
        conversation_id: ConversationId,
        author_kind: AuthorKind,
        /// Agent or visitor id, so a client can ignore its own echo.
        author_id: Option<String>,
        author_name: Option<String>,
        typing: bool,
    },
    /// Part of an assistant answer as it is generated (never persisted, no seq). Deltas of one
    /// answer share `reply_to`, the visitor message being answered; append `text` in arrival
    /// order, or clear what was shown when `reset` is true. The committed `message` frame
    /// that follows (its `client_id` is `bot:<reply_to>`) replaces the streamed text.
    AnswerDelta {
        conversation_id: ConversationId,
        reply_to: MessageId,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        text: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        reset: bool,
    },
    /// The other side read up to `seq`.
    Read {
        conversation_id: ConversationId,
        reader: AuthorKind,
        seq: i64,
    },
    /// An inbox row changed (status, assignee, newest message); agents only.
    ConversationUpdated { conversation: Conversation },
    /// An agent's presence changed; agents only.
    Presence {
        agent_id: AgentId,
        presence: Presence,
    },
    /// Reply to `ping`.
    Pong { nonce: Option<String> },
}

/// Why a client frame was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("frame is larger than {MAX_CLIENT_FRAME_BYTES} bytes")]
    FrameTooLarge,
    #[error("frame is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("frame has an unknown field or type, or a wrong value: {0}")]
    InvalidFrame(String),
}

impl ProtocolError {
    /// The stable error code clients can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::FrameTooLarge => "frame_too_large",
            ProtocolError::InvalidJson(_) => "invalid_json",
            ProtocolError::InvalidFrame(_) => "invalid_frame",
        }
    }
}

impl ClientFrame {
    /// Parses one text frame.
    pub fn decode(text: &str) -> Result<Self, ProtocolError> {
        if text.len() > MAX_CLIENT_FRAME_BYTES {
            return Err(ProtocolError::FrameTooLarge);
        }
        serde_json::from_str(text).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                ProtocolError::InvalidJson(e.to_string())
            } else {
                ProtocolError::InvalidFrame(e.to_string())
            }
        })
    }
}

impl ServerFrame {
    /// Serialises to one text frame.
    pub fn encode(&self) -> String {
        // Serialising these plain data types cannot fail: no maps with non-string keys, no
        // custom serialisers that error.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"encoding failed"}"#.to_owned()
        })
    }

    /// An error frame.
    pub fn error(code: &str, message: impl Into<String>, client_id: Option<String>) -> Self {
        ServerFrame::Error {
            code: code.to_owned(),
            message: message.into(),
            client_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_a_send_frame_with_defaults() {
        let id = ConversationId::new();
        let frame = ClientFrame::decode(&format!(
            r#"{{"type":"send","conversation_id":"{id}","client_id":"c1","text":"hi"}}"#
        ))
        .unwrap();
        assert_eq!(
            frame,
            ClientFrame::Send {
                conversation_id: id,
                client_id: "c1".into(),
                text: "hi".into(),
                private: false,
                attachments: vec![],
                attachment_ids: vec![],
            }
        );
    }

    #[test]
    fn refuses_unknown_fields_and_types() {
        let id = ConversationId::new();
        let unknown_field =
            format!(r#"{{"type":"typing","conversation_id":"{id}","typing":true,"x":1}}"#);
        assert_eq!(
            ClientFrame::decode(&unknown_field).unwrap_err().code(),
            "invalid_frame"
        );
        assert_eq!(
            ClientFrame::decode(r#"{"type":"shout"}"#)
                .unwrap_err()
                .code(),
            "invalid_frame"
        );
        assert_eq!(
            ClientFrame::decode("{nope").unwrap_err().code(),
            "invalid_json"
        );
        let big = "x".repeat(MAX_CLIENT_FRAME_BYTES + 1);
        assert_eq!(
            ClientFrame::decode(&big).unwrap_err(),
            ProtocolError::FrameTooLarge
        );
    }

    #[test]
    fn server_frames_carry_their_type() {
        let text = ServerFrame::Pong {
            nonce: Some("n".into()),
        }
        .encode();
        assert_eq!(text, r#"{"type":"pong","nonce":"n"}"#);
        let err = ServerFrame::error("message_empty", "empty", None).encode();
        assert_eq!(
            err,
            r#"{"type":"error","code":"message_empty","message":"empty"}"#
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(s in "\\PC{0,200}") {
            let _ = ClientFrame::decode(&s);
        }

        #[test]
        fn decode_round_trips_pings(nonce in proptest::option::of("[a-z0-9]{0,16}")) {
            let frame = ClientFrame::Ping { nonce };
            let text = serde_json::to_string(&frame).unwrap();
            prop_assert_eq!(ClientFrame::decode(&text).unwrap(), frame);
        }
    }
}

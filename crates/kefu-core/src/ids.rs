//! Typed identifiers. Every id is a UUIDv7 (time-ordered, so indexes stay append-mostly)
//! rendered as lowercase hyphenated text in the API and in both database backends.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A site: one business website with its own widget, agents and knowledge.
    SiteId
);
id_type!(
    /// An agent account (admin, editor or agent).
    AgentId
);
id_type!(
    /// An anonymous or identified website visitor.
    VisitorId
);
id_type!(
    /// A conversation between a visitor and the bot and/or agents.
    ConversationId
);
id_type!(
    /// One entry of a conversation's log.
    MessageId
);
id_type!(
    /// A canned reply.
    CannedReplyId
);
id_type!(
    /// A tag that labels conversations.
    TagId
);
id_type!(
    /// A bearer API token for integrations.
    ApiTokenId
);
id_type!(
    /// A knowledge-base entry (its revisions share the id).
    KbEntryId
);
id_type!(
    /// An uploaded file attached (or about to be attached) to a message.
    AttachmentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = ConversationId::new();
        let text = id.to_string();
        assert_eq!(text.parse::<ConversationId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<ConversationId>(&json).unwrap(), id);
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = MessageId::new();
        let b = MessageId::new();
        assert!(a < b);
    }
}

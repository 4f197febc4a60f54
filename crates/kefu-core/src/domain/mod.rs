//! Domain types: what Kefu stores and the API shows. One file per concept.

pub mod agent;
pub mod answer;
pub mod attachment;
pub mod canned_reply;
pub mod conversation;
pub mod kb_entry;
pub mod kb_lexicon;
pub mod message;
pub mod site;
pub mod tag;
pub mod visitor;

pub use agent::{Agent, ApiToken, Presence, Role, Scope};
pub use answer::{
    AnswerKind, AnswerMeta, Citation, Classification, Generation, HandoffReason, Sentiment,
};
pub use attachment::{AttachmentInfo, FileKind};
pub use canned_reply::CannedReply;
pub use conversation::{Conversation, ConversationFilter, ConversationStatus};
pub use kb_entry::{EntryContent, EntryStatus, Faq, KbEntry, KbRevision, Visibility};
pub use kb_lexicon::KbLexicon;
pub use message::{Attachment, AuthorKind, Message, SystemEvent};
pub use site::{Site, SiteSettings};
pub use tag::Tag;
pub use visitor::Visitor;

/// Declares a string-backed enum with one canonical snake_case spelling per variant, used
/// alike by serde (API), the database and the CLI.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical text form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::domain::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::domain::UnknownVariant {
                        kind: stringify!($name),
                        value: s.to_owned(),
                    }),
                }
            }
        }
    };
}
pub(crate) use text_enum;

/// A text that names no variant of a domain enum.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownVariant {
    /// The enum's name.
    pub kind: &'static str,
    /// The text that was given.
    pub value: String,
}

//! What the assistant attaches to its messages: the sources it used (entry and the exact
//! revision), how sure it was, and — when it hands over — why.

use serde::{Deserialize, Serialize};

use super::text_enum;
use crate::KbEntryId;

text_enum!(
    /// Why the assistant handed a conversation to a human.
    HandoffReason {
        /// Nothing in the knowledge base matches.
        NoKnowledge => "no_knowledge",
        /// Something matches, but not well enough to answer.
        LowConfidence => "low_confidence",
        /// The visitor asked for a person.
        HumanRequested => "human_requested",
        /// The topic is one the site routes to people.
        SensitiveTopic => "sensitive_topic",
        /// The visitor is upset.
        NegativeSentiment => "negative_sentiment",
        /// The language-model provider failed.
        ProviderError => "provider_error",
        /// The assistant already failed to help in this conversation.
        RepeatedFailure => "repeated_failure",
    }
);

/// A source an answer used.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Citation {
    pub entry_id: KbEntryId,
    /// The revision whose text was used; shown even after later edits.
    pub revision: i64,
    pub title: String,
    /// Where a visitor can read more, when the entry has one.
    pub link: Option<String>,
}

text_enum!(
    /// What kind of assistant message this is.
    AnswerKind {
        /// An answer from the knowledge base.
        Answer => "answer",
        /// Not sure: asks the visitor to pick or rephrase.
        Clarify => "clarify",
        /// Handing over to a human.
        Handoff => "handoff",
    }
);

/// The assistant's metadata on one of its messages.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AnswerMeta {
    pub kind: AnswerKind,
    /// Confidence of the best match, 0–1.
    pub confidence: f32,
    #[serde(default)]
    pub citations: Vec<Citation>,
    /// Set on hand-offs.
    #[serde(default)]
    pub reason: Option<HandoffReason>,
    /// Suggested questions on a clarification.
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// The question as retrieval saw it when it differs from the visitor's words (a
    /// follow-up rewritten into a standalone question).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standalone_question: Option<String>,
    /// Which model wrote the text; none for the offline answerer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<Generation>,
}

/// How a language model produced an answer: the debug view agents and admins see.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Generation {
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// Served from the answer cache (no provider call).
    pub cache_hit: bool,
    /// Token budget for the conversation history in the prompt.
    pub context_budget_tokens: u32,
    /// History tokens actually sent.
    pub context_tokens: u32,
    /// Earlier messages left out to stay within the budget (oldest first).
    pub context_dropped_messages: u32,
}

text_enum!(
    /// The tone of a visitor message, for analytics and optional escalation.
    Sentiment {
        Negative => "negative",
        Neutral => "neutral",
        Positive => "positive",
    }
);

/// What the assistant read into a visitor message, stored with it for analytics.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Classification {
    /// The knowledge-base category of the closest entry (`faq`, `policy`, …), or `unknown`
    /// when nothing was close.
    pub intent: String,
    pub sentiment: Sentiment,
}

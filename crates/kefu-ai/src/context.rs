//! The conversation as the language model sees it: the newest turns that fit the site's token
//! budget, personal data redacted, and a record of what was left out so the debug view can
//! show it. Older turns are dropped whole, oldest first — a cut turn would put words in the
//! visitor's mouth.

use crate::gateway::{ChatMessage, estimate_tokens};
use crate::redact::redact;

/// Who said a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    Visitor,
    Assistant,
    /// A human agent; shown to the model as the assistant side, marked as a person.
    Agent,
}

/// One earlier message of the conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    pub speaker: Speaker,
    pub text: String,
}

impl Turn {
    pub fn new(speaker: Speaker, text: impl Into<String>) -> Self {
        Self {
            speaker,
            text: text.into(),
        }
    }
}

/// The history that goes into a prompt.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContextWindow {
    pub messages: Vec<ChatMessage>,
    /// Estimated tokens of `messages`.
    pub tokens: u32,
    /// Turns left out, oldest first.
    pub dropped: u32,
}

/// Fits `turns` (oldest first) into `budget` tokens, keeping the newest.
pub fn fit_history(turns: &[Turn], budget: u32, redact_personal_data: bool) -> ContextWindow {
    let mut kept = Vec::new();
    let mut tokens = 0u32;
    for (index, turn) in turns.iter().enumerate().rev() {
        let text = if redact_personal_data {
            redact(&turn.text).text
        } else {
            turn.text.clone()
        };
        let message = match turn.speaker {
            Speaker::Visitor => ChatMessage::user(text),
            Speaker::Assistant => ChatMessage::assistant(text),
            Speaker::Agent => ChatMessage::assistant(format!("(support agent) {text}")),
        };
        // Per-message framing costs a few tokens on every provider.
        let cost = estimate_tokens(&message.content) + 4;
        if tokens + cost > budget {
            return ContextWindow {
                messages: kept.into_iter().rev().collect(),
                tokens,
                dropped: index as u32 + 1,
            };
        }
        tokens += cost;
        kept.push(message);
    }
    ContextWindow {
        messages: kept.into_iter().rev().collect(),
        tokens,
        dropped: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::Role;

    #[test]
    fn keeps_the_newest_turns_within_budget_and_counts_the_rest() {
        let turns: Vec<Turn> = (0..20)
            .map(|i| {
                let speaker = if i % 2 == 0 {
                    Speaker::Visitor
                } else {
                    Speaker::Assistant
                };
                Turn::new(
                    speaker,
                    format!("message number {i} with a few more words in it"),
                )
            })
            .collect();
        let window = fit_history(&turns, 100, true);
        assert!(window.tokens <= 100);
        assert!(window.dropped > 0);
        assert_eq!(window.dropped as usize + window.messages.len(), 20);
        // The newest turn is last and intact.
        let last = window.messages.last().map(|m| m.content.as_str());
        assert_eq!(last, Some("message number 19 with a few more words in it"));
        let all = fit_history(&turns, 10_000, true);
        assert_eq!((all.dropped, all.messages.len()), (0, 20));
    }

    #[test]
    fn redacts_and_marks_agents() {
        let turns = vec![
            Turn::new(Speaker::Visitor, "call me on 13812345678"),
            Turn::new(Speaker::Agent, "will do"),
        ];
        let window = fit_history(&turns, 1_000, true);
        assert!(!window.messages[0].content.contains("13812345678"));
        assert_eq!(window.messages[1].role, Role::Assistant);
        assert!(window.messages[1].content.starts_with("(support agent)"));
        let raw = fit_history(&turns, 1_000, false);
        assert!(raw.messages[0].content.contains("13812345678"));
    }
}

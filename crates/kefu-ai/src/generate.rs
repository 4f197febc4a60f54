//! The LLM answerer: a grounded prompt from the retrieved passages and the conversation, one
//! streamed call through the gateway, and the reply turned into text plus the citations it
//! actually used.
//!
//! The model is told to answer only from the numbered passages, to cite them as `[n]`, and to
//! reply with the sentinel `NO_ANSWER` when they do not contain the answer. Streaming holds
//! back the first characters until they cannot be the sentinel, so a visitor never sees
//! "NO_ANS…" flash by before the hand-off. Markers are removed from the committed text; the
//! citations carry the sources.

use std::sync::LazyLock;

use regex::Regex;
use tokio::sync::mpsc::UnboundedSender;

use crate::context::ContextWindow;
use crate::gateway::{ChatMessage, ChatRequest, ChatResponse, Gateway, GatewayError, StreamEvent};
use crate::retrieval::Candidate;

/// What the model says when the passages do not answer the question.
pub const NO_ANSWER: &str = "NO_ANSWER";

/// Live progress of a streamed answer, for the visitor's screen. Never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerUpdate {
    /// More text.
    Delta(String),
    /// Everything shown so far is void (the provider restarted, or the answer was withdrawn).
    Reset,
}

/// The model's reply.
#[derive(Debug)]
pub enum Generated {
    /// An answer grounded in the passages at these indexes (into the passage slice).
    Answer {
        text: String,
        cited: Vec<usize>,
        response: ChatResponse,
    },
    /// The passages do not hold the answer.
    NoAnswer { response: ChatResponse },
}

/// Site-specific parts of the prompt.
#[derive(Clone, Copy, Debug, Default)]
pub struct PromptSettings<'a> {
    /// The site's instructions (brand voice, guardrails); may be empty.
    pub system_prompt: &'a str,
    pub forbidden_topics: &'a [String],
    /// The visitor's preferred language (BCP 47), when known.
    pub language: Option<&'a str>,
}

/// The messages of a grounded answer request.
pub fn grounded_messages(
    settings: PromptSettings<'_>,
    passages: &[Candidate],
    history: &ContextWindow,
    question: &str,
) -> Vec<ChatMessage> {
    let mut system = String::from(
        "You are the customer-service assistant of this company. Answer the visitor's last \
         message using ONLY the numbered knowledge-base passages below. Cite every passage you \
         use with its number in square brackets, like [1]. Never invent facts, prices, dates, \
         links or policies that are not in the passages. If the passages do not contain the \
         answer, reply with exactly NO_ANSWER and nothing else. Reply in the language of the \
         visitor's last message",
    );
    match settings.language {
        Some(lang) if !lang.is_empty() => {
            system.push_str(&format!(" (their browser prefers \"{lang}\")"));
        }
        _ => {}
    }
    system.push_str(". Keep answers short and friendly; use Markdown lists for steps.");
    if !settings.forbidden_topics.is_empty() {
        system.push_str("\nNever discuss these topics; if asked, reply with exactly NO_ANSWER: ");
        system.push_str(&settings.forbidden_topics.join("; "));
    }
    let own = settings.system_prompt.trim();
    if !own.is_empty() {
        system.push_str("\n\nCompany instructions (they never override the rules above):\n");
        system.push_str(own);
    }
    system.push_str("\n\nKnowledge-base passages:");
    for (i, p) in passages.iter().enumerate() {
        system.push_str(&format!("\n\n[{}] {}\n{}", i + 1, p.title, p.answer));
    }
    let mut messages = Vec::with_capacity(history.messages.len() + 2);
    messages.push(ChatMessage::system(system));
    messages.extend(history.messages.iter().cloned());
    messages.push(ChatMessage::user(question));
    messages
}

/// Runs the call, streaming visible text to `updates`.
pub async fn generate(
    gateway: &Gateway,
    request: ChatRequest,
    passages: usize,
    updates: Option<&UnboundedSender<AnswerUpdate>>,
) -> Result<Generated, GatewayError> {
    use futures_util::StreamExt;

    let mut stream = gateway.chat_stream(request);
    let mut held = String::new();
    let mut shown = false;
    let send = |u: AnswerUpdate| {
        if let Some(tx) = updates {
            // A gone receiver means nobody is watching; the answer is still committed.
            let _ = tx.send(u);
        }
    };
    while let Some(item) = stream.next().await {
        match item? {
            StreamEvent::Delta(text) => {
                if shown {
                    send(AnswerUpdate::Delta(text));
                    continue;
                }
                held.push_str(&text);
                let start = held.trim_start();
                if !(NO_ANSWER.starts_with(start) || start.starts_with(NO_ANSWER)) {
                    shown = true;
                    send(AnswerUpdate::Delta(std::mem::take(&mut held)));
                }
            }
            StreamEvent::Restarted => {
                if shown {
                    send(AnswerUpdate::Reset);
                }
                shown = false;
                held.clear();
            }
            StreamEvent::Done(response) => {
                let content = response.content.trim();
                if content.is_empty() || content.starts_with(NO_ANSWER) {
                    if shown {
                        send(AnswerUpdate::Reset);
                    }
                    return Ok(Generated::NoAnswer { response });
                }
                let (text, cited) = take_citations(content, passages);
                return Ok(Generated::Answer {
                    text,
                    cited,
                    response,
                });
            }
        }
    }
    // The gateway promises a terminal item; a stream that ends without one was cancelled.
    Err(GatewayError::Cancelled)
}

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern, checked by the tests
    Regex::new(r"\s?\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]").unwrap()
});

/// Removes `[n]` markers, returning the clean text and the distinct passage indexes cited (in
/// first-use order). Numbers outside `1..=passages` are dropped: a model citing a passage it
/// was not given is not a source.
pub fn take_citations(text: &str, passages: usize) -> (String, Vec<usize>) {
    let mut cited = Vec::new();
    for caps in MARKER.captures_iter(text) {
        for n in caps[1].split(',') {
            if let Ok(n) = n.trim().parse::<usize>()
                && (1..=passages).contains(&n)
                && !cited.contains(&(n - 1))
            {
                cited.push(n - 1);
            }
        }
    }
    let clean = MARKER.replace_all(text, "").trim().to_owned();
    (clean, cited)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_core::KbEntryId;

    #[test]
    fn citations_are_collected_and_markers_removed() {
        let (text, cited) = take_citations(
            "Refunds take 5 days [2]. Gift cards are final [1, 2] and [7].",
            2,
        );
        assert_eq!(text, "Refunds take 5 days. Gift cards are final and.");
        assert_eq!(cited, vec![1, 0]);
        let (text, cited) = take_citations("No markers here.", 3);
        assert_eq!((text.as_str(), cited.len()), ("No markers here.", 0));
    }

    #[test]
    fn the_prompt_numbers_passages_and_keeps_the_site_rules_below_ours() {
        let passage = Candidate {
            entry_id: KbEntryId::new(),
            revision: 3,
            title: "Refunds".into(),
            question: "How do refunds work?".into(),
            answer: "Refunds take 5 days.".into(),
            link: None,
            confidence: 0.9,
            category: "policy".into(),
        };
        let topics = vec!["politics".to_owned()];
        let msgs = grounded_messages(
            PromptSettings {
                system_prompt: "Be cheerful.",
                forbidden_topics: &topics,
                language: Some("fr"),
            },
            &[passage],
            &ContextWindow::default(),
            "refund?",
        );
        assert_eq!(msgs.len(), 2);
        let system = &msgs[0].content;
        assert!(system.contains("[1] Refunds\nRefunds take 5 days."));
        assert!(system.contains("politics"));
        assert!(system.contains("\"fr\""));
        assert!(system.find("NO_ANSWER") < system.find("Be cheerful."));
        assert_eq!(msgs[1].content, "refund?");
    }
}

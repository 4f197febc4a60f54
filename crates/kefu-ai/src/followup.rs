//! Follow-up questions: "what about for the premium plan?" means nothing to retrieval on its
//! own. A message that reads like a follow-up is made standalone using the visitor's previous
//! question — by the language model when one is configured, otherwise by joining the two,
//! which is enough for a lexical matcher to find the entry the pair is about. The engine
//! retrieves with both the message and its standalone form and keeps the more confident.

use crate::gateway::{ChatMessage, ChatRequest, Gateway};

/// Openers that lean on what was said before.
const OPENERS: &[&str] = &[
    "what about",
    "how about",
    "and ",
    "also ",
    "what if",
    "same for",
    "and for",
    "那",
    "还有",
    "另外",
    "那么",
    "如果是",
];

/// Words that point back at something earlier.
const REFERENCES: &[&str] = &[
    " it", " that", " this", " them", " those", " one", "它", "这个", "那个", "这样",
];

/// Whether the message probably needs the previous question to make sense.
pub fn looks_like_follow_up(question: &str) -> bool {
    let q = question.trim().to_lowercase();
    if q.is_empty() {
        return false;
    }
    let words = q.split_whitespace().count();
    let chars = q.chars().count();
    let short = if q.is_ascii() {
        words <= 6 && chars <= 40
    } else {
        chars <= 10
    };
    OPENERS.iter().any(|o| q.starts_with(o))
        || ["呢", "呢？", "呢?"].iter().any(|end| q.ends_with(end))
        || (short && REFERENCES.iter().any(|r| q.contains(r)))
        || (q.is_ascii() && words <= 2)
}

/// The offline standalone form: the previous question, then this one.
pub fn join_with_previous(previous: &str, question: &str) -> String {
    format!("{} {}", previous.trim(), question.trim())
}

/// Asks the model to rewrite the follow-up as one standalone question. Returns `None` on any
/// failure or an unusable answer, so the caller falls back to [`join_with_previous`].
pub async fn rewrite_with_model(
    gateway: &Gateway,
    request: ChatRequest,
    previous_turns: &str,
    question: &str,
) -> Option<String> {
    let prompt = format!(
        "Conversation so far:\n{previous_turns}\n\nFollow-up message: {question}\n\n\
         Rewrite the follow-up message as one standalone question that can be understood \
         without the conversation. Keep its language. Reply with the question only."
    );
    let mut request = request;
    request.messages = vec![
        ChatMessage::system(
            "You rewrite customer follow-up messages into standalone questions. You never answer them.",
        ),
        ChatMessage::user(prompt),
    ];
    request.max_tokens = Some(80);
    request.temperature = Some(0.0);
    request.cache_key = None;
    let response = gateway.chat(request).await.ok()?;
    let text = response.content.trim().trim_matches('"').trim();
    // A rewrite should be one line of question-like length; anything else is not trusted.
    (!text.is_empty() && !text.contains('\n') && text.chars().count() <= 300)
        .then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spots_follow_ups() {
        assert!(looks_like_follow_up("What about for the premium plan?"));
        assert!(looks_like_follow_up("and in Canada?"));
        assert!(looks_like_follow_up("会员呢？"));
        assert!(looks_like_follow_up("那退货呢"));
        assert!(looks_like_follow_up("how long does it take?"));
        assert!(!looks_like_follow_up(
            "How long does a refund take to reach my card?"
        ));
        assert!(!looks_like_follow_up("花呗怎么还款"));
        assert!(!looks_like_follow_up(""));
    }

    #[test]
    fn joins_offline() {
        assert_eq!(
            join_with_previous("How do refunds work? ", "what about gift cards?"),
            "How do refunds work? what about gift cards?"
        );
    }
}

//! Recognising a request for a person ("转人工", "talk to a human"). A request for a human
//! always wins over answering, so this runs before retrieval.

use std::sync::LazyLock;

use regex::Regex;

/// Chinese phrasings are matched as substrings (no word boundaries in Chinese); English ones as
/// whole words, so "humanity" or "agenda" do not trigger.
static CHINESE: &[&str] = &[
    "转人工",
    "人工客服",
    "人工服务",
    "找人工",
    "要人工",
    "真人",
    "活人",
    "客服人员",
    "人工",
    "找客服",
    "联系客服",
    "转接客服",
];

static ENGLISH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(human|humans|real person|live person|a person|someone real|live agent|an agent|the agent|agent please|representative|operator|customer service|customer support|talk to someone|speak to someone|speak with someone|talk with someone|support team)\b",
    )
    .ok()
});

/// Whether the visitor is asking for a person.
pub fn is_human_request(text: &str) -> bool {
    if CHINESE.iter().any(|p| text.contains(p)) {
        return true;
    }
    ENGLISH.as_ref().is_some_and(|re| re.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_requests_in_both_languages() {
        for yes in [
            "转人工",
            "我要人工客服！",
            "能不能找个真人",
            "Can I talk to a human?",
            "I want to speak to someone",
            "get me a REAL PERSON",
            "customer service please",
        ] {
            assert!(is_human_request(yes), "{yes}");
        }
        for no in [
            "花呗怎么还款",
            "How do I reset my password?",
            "humanity",
            "what's on the agenda",
        ] {
            assert!(!is_human_request(no), "{no}");
        }
    }
}

//! The tone of a visitor message, from a small lexicon of clear signals in Chinese and English.
//!
//! It runs on every visitor message, offline and in microseconds, so it cannot be a model
//! call. It is deliberately conservative: escalation on negative sentiment moves a
//! conversation to a person, so a false "negative" costs an agent's time while a missed one
//! only leaves the assistant answering. Only strong words count, and a negated positive
//! ("not helpful", "没用") counts as negative.

use kefu_core::domain::Sentiment;

/// Strongly negative words and phrases (lower case).
const NEGATIVE: &[&str] = &[
    "angry",
    "furious",
    "terrible",
    "horrible",
    "awful",
    "worst",
    "useless",
    "ridiculous",
    "unacceptable",
    "disgusting",
    "scam",
    "rip-off",
    "ripoff",
    "fraud",
    "complaint",
    "complain",
    "fed up",
    "sick of",
    "hate",
    "pathetic",
    "incompetent",
    "waste of time",
    "not helpful",
    "not working again",
    "still not",
    "wtf",
    "垃圾",
    "太差",
    "很差",
    "差劲",
    "气死",
    "生气",
    "愤怒",
    "投诉",
    "骗子",
    "骗人",
    "欺诈",
    "没用",
    "无语",
    "失望",
    "恶心",
    "坑人",
    "退钱",
    "搞什么",
    "什么破",
];

/// Clearly positive words and phrases (lower case).
const POSITIVE: &[&str] = &[
    "thank",
    "thanks",
    "great",
    "perfect",
    "awesome",
    "excellent",
    "helpful",
    "love it",
    "appreciate",
    "谢谢",
    "感谢",
    "太好了",
    "很好",
    "满意",
    "棒",
    "有用",
];

/// Words that flip a following positive word ("not helpful").
const NEGATORS: &[&str] = &["not ", "n't ", "never ", "没", "不"];

/// Reads the tone of one message.
pub fn sentiment(text: &str) -> Sentiment {
    let lower = text.to_lowercase();
    let mut score = 0i32;
    for word in NEGATIVE {
        if contains_word(&lower, word) {
            score -= 2;
        }
    }
    for word in POSITIVE {
        for (at, _) in lower.match_indices(word) {
            if !is_word_at(&lower, at, word) {
                continue;
            }
            let before = &lower[..at];
            if NEGATORS.iter().any(|n| before.ends_with(n)) {
                score -= 2;
            } else {
                score += 1;
            }
        }
    }
    // Shouting with several exclamation marks is a signal only on top of a negative word.
    if score < 0 && (lower.contains("!!") || lower.contains("！！")) {
        score -= 1;
    }
    match score {
        s if s <= -2 => Sentiment::Negative,
        s if s >= 1 => Sentiment::Positive,
        _ => Sentiment::Neutral,
    }
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word)
        .any(|(at, _)| is_word_at(text, at, word))
}

/// Latin words must stand alone ("hate" is not in "whatever"); Chinese has no spaces.
fn is_word_at(text: &str, at: usize, word: &str) -> bool {
    if !word.is_ascii() {
        return true;
    }
    let before = text[..at].chars().next_back();
    let after = text[at + word.len()..].chars().next();
    let letter = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic());
    // "thanks" contains "thank": allow a trailing s.
    !letter(before) && (!letter(after) || after == Some('s'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_clear_signals_in_both_languages() {
        assert_eq!(
            sentiment("This is the worst service, totally useless!!"),
            Sentiment::Negative
        );
        assert_eq!(sentiment("你们的服务太差了，我要投诉"), Sentiment::Negative);
        assert_eq!(sentiment("Thanks, that was helpful"), Sentiment::Positive);
        assert_eq!(sentiment("谢谢，很有用"), Sentiment::Positive);
        assert_eq!(sentiment("How do I reset my password?"), Sentiment::Neutral);
        assert_eq!(sentiment("花呗怎么还款"), Sentiment::Neutral);
    }

    #[test]
    fn negation_and_word_boundaries() {
        assert_eq!(sentiment("that was not helpful"), Sentiment::Negative);
        // "hate" inside "whatever" and "great" inside "greatly" do not count.
        assert_eq!(sentiment("whatever works"), Sentiment::Neutral);
        assert_eq!(sentiment("I'd greatly like to know"), Sentiment::Neutral);
    }
}

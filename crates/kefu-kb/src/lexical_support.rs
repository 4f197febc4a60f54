//! Lexical support: an FAQ entry may only answer a question that shares at least one content
//! term with the entry's phrasings.
//!
//! The matcher's confidence is calibrated on a large knowledge base (BANKING77). On a small one
//! its softmax has few competitors, and a question about something else entirely can still
//! land above the answer threshold through shared character n-grams ("what is the capital of
//! Mongolia" scoring for "how long does shipping take"). Requiring one shared content term —
//! an English word stem that is not a function word, or a Chinese character bigram that is not
//! a function bigram — removes those answers, and errs towards a hand-off, never towards a
//! wrong answer.

use std::collections::HashSet;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

use crate::faq_matcher::features::{TokenKind, tokenize};

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// English function words and chat filler: they say nothing about the topic.
const ENGLISH_STOP: &[&str] = &[
    "a", "an", "the", "is", "are", "am", "was", "were", "be", "been", "being", "do", "does", "did",
    "i", "me", "my", "mine", "you", "your", "yours", "we", "us", "our", "it", "its", "they",
    "them", "their", "he", "she", "him", "her", "to", "of", "in", "on", "for", "with", "at", "by",
    "from", "into", "and", "or", "but", "what", "when", "where", "how", "why", "who", "whom",
    "which", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "have",
    "has", "had", "this", "that", "these", "those", "there", "here", "please", "hi", "hello",
    "hey", "thanks", "thank", "not", "no", "yes", "get", "got", "want", "need", "like", "about",
    "so", "if", "then", "than", "just", "some", "any", "all", "much", "many", "long", "there",
    "up", "out", "as", "also", "too", "very", "still", "s", "t", "m", "ve", "ll", "d", "re",
];

/// Chinese function bigrams (question words, pronouns, particles).
const CHINESE_STOP: &[&str] = &[
    "怎么", "什么", "为什", "可以", "一下", "请问", "你们", "我们", "我的", "你的", "如何", "是不",
    "不是", "没有", "这个", "那个", "怎样", "哪里", "多少", "能不", "不能", "是否", "有没", "一个",
    "现在", "时候", "的时", "了吗", "了吧",
];

/// The content terms of a text: English stems and Chinese character bigrams.
pub fn content_terms(text: &str) -> HashSet<String> {
    let mut terms = HashSet::new();
    let tokens = tokenize(text);
    let mut previous_cjk: Option<&str> = None;
    for token in &tokens {
        match token.kind {
            TokenKind::Word => {
                previous_cjk = None;
                if !ENGLISH_STOP.contains(&token.text.as_str()) {
                    terms.insert(STEMMER.stem(&token.text).into_owned());
                }
            }
            TokenKind::Cjk => {
                if let Some(prev) = previous_cjk {
                    let bigram = format!("{prev}{}", token.text);
                    if !CHINESE_STOP.contains(&bigram.as_str()) {
                        terms.insert(bigram);
                    }
                }
                previous_cjk = Some(&token.text);
            }
        }
    }
    terms
}

/// Whether a question shares a content term with any of `phrasing_terms`.
pub fn supports(question_terms: &HashSet<String>, phrasing_terms: &HashSet<String>) -> bool {
    !question_terms.is_disjoint(phrasing_terms)
}

/// How well a passage covers a question, 0–1, for answering from document passages (which,
/// unlike FAQ entries, have no trained matcher to calibrate them). It is the share of the
/// question's content terms the passage contains, squared so that partial coverage counts for
/// much less than full coverage — a passage that shares half the question's words is usually
/// about something else — and capped below 1, since word overlap is never proof. A question
/// with a single content term needs that term; with more, at least two must match.
pub fn passage_confidence(question_terms: &HashSet<String>, passage: &str) -> f32 {
    if question_terms.is_empty() {
        return 0.0;
    }
    let passage_terms = content_terms(passage);
    let shared = question_terms.intersection(&passage_terms).count();
    if shared < question_terms.len().min(2) {
        return 0.0;
    }
    let coverage = shared as f32 / question_terms.len() as f32;
    0.9 * coverage * coverage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passage_confidence_rewards_full_coverage_only() {
        let q = content_terms("How long does shipping to Canada take?");
        let full = passage_confidence(&q, "Shipping to Canada takes 5 to 7 business days.");
        let half = passage_confidence(&q, "Shipping is free on orders over $50.");
        let none = passage_confidence(&q, "Our office is in Berlin.");
        assert!(full > 0.5, "{full}");
        assert!(half < full / 2.0, "{half} vs {full}");
        assert_eq!(none, 0.0);
        // Chinese terms are character bigrams, so a passage must share the question's
        // wording, not just its two key words, to count as covering it.
        let zh = content_terms("花呗怎么还款");
        let full = passage_confidence(&zh, "花呗怎么还款？在支付宝首页进入花呗，点击立即还款。");
        let partial = passage_confidence(&zh, "花呗还款：在支付宝首页进入花呗，点击立即还款。");
        assert!(full > 0.5, "{full}");
        assert!(partial < full / 2.0, "{partial}");
    }

    fn shares(q: &str, phrasing: &str) -> bool {
        supports(&content_terms(q), &content_terms(phrasing))
    }

    #[test]
    fn unrelated_questions_have_no_support() {
        assert!(!shares(
            "what is the capital of Mongolia",
            "How long does shipping take?"
        ));
        assert!(!shares("天气怎么样", "花呗怎么还款"));
    }

    #[test]
    fn related_questions_do() {
        assert!(shares(
            "can I get my money back",
            "Can I get my money back?"
        ));
        assert!(shares("refunds please", "How do I get a refund?"));
        assert!(shares("蚂蚁花呗怎么还钱", "花呗怎么还款"));
    }
}

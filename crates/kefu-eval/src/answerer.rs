//! The seam between the harness and whatever answers questions.
//!
//! The harness only needs, for each question, the entries the answerer considered (ranked, with
//! scores and confidences) and what it decided: answer from an entry, or hand off to a human.
//! Today [`MatcherAnswerer`] implements it over the offline FAQ matcher; the full answer engine
//! (retrieval plus a language model) implements the same trait later and is measured with the
//! same metrics.

use std::collections::HashMap;
use std::sync::Arc;

use kefu_kb::{FaqMatcher, Match};
use serde::{Deserialize, Serialize};

/// One entry the answerer considered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The knowledge-base entry.
    pub entry_id: String,
    /// The answerer's raw score (higher is better).
    pub score: f32,
    /// Confidence in `[0, 1]` that this entry answers the question.
    pub confidence: f32,
}

impl From<Match> for Candidate {
    fn from(m: Match) -> Self {
        Self {
            entry_id: m.entry_id,
            score: m.score,
            confidence: m.confidence,
        }
    }
}

/// What the answerer decided to do with a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    /// Reply from this entry.
    Answer {
        /// The entry the reply comes from.
        entry_id: String,
        /// The confidence the decision was taken with.
        confidence: f32,
        /// The reply text, when the answerer produces one (used for keyword checks).
        text: Option<String>,
    },
    /// Pass the conversation to a human.
    Handoff {
        /// Why, in a few words (for reports).
        reason: String,
    },
}

/// An answerer's reply to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Entries considered, best first (the harness reads the first ten for retrieval metrics).
    pub candidates: Vec<Candidate>,
    /// What it decided.
    pub decision: Decision,
}

/// Something that answers visitor questions; the harness measures implementations of it.
pub trait Answerer {
    /// Answers one question.
    fn answer(&self, question: &str) -> Answer;

    /// A short description for reports, e.g. the model and threshold.
    fn describe(&self) -> String {
        "answerer".to_owned()
    }
}

/// The offline answerer: the FAQ matcher's best entry if its confidence reaches the threshold,
/// otherwise a hand-off.
#[derive(Debug, Clone)]
pub struct MatcherAnswerer {
    matcher: Arc<FaqMatcher>,
    threshold: f32,
    depth: usize,
    answers: HashMap<String, String>,
}

impl MatcherAnswerer {
    /// An answerer that answers when the top confidence is at least `threshold`.
    pub fn new(matcher: Arc<FaqMatcher>, threshold: f32) -> Self {
        Self {
            matcher,
            threshold,
            depth: 10,
            answers: HashMap::new(),
        }
    }

    /// Sets the answer text of each entry (entry id -> text), so keyword checks can run.
    #[must_use]
    pub fn with_answers(mut self, answers: HashMap<String, String>) -> Self {
        self.answers = answers;
        self
    }

    /// How many candidates to report per question (default 10, enough for MRR@10).
    #[must_use]
    pub fn with_depth(mut self, depth: usize) -> Self {
        self.depth = depth.max(1);
        self
    }

    /// The confidence threshold.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Decides from already-ranked candidates: the threshold rule on its own, so that
    /// cross-validation can apply exactly the same rule to matchers it trains itself.
    pub fn decide(
        candidates: &[Candidate],
        threshold: f32,
        answers: &HashMap<String, String>,
    ) -> Decision {
        match candidates.first() {
            Some(top) if top.confidence >= threshold => Decision::Answer {
                entry_id: top.entry_id.clone(),
                confidence: top.confidence,
                text: answers.get(&top.entry_id).cloned(),
            },
            Some(top) => Decision::Handoff {
                reason: format!(
                    "confidence {:.2} below threshold {threshold:.2}",
                    top.confidence
                ),
            },
            None => Decision::Handoff {
                reason: "no matching entry".to_owned(),
            },
        }
    }
}

impl Answerer for MatcherAnswerer {
    fn answer(&self, question: &str) -> Answer {
        let candidates: Vec<Candidate> = self
            .matcher
            .rank(question, self.depth)
            .into_iter()
            .map(Candidate::from)
            .collect();
        let decision = Self::decide(&candidates, self.threshold, &self.answers);
        Answer {
            candidates,
            decision,
        }
    }

    fn describe(&self) -> String {
        format!(
            "offline FAQ matcher ({} entries, {} features), threshold {:.2}",
            self.matcher.entry_ids().len(),
            self.matcher.vocabulary_len(),
            self.threshold
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_kb::{FaqExample, MatcherConfig};

    #[test]
    fn answers_when_confident_and_hands_off_otherwise() {
        let examples = vec![
            FaqExample::new("hours", "what are your opening hours"),
            FaqExample::new("hours", "when do you open"),
            FaqExample::new("refund", "how do I get a refund"),
            FaqExample::new("refund", "I want my money back"),
        ];
        let matcher = Arc::new(FaqMatcher::train(&examples, &MatcherConfig::default()).unwrap());
        let answers = HashMap::from([("refund".to_owned(), "Refunds take 5 days.".to_owned())]);
        let eager = MatcherAnswerer::new(matcher.clone(), 0.0).with_answers(answers);
        let reply = eager.answer("can I get a refund");
        let Decision::Answer { entry_id, text, .. } = &reply.decision else {
            panic!()
        };
        assert_eq!(entry_id, "refund");
        assert_eq!(text.as_deref(), Some("Refunds take 5 days."));
        assert_eq!(reply.candidates.len(), 2);

        let strict = MatcherAnswerer::new(matcher, 1.01);
        assert!(matches!(
            strict.answer("can I get a refund").decision,
            Decision::Handoff { .. }
        ));
        assert!(matches!(
            strict.answer("").decision,
            Decision::Handoff { .. }
        ));
        assert!(strict.describe().contains("2 entries"));
    }
}

//! The figures a run is judged by.
//!
//! Three questions, three groups of metrics:
//!
//! - *Does the right entry come up?* (retrieval, independent of any threshold) hit@1, hit@5 and
//!   MRR@10 over rows with expected entries.
//! - *What happens to visitors?* (the answerer's own decisions) automation rate = answered / all
//!   questions; answer accuracy = right answers / graded answers; wrong-answer rate = wrong
//!   answers / all questions (the figure to keep low: a confident wrong answer is worse than a
//!   hand-off); hand-off precision and recall over rows labelled `should_handoff`.
//! - *How fast?* latency percentiles per question (measured, never asserted).
//!
//! Plus a confusion summary: the most frequent (expected entry, top-ranked entry) mistakes,
//! which tells knowledge-base editors which entries need distinguishing phrasings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::harness::{Grade, Outcome};

/// Headline metrics of one run. Rates are fractions in `[0, 1]`; a rate whose denominator is
/// zero is reported as 0 (retrieval, rates over all questions) or `None` (accuracy, hand-off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Questions asked.
    pub questions: usize,
    /// Questions with expected entries (the denominator of the retrieval metrics).
    pub retrieval_questions: usize,
    /// Fraction whose top candidate is an expected entry.
    pub hit_at_1: f64,
    /// Fraction with an expected entry among the top five candidates.
    pub hit_at_5: f64,
    /// Mean reciprocal rank of the first expected entry within the top ten (0 if absent).
    pub mrr_at_10: f64,
    /// Questions answered rather than handed off.
    pub answered: usize,
    /// Answers graded right.
    pub correct_answers: usize,
    /// Answers graded wrong.
    pub wrong_answers: usize,
    /// Answers to rows without expectations (neither right nor wrong).
    pub ungraded_answers: usize,
    /// `answered / questions`.
    pub automation_rate: f64,
    /// `correct_answers / (correct_answers + wrong_answers)`.
    pub answer_accuracy: Option<f64>,
    /// `wrong_answers / questions`.
    pub wrong_answer_rate: f64,
    /// Hand-off quality over rows labelled `should_handoff`, if any.
    pub handoff: Option<HandoffMetrics>,
    /// Per-question latency.
    pub latency: Latency,
}

/// Hand-off precision and recall, with "should hand off" as the positive class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffMetrics {
    /// Rows with a `should_handoff` label.
    pub labelled: usize,
    /// Labelled rows that should be handed off.
    pub should_handoff: usize,
    /// Labelled rows that were handed off.
    pub handed_off: usize,
    /// Labelled rows handed off that should have been.
    pub correct_handoffs: usize,
    /// `correct_handoffs / handed_off`.
    pub precision: Option<f64>,
    /// `correct_handoffs / should_handoff`.
    pub recall: Option<f64>,
}

/// Latency percentiles in milliseconds (nearest-rank).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest question.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn some_ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

impl Metrics {
    /// Computes the metrics of a run.
    #[must_use]
    pub fn from_outcomes(outcomes: &[Outcome]) -> Self {
        let retrieval: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| !o.row.expected_entry_ids.is_empty())
            .collect();
        let ranks: Vec<Option<usize>> = retrieval.iter().map(|o| o.rank_of_expected(10)).collect();
        let hits = |k: usize| ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count();
        let reciprocal: f64 = ranks.iter().flatten().map(|&r| 1.0 / r as f64).sum();

        let (mut answered, mut correct, mut wrong, mut ungraded) = (0, 0, 0, 0);
        for grade in outcomes.iter().filter_map(Outcome::grade) {
            answered += 1;
            match grade {
                Grade::Correct => correct += 1,
                Grade::Wrong => wrong += 1,
                Grade::Ungraded => ungraded += 1,
            }
        }

        let labelled: Vec<(bool, bool)> = outcomes
            .iter()
            .filter_map(|o| o.row.should_handoff.map(|s| (s, o.answered().is_none())))
            .collect();
        let handoff = (!labelled.is_empty()).then(|| {
            let should = labelled.iter().filter(|(s, _)| *s).count();
            let did = labelled.iter().filter(|(_, d)| *d).count();
            let both = labelled.iter().filter(|(s, d)| *s && *d).count();
            HandoffMetrics {
                labelled: labelled.len(),
                should_handoff: should,
                handed_off: did,
                correct_handoffs: both,
                precision: some_ratio(both, did),
                recall: some_ratio(both, should),
            }
        });

        Self {
            questions: outcomes.len(),
            retrieval_questions: retrieval.len(),
            hit_at_1: ratio(hits(1), retrieval.len()),
            hit_at_5: ratio(hits(5), retrieval.len()),
            mrr_at_10: if retrieval.is_empty() {
                0.0
            } else {
                reciprocal / retrieval.len() as f64
            },
            answered,
            correct_answers: correct,
            wrong_answers: wrong,
            ungraded_answers: ungraded,
            automation_rate: ratio(answered, outcomes.len()),
            answer_accuracy: some_ratio(correct, correct + wrong),
            wrong_answer_rate: ratio(wrong, outcomes.len()),
            handoff,
            latency: Latency::from_micros(outcomes.iter().map(|o| o.latency_us).collect()),
        }
    }
}

impl Latency {
    /// Summarises latencies given in microseconds.
    #[must_use]
    pub fn from_micros(mut micros: Vec<u64>) -> Self {
        micros.sort_unstable();
        let ms = |us: u64| us as f64 / 1000.0;
        let pick = |p: f64| {
            if micros.is_empty() {
                return 0.0;
            }
            let rank = (p * micros.len() as f64).ceil() as usize;
            ms(micros[rank.clamp(1, micros.len()) - 1])
        };
        let mean = if micros.is_empty() {
            0.0
        } else {
            micros.iter().map(|&us| ms(us)).sum::<f64>() / micros.len() as f64
        };
        Self {
            p50_ms: pick(0.50),
            p99_ms: pick(0.99),
            max_ms: micros.last().map_or(0.0, |&us| ms(us)),
            mean_ms: mean,
        }
    }
}

/// How often questions expecting `expected` ranked `got` first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionPair {
    /// The expected entry (first expected id, else the intent label).
    pub expected: String,
    /// The top-ranked entry instead, or `(none)` when nothing was ranked.
    pub got: String,
    /// Number of questions.
    pub count: usize,
}

/// The `top` most frequent top-1 retrieval mistakes, most frequent first (ties by name).
/// Uses the ranking, not the decision, so it does not depend on the threshold.
#[must_use]
pub fn confusion_summary(outcomes: &[Outcome], top: usize) -> Vec<ConfusionPair> {
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for o in outcomes {
        if o.row.expected_entry_ids.is_empty() || o.rank_of_expected(1).is_some() {
            continue;
        }
        let expected = o
            .row
            .expected_entry_ids
            .first()
            .cloned()
            .unwrap_or_default();
        let got = o
            .candidates
            .first()
            .map_or_else(|| "(none)".to_owned(), |c| c.entry_id.clone());
        *counts.entry((expected, got)).or_default() += 1;
    }
    let mut pairs: Vec<ConfusionPair> = counts
        .into_iter()
        .map(|((expected, got), count)| ConfusionPair {
            expected,
            got,
            count,
        })
        .collect();
    // Stable sort keeps the BTreeMap's name order among equal counts.
    pairs.sort_by_key(|p| std::cmp::Reverse(p.count));
    pairs.truncate(top);
    pairs
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::answerer::{Candidate, Decision};
    use crate::suite::SuiteRow;

    /// An outcome ranking `ranked` (confidences descending from 0.9), answered if `answer`.
    pub(crate) fn outcome(expected: &[&str], ranked: &[&str], answer: bool) -> Outcome {
        let candidates: Vec<Candidate> = ranked
            .iter()
            .enumerate()
            .map(|(i, e)| Candidate {
                entry_id: (*e).to_owned(),
                score: 1.0 - i as f32 * 0.1,
                confidence: 0.9 - i as f32 * 0.1,
            })
            .collect();
        let decision = match candidates.first() {
            Some(c) if answer => Decision::Answer {
                entry_id: c.entry_id.clone(),
                confidence: c.confidence,
                text: None,
            },
            _ => Decision::Handoff {
                reason: "test".to_owned(),
            },
        };
        Outcome {
            row: SuiteRow {
                question: "q".to_owned(),
                expected_entry_ids: expected.iter().map(|s| (*s).to_owned()).collect(),
                ..SuiteRow::default()
            },
            candidates,
            decision,
            latency_us: 1000,
        }
    }

    #[test]
    fn retrieval_and_answer_metrics_on_known_data() {
        let outcomes = vec![
            outcome(&["a"], &["a", "b", "c"], true), // rank 1, right
            outcome(&["b"], &["a", "b", "c"], true), // rank 2, wrong
            outcome(&["c"], &["a", "b", "d", "e", "f", "c"], false), // rank 6, handoff
            outcome(&["z"], &["a", "b", "c"], false), // absent
            outcome(&[], &["a"], true),              // ungraded
        ];
        let m = Metrics::from_outcomes(&outcomes);
        assert_eq!(m.questions, 5);
        assert_eq!(m.retrieval_questions, 4);
        assert!((m.hit_at_1 - 0.25).abs() < 1e-12);
        assert!((m.hit_at_5 - 0.5).abs() < 1e-12);
        assert!((m.mrr_at_10 - (1.0 + 0.5 + 1.0 / 6.0) / 4.0).abs() < 1e-12);
        assert_eq!(
            (
                m.answered,
                m.correct_answers,
                m.wrong_answers,
                m.ungraded_answers
            ),
            (3, 1, 1, 1)
        );
        assert!((m.automation_rate - 0.6).abs() < 1e-12);
        assert_eq!(m.answer_accuracy, Some(0.5));
        assert!((m.wrong_answer_rate - 0.2).abs() < 1e-12);
        assert_eq!(m.handoff, None);
        assert!((m.latency.p50_ms - 1.0).abs() < 1e-12);
    }

    #[test]
    fn handoff_precision_and_recall() {
        let mut outcomes = vec![
            outcome(&[], &["a"], false),    // should, did
            outcome(&[], &["a"], true),     // should, did not
            outcome(&["a"], &["a"], false), // should not, did
            outcome(&["a"], &["a"], true),  // should not, did not
            outcome(&["a"], &["a"], true),  // unlabelled
        ];
        for (o, label) in
            outcomes
                .iter_mut()
                .zip([Some(true), Some(true), Some(false), Some(false)])
        {
            o.row.should_handoff = label;
        }
        let h = Metrics::from_outcomes(&outcomes).handoff.unwrap();
        assert_eq!(
            (
                h.labelled,
                h.should_handoff,
                h.handed_off,
                h.correct_handoffs
            ),
            (4, 2, 2, 1)
        );
        assert_eq!(h.precision, Some(0.5));
        assert_eq!(h.recall, Some(0.5));
    }

    #[test]
    fn latency_percentiles_use_nearest_rank() {
        let l = Latency::from_micros((1..=100).map(|i| i * 1000).collect());
        assert_eq!((l.p50_ms, l.p99_ms, l.max_ms), (50.0, 99.0, 100.0));
        assert!((l.mean_ms - 50.5).abs() < 1e-12);
        assert_eq!(Latency::from_micros(Vec::new()).p99_ms, 0.0);
    }

    #[test]
    fn confusion_counts_top1_mistakes() {
        let outcomes = vec![
            outcome(&["a"], &["b"], true),
            outcome(&["a"], &["b"], false),
            outcome(&["c"], &["b"], true),
            outcome(&["a"], &["a"], true),
            outcome(&["d"], &[], false),
        ];
        let pairs = confusion_summary(&outcomes, 10);
        assert_eq!(
            pairs[0],
            ConfusionPair {
                expected: "a".into(),
                got: "b".into(),
                count: 2
            }
        );
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[1].expected, "c");
        assert_eq!(pairs[2].got, "(none)");
        assert_eq!(confusion_summary(&outcomes, 1).len(), 1);
    }
}

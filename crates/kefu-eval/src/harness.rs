//! Running a suite through an answerer and grading each reply.
//!
//! [`run_suite`] asks every question in order, timing each call, and keeps the raw
//! [`Outcome`]s; everything else (metrics, sweeps, confusion) is computed from those outcomes, so
//! cross-validation, which produces outcomes without an answerer, shares the same code.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::Progress;
use crate::answerer::{Answerer, Candidate, Decision};
use crate::metrics::{ConfusionPair, Metrics, confusion_summary};
use crate::suite::SuiteRow;
use crate::sweep::{SweepPoint, SweepSpec, sweep};

/// What happened to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The question and its expectations.
    pub row: SuiteRow,
    /// The answerer's candidates, best first.
    pub candidates: Vec<Candidate>,
    /// The answerer's decision.
    pub decision: Decision,
    /// Wall-clock time of the `answer` call, in microseconds.
    pub latency_us: u64,
}

/// Whether a reply was right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grade {
    /// Answered from an expected entry, or with all keywords present.
    Correct,
    /// Answered, but with neither; or answered a question that should have been handed off.
    Wrong,
    /// The row says nothing about what a right answer is.
    Ungraded,
}

/// Grades answering `row` from `entry_id` with reply `text`.
#[must_use]
pub fn grade(row: &SuiteRow, entry_id: &str, text: Option<&str>) -> Grade {
    if row.should_handoff == Some(true) {
        return Grade::Wrong;
    }
    if row.expected_entry_ids.iter().any(|e| e == entry_id) {
        return Grade::Correct;
    }
    if !row.keywords.is_empty() {
        let text = text.unwrap_or("").to_lowercase();
        if row
            .keywords
            .iter()
            .all(|k| text.contains(&k.to_lowercase()))
        {
            return Grade::Correct;
        }
    }
    if row.expected_entry_ids.is_empty() && row.keywords.is_empty() {
        Grade::Ungraded
    } else {
        Grade::Wrong
    }
}

impl Outcome {
    /// The entry and text answered with, or `None` for a hand-off.
    #[must_use]
    pub fn answered(&self) -> Option<(&str, Option<&str>)> {
        match &self.decision {
            Decision::Answer { entry_id, text, .. } => Some((entry_id, text.as_deref())),
            Decision::Handoff { .. } => None,
        }
    }

    /// The grade of the decision actually taken (`None` for a hand-off).
    #[must_use]
    pub fn grade(&self) -> Option<Grade> {
        self.answered()
            .map(|(entry, text)| grade(&self.row, entry, text))
    }

    /// 1-based rank of the first expected entry among the first `depth` candidates.
    #[must_use]
    pub fn rank_of_expected(&self, depth: usize) -> Option<usize> {
        self.candidates
            .iter()
            .take(depth)
            .position(|c| self.row.expected_entry_ids.contains(&c.entry_id))
            .map(|p| p + 1)
    }
}

/// Asks every question of `suite`, calling `progress(done, total)` after each.
pub fn run_suite(
    answerer: &dyn Answerer,
    suite: &[SuiteRow],
    progress: Progress<'_>,
) -> Vec<Outcome> {
    let total = suite.len();
    suite
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let start = Instant::now();
            let answer = answerer.answer(&row.question);
            let latency_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            progress(i + 1, total);
            Outcome {
                row: row.clone(),
                candidates: answer.candidates,
                decision: answer.decision,
                latency_us,
            }
        })
        .collect()
}

/// What to compute besides the headline metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// Thresholds for the sweep.
    pub sweep: SweepSpec,
    /// How many confused pairs to keep.
    pub confusion_top: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            sweep: SweepSpec::default(),
            confusion_top: 15,
        }
    }
}

/// Everything measured in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Headline metrics for the answerer's own decisions.
    pub metrics: Metrics,
    /// Automation and wrong answers per threshold.
    pub sweep: Vec<SweepPoint>,
    /// The most frequent (expected, top-1) mistakes.
    pub confusion: Vec<ConfusionPair>,
    /// Per-question outcomes (left out of JSON reports; large).
    #[serde(skip)]
    pub outcomes: Vec<Outcome>,
}

impl Evaluation {
    /// Computes metrics, sweep and confusion from outcomes.
    #[must_use]
    pub fn from_outcomes(outcomes: Vec<Outcome>, options: &EvalOptions) -> Self {
        Self {
            metrics: Metrics::from_outcomes(&outcomes),
            sweep: sweep(&outcomes, &options.sweep),
            confusion: confusion_summary(&outcomes, options.confusion_top),
            outcomes,
        }
    }
}

/// Runs `suite` through `answerer` and measures it.
pub fn evaluate(
    answerer: &dyn Answerer,
    suite: &[SuiteRow],
    options: &EvalOptions,
    progress: Progress<'_>,
) -> Evaluation {
    Evaluation::from_outcomes(run_suite(answerer, suite, progress), options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn row(expected: &[&str]) -> SuiteRow {
        SuiteRow {
            question: "q".to_owned(),
            expected_entry_ids: expected.iter().map(|s| (*s).to_owned()).collect(),
            ..SuiteRow::default()
        }
    }

    #[test]
    fn grading_rules() {
        assert_eq!(grade(&row(&["a", "b"]), "b", None), Grade::Correct);
        assert_eq!(grade(&row(&["a"]), "c", None), Grade::Wrong);
        assert_eq!(grade(&row(&[]), "c", None), Grade::Ungraded);
        let mut kw = row(&["a"]);
        kw.keywords = vec!["Refund".to_owned(), "days".to_owned()];
        assert_eq!(grade(&kw, "c", Some("refunds take 5 DAYS")), Grade::Correct);
        assert_eq!(grade(&kw, "c", Some("refunds are instant")), Grade::Wrong);
        let mut human = row(&["a"]);
        human.should_handoff = Some(true);
        assert_eq!(grade(&human, "a", None), Grade::Wrong);
    }

    struct Fixed;
    impl Answerer for Fixed {
        fn answer(&self, question: &str) -> crate::Answer {
            crate::Answer {
                candidates: vec![Candidate {
                    entry_id: question.to_owned(),
                    score: 1.0,
                    confidence: 0.9,
                }],
                decision: Decision::Answer {
                    entry_id: question.to_owned(),
                    confidence: 0.9,
                    text: None,
                },
            }
        }
    }

    #[test]
    fn runs_every_question_and_reports_progress() {
        let suite: Vec<SuiteRow> = ["a", "b", "c"]
            .iter()
            .map(|q| SuiteRow {
                question: (*q).to_owned(),
                ..row(&["a"])
            })
            .collect();
        let calls = Cell::new(0);
        let last = Cell::new((0, 0));
        let progress = |done, total| {
            calls.set(calls.get() + 1);
            last.set((done, total));
        };
        let eval = evaluate(&Fixed, &suite, &EvalOptions::default(), &progress);
        assert_eq!(calls.get(), 3);
        assert_eq!(last.get(), (3, 3));
        assert_eq!(eval.outcomes.len(), 3);
        assert!((eval.metrics.hit_at_1 - 1.0 / 3.0).abs() < 1e-12);
    }
}

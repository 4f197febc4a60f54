//! Automation versus wrong answers across confidence thresholds.
//!
//! A threshold trades hand-offs for risk: lower answers more questions and gets more of them
//! wrong. [`sweep`] re-decides every outcome at each threshold (answer with the top candidate iff
//! its confidence reaches the threshold) without asking the answerer again, and
//! [`choose_threshold`] picks the operating point: the most automation whose wrong-answer rate
//! stays within a target. Choose it on cross-validation outcomes from the knowledge itself
//! ([`crate::cv`]), never on the test questions you report.

use serde::{Deserialize, Serialize};

use crate::harness::{Grade, Outcome, grade};

/// The thresholds to try: `start, start + step, ..., end` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// First threshold.
    pub start: f32,
    /// Last threshold.
    pub end: f32,
    /// Distance between thresholds (must be positive).
    pub step: f32,
}

impl Default for SweepSpec {
    /// 0.00 to 1.00 in steps of 0.05.
    fn default() -> Self {
        Self {
            start: 0.0,
            end: 1.0,
            step: 0.05,
        }
    }
}

impl SweepSpec {
    /// The thresholds, computed from an integer count so that float steps do not drift past
    /// `end`, rounded to four decimals for clean reports. Empty if the spec is degenerate.
    #[must_use]
    pub fn thresholds(&self) -> Vec<f32> {
        if !(self.step > 0.0 && self.start.is_finite() && self.end.is_finite())
            || self.end < self.start
        {
            return Vec::new();
        }
        let n = ((self.end - self.start) / self.step + 1e-4).floor() as usize;
        (0..=n)
            .map(|i| {
                let t = f64::from(self.start) + i as f64 * f64::from(self.step);
                ((t * 10_000.0).round() / 10_000.0) as f32
            })
            .collect()
    }
}

/// The outcome of deciding every question at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The confidence threshold.
    pub threshold: f32,
    /// Questions answered.
    pub answered: usize,
    /// Answers graded right.
    pub correct_answers: usize,
    /// Answers graded wrong.
    pub wrong_answers: usize,
    /// `answered / questions`.
    pub automation_rate: f64,
    /// `correct / (correct + wrong)`, `None` when nothing graded was answered.
    pub accuracy_among_answered: Option<f64>,
    /// `wrong / questions`.
    pub wrong_answer_rate: f64,
}

/// Re-decides every outcome at every threshold of `spec`.
#[must_use]
pub fn sweep(outcomes: &[Outcome], spec: &SweepSpec) -> Vec<SweepPoint> {
    // Grade each question's top candidate once; only the answered/not split moves.
    let graded: Vec<(f32, Grade)> = outcomes
        .iter()
        .filter_map(|o| {
            let top = o.candidates.first()?;
            // The answerer's text belongs to the entry it answered with; reuse it only for that.
            let text = o
                .answered()
                .filter(|(e, _)| *e == top.entry_id)
                .and_then(|(_, t)| t);
            Some((top.confidence, grade(&o.row, &top.entry_id, text)))
        })
        .collect();
    let total = outcomes.len();
    spec.thresholds()
        .into_iter()
        .map(|threshold| {
            let (mut answered, mut correct, mut wrong) = (0, 0, 0);
            for &(confidence, g) in &graded {
                if confidence >= threshold {
                    answered += 1;
                    match g {
                        Grade::Correct => correct += 1,
                        Grade::Wrong => wrong += 1,
                        Grade::Ungraded => {}
                    }
                }
            }
            let rate = |n: usize| {
                if total == 0 {
                    0.0
                } else {
                    n as f64 / total as f64
                }
            };
            SweepPoint {
                threshold,
                answered,
                correct_answers: correct,
                wrong_answers: wrong,
                automation_rate: rate(answered),
                accuracy_among_answered: (correct + wrong > 0)
                    .then(|| correct as f64 / (correct + wrong) as f64),
                wrong_answer_rate: rate(wrong),
            }
        })
        .collect()
}

/// The point with the highest automation rate whose wrong-answer rate is at most
/// `max_wrong_rate`; among equals, the lower wrong-answer rate, then the higher threshold.
/// `None` if no threshold is safe enough.
#[must_use]
pub fn choose_threshold(points: &[SweepPoint], max_wrong_rate: f64) -> Option<SweepPoint> {
    points
        .iter()
        .filter(|p| p.wrong_answer_rate <= max_wrong_rate)
        .max_by(|a, b| {
            a.automation_rate
                .total_cmp(&b.automation_rate)
                .then(b.wrong_answer_rate.total_cmp(&a.wrong_answer_rate))
                .then(a.threshold.total_cmp(&b.threshold))
        })
        .cloned()
}

/// The default wrong-answer target for [`choose_threshold`]: 5% of all questions.
pub const DEFAULT_MAX_WRONG_RATE: f64 = 0.05;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::tests::outcome;

    #[test]
    fn default_thresholds_are_clean() {
        let t = SweepSpec::default().thresholds();
        assert_eq!(t.len(), 21);
        assert_eq!(t[0], 0.0);
        assert_eq!(t[7], 0.35);
        assert_eq!(t[20], 1.0);
        assert!(
            SweepSpec {
                start: 0.5,
                end: 0.1,
                step: 0.1
            }
            .thresholds()
            .is_empty()
        );
        assert!(
            SweepSpec {
                start: 0.0,
                end: 1.0,
                step: 0.0
            }
            .thresholds()
            .is_empty()
        );
    }

    fn with_confidence(mut o: Outcome, c: f32) -> Outcome {
        o.candidates[0].confidence = c;
        o
    }

    #[test]
    fn sweep_and_choice_on_known_data() {
        let outcomes = vec![
            with_confidence(outcome(&["a"], &["a"], true), 0.9),
            with_confidence(outcome(&["a"], &["a"], true), 0.7),
            with_confidence(outcome(&["a"], &["b"], true), 0.6),
            with_confidence(outcome(&["a"], &["b"], true), 0.3),
        ];
        let spec = SweepSpec {
            start: 0.0,
            end: 1.0,
            step: 0.25,
        };
        let points = sweep(&outcomes, &spec);
        let summary: Vec<(f32, usize, usize)> = points
            .iter()
            .map(|p| (p.threshold, p.answered, p.wrong_answers))
            .collect();
        assert_eq!(
            summary,
            [
                (0.0, 4, 2),
                (0.25, 4, 2),
                (0.5, 3, 1),
                (0.75, 1, 0),
                (1.0, 0, 0)
            ]
        );
        assert_eq!(points[2].accuracy_among_answered, Some(2.0 / 3.0));
        assert_eq!(points[4].accuracy_among_answered, None);

        assert_eq!(choose_threshold(&points, 0.25).unwrap().threshold, 0.5);
        assert_eq!(choose_threshold(&points, 0.0).unwrap().threshold, 0.75);
        assert_eq!(choose_threshold(&points, 1.0).unwrap().threshold, 0.25);
        assert!(choose_threshold(&[], 0.05).is_none());
    }
}

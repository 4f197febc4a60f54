//! Evaluation reports: one [`EvalReport`] value, three renderings.
//!
//! The report gathers what a reader needs to judge a run (headline metrics, the threshold sweep,
//! the chosen operating point and the most-confused entries) plus free-form facts such as the
//! configuration and cross-validation figures. It renders as a plain-text table for terminals
//! ([`EvalReport::render_text`]), JSON with stable field names for machines and CI history
//! ([`EvalReport::to_json`]), and a self-contained HTML page with inline CSS for people
//! ([`EvalReport::render_html`]).

mod html;
mod text;

use serde::{Deserialize, Serialize};

use crate::harness::Evaluation;
use crate::metrics::{ConfusionPair, Metrics};
use crate::sweep::SweepPoint;

/// A labelled value shown in the report's summary ("CV hit@1" = "0.912 ± 0.006").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// What the value is.
    pub label: String,
    /// The value, already formatted.
    pub value: String,
}

/// The operating threshold and how it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChosenThreshold {
    /// The threshold.
    pub threshold: f32,
    /// The wrong-answer target it was chosen for.
    pub max_wrong_rate: f64,
    /// Where it was chosen, e.g. "5-fold cross-validation on train".
    pub basis: String,
}

/// Everything a report shows. Field names are part of the JSON contract: add, do not rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Report title.
    pub title: String,
    /// What was evaluated (see [`crate::Answerer::describe`]).
    pub answerer: String,
    /// Which suite, e.g. a path.
    pub suite: String,
    /// The threshold the answerer decided with, if it has one.
    pub threshold: Option<f32>,
    /// The operating threshold choice, if one was made.
    pub chosen_threshold: Option<ChosenThreshold>,
    /// Extra labelled figures (configuration, cross-validation, timings).
    pub facts: Vec<Fact>,
    /// Headline metrics.
    pub metrics: Metrics,
    /// Threshold sweep.
    pub sweep: Vec<SweepPoint>,
    /// Most-confused (expected, got) pairs.
    pub confusion: Vec<ConfusionPair>,
}

impl EvalReport {
    /// A report of `evaluation` with no facts and no chosen threshold yet.
    pub fn new(
        title: impl Into<String>,
        answerer: impl Into<String>,
        suite: impl Into<String>,
        evaluation: &Evaluation,
    ) -> Self {
        Self {
            title: title.into(),
            answerer: answerer.into(),
            suite: suite.into(),
            threshold: None,
            chosen_threshold: None,
            facts: Vec::new(),
            metrics: evaluation.metrics.clone(),
            sweep: evaluation.sweep.clone(),
            confusion: evaluation.confusion.clone(),
        }
    }

    /// Adds a labelled fact.
    #[must_use]
    pub fn with_fact(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.facts.push(Fact {
            label: label.into(),
            value: value.into(),
        });
        self
    }

    /// Pretty-printed JSON.
    ///
    /// # Errors
    /// Only if serialisation fails, which plain data like this does not do in practice.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// A plain-text report for terminals (no colours or control codes).
    #[must_use]
    pub fn render_text(&self) -> String {
        text::render(self)
    }

    /// A self-contained HTML page (inline CSS, no scripts, all text escaped).
    #[must_use]
    pub fn render_html(&self) -> String {
        html::render(self)
    }

    /// The headline rows shared by the text and HTML renderings.
    fn headline(&self) -> Vec<(&'static str, String)> {
        let m = &self.metrics;
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        let opt_pct = |x: Option<f64>| x.map_or_else(|| "n/a".to_owned(), pct);
        let mut rows = vec![
            ("Questions", m.questions.to_string()),
            ("hit@1", format!("{:.4}", m.hit_at_1)),
            ("hit@5", format!("{:.4}", m.hit_at_5)),
            ("MRR@10", format!("{:.4}", m.mrr_at_10)),
            (
                "Automation rate",
                format!("{} ({} answered)", pct(m.automation_rate), m.answered),
            ),
            ("Answer accuracy", opt_pct(m.answer_accuracy)),
            (
                "Wrong-answer rate",
                format!("{} ({} wrong)", pct(m.wrong_answer_rate), m.wrong_answers),
            ),
        ];
        if let Some(h) = &m.handoff {
            rows.push(("Hand-off precision", opt_pct(h.precision)));
            rows.push(("Hand-off recall", opt_pct(h.recall)));
        }
        rows.push((
            "Latency p50 / p99",
            format!("{:.3} ms / {:.3} ms", m.latency.p50_ms, m.latency.p99_ms),
        ));
        rows
    }

    fn is_chosen(&self, point: &SweepPoint) -> bool {
        self.chosen_threshold
            .as_ref()
            .is_some_and(|c| (c.threshold - point.threshold).abs() < 1e-6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::EvalOptions;
    use crate::metrics::tests::outcome;

    pub(super) fn sample() -> EvalReport {
        let outcomes = vec![
            outcome(&["a"], &["a", "b"], true),
            outcome(&["<b>"], &["a & co", "<b>"], true),
        ];
        let eval = Evaluation::from_outcomes(outcomes, &EvalOptions::default());
        let mut report = EvalReport::new("Test <run>", "matcher \"x\"", "suite.csv", &eval)
            .with_fact("C", "0.5");
        report.chosen_threshold = Some(ChosenThreshold {
            threshold: 0.5,
            max_wrong_rate: 0.05,
            basis: "cv".into(),
        });
        report
    }

    #[test]
    fn json_has_stable_field_names_and_round_trips() {
        let report = sample();
        let json = report.to_json().unwrap();
        for field in [
            "\"hit_at_1\"",
            "\"mrr_at_10\"",
            "\"automation_rate\"",
            "\"wrong_answer_rate\"",
            "\"sweep\"",
            "\"confusion\"",
            "\"p99_ms\"",
            "\"chosen_threshold\"",
        ] {
            assert!(json.contains(field), "{field} missing");
        }
        let back: EvalReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn text_report_shows_figures_and_marks_the_chosen_row() {
        let text = sample().render_text();
        assert!(text.contains("hit@1"));
        assert!(text.contains("0.5000"));
        assert!(text.contains("<b>"), "text is not escaped");
        assert!(
            text.lines()
                .any(|l| l.starts_with('*') && l.contains("0.50")),
            "{text}"
        );
    }
}

//! Plain-text rendering of an [`EvalReport`] for terminals and logs.

use std::fmt::Write;

use super::EvalReport;

pub(super) fn render(report: &EvalReport) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail; the results are ignored deliberately.
    let _ = writeln!(out, "{}", report.title);
    let _ = writeln!(out, "{}", "=".repeat(report.title.chars().count().max(8)));
    let _ = writeln!(out, "Answerer: {}", report.answerer);
    let _ = writeln!(out, "Suite:    {}", report.suite);
    if let Some(t) = report.threshold {
        let _ = writeln!(out, "Threshold: {t:.2}");
    }
    if let Some(c) = &report.chosen_threshold {
        let _ = writeln!(
            out,
            "Chosen threshold: {:.2} (wrong answers <= {:.1}%, {})",
            c.threshold,
            c.max_wrong_rate * 100.0,
            c.basis
        );
    }
    out.push('\n');

    let headline = report.headline();
    let width = headline.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, value) in &headline {
        let _ = writeln!(out, "  {label:<width$}  {value}");
    }

    if !report.facts.is_empty() {
        out.push('\n');
        let width = report
            .facts
            .iter()
            .map(|f| f.label.chars().count())
            .max()
            .unwrap_or(0);
        for fact in &report.facts {
            let _ = writeln!(out, "  {:<width$}  {}", fact.label, fact.value);
        }
    }

    if !report.sweep.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "  threshold  automation  accuracy(answered)  wrong-answer rate"
        );
        for p in &report.sweep {
            let mark = if report.is_chosen(p) { '*' } else { ' ' };
            let accuracy = p
                .accuracy_among_answered
                .map_or_else(|| "n/a".to_owned(), |a| format!("{:.1}%", a * 100.0));
            let _ = writeln!(
                out,
                "{mark}      {:.2}  {:>9.1}%  {:>18}  {:>16.1}%",
                p.threshold,
                p.automation_rate * 100.0,
                accuracy,
                p.wrong_answer_rate * 100.0
            );
        }
    }

    if !report.confusion.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "  Most confused (expected -> top-ranked instead):");
        for pair in &report.confusion {
            let _ = writeln!(
                out,
                "  {:>5}  {} -> {}",
                pair.count, pair.expected, pair.got
            );
        }
    }
    out
}

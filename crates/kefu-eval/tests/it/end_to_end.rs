//! A whole run on a tiny hand-made knowledge base and suite: load, answer, measure, report.

use std::sync::Arc;

use kefu_eval::harness::EvalOptions;
use kefu_eval::{EvalReport, MatcherAnswerer, evaluate, load_suite, no_progress};
use kefu_kb::{FaqExample, FaqMatcher, MatcherConfig};

#[test]
fn evaluates_a_small_suite_from_jsonl() {
    let knowledge: Vec<FaqExample> = [
        ("refund", "how do I get a refund"),
        ("refund", "I want my money back"),
        ("refund", "refund for my order"),
        ("hours", "what are your opening hours"),
        ("hours", "when are you open"),
        ("hours", "are you open on sunday"),
    ]
    .iter()
    .map(|(id, text)| FaqExample::new(*id, *text))
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("suite.jsonl");
    std::fs::write(
        &path,
        [
            r#"{"question":"can I get my money back","expected_entry_ids":["refund"]}"#,
            r#"{"question":"open on saturday?","expected_entry_ids":["hours"]}"#,
            r#"{"question":"I want to talk to a person","should_handoff":true}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let suite = load_suite(&path).unwrap();

    let matcher = Arc::new(FaqMatcher::train(&knowledge, &MatcherConfig::default()).unwrap());
    let answerer = MatcherAnswerer::new(matcher, 0.5);
    let eval = evaluate(&answerer, &suite, &EvalOptions::default(), &no_progress);
    let m = &eval.metrics;
    assert_eq!(m.questions, 3);
    assert_eq!(m.retrieval_questions, 2);
    assert_eq!(m.hit_at_1, 1.0);
    assert!(m.handoff.is_some());
    assert_eq!(eval.sweep.len(), 21);

    let report = EvalReport::new("tiny", "matcher", path.display().to_string(), &eval);
    assert!(report.render_text().contains("hit@1"));
    assert!(report.render_html().contains("<table>"));
    assert!(report.to_json().unwrap().contains("\"hit_at_1\": 1.0"));
}

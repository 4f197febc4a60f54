//! Stratified k-fold cross-validation of the FAQ matcher on the knowledge itself.
//!
//! Everything that must be tuned (features, regularisation, the confidence scale, the answer
//! threshold) is tuned here, on phrasings held out from the knowledge base, so that a test suite
//! is only ever used to report. Each fold holds out about `1/k` of every entry's phrasings
//! (stratified, seeded, deterministic), trains on the rest and scores the held-out phrasings as
//! if visitors had asked them. The pooled out-of-fold scores then serve three purposes:
//!
//! 1. retrieval metrics (hit@1, hit@5, MRR@10) to compare configurations;
//! 2. fitting `confidence_scale` by minimum log loss of the softmax-with-abstain confidence, so
//!    that confidences behave like probabilities of being right;
//! 3. a threshold sweep with the calibrated confidences and the choice of the operating
//!    threshold (most automation with wrong answers at most the target rate).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use kefu_kb::faq_matcher::confidences;
use kefu_kb::{FaqExample, FaqMatcher, MatcherConfig, MatcherError};
use serde::{Deserialize, Serialize};

use crate::Progress;
use crate::answerer::{Candidate, MatcherAnswerer};
use crate::harness::{EvalOptions, Evaluation, Outcome};
use crate::metrics::Metrics;
use crate::suite::SuiteRow;
use crate::sweep::{DEFAULT_MAX_WRONG_RATE, SweepPoint, SweepSpec, choose_threshold};

/// How to cross-validate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvOptions {
    /// Number of folds (at least 2).
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Fit `confidence_scale` on the out-of-fold scores (otherwise keep the config's).
    pub calibrate: bool,
    /// Thresholds to sweep.
    pub sweep: SweepSpec,
    /// Wrong-answer target for choosing the threshold.
    pub max_wrong_rate: f64,
}

impl Default for CvOptions {
    fn default() -> Self {
        Self {
            folds: 5,
            seed: 17,
            calibrate: true,
            sweep: SweepSpec::default(),
            max_wrong_rate: DEFAULT_MAX_WRONG_RATE,
        }
    }
}

/// What cross-validation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvResult {
    /// The config evaluated, with `confidence_scale` replaced by the fitted one if calibrating.
    pub config: MatcherConfig,
    /// hit@1 of each fold (their spread shows how much to trust differences between configs).
    pub fold_hit_at_1: Vec<f64>,
    /// Mean log loss of the out-of-fold confidence of the right entry at the final scale.
    pub log_loss: f64,
    /// The chosen operating point, if any threshold meets the wrong-answer target.
    pub chosen: Option<SweepPoint>,
    /// Mean wall-clock training time per fold, in seconds.
    pub mean_train_seconds: f64,
    /// Pooled out-of-fold evaluation; its decisions use the chosen threshold (0 if none).
    pub evaluation: Evaluation,
}

/// Cross-validates `config` on `examples`, reporting `progress(folds_done, folds)`.
///
/// # Errors
/// [`MatcherError::InvalidConfig`] for a bad config, or fewer than two folds.
pub fn cross_validate(
    examples: &[FaqExample],
    config: &MatcherConfig,
    options: &CvOptions,
    progress: Progress<'_>,
) -> Result<CvResult, MatcherError> {
    if options.folds < 2 {
        return Err(MatcherError::InvalidConfig(
            "cross-validation needs at least 2 folds".into(),
        ));
    }
    config.validate()?;
    let fold_of = stratified_folds(examples, options.folds, options.seed);

    // Held-out scores of every example: (scores in the fold model's entry order, entry ids of
    // that model, index of the right entry, latency).
    let mut held_out: Vec<Option<Scored>> = vec![None; examples.len()];
    let mut train_seconds = 0.0;
    for fold in 0..options.folds {
        let train: Vec<FaqExample> = examples
            .iter()
            .zip(&fold_of)
            .filter(|&(_, &f)| f != fold)
            .map(|(e, _)| e.clone())
            .collect();
        let start = Instant::now();
        let matcher = FaqMatcher::train(&train, config)?;
        train_seconds += start.elapsed().as_secs_f64();
        let ids = std::sync::Arc::new(matcher.entry_ids().to_vec());
        let class_of: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        for (i, example) in examples.iter().enumerate() {
            if fold_of[i] != fold {
                continue;
            }
            let start = Instant::now();
            let scores = matcher.scores(&example.text);
            let latency_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            held_out[i] = Some(Scored {
                scores,
                ids: ids.clone(),
                truth: class_of.get(example.entry_id.as_str()).copied(),
                fold,
                latency_us,
            });
        }
        progress(fold + 1, options.folds);
    }
    let held_out: Vec<Scored> = held_out.into_iter().flatten().collect();

    let mut config = config.clone();
    if options.calibrate {
        config.confidence_scale = fit_confidence_scale(&held_out, config.abstain_score);
    }
    let log_loss = log_loss(&held_out, config.confidence_scale, config.abstain_score);

    let mut outcomes: Vec<Outcome> = examples
        .iter()
        .zip(&held_out)
        .map(|(example, scored)| scored.outcome(example, &config))
        .collect();
    let eval_options = EvalOptions {
        sweep: options.sweep,
        ..EvalOptions::default()
    };
    let first = Evaluation::from_outcomes(outcomes.clone(), &eval_options);
    let chosen = choose_threshold(&first.sweep, options.max_wrong_rate);
    let threshold = chosen.as_ref().map_or(0.0, |p| p.threshold);
    let no_texts = HashMap::new();
    for o in &mut outcomes {
        o.decision = MatcherAnswerer::decide(&o.candidates, threshold, &no_texts);
    }

    let fold_hit_at_1 = (0..options.folds)
        .map(|fold| {
            let in_fold: Vec<Outcome> = outcomes
                .iter()
                .zip(&held_out)
                .filter(|(_, s)| s.fold == fold)
                .map(|(o, _)| o.clone())
                .collect();
            Metrics::from_outcomes(&in_fold).hit_at_1
        })
        .collect();

    Ok(CvResult {
        config,
        fold_hit_at_1,
        log_loss,
        chosen,
        mean_train_seconds: train_seconds / options.folds as f64,
        evaluation: Evaluation::from_outcomes(outcomes, &eval_options),
    })
}

#[derive(Debug, Clone)]
struct Scored {
    scores: Option<Vec<f32>>,
    ids: std::sync::Arc<Vec<String>>,
    truth: Option<usize>,
    fold: usize,
    latency_us: u64,
}

impl Scored {
    fn outcome(&self, example: &FaqExample, config: &MatcherConfig) -> Outcome {
        let candidates = self.scores.as_deref().map_or_else(Vec::new, |scores| {
            ranked_candidates(
                scores,
                &self.ids,
                config.confidence_scale,
                config.abstain_score,
            )
        });
        held_out_outcome(example, candidates, self.latency_us)
    }
}

/// The ten best entries of `scores` (in `ids` order) as candidates with confidences; ties
/// break on entry order, as [`FaqMatcher::rank`] does.
pub(crate) fn ranked_candidates(
    scores: &[f32],
    ids: &[String],
    scale: f32,
    abstain: f32,
) -> Vec<Candidate> {
    let conf = confidences(scores, scale, abstain);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
        .into_iter()
        .take(10)
        .filter_map(|i| {
            Some(Candidate {
                entry_id: ids.get(i)?.clone(),
                score: scores[i],
                confidence: conf[i],
            })
        })
        .collect()
}

/// The outcome of asking a held-out phrasing as a question, answered at threshold 0.
pub(crate) fn held_out_outcome(
    example: &FaqExample,
    candidates: Vec<Candidate>,
    latency_us: u64,
) -> Outcome {
    let decision = MatcherAnswerer::decide(&candidates, 0.0, &HashMap::new());
    Outcome {
        row: SuiteRow {
            question: example.text.clone(),
            expected_entry_ids: vec![example.entry_id.clone()],
            intent: Some(example.entry_id.clone()),
            ..SuiteRow::default()
        },
        candidates,
        decision,
        latency_us,
    }
}

/// Assigns each example a fold in `0..folds`: every entry's phrasings are shuffled (seeded) and
/// dealt round-robin, continuing the deal across entries so that folds have equal sizes.
#[must_use]
pub fn stratified_folds(examples: &[FaqExample], folds: usize, seed: u64) -> Vec<usize> {
    let mut by_entry: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_entry.entry(e.entry_id.as_str()).or_default().push(i);
    }
    let mut fold_of = vec![0; examples.len()];
    let mut state = seed;
    let mut deal = 0;
    for members in by_entry.values_mut() {
        // Fisher-Yates with SplitMix64 steps: deterministic on every platform.
        for i in (1..members.len()).rev() {
            let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
            members.swap(i, j);
        }
        for &i in members.iter() {
            fold_of[i] = deal % folds.max(1);
            deal += 1;
        }
    }
    fold_of
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Mean negative log confidence of the right entry (questions whose entry the fold model did
/// not know, or with no usable feature, count as if the model abstained).
fn log_loss(scored: &[Scored], scale: f32, abstain: f32) -> f64 {
    mean_log_loss(&truth_scores(scored), scale, abstain)
}

fn truth_scores(scored: &[Scored]) -> Vec<(&[f32], usize)> {
    scored
        .iter()
        .filter_map(|s| Some((s.scores.as_deref()?, s.truth?)))
        .collect()
}

/// Mean negative log confidence of the right entry over `(scores, index of the right entry)`.
pub(crate) fn mean_log_loss(items: &[(&[f32], usize)], scale: f32, abstain: f32) -> f64 {
    let mut total = 0.0;
    for &(scores, truth) in items {
        let p = confidences(scores, scale, abstain)
            .get(truth)
            .copied()
            .unwrap_or(0.0);
        total -= f64::from(p.max(1e-9)).ln();
    }
    if items.is_empty() {
        0.0
    } else {
        total / items.len() as f64
    }
}

fn fit_confidence_scale(scored: &[Scored], abstain: f32) -> f32 {
    fit_scale(&truth_scores(scored), abstain)
}

/// The confidence scale with the lowest log loss over `(scores, index of the right entry)`: a
/// coarse grid over 0.5..100, then a fine grid around the best coarse point.
pub(crate) fn fit_scale(items: &[(&[f32], usize)], abstain: f32) -> f32 {
    let best_of = |candidates: Vec<f32>| {
        candidates
            .into_iter()
            .map(|s| (s, mean_log_loss(items, s, abstain)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(1.0, |(s, _)| s)
    };
    let coarse = best_of((1..=200).map(|i| i as f32 * 0.5).collect());
    best_of(
        (-10..=10)
            .map(|i| (coarse + i as f32 * 0.05).max(0.05))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> Vec<FaqExample> {
        let mut out = Vec::new();
        let topics = [
            ("card", ["card", "lost", "stolen", "block"]),
            ("pin", ["pin", "code", "change", "reset"]),
            ("refund", ["refund", "money", "back", "return"]),
        ];
        for (entry, words) in topics {
            for i in 0..10 {
                let text = format!(
                    "{} {} please {}",
                    words[i % 4],
                    words[(i + 1) % 4],
                    if i % 2 == 0 { "help" } else { "now" }
                );
                out.push(FaqExample::new(entry, text));
            }
        }
        out
    }

    #[test]
    fn folds_are_stratified_balanced_and_seeded() {
        let ex = examples();
        let folds = stratified_folds(&ex, 5, 1);
        for fold in 0..5 {
            for entry in ["card", "pin", "refund"] {
                let n = ex
                    .iter()
                    .zip(&folds)
                    .filter(|(e, f)| e.entry_id == entry && **f == fold);
                assert_eq!(n.count(), 2);
            }
        }
        assert_eq!(folds, stratified_folds(&ex, 5, 1));
        assert_ne!(folds, stratified_folds(&ex, 5, 2));
    }

    #[test]
    fn cross_validation_runs_and_is_deterministic() {
        let ex = examples();
        let options = CvOptions {
            folds: 3,
            ..CvOptions::default()
        };
        let a = cross_validate(
            &ex,
            &MatcherConfig::default(),
            &options,
            &crate::no_progress,
        )
        .unwrap();
        let b = cross_validate(
            &ex,
            &MatcherConfig::default(),
            &options,
            &crate::no_progress,
        )
        .unwrap();
        assert_eq!(a.fold_hit_at_1.len(), 3);
        assert!(
            a.evaluation.metrics.hit_at_1 > 0.9,
            "{:?}",
            a.evaluation.metrics
        );
        assert_eq!(a.evaluation.metrics.questions, ex.len());
        assert!(a.config.confidence_scale > 0.0);
        assert_eq!(a.config, b.config);
        assert_eq!(a.evaluation.sweep, b.evaluation.sweep);
        assert!(a.chosen.is_some());
    }

    #[test]
    fn one_fold_is_rejected() {
        let options = CvOptions {
            folds: 1,
            ..CvOptions::default()
        };
        let result = cross_validate(
            &examples(),
            &MatcherConfig::default(),
            &options,
            &crate::no_progress,
        );
        assert!(result.is_err());
    }
}

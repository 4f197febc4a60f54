//! Hybrid answering: the offline FAQ matcher's scores fused with sentence-embedding evidence,
//! and the cross-validation that chooses how much of each.
//!
//! The matcher sees surface features (word and character n-grams); a sentence-embedding model
//! sees meaning, so "my card hasn't come" and "when will it be delivered" are close even with no
//! word in common. The two err on different questions, which is what makes a blend better than
//! either. For each entry the fused score is
//!
//! ```text
//! matcher score + nearest × (cosine to the entry's closest phrasing)
//!               + vote × (similarity-weighted share of the k nearest phrasings)
//! ```
//!
//! computed against the embeddings of the entry's phrasings (a kNN over the phrasings, exact,
//! since a knowledge base has thousands of phrasings, not millions).
//!
//! The matcher itself can take the embedding as a third feature block beside its word and
//! character n-grams (`dense`, see `FaqMatcher::train_with_vectors`), so its SVMs learn from
//! meaning and surface form jointly; the kNN terms then add on top. (A ridge-regression
//! "probe" from embedding to entry was tried as a third term on BANKING77: alone it reached
//! hit@1 0.876 in cross-validation and it never improved the blend, so it is not here.)
//!
//! The weights, the confidence scale and the answer threshold are all chosen by
//! [`cross_validate_hybrid`] on the knowledge itself: the same stratified folds as
//! [`cross_validate`](crate::cross_validate), a fold matcher trained without the held-out
//! phrasings, and held-out phrasings scored against the other phrasings' embeddings. A test
//! suite is only ever used to report.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use kefu_kb::{FaqExample, FaqMatcher, MatcherConfig, MatcherError};
use kefu_search::EmbedError;
use serde::{Deserialize, Serialize};

use crate::Progress;
use crate::answerer::{Answer, Answerer, Candidate, MatcherAnswerer};
use crate::cv::{
    CvOptions, fit_scale, held_out_outcome, mean_log_loss, ranked_candidates, stratified_folds,
};
use crate::harness::{EvalOptions, Evaluation, Outcome};
use crate::metrics::Metrics;
use crate::sweep::{SweepPoint, choose_threshold};

/// Neighbours kept per query, enough for the largest `vote_k` searched.
const MAX_VOTE_K: usize = 50;

/// Synchronous text embedding for the evaluation tools (which run no async runtime of their
/// own); the server uses the async [`kefu_search::Embedder`] instead.
pub trait TextEmbedder: Send + Sync {
    /// The model name, for reports.
    fn model(&self) -> &str;

    /// One unit-length vector per text, in order.
    ///
    /// # Errors
    /// Whatever the model or provider reports.
    fn embed_texts(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

impl TextEmbedder for kefu_search::LocalEmbedder {
    fn model(&self) -> &str {
        kefu_search::Embedder::model(self)
    }

    fn embed_texts(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_blocking(texts)
    }
}

/// Why a hybrid matcher could not be built or cross-validated.
#[derive(Debug, thiserror::Error)]
pub enum HybridError {
    /// Training the FAQ matcher failed.
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    /// The embedding model failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// Phrasings and their vectors do not line up.
    #[error("{vectors} vectors for {examples} phrasings")]
    VectorCount {
        /// Phrasings given.
        examples: usize,
        /// Vectors given.
        vectors: usize,
    },
    /// Vectors of different lengths were mixed.
    #[error("vector of {got} dimensions among vectors of {expected}")]
    Dimensions {
        /// Length of the first vector.
        expected: usize,
        /// Length of the offending one.
        got: usize,
    },
    /// The options cannot work (too few folds, an empty grid).
    #[error("invalid hybrid options: {0}")]
    InvalidOptions(String),
}

/// How the embedding evidence is blended into the matcher's scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HybridWeights {
    /// Weight of the embedding block inside the matcher's features (`dense_weight` of its
    /// config); 0 trains the matcher on text alone.
    #[serde(default)]
    pub dense: f32,
    /// Weight of the matcher's own score (1 normally; 0 measures embeddings alone).
    pub matcher: f32,
    /// Weight of the cosine similarity to the entry's nearest phrasing.
    pub nearest: f32,
    /// Weight of the entry's similarity-weighted share of the `vote_k` nearest phrasings.
    pub vote: f32,
    /// How many nearest phrasings vote (at most 50).
    pub vote_k: usize,
}

impl HybridWeights {
    /// Only the matcher (the offline engine, for comparison on the same folds).
    pub const MATCHER_ONLY: Self = Self {
        dense: 0.0,
        matcher: 1.0,
        nearest: 0.0,
        vote: 0.0,
        vote_k: 1,
    };

    /// Only the embeddings' nearest phrasing (a 1-nearest-neighbour classifier).
    pub const NEAREST_ONLY: Self = Self {
        dense: 0.0,
        matcher: 0.0,
        nearest: 1.0,
        vote: 0.0,
        vote_k: 1,
    };
}

/// The weights [`cross_validate_hybrid`] tries: every combination of the lists, with the
/// matcher's weight fixed at 1 (only ratios matter for ranking, and the fitted confidence
/// scale absorbs the overall size).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridGrid {
    /// Values of [`HybridWeights::dense`] (each costs one matcher training per fold; 0, the
    /// text-only matcher, is always tried too, as the baseline).
    pub dense: Vec<f32>,
    /// Values of [`HybridWeights::nearest`].
    pub nearest: Vec<f32>,
    /// Values of [`HybridWeights::vote`].
    pub vote: Vec<f32>,
    /// Values of [`HybridWeights::vote_k`].
    pub vote_k: Vec<usize>,
}

impl Default for HybridGrid {
    fn default() -> Self {
        Self {
            dense: vec![1.0],
            nearest: vec![0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0],
            vote: vec![0.0, 2.0, 4.0],
            vote_k: vec![10, 20],
        }
    }
}

impl HybridGrid {
    fn combinations(&self) -> Vec<HybridWeights> {
        let mut out = Vec::new();
        for &dense in &self.dense_values() {
            for &nearest in &self.nearest {
                for &vote in &self.vote {
                    // vote_k only matters when the vote counts.
                    let ks: &[usize] = if vote > 0.0 { &self.vote_k } else { &[1] };
                    for &vote_k in ks {
                        out.push(HybridWeights {
                            dense,
                            matcher: 1.0,
                            nearest,
                            vote,
                            vote_k: vote_k.clamp(1, MAX_VOTE_K),
                        });
                    }
                }
            }
        }
        out
    }

    /// The dense weights to train matchers for: the grid's, with 0 first.
    fn dense_values(&self) -> Vec<f32> {
        let mut values = vec![0.0];
        for &d in &self.dense {
            if d > 0.0 && !values.contains(&d) {
                values.push(d);
            }
        }
        values
    }
}

/// The embeddings of the knowledge's phrasings, labelled with their entry's position in an
/// entry list (the matcher's entry order).
#[derive(Debug, Clone)]
pub struct PhrasingVectors {
    dims: usize,
    /// Row-major, one unit-length row per phrasing.
    data: Vec<f32>,
    class: Vec<u32>,
    n_classes: usize,
}

/// What the embeddings say about one query: the nearest phrasing's cosine per entry, and the
/// nearest phrasings overall (best first).
#[derive(Debug, Clone)]
struct Evidence {
    nearest: Vec<f32>,
    neighbours: Vec<(f32, u32)>,
}

impl PhrasingVectors {
    /// Labels `vectors[i]` (the embedding of `examples[i]`) with the position of its entry in
    /// `entry_ids`; phrasings of entries not in the list are left out. Vectors are
    /// re-normalised, so any embedder's output works.
    ///
    /// # Errors
    /// [`HybridError::VectorCount`] or [`HybridError::Dimensions`] when the inputs disagree.
    pub fn new(
        entry_ids: &[String],
        examples: &[FaqExample],
        vectors: &[Vec<f32>],
    ) -> Result<Self, HybridError> {
        if examples.len() != vectors.len() {
            return Err(HybridError::VectorCount {
                examples: examples.len(),
                vectors: vectors.len(),
            });
        }
        let class_of: HashMap<&str, u32> = entry_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i as u32))
            .collect();
        let dims = vectors.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(vectors.len() * dims);
        let mut class = Vec::with_capacity(vectors.len());
        for (example, v) in examples.iter().zip(vectors) {
            if v.len() != dims {
                return Err(HybridError::Dimensions {
                    expected: dims,
                    got: v.len(),
                });
            }
            let Some(&c) = class_of.get(example.entry_id.as_str()) else {
                continue;
            };
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            if !(norm.is_finite() && norm > 0.0) {
                continue;
            }
            data.extend(v.iter().map(|x| x / norm));
            class.push(c);
        }
        Ok(Self {
            dims,
            data,
            class,
            n_classes: entry_ids.len(),
        })
    }

    /// Number of phrasings held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.class.len()
    }

    /// Whether no phrasing is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.class.is_empty()
    }

    fn evidence(&self, query: &[f32]) -> Evidence {
        let mut nearest = vec![0.0_f32; self.n_classes];
        let mut all: Vec<(f32, u32)> = Vec::with_capacity(self.class.len());
        if query.len() == self.dims && self.dims > 0 {
            let norm = query.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            for (row, &c) in self.data.chunks_exact(self.dims).zip(&self.class) {
                let sim = row.iter().zip(query).map(|(a, b)| a * b).sum::<f32>() / norm;
                if let Some(best) = nearest.get_mut(c as usize) {
                    *best = best.max(sim);
                }
                all.push((sim, c));
            }
        }
        // Ties break on phrasing order, so the vote is deterministic.
        let by_sim = |a: &(usize, (f32, u32)), b: &(usize, (f32, u32))| {
            b.1.0.total_cmp(&a.1.0).then(a.0.cmp(&b.0))
        };
        let mut indexed: Vec<(usize, (f32, u32))> = all.into_iter().enumerate().collect();
        if indexed.len() > MAX_VOTE_K {
            indexed.select_nth_unstable_by(MAX_VOTE_K - 1, by_sim);
            indexed.truncate(MAX_VOTE_K);
        }
        indexed.sort_by(by_sim);
        Evidence {
            nearest,
            neighbours: indexed.into_iter().map(|(_, n)| n).collect(),
        }
    }
}

impl Evidence {
    /// The fused score of every entry. `matcher` is `None` when the matcher found no known
    /// feature in the question; the embeddings can still match it then.
    fn fuse(&self, matcher: Option<&[f32]>, w: &HybridWeights) -> Vec<f32> {
        let mut out = match matcher {
            Some(scores) => scores.iter().map(|s| w.matcher * s).collect(),
            None => vec![0.0; self.nearest.len()],
        };
        for (o, n) in out.iter_mut().zip(&self.nearest) {
            *o += w.nearest * n;
        }
        if w.vote > 0.0 {
            let k = w.vote_k.max(1);
            for &(sim, c) in self.neighbours.iter().take(k) {
                if let Some(o) = out.get_mut(c as usize) {
                    *o += w.vote * sim.max(0.0) / k as f32;
                }
            }
        }
        out
    }
}

/// A trained matcher, the phrasing embeddings and the fusion settings: ranks entries for a
/// question and its embedding.
#[derive(Debug, Clone)]
pub struct HybridMatcher {
    matcher: Arc<FaqMatcher>,
    phrasings: PhrasingVectors,
    weights: HybridWeights,
    confidence_scale: f32,
    abstain_score: f32,
}

impl HybridMatcher {
    /// Trains the matcher on `examples` with `config` (and their embeddings `vectors` as a
    /// feature block when `weights.dense > 0`), and combines it with the kNN over
    /// the same embeddings, using `weights` and, for confidences, `confidence_scale` (as
    /// fitted by [`cross_validate_hybrid`]) with the matcher's abstain score.
    ///
    /// # Errors
    /// [`HybridError`] when the matcher cannot be trained or the vectors do not fit.
    pub fn train(
        examples: &[FaqExample],
        vectors: &[Vec<f32>],
        config: &MatcherConfig,
        weights: HybridWeights,
        confidence_scale: f32,
    ) -> Result<Self, HybridError> {
        let matcher = Arc::new(train_matcher(examples, vectors, config, weights.dense)?);
        let phrasings = PhrasingVectors::new(matcher.entry_ids(), examples, vectors)?;
        let abstain_score = matcher.config().abstain_score;
        Ok(Self {
            matcher,
            phrasings,
            weights,
            confidence_scale,
            abstain_score,
        })
    }

    /// The fusion settings.
    #[must_use]
    pub fn weights(&self) -> HybridWeights {
        self.weights
    }

    /// The ten best entries for `question` with embedding `vector` (`None` when the
    /// embedding failed: the matcher alone ranks then).
    #[must_use]
    pub fn rank(&self, question: &str, vector: Option<&[f32]>) -> Vec<Candidate> {
        let matcher_scores = self.matcher.scores_with_vector(question, vector);
        let scores = match vector {
            Some(v) if !self.phrasings.is_empty() => self
                .phrasings
                .evidence(v)
                .fuse(matcher_scores.as_deref(), &self.weights),
            _ => {
                let Some(scores) = matcher_scores else {
                    return Vec::new();
                };
                scores.iter().map(|s| self.weights.matcher * s).collect()
            }
        };
        ranked_candidates(
            &scores,
            self.matcher.entry_ids(),
            self.confidence_scale,
            self.abstain_score,
        )
    }
}

/// The hybrid answerer: embeds each question (so its latency includes the model), ranks with
/// a [`HybridMatcher`], and answers when the top confidence reaches the threshold.
pub struct HybridAnswerer {
    hybrid: HybridMatcher,
    embedder: Arc<dyn TextEmbedder>,
    threshold: f32,
    embedding_failures: AtomicUsize,
}

impl HybridAnswerer {
    /// An answerer over `hybrid` that embeds questions with `embedder`.
    pub fn new(hybrid: HybridMatcher, embedder: Arc<dyn TextEmbedder>, threshold: f32) -> Self {
        Self {
            hybrid,
            embedder,
            threshold,
            embedding_failures: AtomicUsize::new(0),
        }
    }

    /// Questions whose embedding failed and that the matcher alone answered.
    pub fn embedding_failures(&self) -> usize {
        self.embedding_failures.load(Ordering::Relaxed)
    }
}

impl Answerer for HybridAnswerer {
    fn answer(&self, question: &str) -> Answer {
        let vector = match self.embedder.embed_texts(&[question.to_owned()]) {
            Ok(mut v) if v.len() == 1 => v.pop(),
            _ => {
                // Degrade like the server would: answer from the matcher, and count it.
                self.embedding_failures.fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        let candidates = self.hybrid.rank(question, vector.as_deref());
        let decision = MatcherAnswerer::decide(&candidates, self.threshold, &HashMap::new());
        Answer {
            candidates,
            decision,
        }
    }

    fn describe(&self) -> String {
        let w = self.hybrid.weights;
        format!(
            "FAQ matcher ({} entries, embedding block {:.2}) fused with {} kNN over {} \
             phrasings (nearest {:.2}, vote {:.2} of {}), threshold {:.2}",
            self.hybrid.matcher.entry_ids().len(),
            w.dense,
            self.embedder.model(),
            self.hybrid.phrasings.len(),
            w.nearest,
            w.vote,
            w.vote_k,
            self.threshold
        )
    }
}

/// One tried weighting and its out-of-fold figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridTrial {
    /// The weights.
    pub weights: HybridWeights,
    /// Out-of-fold hit@1.
    pub hit_at_1: f64,
    /// Out-of-fold MRR@10.
    pub mrr_at_10: f64,
}

/// What hybrid cross-validation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridCvResult {
    /// The best weights (highest out-of-fold hit@1, then MRR@10).
    pub weights: HybridWeights,
    /// The confidence scale with the least out-of-fold log loss at those weights.
    pub confidence_scale: f32,
    /// That log loss.
    pub log_loss: f64,
    /// The chosen operating point, if any threshold meets the wrong-answer target.
    pub chosen: Option<SweepPoint>,
    /// hit@1 of each fold at the best weights.
    pub fold_hit_at_1: Vec<f64>,
    /// Every weighting tried.
    pub trials: Vec<HybridTrial>,
    /// The matcher alone on the same folds.
    pub matcher_only: HybridTrial,
    /// The embeddings' nearest phrasing alone on the same folds (1-NN).
    pub nearest_only: HybridTrial,
    /// The matcher trained with embeddings at the best `dense` weight, without kNN terms.
    pub dense_matcher_only: HybridTrial,
    /// Pooled out-of-fold evaluation at the best weights; decisions use the chosen threshold.
    pub evaluation: Evaluation,
}

/// One held-out phrasing: its fold matcher's scores, its embedding evidence against the fold's
/// other phrasings, and the index of its entry.
struct HeldOut {
    /// Scores of the fold matcher for each dense weight (the grid's, 0 first).
    matcher: Vec<Option<Vec<f32>>>,
    evidence: Evidence,
    truth: Option<usize>,
    fold: usize,
    latency_us: u64,
}

impl HeldOut {
    fn fuse(&self, grid: &HybridGrid, w: &HybridWeights) -> Vec<f32> {
        let matcher = grid
            .dense
            .iter()
            .position(|&d| d == w.dense)
            .and_then(|j| self.matcher.get(j))
            .and_then(Option::as_deref);
        self.evidence.fuse(matcher, w)
    }
}

/// Trains a matcher on text alone (`dense` 0) or with the embeddings as a feature block.
fn train_matcher(
    examples: &[FaqExample],
    vectors: &[Vec<f32>],
    config: &MatcherConfig,
    dense: f32,
) -> Result<FaqMatcher, MatcherError> {
    if dense > 0.0 {
        let config = MatcherConfig {
            dense_weight: dense,
            ..config.clone()
        };
        FaqMatcher::train_with_vectors(examples, Some(vectors), &config)
    } else {
        FaqMatcher::train(examples, config)
    }
}

/// Cross-validates the fusion of a matcher trained with `config` and the embeddings `vectors`
/// of `examples` (one per phrasing, same order): every weighting of `grid` is scored on the
/// same out-of-fold predictions, the best is kept, and its confidence scale and answer
/// threshold are fitted as [`cross_validate`](crate::cross_validate) does for the matcher.
///
/// # Errors
/// [`HybridError`] when the vectors do not match the phrasings, the grid is empty, there are
/// fewer than two folds, or the matcher config is invalid.
pub fn cross_validate_hybrid(
    examples: &[FaqExample],
    vectors: &[Vec<f32>],
    config: &MatcherConfig,
    grid: &HybridGrid,
    options: &CvOptions,
    progress: Progress<'_>,
) -> Result<HybridCvResult, HybridError> {
    if options.folds < 2 {
        return Err(HybridError::InvalidOptions(
            "cross-validation needs at least 2 folds".into(),
        ));
    }
    if examples.len() != vectors.len() {
        return Err(HybridError::VectorCount {
            examples: examples.len(),
            vectors: vectors.len(),
        });
    }
    let combinations = grid.combinations();
    if combinations.is_empty() {
        return Err(HybridError::InvalidOptions(
            "the weight grid is empty".into(),
        ));
    }
    config.validate()?;
    let fold_of = stratified_folds(examples, options.folds, options.seed);

    let dense_values = grid.dense_values();
    let mut held_out: Vec<Option<HeldOut>> = (0..examples.len()).map(|_| None).collect();
    let mut fold_ids: Vec<Arc<Vec<String>>> = Vec::with_capacity(options.folds);
    for fold in 0..options.folds {
        let (mut train, mut train_vectors) = (Vec::new(), Vec::new());
        for ((example, v), &f) in examples.iter().zip(vectors).zip(&fold_of) {
            if f != fold {
                train.push(example.clone());
                train_vectors.push(v.clone());
            }
        }
        let matchers = dense_values
            .iter()
            .map(|&dense| train_matcher(&train, &train_vectors, config, dense))
            .collect::<Result<Vec<_>, _>>()?;
        // Entry order depends only on the entries present, so it is the same for every matcher.
        let ids = Arc::new(matchers[0].entry_ids().to_vec());
        let phrasings = PhrasingVectors::new(&ids, &train, &train_vectors)?;
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
            let scores = matchers
                .iter()
                .map(|m| m.scores_with_vector(&example.text, Some(&vectors[i])))
                .collect();
            let evidence = phrasings.evidence(&vectors[i]);
            let latency_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            held_out[i] = Some(HeldOut {
                matcher: scores,
                evidence,
                truth: class_of.get(example.entry_id.as_str()).copied(),
                fold,
                latency_us,
            });
        }
        fold_ids.push(ids);
        progress(fold + 1, options.folds);
    }
    let grid = &HybridGrid {
        dense: dense_values,
        ..grid.clone()
    };
    let held_out: Vec<(usize, HeldOut)> = held_out
        .into_iter()
        .enumerate()
        .filter_map(|(i, h)| Some((i, h?)))
        .collect();

    let trial = |weights: HybridWeights| -> HybridTrial {
        let (mut hits, mut rr) = (0_usize, 0.0_f64);
        for (_, h) in &held_out {
            let Some(truth) = h.truth else { continue };
            let scores = h.fuse(grid, &weights);
            let mine = scores[truth];
            // Rank of the right entry, with ties going to the lower entry index as in ranking.
            let rank = 1 + scores
                .iter()
                .enumerate()
                .filter(|&(j, &s)| s > mine || (s == mine && j < truth))
                .count();
            if rank == 1 {
                hits += 1;
            }
            if rank <= 10 {
                rr += 1.0 / rank as f64;
            }
        }
        let n = held_out.len().max(1) as f64;
        HybridTrial {
            weights,
            hit_at_1: hits as f64 / n,
            mrr_at_10: rr / n,
        }
    };
    let trials: Vec<HybridTrial> = combinations.into_iter().map(trial).collect();
    // The first of equals wins: the grid lists smaller weights first, so ties go to the
    // simpler blend.
    let mut best = HybridWeights::MATCHER_ONLY;
    let mut best_key = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for t in &trials {
        if (t.hit_at_1, t.mrr_at_10) > best_key {
            best_key = (t.hit_at_1, t.mrr_at_10);
            best = t.weights;
        }
    }

    let fused: Vec<(usize, Vec<f32>, &HeldOut)> = held_out
        .iter()
        .map(|(i, h)| (*i, h.fuse(grid, &best), h))
        .collect();
    let abstain = config.abstain_score;
    let truth_scores: Vec<(&[f32], usize)> = fused
        .iter()
        .filter_map(|(_, s, h)| Some((s.as_slice(), h.truth?)))
        .collect();
    let scale = if options.calibrate {
        fit_scale(&truth_scores, abstain)
    } else {
        config.confidence_scale
    };
    let log_loss = mean_log_loss(&truth_scores, scale, abstain);

    let mut outcomes: Vec<Outcome> = fused
        .iter()
        .map(|(i, scores, h)| {
            let candidates = ranked_candidates(scores, &fold_ids[h.fold], scale, abstain);
            held_out_outcome(&examples[*i], candidates, h.latency_us)
        })
        .collect();
    let eval_options = EvalOptions {
        sweep: options.sweep,
        ..EvalOptions::default()
    };
    let first = Evaluation::from_outcomes(outcomes.clone(), &eval_options);
    let chosen = choose_threshold(&first.sweep, options.max_wrong_rate);
    let threshold = chosen.as_ref().map_or(0.0, |p| p.threshold);
    for o in &mut outcomes {
        o.decision = MatcherAnswerer::decide(&o.candidates, threshold, &HashMap::new());
    }
    let fold_hit_at_1 = (0..options.folds)
        .map(|fold| {
            let in_fold: Vec<Outcome> = outcomes
                .iter()
                .zip(&fused)
                .filter(|(_, (_, _, h))| h.fold == fold)
                .map(|(o, _)| o.clone())
                .collect();
            Metrics::from_outcomes(&in_fold).hit_at_1
        })
        .collect();

    Ok(HybridCvResult {
        weights: best,
        confidence_scale: scale,
        log_loss,
        chosen,
        fold_hit_at_1,
        matcher_only: trial(HybridWeights::MATCHER_ONLY),
        nearest_only: trial(HybridWeights::NEAREST_ONLY),
        dense_matcher_only: trial(HybridWeights {
            dense: best.dense,
            ..HybridWeights::MATCHER_ONLY
        }),
        trials,
        evaluation: Evaluation::from_outcomes(outcomes, &eval_options),
    })
}

/// Embeds `texts` in chunks of `chunk`, reporting `progress(done, total)` after each.
///
/// # Errors
/// The embedder's error, or [`HybridError::VectorCount`] if it returns the wrong count.
pub fn embed_all(
    embedder: &dyn TextEmbedder,
    texts: &[String],
    chunk: usize,
    progress: Progress<'_>,
) -> Result<Vec<Vec<f32>>, HybridError> {
    let mut out = Vec::with_capacity(texts.len());
    for part in texts.chunks(chunk.max(1)) {
        let vectors = embedder.embed_texts(part)?;
        if vectors.len() != part.len() {
            return Err(HybridError::VectorCount {
                examples: part.len(),
                vectors: vectors.len(),
            });
        }
        out.extend(vectors);
        progress(out.len(), texts.len());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy embedder: a bag of hashed words, so texts sharing words are close. Enough to
    /// check the plumbing without a model.
    struct BagOfWords;

    impl TextEmbedder for BagOfWords {
        fn model(&self) -> &str {
            "bag-of-words"
        }

        fn embed_texts(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
            Ok(texts.iter().map(|t| bag(t)).collect())
        }
    }

    fn bag(text: &str) -> Vec<f32> {
        let mut v = vec![0.0_f32; 32];
        for word in text.to_lowercase().split_whitespace() {
            let h = word
                .bytes()
                .fold(7_usize, |h, b| h.wrapping_mul(31) + b as usize);
            v[h % 32] += 1.0;
        }
        v[31] += 0.01;
        v
    }

    fn examples() -> Vec<FaqExample> {
        let topics = [
            ("card", ["card", "lost", "stolen", "block"]),
            ("pin", ["pin", "code", "change", "reset"]),
            ("refund", ["refund", "money", "back", "return"]),
        ];
        let mut out = Vec::new();
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
    fn evidence_finds_nearest_phrasing_and_votes() {
        let ids = vec!["a".to_owned(), "b".to_owned()];
        let ex = vec![
            FaqExample::new("a", "x"),
            FaqExample::new("b", "y"),
            FaqExample::new("b", "z"),
        ];
        let vectors = vec![vec![1.0, 0.0], vec![0.6, 0.8], vec![0.0, 2.0]];
        let p = PhrasingVectors::new(&ids, &ex, &vectors).unwrap();
        let e = p.evidence(&[1.0, 0.0]);
        assert_eq!(e.nearest, vec![1.0, 0.6]);
        assert_eq!(e.neighbours[0], (1.0, 0));
        let w = HybridWeights {
            dense: 0.0,
            matcher: 1.0,
            nearest: 0.0,
            vote: 1.0,
            vote_k: 2,
        };
        // Nearest two: a (1.0) and b (0.6), each divided by k.
        let fused = e.fuse(Some(&[0.0, 0.0]), &w);
        assert!((fused[0] - 0.5).abs() < 1e-6 && (fused[1] - 0.3).abs() < 1e-6);
        assert!(matches!(
            PhrasingVectors::new(&ids, &ex, &vectors[..2]),
            Err(HybridError::VectorCount { .. })
        ));
    }

    #[test]
    fn cross_validation_chooses_weights_and_answers() {
        let ex = examples();
        let texts: Vec<String> = ex.iter().map(|e| e.text.clone()).collect();
        let embedder: Arc<dyn TextEmbedder> = Arc::new(BagOfWords);
        let vectors = embed_all(embedder.as_ref(), &texts, 7, &crate::no_progress).unwrap();
        let options = CvOptions {
            folds: 3,
            ..CvOptions::default()
        };
        let grid = HybridGrid {
            dense: vec![0.0, 1.0],
            nearest: vec![0.0, 1.0],
            vote: vec![0.0, 1.0],
            vote_k: vec![3],
        };
        let cv = cross_validate_hybrid(
            &ex,
            &vectors,
            &MatcherConfig::default(),
            &grid,
            &options,
            &crate::no_progress,
        )
        .unwrap();
        // (dense 0|1) × (nearest 0|1) × (vote 0, or vote 1 with k 3).
        assert_eq!(cv.trials.len(), 2 * 2 * 2);
        assert!(cv.evaluation.metrics.hit_at_1 >= cv.matcher_only.hit_at_1);
        assert_eq!(cv.evaluation.metrics.questions, ex.len());
        assert!(cv.confidence_scale > 0.0);
        assert_eq!(cv.fold_hit_at_1.len(), 3);

        let hybrid = HybridMatcher::train(
            &ex,
            &vectors,
            &MatcherConfig::default(),
            cv.weights,
            cv.confidence_scale,
        )
        .unwrap();
        let answerer = HybridAnswerer::new(hybrid, embedder, 0.0);
        let answer = answerer.answer("my card was stolen please help");
        assert_eq!(answer.candidates[0].entry_id, "card");
        assert_eq!(answerer.embedding_failures(), 0);
        assert!(answerer.describe().contains("bag-of-words"));
    }

    #[test]
    fn bad_inputs_are_rejected() {
        let ex = examples();
        let none = cross_validate_hybrid(
            &ex,
            &[],
            &MatcherConfig::default(),
            &HybridGrid::default(),
            &CvOptions::default(),
            &crate::no_progress,
        );
        assert!(matches!(none, Err(HybridError::VectorCount { .. })));
        let empty_grid = HybridGrid {
            dense: vec![],
            nearest: vec![],
            vote: vec![],
            vote_k: vec![],
        };
        let vectors: Vec<Vec<f32>> = ex.iter().map(|e| bag(&e.text)).collect();
        let result = cross_validate_hybrid(
            &ex,
            &vectors,
            &MatcherConfig::default(),
            &empty_grid,
            &CvOptions::default(),
            &crate::no_progress,
        );
        assert!(matches!(result, Err(HybridError::InvalidOptions(_))));
    }
}

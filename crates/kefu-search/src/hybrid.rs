//! Reciprocal rank fusion (RRF) of full-text and vector results.
//!
//! Rank fusion instead of score blending because BM25 scores and cosine similarities live on
//! unrelated scales; ranks do not. A chunk at 1-based rank `r` in a list contributes
//! `weight / (k + r)`; the fused score is the sum over both lists. Admins tune `w_text` and
//! `w_vector` per site (keyword-heavy FAQ vs. paraphrase-heavy manuals). Either list may be
//! empty: with no embedder configured, fusion degrades to the text ranking.

use std::collections::HashMap;

use crate::index::Hit;
use crate::vectors::VectorHit;

/// Weights and the rank constant of the fusion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionWeights {
    /// Weight of the full-text ranking.
    pub w_text: f32,
    /// Weight of the vector ranking.
    pub w_vector: f32,
    /// Rank constant; larger values flatten the advantage of the very top ranks.
    pub k: f32,
}

impl Default for FusionWeights {
    /// Equal weights, `k = 60` (the value from the original RRF paper).
    fn default() -> Self {
        FusionWeights {
            w_text: 1.0,
            w_vector: 1.0,
            k: 60.0,
        }
    }
}

/// A fused result, keeping both components so a retrieval-test page can show why it ranked.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedHit {
    /// The chunk.
    pub chunk_id: String,
    /// Its entry.
    pub entry_id: String,
    /// The entry revision the chunk came from.
    pub revision: u64,
    /// Fused RRF score.
    pub score: f32,
    /// 1-based rank in the full-text list, if present there.
    pub text_rank: Option<usize>,
    /// BM25 score in the full-text list.
    pub text_score: Option<f32>,
    /// 1-based rank in the vector list, if present there.
    pub vector_rank: Option<usize>,
    /// Cosine similarity in the vector list.
    pub vector_score: Option<f32>,
    /// Query terms found in the chunk (empty when it came from vectors only).
    pub matched_terms: Vec<String>,
}

/// Fuses the two ranked lists (each best first) and returns at most `limit` hits, best first.
///
/// Ties are broken by the better single rank, then by chunk id, so output is deterministic.
pub fn fuse(
    text: &[Hit],
    vector: &[VectorHit],
    weights: &FusionWeights,
    limit: usize,
) -> Vec<FusedHit> {
    let mut by_chunk: HashMap<&str, FusedHit> = HashMap::new();
    for (i, hit) in text.iter().enumerate() {
        let rank = i + 1;
        let fused = by_chunk
            .entry(hit.chunk_id.as_str())
            .or_insert_with(|| empty(&hit.chunk_id, &hit.entry_id, hit.revision));
        // A list should not repeat a chunk; if it does, only the best rank counts.
        if fused.text_rank.is_none() {
            fused.text_rank = Some(rank);
            fused.text_score = Some(hit.score);
            fused.matched_terms = hit.matched_terms.clone();
            fused.score += weights.w_text / (weights.k + rank as f32);
        }
    }
    for (i, hit) in vector.iter().enumerate() {
        let rank = i + 1;
        let fused = by_chunk
            .entry(hit.chunk_id.as_str())
            .or_insert_with(|| empty(&hit.chunk_id, &hit.entry_id, hit.revision));
        if fused.vector_rank.is_none() {
            fused.vector_rank = Some(rank);
            fused.vector_score = Some(hit.score);
            fused.score += weights.w_vector / (weights.k + rank as f32);
        }
    }
    let mut fused: Vec<FusedHit> = by_chunk.into_values().collect();
    let best_rank = |h: &FusedHit| {
        h.text_rank
            .unwrap_or(usize::MAX)
            .min(h.vector_rank.unwrap_or(usize::MAX))
    };
    fused.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| best_rank(a).cmp(&best_rank(b)))
            .then_with(|| a.chunk_id.cmp(&b.chunk_id))
    });
    fused.truncate(limit);
    fused
}

fn empty(chunk_id: &str, entry_id: &str, revision: u64) -> FusedHit {
    FusedHit {
        chunk_id: chunk_id.to_string(),
        entry_id: entry_id.to_string(),
        revision,
        score: 0.0,
        text_rank: None,
        text_score: None,
        vector_rank: None,
        vector_score: None,
        matched_terms: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_hit(id: &str, score: f32) -> Hit {
        Hit {
            chunk_id: id.into(),
            entry_id: format!("e-{id}"),
            revision: 1,
            score,
            matched_terms: vec!["t".into()],
        }
    }

    fn vector_hit(id: &str, score: f32) -> VectorHit {
        VectorHit {
            chunk_id: id.into(),
            entry_id: format!("e-{id}"),
            revision: 1,
            score,
        }
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn rrf_hand_example() {
        // text: A B C, vector: C D, w_text 1, w_vector 2, k 60.
        //   A = 1/61 ≈ 0.016393   B = 1/62 ≈ 0.016129
        //   C = 1/63 + 2/61 ≈ 0.048660   D = 2/62 ≈ 0.032258  →  C D A B
        let text = [text_hit("A", 9.0), text_hit("B", 5.0), text_hit("C", 1.0)];
        let vector = [vector_hit("C", 0.9), vector_hit("D", 0.8)];
        let weights = FusionWeights {
            w_text: 1.0,
            w_vector: 2.0,
            k: 60.0,
        };
        let fused = fuse(&text, &vector, &weights, 10);
        let order: Vec<&str> = fused.iter().map(|h| h.chunk_id.as_str()).collect();
        assert_eq!(order, ["C", "D", "A", "B"]);
        assert!(close(fused[0].score, 1.0 / 63.0 + 2.0 / 61.0));
        assert!(close(fused[1].score, 2.0 / 62.0));
        assert!(close(fused[2].score, 1.0 / 61.0));
        assert!(close(fused[3].score, 1.0 / 62.0));
        assert_eq!(fused[0].text_rank, Some(3));
        assert_eq!(fused[0].vector_rank, Some(1));
        assert_eq!(fused[0].vector_score, Some(0.9));
        assert_eq!(fused[0].text_score, Some(1.0));
        assert_eq!(fused[1].text_rank, None);
        assert!(fused[1].matched_terms.is_empty());
        assert_eq!(fuse(&text, &vector, &weights, 2).len(), 2);
    }

    #[test]
    fn either_list_may_be_empty() {
        let text = [text_hit("A", 2.0), text_hit("B", 1.0)];
        let only_text = fuse(&text, &[], &FusionWeights::default(), 10);
        assert_eq!(only_text.len(), 2);
        assert_eq!(only_text[0].chunk_id, "A");
        assert!(close(only_text[0].score, 1.0 / 61.0));

        let vector = [vector_hit("X", 0.5)];
        let only_vector = fuse(&[], &vector, &FusionWeights::default(), 10);
        assert_eq!(only_vector[0].chunk_id, "X");
        assert_eq!(only_vector[0].vector_rank, Some(1));

        assert!(fuse(&[], &[], &FusionWeights::default(), 10).is_empty());
    }

    #[test]
    fn zero_vector_weight_keeps_text_order() {
        let text = [text_hit("A", 2.0), text_hit("B", 1.0)];
        let vector = [vector_hit("B", 0.9), vector_hit("A", 0.1)];
        let weights = FusionWeights {
            w_vector: 0.0,
            ..FusionWeights::default()
        };
        let fused = fuse(&text, &vector, &weights, 10);
        assert_eq!(fused[0].chunk_id, "A");
    }
}

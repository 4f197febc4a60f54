//! Nearest-phrasing similarity: for each FAQ entry, how close is its closest phrasing?
//!
//! The linear model generalises across phrasings; this complements it with memory: a query that
//! is nearly a verbatim copy of one phrasing should score well for that entry even when the
//! entry's other phrasings pull its weights elsewhere. Vectors are unit length, so the dot
//! product is the cosine similarity. An inverted index (column -> phrasings with a non-zero
//! there) means a query only touches the phrasings it shares a feature with.

use super::sparse::SparseVec;

/// Column-major (inverted) copy of the training vectors.
#[derive(Debug, Clone)]
pub(crate) struct PhrasingIndex {
    /// `offsets[f]..offsets[f + 1]` is the slice of `docs`/`weights` for column `f`.
    offsets: Vec<u32>,
    docs: Vec<u32>,
    weights: Vec<f32>,
    doc_class: Vec<u32>,
    n_classes: usize,
}

impl PhrasingIndex {
    pub fn build(xs: &[SparseVec], labels: &[u32], n_features: usize, n_classes: usize) -> Self {
        let mut counts = vec![0_u32; n_features + 1];
        for x in xs {
            for &f in x.indices() {
                if let Some(c) = counts.get_mut(f as usize + 1) {
                    *c += 1;
                }
            }
        }
        for f in 1..counts.len() {
            counts[f] += counts[f - 1];
        }
        let offsets = counts;
        let total = offsets.last().copied().unwrap_or(0) as usize;
        let mut fill: Vec<u32> = offsets.clone();
        let mut docs = vec![0_u32; total];
        let mut weights = vec![0.0_f32; total];
        for (d, x) in xs.iter().enumerate() {
            for (f, v) in x.iter() {
                if let Some(slot) = fill.get_mut(f) {
                    let at = *slot as usize;
                    docs[at] = d as u32;
                    weights[at] = v;
                    *slot += 1;
                }
            }
        }
        Self {
            offsets,
            docs,
            weights,
            doc_class: labels.to_vec(),
            n_classes,
        }
    }

    /// Writes, for every class, the highest cosine similarity between `x` and one of its
    /// phrasings into `out` (zero when none shares a feature). `scratch` is reused between calls.
    pub fn best_per_class(&self, x: &SparseVec, scratch: &mut Vec<f32>, out: &mut [f32]) {
        self.similarities(x, scratch);
        out.iter_mut().for_each(|o| *o = 0.0);
        for (sim, &class) in scratch.iter().zip(&self.doc_class) {
            if let Some(best) = out.get_mut(class as usize) {
                *best = best.max(*sim);
            }
        }
        debug_assert_eq!(out.len(), self.n_classes);
    }

    /// Writes, for every class, the share of the `k` phrasings most similar to `x` that belong
    /// to it, each weighted by its similarity (a soft k-nearest-neighbour vote, in `[0, 1]`,
    /// zero for classes without a phrasing among the `k`). Ties break on training order, so the
    /// vote is deterministic. Call after [`Self::best_per_class`] with the same `scratch` to
    /// reuse the similarities.
    pub fn vote_per_class(&self, scratch: &[f32], k: usize, out: &mut [f32]) {
        out.iter_mut().for_each(|o| *o = 0.0);
        if k == 0 {
            return;
        }
        let mut near: Vec<(f32, u32)> = scratch
            .iter()
            .enumerate()
            .filter(|&(_, &sim)| sim > 0.0)
            .map(|(d, &sim)| (sim, d as u32))
            .collect();
        let by_sim = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if near.len() > k {
            near.select_nth_unstable_by(k - 1, by_sim);
            near.truncate(k);
        }
        for (sim, d) in near {
            let class = self.doc_class.get(d as usize).copied().unwrap_or(u32::MAX);
            if let Some(o) = out.get_mut(class as usize) {
                *o += sim / k as f32;
            }
        }
    }

    /// Fills `scratch` with the cosine similarity of `x` to every phrasing.
    fn similarities(&self, x: &SparseVec, scratch: &mut Vec<f32>) {
        scratch.clear();
        scratch.resize(self.doc_class.len(), 0.0);
        for (f, v) in x.iter() {
            let (Some(&start), Some(&end)) = (self.offsets.get(f), self.offsets.get(f + 1)) else {
                continue;
            };
            let (start, end) = (start as usize, end as usize);
            for (d, w) in self.docs[start..end].iter().zip(&self.weights[start..end]) {
                scratch[*d as usize] += v * w;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_closest_phrasing_per_class() {
        let xs = vec![
            SparseVec::from_unsorted(vec![(0, 1.0)]),
            SparseVec::from_unsorted(vec![(1, 0.6), (2, 0.8)]),
            SparseVec::from_unsorted(vec![(2, 1.0)]),
        ];
        let index = PhrasingIndex::build(&xs, &[0, 1, 1], 3, 2);
        let mut out = [0.0; 2];
        let mut scratch = Vec::new();
        index.best_per_class(
            &SparseVec::from_unsorted(vec![(2, 1.0)]),
            &mut scratch,
            &mut out,
        );
        assert_eq!(out, [0.0, 1.0]);
        index.best_per_class(
            &SparseVec::from_unsorted(vec![(0, 1.0)]),
            &mut scratch,
            &mut out,
        );
        assert_eq!(out, [1.0, 0.0]);
    }

    #[test]
    fn votes_over_the_k_nearest_phrasings() {
        let xs = vec![
            SparseVec::from_unsorted(vec![(0, 1.0)]),
            SparseVec::from_unsorted(vec![(0, 0.8), (1, 0.6)]),
            SparseVec::from_unsorted(vec![(1, 1.0)]),
        ];
        let index = PhrasingIndex::build(&xs, &[0, 1, 1], 2, 2);
        let (mut best, mut vote, mut scratch) = ([0.0; 2], [0.0; 2], Vec::new());
        index.best_per_class(
            &SparseVec::from_unsorted(vec![(0, 1.0)]),
            &mut scratch,
            &mut best,
        );
        // Nearest two: phrasing 0 (sim 1.0, class 0) and phrasing 1 (sim 0.8, class 1).
        index.vote_per_class(&scratch, 2, &mut vote);
        assert!((vote[0] - 0.5).abs() < 1e-6 && (vote[1] - 0.4).abs() < 1e-6);
        index.vote_per_class(&scratch, 1, &mut vote);
        assert_eq!(vote, [1.0, 0.0]);
    }
}

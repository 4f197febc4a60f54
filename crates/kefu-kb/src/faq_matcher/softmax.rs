//! A second learned scorer: multinomial logistic (softmax) regression on the same features.
//!
//! The one-vs-rest SVMs each look at one entry against the rest and only care about the margin;
//! softmax regression trains all entries jointly to give the right one the most probability, so
//! it spreads its errors differently and blending the two ranks better than either alone (the
//! usual gain of a small ensemble of unlike models). It is trained by plain stochastic gradient
//! descent with L2 regularisation:
//!
//! - weights are stored as `scale × v` (Bottou's trick), so the L2 shrink of every weight is one
//!   multiplication of `scale` per step, and a step only touches the sample's non-zero features;
//! - the learning rate decays as `η₀ / (1 + η₀ λ t)`, the classic schedule for L2-regularised SGD;
//! - the sample order is shuffled with a seeded generator each epoch, and training is single
//!   threaded, so the model is bit-identical on every run;
//! - a class whose gradient factor `p_c − y_c` is negligible is skipped, which after the first
//!   epoch leaves only a handful of classes to update per sample.

use super::model::SplitMix64;
use super::sparse::SparseVec;

/// Settings for [`SoftmaxModel::train`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct SoftmaxParams {
    /// Passes over the data.
    pub epochs: usize,
    /// L2 regularisation strength λ (per sample).
    pub l2: f64,
    /// Initial learning rate η₀.
    pub learning_rate: f64,
    pub seed: u64,
}

/// Gradient factors below this are skipped: their update would not change any ranking.
const SKIP_BELOW: f32 = 1e-4;

/// When `scale` falls below this it is folded into the weights, to keep `v` in a sane range.
const RESCALE_BELOW: f64 = 1e-6;

/// Weights feature-major (`weights[f * n_classes + c]`), like [`super::model::LinearModel`].
#[derive(Debug, Clone)]
pub(crate) struct SoftmaxModel {
    n_classes: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl SoftmaxModel {
    /// Trains on `xs` with classes `labels` (each below `n_classes`).
    pub fn train(
        xs: &[SparseVec],
        labels: &[u32],
        n_features: usize,
        n_classes: usize,
        params: &SoftmaxParams,
    ) -> Self {
        let nc = n_classes;
        let mut v = vec![0.0_f32; n_features * nc];
        let mut bias = vec![0.0_f32; nc];
        let mut scale = 1.0_f64;
        let mut order: Vec<usize> = (0..xs.len()).collect();
        let mut rng = SplitMix64::new(params.seed ^ 0x736f_6674);
        let mut logits = vec![0.0_f32; nc];
        let mut t = 0.0_f64;
        for _ in 0..params.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let (Some(x), Some(&label)) = (xs.get(i), labels.get(i)) else {
                    continue;
                };
                let eta = params.learning_rate / (1.0 + params.learning_rate * params.l2 * t);
                t += 1.0;
                logits.copy_from_slice(&bias);
                let s = scale as f32;
                for (f, value) in x.iter() {
                    if let Some(row) = v.get(f * nc..(f + 1) * nc) {
                        let xv = value * s;
                        for (l, w) in logits.iter_mut().zip(row) {
                            *l += xv * w;
                        }
                    }
                }
                softmax_in_place(&mut logits);
                // Shrink first (w ← (1 − ηλ) w), then take the loss step on the shrunk weights.
                scale *= 1.0 - eta * params.l2;
                if scale < RESCALE_BELOW {
                    let s = scale as f32;
                    v.iter_mut().for_each(|w| *w *= s);
                    scale = 1.0;
                }
                let step = (eta / scale) as f32;
                let bias_step = eta as f32;
                for (c, p) in logits.iter().enumerate() {
                    let g = if c == label as usize { p - 1.0 } else { *p };
                    if g.abs() < SKIP_BELOW {
                        continue;
                    }
                    for (f, value) in x.iter() {
                        if let Some(w) = v.get_mut(f * nc + c) {
                            *w -= step * g * value;
                        }
                    }
                    if let Some(b) = bias.get_mut(c) {
                        *b -= bias_step * g;
                    }
                }
            }
        }
        let s = scale as f32;
        v.iter_mut().for_each(|w| *w *= s);
        Self {
            n_classes: nc,
            weights: v,
            bias,
        }
    }

    /// Writes the probability of every class for `x` into `out` (length `n_classes`).
    pub fn probabilities_into(&self, x: &SparseVec, out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        let nc = self.n_classes;
        for (f, value) in x.iter() {
            if let Some(row) = self.weights.get(f * nc..(f + 1) * nc) {
                for (o, w) in out.iter_mut().zip(row) {
                    *o += value * w;
                }
            }
        }
        softmax_in_place(out);
    }
}

/// Replaces logits by their softmax probabilities.
fn softmax_in_place(values: &mut [f32]) {
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0.0;
    for v in values.iter_mut() {
        *v = (*v - max).exp();
        total += *v;
    }
    if total > 0.0 {
        values.iter_mut().for_each(|v| *v /= total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(entries: &[(u32, f32)]) -> SparseVec {
        SparseVec::from_unsorted(entries.to_vec()).normalised()
    }

    #[test]
    fn learns_three_classes_and_gives_probabilities() {
        let xs = vec![
            v(&[(0, 1.0), (3, 0.3)]),
            v(&[(0, 1.0), (4, 0.3)]),
            v(&[(1, 1.0), (3, 0.3)]),
            v(&[(1, 1.0), (4, 0.3)]),
            v(&[(2, 1.0), (3, 0.3)]),
            v(&[(2, 1.0), (4, 0.3)]),
        ];
        let labels = [0, 0, 1, 1, 2, 2];
        let params = SoftmaxParams {
            epochs: 50,
            l2: 1e-4,
            learning_rate: 0.5,
            seed: 3,
        };
        let model = SoftmaxModel::train(&xs, &labels, 5, 3, &params);
        let mut p = [0.0; 3];
        for (x, &label) in xs.iter().zip(&labels) {
            model.probabilities_into(x, &mut p);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            assert_eq!(best, label as usize);
        }
        let again = SoftmaxModel::train(&xs, &labels, 5, 3, &params);
        assert_eq!(model.weights, again.weights);
    }
}

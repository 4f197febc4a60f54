//! The learned part of the matcher: one linear scorer per FAQ entry.
//!
//! Each entry gets a linear support vector machine separating its phrasings from all the others
//! (one-vs-rest), trained with L2 regularisation and the squared hinge loss by dual coordinate
//! descent (Hsieh, Chang, Lin, Keerthi, Sathiya 2008, "A Dual Coordinate Descent Method for
//! Large-scale Linear SVM"), the method behind liblinear's default solver. Why this shape:
//!
//! - with sparse TF-IDF features and ~100 phrasings per entry, linear SVMs are as accurate as
//!   anything cheap, and the dual method converges in a few passes over the data, so a
//!   knowledge base of 10k phrasings retrains in seconds;
//! - each entry's problem is independent, so entries train in parallel on scoped threads and the
//!   result does not depend on the thread count;
//! - the visiting order is shuffled with a seeded generator, so training is deterministic.
//!
//! The dual problem for one entry, with labels `y_i = ±1` and `D = 1 / (2C)`, is
//! `min_α ½ αᵀ(Q + D·I)α − Σα_i` subject to `α_i ≥ 0`, where `Q_ij = y_i y_j x_iᵀx_j`. The primal
//! weights `w = Σ α_i y_i x_i` are kept up to date, so each coordinate step costs one sparse dot
//! product. The intercept is learnt as the weight of a constant feature (as liblinear does), so
//! it is regularised too. Shrinking skips coordinates stuck at `α_i = 0` whose gradient says they
//! will stay there, which on one-vs-rest problems removes most negatives after a pass or two.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::sparse::SparseVec;

/// Solver settings for [`LinearModel::train_one_vs_rest`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct SvmParams {
    /// Inverse regularisation strength; larger fits the training phrasings more tightly.
    pub c: f64,
    /// Stop when the projected-gradient spread falls below this (liblinear's `-e`).
    pub epsilon: f64,
    /// Upper bound on passes over the data per entry.
    pub max_epochs: usize,
    pub seed: u64,
    /// Worker threads; `0` means one per available core.
    pub threads: usize,
}

/// Value of the constant feature that carries the intercept (liblinear's `-B 1`). Tried 0.3
/// and 3 on BANKING77 cross-validation: no better.
const BIAS_FEATURE: f64 = 1.0;

/// One weight vector and intercept per class, stored feature-major (`weights[f * n_classes + c]`)
/// so that scoring a sparse query touches contiguous memory per feature.
#[derive(Debug, Clone)]
pub(crate) struct LinearModel {
    n_classes: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl LinearModel {
    /// Trains one binary SVM per class; `labels[i]` is the class of `xs[i]`.
    pub fn train_one_vs_rest(
        xs: &[SparseVec],
        labels: &[u32],
        n_features: usize,
        n_classes: usize,
        params: &SvmParams,
    ) -> Self {
        let squared_norms: Vec<f64> = xs.iter().map(|x| f64::from(x.squared_norm())).collect();
        let problem = Problem {
            xs,
            labels,
            squared_norms: &squared_norms,
            n_features,
        };

        let threads = if params.threads == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            params.threads
        }
        .clamp(1, n_classes.max(1));

        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, Vec<f64>, f64)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        let class = next.fetch_add(1, Ordering::Relaxed);
                        if class >= n_classes {
                            break;
                        }
                        let (w, b) = problem.train_binary(class as u32, params);
                        // A poisoned lock only means another worker panicked; the data is intact.
                        let mut guard = results.lock().unwrap_or_else(|e| e.into_inner());
                        guard.push((class, w, b));
                    }
                });
            }
        });

        let mut weights = vec![0.0_f32; n_features * n_classes];
        let mut bias = vec![0.0_f32; n_classes];
        for (class, w, b) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
            for (f, &v) in w.iter().enumerate() {
                weights[f * n_classes + class] = v as f32;
            }
            bias[class] = b as f32;
        }
        Self {
            n_classes,
            weights,
            bias,
        }
    }

    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Writes the decision value of every class for `x` into `out` (length `n_classes`).
    pub fn scores_into(&self, x: &SparseVec, out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        for (f, v) in x.iter() {
            let start = f * self.n_classes;
            if let Some(row) = self.weights.get(start..start + self.n_classes) {
                for (o, w) in out.iter_mut().zip(row) {
                    *o += v * w;
                }
            }
        }
    }
}

struct Problem<'a> {
    xs: &'a [SparseVec],
    labels: &'a [u32],
    squared_norms: &'a [f64],
    n_features: usize,
}

impl Problem<'_> {
    /// Dual coordinate descent with shrinking for class `class` against the rest.
    fn train_binary(&self, class: u32, params: &SvmParams) -> (Vec<f64>, f64) {
        let l = self.xs.len();
        // The squared hinge puts 1/(2C) on the diagonal and leaves alpha unbounded above; the
        // plain hinge (no diagonal, alpha <= C) was 0.5-1 point worse in cross-validation.
        let diag = 0.5 / params.c;
        let bias = BIAS_FEATURE;
        let y: Vec<f64> = self
            .labels
            .iter()
            .map(|&label| if label == class { 1.0 } else { -1.0 })
            .collect();
        let mut alpha = vec![0.0_f64; l];
        let mut w = vec![0.0_f64; self.n_features];
        let mut b = 0.0_f64;
        let mut index: Vec<usize> = (0..l).collect();
        let mut active = l;
        let mut rng = SplitMix64::new(params.seed ^ (u64::from(class) << 32));
        let mut pg_max_old = f64::INFINITY;

        let mut epoch = 0;
        while epoch < params.max_epochs {
            let mut pg_max_new = f64::NEG_INFINITY;
            let mut pg_min_new = f64::INFINITY;
            rng.shuffle(&mut index[..active]);

            let mut s = 0;
            while s < active {
                let i = index[s];
                let x = &self.xs[i];
                let yi = y[i];
                let g = yi * (x.dot_dense(&w) + b * bias) - 1.0 + diag * alpha[i];

                let mut pg = 0.0;
                if alpha[i] == 0.0 {
                    if g > pg_max_old {
                        // At the lower bound with the gradient pushing outwards: shrink it away.
                        active -= 1;
                        index.swap(s, active);
                        continue;
                    } else if g < 0.0 {
                        pg = g;
                    }
                } else {
                    pg = g;
                }
                pg_max_new = pg_max_new.max(pg);
                pg_min_new = pg_min_new.min(pg);

                if pg.abs() > 1e-12 {
                    let old = alpha[i];
                    let q_ii = self.squared_norms[i] + bias * bias + diag;
                    alpha[i] = (old - g / q_ii).max(0.0);
                    let delta = (alpha[i] - old) * yi;
                    x.add_scaled_to(&mut w, delta);
                    b += delta * bias;
                }
                s += 1;
            }
            epoch += 1;

            if pg_max_new - pg_min_new <= params.epsilon {
                if active == l {
                    break;
                }
                // Converged on the active set: check once more against every coordinate.
                active = l;
                pg_max_old = f64::INFINITY;
                continue;
            }
            // Without an upper bound on alpha only the lower-bound shrinking test is needed.
            pg_max_old = if pg_max_new <= 0.0 {
                f64::INFINITY
            } else {
                pg_max_new
            };
        }
        // The model scores with weight `b * bias` on a constant-1 input.
        (w, b * bias)
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, good enough for shuffling and
/// stable across platforms and releases, unlike anything seeded from the OS.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(entries: &[(u32, f32)]) -> SparseVec {
        SparseVec::from_unsorted(entries.to_vec()).normalised()
    }

    #[test]
    fn separates_three_linearly_separable_classes() {
        let xs = vec![
            v(&[(0, 1.0)]),
            v(&[(0, 1.0), (3, 0.2)]),
            v(&[(1, 1.0)]),
            v(&[(1, 1.0), (3, 0.2)]),
            v(&[(2, 1.0)]),
            v(&[(2, 1.0), (3, 0.2)]),
        ];
        let labels = [0, 0, 1, 1, 2, 2];
        let params = SvmParams {
            c: 1.0,
            epsilon: 0.01,
            max_epochs: 200,
            seed: 7,
            threads: 2,
        };
        let model = LinearModel::train_one_vs_rest(&xs, &labels, 4, 3, &params);
        let mut out = [0.0; 3];
        for (x, &label) in xs.iter().zip(&labels) {
            model.scores_into(x, &mut out);
            let best = (0..3).max_by(|&a, &b| out[a].total_cmp(&out[b])).unwrap();
            assert_eq!(best, label as usize);
            assert!(out[label as usize] > 0.0);
        }
    }

    #[test]
    fn thread_count_does_not_change_the_model() {
        let xs: Vec<SparseVec> = (0..30)
            .map(|i| v(&[(i % 5, 1.0), ((i * 7) % 11 + 5, 0.5)]))
            .collect();
        let labels: Vec<u32> = (0..30).map(|i| i % 5).collect();
        let mut params = SvmParams {
            c: 0.5,
            epsilon: 0.1,
            max_epochs: 50,
            seed: 1,
            threads: 1,
        };
        let one = LinearModel::train_one_vs_rest(&xs, &labels, 16, 5, &params);
        params.threads = 3;
        let three = LinearModel::train_one_vs_rest(&xs, &labels, 16, 5, &params);
        assert_eq!(one.weights, three.weights);
        assert_eq!(one.bias, three.bias);
    }

    #[test]
    fn shuffle_is_seeded() {
        let mut a: Vec<u32> = (0..20).collect();
        let mut b = a.clone();
        SplitMix64::new(3).shuffle(&mut a);
        SplitMix64::new(3).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..20).collect::<Vec<_>>());
    }
}

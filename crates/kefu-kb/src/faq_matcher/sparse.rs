//! A minimal sparse vector, the only linear-algebra type the matcher needs.
//!
//! Feature vectors have a few hundred non-zeros out of a vocabulary of tens of thousands, so
//! they are stored as sorted `(column, value)` pairs; model weights are dense slices and the one
//! hot operation is the sparse-dense dot product.

/// A sparse vector of `f32` values with strictly increasing column indices.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SparseVec {
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl SparseVec {
    /// Builds a vector from entries in any order; entries with the same column are summed.
    pub fn from_unsorted(mut entries: Vec<(u32, f32)>) -> Self {
        entries.sort_unstable_by_key(|&(i, _)| i);
        let mut indices: Vec<u32> = Vec::with_capacity(entries.len());
        let mut values: Vec<f32> = Vec::with_capacity(entries.len());
        for (i, v) in entries {
            if indices.last() == Some(&i) {
                if let Some(last) = values.last_mut() {
                    *last += v;
                }
            } else {
                indices.push(i);
                values.push(v);
            }
        }
        Self { indices, values }
    }

    /// Returns the vector scaled to unit L2 length (unchanged if it is all zeros).
    pub fn normalised(mut self) -> Self {
        let norm = self.squared_norm().sqrt();
        if norm > 0.0 {
            for v in &mut self.values {
                *v /= norm;
            }
        }
        self
    }

    /// Appends the dense vector `dense` (scaled to length `weight`) as columns
    /// `offset..offset + dense.len()` and returns the result at unit length. All of `self`'s
    /// columns must lie below `offset`. A zero or non-finite `dense` adds nothing.
    pub fn with_dense_block(mut self, offset: u32, dense: &[f32], weight: f32) -> Self {
        let norm = dense.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm.is_finite() && norm > 0.0 && weight > 0.0 {
            let scale = weight / norm;
            for (i, &v) in dense.iter().enumerate() {
                if v != 0.0 {
                    self.indices.push(offset + i as u32);
                    self.values.push(v * scale);
                }
            }
        }
        self.normalised()
    }

    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    #[cfg(test)]
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.indices
            .iter()
            .zip(&self.values)
            .map(|(&i, &v)| (i as usize, v))
    }

    pub fn squared_norm(&self) -> f32 {
        self.values.iter().map(|v| v * v).sum()
    }

    /// Dot product with a dense vector; columns beyond `dense.len()` count as zero.
    pub fn dot_dense(&self, dense: &[f64]) -> f64 {
        self.iter()
            .map(|(i, v)| dense.get(i).map_or(0.0, |w| w * f64::from(v)))
            .sum()
    }

    /// `dense += scale * self`, ignoring columns beyond `dense.len()`.
    pub fn add_scaled_to(&self, dense: &mut [f64], scale: f64) {
        for (i, v) in self.iter() {
            if let Some(w) = dense.get_mut(i) {
                *w += scale * f64::from(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_sorts_entries() {
        let v = SparseVec::from_unsorted(vec![(3, 1.0), (1, 2.0), (3, 0.5)]);
        assert_eq!(v.indices(), &[1, 3]);
        assert_eq!(v.values(), &[2.0, 1.5]);
    }

    #[test]
    fn dense_block_is_appended_after_the_sparse_columns() {
        let v = SparseVec::from_unsorted(vec![(1, 1.0)]).with_dense_block(5, &[0.0, 3.0], 1.0);
        assert_eq!(v.indices(), &[1, 6]);
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!((v.values()[0] - h).abs() < 1e-6 && (v.values()[1] - h).abs() < 1e-6);
        let none = SparseVec::from_unsorted(vec![(1, 2.0)]).with_dense_block(5, &[0.0], 1.0);
        assert_eq!(none.indices(), &[1]);
    }

    #[test]
    fn dot_and_axpy() {
        let v = SparseVec::from_unsorted(vec![(0, 3.0), (2, 4.0)]).normalised();
        let mut w = vec![1.0, 5.0, 1.0];
        assert!((v.dot_dense(&w) - 1.4).abs() < 1e-6);
        v.add_scaled_to(&mut w, 2.0);
        assert!((w[0] - 2.2).abs() < 1e-6 && (w[1] - 5.0).abs() < 1e-12);
    }
}

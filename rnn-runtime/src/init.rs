//! Keras' default initializers, drawn from a seeded generator.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Not yet converted to checked forms (issue 12): indices and sizes here derive \
              from tensors whose shapes were checked on entry and whose lengths \
              `size::checked_len` bounded"
)]

use nalgebra::DMatrix;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// The random generator every initializer and dropout mask draws from: xoshiro256++, whose
/// output is fixed by its specification, so a seed gives the same weights on every platform.
pub type Rng = Xoshiro256PlusPlus;

/// A generator seeded with `seed`: the same seed gives the same weights.
///
/// ```
/// use rand::RngExt;
/// let a: f32 = rnn_runtime::seeded_rng(7).random();
/// let b: f32 = rnn_runtime::seeded_rng(7).random();
/// assert_eq!(a, b);
/// ```
pub fn seeded_rng(seed: u64) -> Rng {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// `uniform(-limit, limit)` samples.
pub(crate) fn uniform(len: usize, limit: f32, rng: &mut Rng) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-limit..=limit)).collect()
}

/// Keras `GlorotUniform` for a kernel of shape `(fan_in, fan_out)`.
pub(crate) fn glorot_uniform(fan_in: usize, fan_out: usize, rng: &mut Rng) -> Vec<f32> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
    uniform(fan_in * fan_out, limit, rng)
}

/// Keras `Orthogonal(gain = 1)` for a `(rows, cols)` matrix, row-major.
///
/// As in Keras: QR of a normal matrix of shape `(max, min)`, the sign of `diag(R)` folded into
/// `Q` so the result is uniformly distributed, transposed when there are fewer rows than
/// columns (a recurrent kernel `(H, 4H)` then has orthonormal rows).
pub(crate) fn orthogonal(rows: usize, cols: usize, rng: &mut Rng) -> Vec<f32> {
    let (big, small) = (rows.max(cols), rows.min(cols));
    let a = DMatrix::<f64>::from_fn(big, small, |_, _| StandardNormal.sample(rng));
    let qr = a.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for j in 0..small {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    // q is (big, small); the result is q when rows >= cols, else q^T.
    let mut out = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        for j in 0..cols {
            let v = if rows >= cols { q[(i, j)] } else { q[(j, i)] };
            out.push(v as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_rows_or_columns_are_orthonormal() {
        let mut rng = seeded_rng(3);
        for (rows, cols) in [(4, 16), (16, 4), (5, 5)] {
            let w = orthogonal(rows, cols, &mut rng);
            let m = DMatrix::from_row_slice(rows, cols, &w).map(|v| v as f64);
            let gram = if rows <= cols {
                &m * m.transpose()
            } else {
                m.transpose() * &m
            };
            let n = rows.min(cols);
            assert!((gram - DMatrix::identity(n, n)).abs().max() < 1e-5);
        }
    }

    #[test]
    fn glorot_respects_its_limit_and_seed() {
        let w = glorot_uniform(10, 30, &mut seeded_rng(1));
        let limit = (6.0f32 / 40.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= limit));
        assert!(w.iter().any(|v| v.abs() > limit * 0.9));
        assert_eq!(w, glorot_uniform(10, 30, &mut seeded_rng(1)));
    }
}

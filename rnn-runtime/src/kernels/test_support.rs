//! What the kernels' tests share: seeded matrices, a transpose, the odd sizes every kernel is
//! checked at, and the tolerance of a product of `k` terms against its `f64` sum.

/// Odd sizes (one, below and above a vector, and past a cache line of panels); Miri, which
/// interprets every instruction, checks the small ones.
pub(crate) const SIZES: &[usize] = if cfg!(miri) {
    &[1, 7, 33]
} else {
    &[1, 7, 33, 257]
};

/// `len` values in `[-1, 1)`, different for each `seed`.
pub(crate) fn data(len: usize, seed: u32) -> Vec<f32> {
    (0..len)
        .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
        .collect()
}

/// The transpose of a row-major `r x c` matrix.
pub(crate) fn transpose(x: &[f32], r: usize, c: usize) -> Vec<f32> {
    let mut t = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            t[j * r + i] = x[i * c + j];
        }
    }
    t
}

/// Whether `got`, an `f32` sum of `k` products, is `want` (the sum in `f64`) up to `f32`'s
/// rounding, which grows with the square root of `k`.
pub(crate) fn near(got: f64, want: f64, k: usize) -> bool {
    (got - want).abs() <= 1e-5 * (1.0 + k as f64).sqrt() * (1.0 + want.abs())
}

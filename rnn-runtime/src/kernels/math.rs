//! Vectorisable `exp`, `sigmoid` and `tanh` for `f32` slices.
//!
//! libm's `expf`/`tanhf` are scalar calls, so a loop over a gate buffer that uses them cannot be
//! vectorised; these versions use only arithmetic, comparisons and bit operations, which the
//! compiler turns into SIMD code. Their error against the float64 functions is measured by
//! the tests below: under 2 ulp for `exp`, under 3e-7 relative for `sigmoid` and `tanh`.

#![allow(
    clippy::arithmetic_side_effects,
    reason = "Hot loops over buffers whose bounds `MatRef::check`, `gemm` and `gemm_packed` \
              assert at entry with checked arithmetic: every index stays below those bounds"
)]

use multiversion::multiversion;

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split into a part exact in f32 and a correction (Cody-Waite reduction).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Adding then subtracting 1.5 * 2^23 rounds an f32 of magnitude < 2^22 to an integer.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// `e^x`, for `x` clamped to `[-87.3, 88.37]` (the range where the result is a normal f32).
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.37);
    let shifted = x * LOG2E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    // The integer n sits in the low mantissa bits of `shifted`.
    let ni = shifted.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()) as i32;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Minimax polynomial for e^r on [-ln2/2, ln2/2] (Cephes expf).
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    let scale = f32::from_bits(((ni + 127) as u32) << 23);
    er * scale
}

/// `1 / (1 + e^-x)`.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x)`: an odd polynomial near 0, where `1 - 2 / (e^2x + 1)` would cancel, and the
/// exponential form elsewhere.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let ax = x.abs();
    let z = x * x;
    // Cephes tanhf polynomial for |x| < 0.625.
    let mut p = -5.704_988_7e-3f32;
    p = p * z + 2.063_909e-2;
    p = p * z - 5.373_971_6e-2;
    p = p * z + 1.333_144_2e-1;
    p = p * z - 3.333_328e-1;
    let small = p * z * x + x;
    let e = exp(2.0 * ax);
    let large = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    if ax < 0.625 { small } else { large }
}

/// Applies `sigmoid` to every element.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn sigmoid_slice(xs: &mut [f32]) {
    for x in xs {
        *x = sigmoid(*x);
    }
}

/// Applies `tanh` to every element.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn tanh_slice(xs: &mut [f32]) {
    for x in xs {
        *x = tanh(*x);
    }
}

/// `dy[i] *= y[i] * (1 - y[i])`: the gradient through `sigmoid`, given its outputs `y`.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn sigmoid_grad_slice(y: &[f32], dy: &mut [f32]) {
    for (d, &y) in dy.iter_mut().zip(y) {
        *d *= y * (1.0 - y);
    }
}

/// `dy[i] *= 1 - y[i]^2`: the gradient through `tanh`, given its outputs `y`.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn tanh_grad_slice(y: &[f32], dy: &mut [f32]) {
    for (d, &y) in dy.iter_mut().zip(y) {
        *d *= 1.0 - y * y;
    }
}

/// `x[i] = e^(x[i] - shift)`, returning the sum of the results.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn exp_shifted_sum(xs: &mut [f32], shift: f32) -> f32 {
    let mut sum = 0.0;
    for x in xs {
        *x = exp(*x - shift);
        sum += *x;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::SIZES;

    /// Every 1e-4 over [-20, 20]; under Miri, which interprets every instruction, every
    /// 997th of those points (about 400, the same range).
    fn grid() -> impl Iterator<Item = f32> {
        let step = if cfg!(miri) { 997 } else { 1 };
        (-200_000..=200_000).step_by(step).map(|i| i as f32 * 1e-4)
    }

    #[test]
    fn exp_is_within_two_ulp() {
        for x in grid().chain([-87.0, -50.0, 30.0, 88.0]) {
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            let rel = ((got - want) / want).abs();
            assert!(rel < 2.5e-7, "exp({x}) = {got}, want {want}, rel {rel}");
        }
    }

    #[test]
    fn sigmoid_and_tanh_are_within_3e7_relative() {
        for x in grid().chain([1e-6, -1e-6, 1e-30, 0.0, 40.0, -40.0, 100.0, -100.0]) {
            let xd = x as f64;
            let want_s = 1.0 / (1.0 + (-xd).exp());
            let got_s = sigmoid(x) as f64;
            assert!(
                (got_s - want_s).abs() <= 3e-7 * want_s.abs() + 1e-30,
                "sigmoid({x}) = {got_s}, want {want_s}"
            );
            let want_t = xd.tanh();
            let got_t = tanh(x) as f64;
            assert!(
                (got_t - want_t).abs() <= 3e-7 * want_t.abs() + 1e-37,
                "tanh({x}) = {got_t}, want {want_t}"
            );
        }
    }

    #[test]
    fn activation_gradients_match_the_plain_loop_at_odd_sizes() {
        for &n in SIZES {
            let y: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.37).sin()).collect();
            let dy: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.71).cos()).collect();
            let (mut ds, mut dt) = (dy.clone(), dy.clone());
            sigmoid_grad_slice(&y, &mut ds);
            tanh_grad_slice(&y, &mut dt);
            for i in 0..n {
                assert_eq!(ds[i].to_bits(), (dy[i] * (y[i] * (1.0 - y[i]))).to_bits());
                assert_eq!(dt[i].to_bits(), (dy[i] * (1.0 - y[i] * y[i])).to_bits());
            }
        }
    }

    #[test]
    fn saturates_without_nan() {
        for x in [f32::MAX, -f32::MAX, 1e10, -1e10] {
            assert!(sigmoid(x).is_finite() && tanh(x).is_finite());
        }
        assert_eq!(tanh(50.0), 1.0);
        assert_eq!(sigmoid(100.0), 1.0);
    }
}

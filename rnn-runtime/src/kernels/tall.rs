//! Products of a tall left matrix, read in place, with a small right one: a recurrent layer's
//! products over every time step at once, its input projection `X W` (rows `T * B`, columns
//! `G * H`) and its input gradient `dZ W^T`.
//!
//! SGEMM packs both operands on every call, and here the left one is the large one: for
//! `dZ W^T` with 16 input features (`T4`'s first LSTM) packing `dZ` costs more than the
//! product. Packing only the small right matrix, once per call, and running the packed kernel
//! over the left one's rows in place removes that copy (a third of `T4`'s SGEMM time on one
//! thread, measured with `perf`), and the threads split the kernel's panels or rows without
//! each packing the left matrix again.

#![allow(
    clippy::arithmetic_side_effects,
    reason = "Sizes of buffers that `MatRef::check` and `gemm_packed` bound at entry"
)]

use super::gemm::MatRef;
use super::packed::{Packed, gemm_packed, plain_strips};

/// `C += A B` with `A` row-major `(m, k)` and contiguous, `B` any view and `C` row-major
/// `(m, n)` with leading dimension `ldc`: `B` is packed for this call, `A` read in place.
///
/// # Panics
/// On inconsistent dimensions: internal invariants, never user input.
pub(crate) fn gemm_tall(a: &[f32], m: usize, b: MatRef<'_>, c: &mut [f32], ldc: usize) {
    let mut packed = Packed::default();
    // One row reads each weight once anyway: `gemm_packed` hands it to the matrix-vector
    // kernel on the unpacked view.
    if m > 1 {
        packed.pack(b, plain_strips(b.cols()));
    }
    gemm_packed(a, m, b, &packed, c, ldc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gemm::tests::{data, transpose};

    #[test]
    fn matches_the_plain_loop_at_odd_sizes() {
        // Miri, which interprets every instruction, checks the sizes below 257.
        let small = |d: usize| !cfg!(miri) || d < 257;
        for m in [1, 7, 33, 257, 1000].into_iter().filter(|&m| small(m)) {
            for (k, n) in [(1, 1), (7, 7), (33, 33), (16, 256), (128, 128), (257, 16)]
                .into_iter()
                .filter(|&(k, n)| small(k) && small(n))
            {
                let (a, b) = (data(m * k, 1), data(k * n, 2));
                let bt = transpose(&b, k, n);
                let ldc = n + 1;
                let c0 = data(m * ldc, 3);
                for view in [MatRef::new(&b, k, n), MatRef::new(&bt, n, k).t()] {
                    let mut got = c0.clone();
                    gemm_tall(&a, m, view, &mut got, ldc);
                    for i in 0..m {
                        for j in 0..n {
                            let s: f64 = (0..k)
                                .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                                .sum();
                            let want = f64::from(c0[i * ldc + j]) + s;
                            let g = f64::from(got[i * ldc + j]);
                            let tol = 1e-5 * (1.0 + k as f64).sqrt() * (1.0 + want.abs());
                            assert!(
                                (g - want).abs() <= tol,
                                "{m}x{k}x{n} at ({i}, {j}): {g} vs {want}"
                            );
                        }
                    }
                    // The padding between rows is left alone.
                    for i in 0..m {
                        assert_eq!(got[i * ldc + n], c0[i * ldc + n]);
                    }
                }
            }
        }
    }
}

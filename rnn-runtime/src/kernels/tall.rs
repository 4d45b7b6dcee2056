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
    clippy::indexing_slicing,
    reason = "Sizes of buffers that `MatRef::check`, `gemm_packed` and `gemm_tall_bias` bound \
              at entry: rows of `C` hold at least `n` values, the bias exactly `n`, and a \
              tile's columns end at or before `n`"
)]

use super::gemm::MatRef;
use super::packed::{NR, Output, Packed, WriteBack, gemm_packed, plain_strips, product};

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

/// `C = A B + bias` (every row of `C` gets `bias`, `n` values; no bias is zeros), with the
/// operands of [`gemm_tall`]: the bias is added as each tile is written, not in a pass of its
/// own over `C` before the product (which cost as much as the product's write-back). The
/// result has the bits of `C = bias` followed by `C += A B`.
///
/// # Panics
/// On inconsistent dimensions: internal invariants, never user input.
pub(crate) fn gemm_tall_bias(
    a: &[f32],
    m: usize,
    b: MatRef<'_>,
    bias: Option<&[f32]>,
    c: &mut [f32],
    ldc: usize,
) {
    let (k, n) = (b.rows(), b.cols());
    assert!(bias.is_none_or(|b| b.len() == n), "one bias per column");
    if m < 2 || k == 0 || n == 0 {
        for row in c.chunks_mut(ldc).take(m) {
            match bias {
                Some(bias) => row[..n].copy_from_slice(bias),
                None => row[..n].fill(0.0),
            }
        }
        return gemm_tall(a, m, b, c, ldc);
    }
    let mut packed = Packed::default();
    packed.pack(b, plain_strips(n));
    gemm_packed_bias(a, m, b, &packed, bias, c, ldc);
}

/// [`gemm_tall_bias`] with `b` already in `packed`, packed as [`plain_strips`] splits its
/// columns: for a caller that multiplies by the same matrix block after block (an inference
/// pass projecting its input a few steps at a time). A row's result does not depend on the
/// other rows: blocks of rows give the bits of [`gemm_tall_bias`] over all of them (two
/// rows or more; one row alone goes to the matrix-vector kernel there).
///
/// # Panics
/// On inconsistent dimensions: internal invariants, never user input.
pub(crate) fn gemm_packed_bias(
    a: &[f32],
    m: usize,
    b: MatRef<'_>,
    packed: &Packed,
    bias: Option<&[f32]>,
    c: &mut [f32],
    ldc: usize,
) {
    let (k, n) = (b.rows(), b.cols());
    assert!(bias.is_none_or(|b| b.len() == n), "one bias per column");
    if m == 0 || k == 0 || n == 0 {
        return gemm_tall_bias(a, m, b, bias, c, ldc);
    }
    assert!(packed.holds(k, n), "the matrix is packed");
    let strips = plain_strips(n);
    let wb = SetWithBias {
        out: Output::new(c, m, n, ldc, n / strips),
        bias,
    };
    match strips {
        4 => product::<4, _>(a, m, packed, &wb),
        _ => product::<1, _>(a, m, packed, &wb),
    }
}

/// The write-back of [`gemm_tall_bias`]: `C = bias + tile`.
struct SetWithBias<'a> {
    out: Output,
    bias: Option<&'a [f32]>,
}

impl<const G: usize> WriteBack<G> for SetWithBias<'_> {
    #[inline(always)]
    fn prefetch(&self, row0: usize, rows: usize, j0: usize) {
        self.out.prefetch::<G>(row0, rows, j0);
    }

    #[inline(always)]
    unsafe fn tile(&self, row0: usize, j0: usize, cols: usize, acc: &mut [[[f32; NR]; G]]) {
        // SAFETY: `Output::new` checked that `C` holds every row and column of the
        // product; this `(row0, j0)` tile is this call's own (the trait's contract).
        unsafe {
            self.out
                .store(row0, j0, cols, acc, |out, acc, col| match self.bias {
                    Some(bias) => {
                        for ((o, v), b) in out.iter_mut().zip(acc).zip(&bias[col..col + cols]) {
                            *o = b + v;
                        }
                    }
                    None => {
                        for (o, v) in out.iter_mut().zip(acc) {
                            *o = 0.0 + v;
                        }
                    }
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::{data, near, transpose};

    #[test]
    fn matches_the_plain_loop_at_odd_sizes() {
        // Miri, which interprets every instruction, checks the sizes up to 64: they reach every
        // path (one strip and four, partial tiles of rows and columns); the larger ones only
        // repeat them, and took Miri over 40 minutes.
        let small = |d: usize| !cfg!(miri) || d <= 64;
        for m in [1, 7, 33, 257, 1000].into_iter().filter(|&m| small(m)) {
            for (k, n) in [
                (1, 1),
                (7, 7),
                (33, 33),
                (7, 64),
                (16, 256),
                (128, 128),
                (257, 16),
            ]
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
                            assert!(near(g, want, k), "{m}x{k}x{n} at ({i}, {j}): {g} vs {want}");
                        }
                    }
                    // The padding between rows is left alone.
                    for i in 0..m {
                        assert_eq!(got[i * ldc + n], c0[i * ldc + n]);
                    }
                    // With a bias: the bits of filling the bias in, then adding the product.
                    let bias = data(n, 4);
                    for bias in [Some(&bias[..]), None] {
                        let mut want = c0.clone();
                        for row in want.chunks_mut(ldc) {
                            row[..n].copy_from_slice(bias.unwrap_or(&vec![0.0; n]));
                        }
                        gemm_tall(&a, m, view, &mut want, ldc);
                        let mut got = vec![f32::NAN; m * ldc];
                        gemm_tall_bias(&a, m, view, bias, &mut got, ldc);
                        for i in 0..m {
                            let (w, g) = (&want[i * ldc..i * ldc + n], &got[i * ldc..i * ldc + n]);
                            assert!(
                                w.iter().zip(g).all(|(w, g)| w.to_bits() == g.to_bits()),
                                "{m}x{k}x{n} row {i}: {g:?} vs {w:?}"
                            );
                        }
                        // In blocks of rows (one row, then the rest) over one packing.
                        if m < 2 {
                            continue;
                        }
                        let mut packed = Packed::default();
                        packed.pack(view, plain_strips(n));
                        let mut blocks = vec![f32::NAN; m * ldc];
                        let (top, rest) = blocks.split_at_mut(ldc);
                        gemm_packed_bias(&a[..k], 1, view, &packed, bias, top, ldc);
                        gemm_packed_bias(&a[k..], m - 1, view, &packed, bias, rest, ldc);
                        for i in 0..m {
                            let at = i * ldc..i * ldc + n;
                            let (w, g) = (&got[at.clone()], &blocks[at]);
                            assert!(
                                w.iter().zip(g).all(|(w, g)| w.to_bits() == g.to_bits()),
                                "{m}x{k}x{n} row {i} in blocks: {g:?} vs {w:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

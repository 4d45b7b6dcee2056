//! The matrix-vector product of batch 1: `y += alpha * x W` for one row `x` and a row-major
//! matrix `W`, as in batch-1 inference and generation, where every step multiplies one state
//! row by each weight matrix.
//!
//! Such a product does two flops per weight loaded, so its speed is that of reading `W`: the
//! kernel reads every weight exactly once, front to back in the matrix's own layout (no
//! packing), folding four rows into `y` per sweep so that `y` stays in the first-level cache,
//! and skips the rows of `W` whose input is zero (a one-hot character, a ReLU output), which
//! changes no result for finite weights; up to 128 outputs stay in registers instead. (Blocks of
//! 128 columns of a wider matrix read each row in short pieces a page apart; measured side by
//! side they were no faster once `W` leaves the second-level cache.) On x86-64 with AVX-512 a sweep goes sixteen columns at a time with masked loads
//! for the last ones; elsewhere a portable version of the same loop is compiled for the best
//! instruction set found at run time.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Hot loops over buffers whose bounds the entry points check with checked \
              arithmetic (see the `# Safety`/`# Panics` sections): every index stays below them"
)]
use std::ops::Range;
use std::sync::OnceLock;

use multiversion::multiversion;

use super::gemm::CPtr;
use super::pool::split_columns;

/// Rows of `W` folded into `y` per sweep over it: `y` is read and written once for every
/// `ROWS` rows, while the rows themselves are read front to back, so every stream is
/// sequential and the hardware prefetchers keep ahead of it.
const ROWS: usize = 4;

/// `y += alpha * x W`, with `x[i] = xs[i * x_stride]` for `i < k`, `W` row-major `(k, y.len())`
/// with rows `ldw` apart. Large products split their columns between threads.
///
/// # Panics
/// When `x` or `w` are shorter than the sizes imply: internal invariants, never user input.
pub(crate) fn gemv(
    alpha: f32,
    xs: &[f32],
    x_stride: usize,
    k: usize,
    w: &[f32],
    ldw: usize,
    y: &mut [f32],
) {
    let n = y.len();
    if n == 0 || k == 0 {
        return;
    }
    assert!(
        (k - 1) * x_stride < xs.len() && ldw >= n && (k - 1) * ldw + n <= w.len(),
        "matrix-vector operands exceed their buffers"
    );
    let x = X {
        data: xs,
        stride: x_stride,
        k,
        alpha,
    };
    let out = CPtr(y.as_mut_ptr());
    let kernel = kernel();
    let run = |cols: Range<usize>| {
        let out: CPtr = out;
        // SAFETY: `cols` lies within `0..n`, `y` holds `n` elements and each call writes only
        // its own columns; the assertion above keeps every read of `w` and `x` in bounds.
        let y = unsafe { std::slice::from_raw_parts_mut(out.0.add(cols.start), cols.len()) };
        kernel(&x, &w[cols.start..], ldw, y);
    };
    split_columns(n, k, &run);
}

/// The input row and scale of a product.
struct X<'a> {
    data: &'a [f32],
    stride: usize,
    k: usize,
    alpha: f32,
}

impl X<'_> {
    fn at(&self, i: usize) -> f32 {
        self.alpha * self.data[i * self.stride]
    }
}

type Kernel = fn(&X<'_>, &[f32], usize, &mut [f32]);

/// The kernel for this CPU, chosen once.
fn kernel() -> Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    *KERNEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            return avx512::gemv;
        }
        portable
    })
}

/// Calls `sweep` on the non-zero inputs in groups of [`ROWS`] `(row, value)` pairs (the last
/// group shorter), so that zero inputs (one-hot rows, ReLU zeros) cost no reads of `W`.
#[inline(always)]
fn nonzero_groups(x: &X<'_>, mut sweep: impl FnMut(&[(usize, f32)])) {
    let mut group = [(0usize, 0.0f32); ROWS];
    let mut len = 0;
    for i in 0..x.k {
        let xi = x.at(i);
        if xi == 0.0 {
            continue;
        }
        group[len] = (i, xi);
        len += 1;
        if len == ROWS {
            sweep(&group);
            len = 0;
        }
    }
    if len > 0 {
        sweep(&group[..len]);
    }
}

/// The portable kernel, vectorised by the compiler for the instruction set found at run time.
#[multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn portable(x: &X<'_>, w: &[f32], ldw: usize, y: &mut [f32]) {
    let n = y.len();
    let row = |i: usize| &w[i * ldw..i * ldw + n];
    nonzero_groups(x, |group| match *group {
        [(i0, x0), (i1, x1), (i2, x2), (i3, x3)] => {
            let (w0, w1, w2, w3) = (row(i0), row(i1), row(i2), row(i3));
            for j in 0..n {
                y[j] += x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
            }
        }
        _ => {
            for &(i, xi) in group {
                for (o, wv) in y.iter_mut().zip(row(i)) {
                    *o += xi * wv;
                }
            }
        }
    });
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{ROWS, X, nonzero_groups};

    const LANES: usize = 16;

    /// Checked entry point of the AVX-512 kernel.
    pub(super) fn gemv(x: &X<'_>, w: &[f32], ldw: usize, y: &mut [f32]) {
        assert!(std::arch::is_x86_feature_detected!("avx512f"));
        let n = y.len();
        assert!(x.k == 0 || (x.k - 1) * ldw + n <= w.len());
        // SAFETY: AVX-512F is present (checked above) and `w` holds `(k-1)*ldw + n` values.
        unsafe { sweeps(x, w, ldw, y) }
    }

    /// # Safety
    /// The CPU has AVX-512F; `w` holds `(x.k - 1) * ldw + y.len()` values.
    #[target_feature(enable = "avx512f")]
    unsafe fn sweeps(x: &X<'_>, w: &[f32], ldw: usize, y: &mut [f32]) {
        // Up to eight vectors of outputs stay in registers for the whole reduction, and the
        // rows, each in one piece, are still read front to back.
        // SAFETY: as for this function.
        unsafe {
            // Whole vectors need no masks: plain loads, and no mask registers to keep.
            let full = y.len().is_multiple_of(LANES);
            macro_rules! narrow {
                ($v:literal) => {
                    return if full {
                        narrow::<$v, true>(x, w, ldw, y)
                    } else {
                        narrow::<$v, false>(x, w, ldw, y)
                    }
                };
            }
            match y.len().div_ceil(LANES) {
                1 => narrow!(1),
                2 => narrow!(2),
                3 => narrow!(3),
                4 => narrow!(4),
                5 => narrow!(5),
                6 => narrow!(6),
                7 => narrow!(7),
                8 => narrow!(8),
                _ => {}
            }
        }
        nonzero_groups(x, |group| {
            // SAFETY: every row index in `group` is below `k`, so its `y.len()` columns lie
            // inside `w` (the caller's contract, as is the CPU feature).
            unsafe {
                match *group {
                    [a, b, c, d] => sweep::<ROWS>([a, b, c, d], w, ldw, y),
                    [a, b, c] => sweep::<3>([a, b, c], w, ldw, y),
                    [a, b] => sweep::<2>([a, b], w, ldw, y),
                    [a] => sweep::<1>([a], w, ldw, y),
                    _ => {}
                }
            }
        });
    }

    /// The whole product for `y.len() <= 16 V` (and more than `16 (V - 1)`), `y` in `V`
    /// registers, the last one masked unless `FULL` (`y.len() == 16 V`).
    ///
    /// # Safety
    /// As for [`sweeps`].
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn narrow<const V: usize, const FULL: bool>(
        x: &X<'_>,
        w: &[f32],
        ldw: usize,
        y: &mut [f32],
    ) {
        let n = y.len();
        let masks: [__mmask16; V] = std::array::from_fn(|v| {
            let live = (n - v * LANES).min(LANES);
            ((1u32 << live) - 1) as __mmask16
        });
        let out = y.as_mut_ptr();
        // SAFETY: the masks keep every access below column `n`, inside `y`.
        let mut acc: [__m512; V] =
            std::array::from_fn(|v| unsafe { _mm512_maskz_loadu_ps(masks[v], out.add(v * LANES)) });
        for i in 0..x.k {
            let xi = x.at(i);
            if xi == 0.0 {
                continue;
            }
            let xv = _mm512_set1_ps(xi);
            // In bounds: row `i < k` starts at `i * ldw`, and `(k - 1) * ldw + n` values
            // are there (the caller's contract).
            let row = w.as_ptr().wrapping_add(i * ldw);
            for v in 0..V {
                // SAFETY: row `i` holds `n` values (the caller's contract); the mask, or
                // `FULL` (`n == 16 V`), keeps the load below column `n`.
                let wv = unsafe {
                    if FULL {
                        _mm512_loadu_ps(row.add(v * LANES))
                    } else {
                        _mm512_maskz_loadu_ps(masks[v], row.add(v * LANES))
                    }
                };
                acc[v] = _mm512_fmadd_ps(xv, wv, acc[v]);
            }
        }
        for v in 0..V {
            // SAFETY: as above.
            unsafe { _mm512_mask_storeu_ps(out.add(v * LANES), masks[v], acc[v]) };
        }
    }

    /// `y += sum_r value_r * W[row_r, :]` for the `R` pairs `(row, value)` of `rows`, sixteen
    /// columns at a time, the last ones masked.
    ///
    /// # Safety
    /// The CPU has AVX-512F; every row holds `y.len()` values of `w` from `row * ldw` on.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn sweep<const R: usize>(rows: [(usize, f32); R], w: &[f32], ldw: usize, y: &mut [f32]) {
        let n = y.len();
        let xv: [__m512; R] = std::array::from_fn(|r| _mm512_set1_ps(rows[r].1));
        let wp: [*const f32; R] = std::array::from_fn(|r| w[rows[r].0 * ldw..].as_ptr());
        let out = y.as_mut_ptr();
        let mut j = 0;
        while j < n {
            let live = (n - j).min(LANES);
            let mask = ((1u32 << live) - 1) as __mmask16;
            // SAFETY: the mask keeps every access below column `n` of `y` and of each row
            // (the caller's contract); masked-off lanes are neither read nor written.
            unsafe {
                let mut acc = _mm512_maskz_loadu_ps(mask, out.add(j));
                for r in 0..R {
                    let wv = _mm512_maskz_loadu_ps(mask, wp[r].add(j));
                    acc = _mm512_fmadd_ps(xv[r], wv, acc);
                }
                _mm512_mask_storeu_ps(out.add(j), mask, acc);
            }
            j += LANES;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::{SIZES, data};

    /// `y + alpha x W`, one element at a time.
    fn plain(alpha: f32, x: &[f32], w: &[f32], ldw: usize, y: &[f32]) -> Vec<f32> {
        (0..y.len())
            .map(|j| y[j] + alpha * (0..x.len()).map(|i| x[i] * w[i * ldw + j]).sum::<f32>())
            .collect()
    }

    fn check(kernel: Kernel, name: &str) {
        for &k in SIZES {
            // Also whole vectors of outputs, which need no masks.
            for &n in SIZES.iter().chain(&[16, 128]) {
                for ldw in [n, n + 3] {
                    let mut x = data(k, 1);
                    // A zero input: its row is skipped.
                    x[k / 2] = 0.0;
                    let w = data(k * ldw, 2);
                    let y0 = data(n, 3);
                    let want = plain(0.5, &x, &w, ldw, &y0);
                    let mut got = y0.clone();
                    let xv = X {
                        data: &x,
                        stride: 1,
                        k,
                        alpha: 0.5,
                    };
                    kernel(&xv, &w, ldw, &mut got);
                    for (g, w) in got.iter().zip(&want) {
                        assert!(
                            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                            "{name} k={k} n={n} ldw={ldw}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn portable_kernel_matches_a_plain_loop_at_odd_sizes() {
        check(portable, "portable");
    }

    #[test]
    fn avx512_kernel_matches_a_plain_loop_at_odd_sizes() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            check(avx512::gemv, "avx512");
            return;
        }
        eprintln!("note: this CPU has no AVX-512; only the portable kernel was tested");
    }

    #[test]
    fn strided_input_and_split_columns_match() {
        // A column of a row-major matrix as the input row, and a product large enough to be
        // split between threads (on the pool); Miri checks the strided read at odd sizes.
        let (k, n) = if cfg!(miri) { (33, 71) } else { (300, 8000) };
        let xs = data(k * 3, 4);
        let x: Vec<f32> = (0..k).map(|i| xs[i * 3 + 1]).collect();
        let w = data(k * n, 5);
        let y0 = data(n, 6);
        let want = plain(1.0, &x, &w, n, &y0);
        let mut got = y0.clone();
        gemv(1.0, &xs[1..], 3, k, &w, n, &mut got);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{g} vs {w}");
        }
    }
}

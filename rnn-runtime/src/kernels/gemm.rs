//! Matrix products on row-major `f32` buffers.
//!
//! Every product goes through [`gemm`], except the per-step recurrent products of small
//! batches, which use a kernel packed once per pass (`packed.rs`), and a recurrent layer's
//! products of every step's rows with its input kernel (`tall.rs`). Large products go to
//! `matrixmultiply` (packed, cache-blocked SGEMM with run-time AVX/FMA dispatch and arbitrary
//! strides, which gives transposes for free), their columns split between threads
//! (`pool.rs`); a single row (`m == 1`: batch-1 inference and generation) is a memory-bound
//! matrix-vector product, where packing costs more than it saves: it goes to `gemv.rs`.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Hot loops over buffers whose bounds `MatRef::check`, `gemm` and `gemm_packed` \
              assert at entry with checked arithmetic: every index stays below those bounds"
)]

use std::ops::Range;

use super::gemv::gemv;
use super::pool::split_columns;

/// A read-only strided matrix view: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows x cols` matrix stored densely.
    pub(crate) fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::with_ld(data, rows, cols, cols)
    }

    /// A row-major `rows x cols` matrix whose rows start `ld` elements apart.
    pub(crate) fn with_ld(data: &'a [f32], rows: usize, cols: usize, ld: usize) -> Self {
        let m = MatRef {
            data,
            rows,
            cols,
            rs: ld,
            cs: 1,
        };
        m.check();
        m
    }

    /// The transpose, without copying.
    pub(crate) fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub(crate) fn cols(&self) -> usize {
        self.cols
    }

    /// Element `(i, j)`.
    pub(crate) fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }

    /// The buffer and the row and column strides: element `(i, j)` is
    /// `data[i * rs + j * cs]`, which `check` bounded when the view was made.
    pub(crate) fn parts(&self) -> (&'a [f32], usize, usize) {
        (self.data, self.rs, self.cs)
    }

    /// The columns `cols`, as a view.
    fn columns(self, cols: Range<usize>) -> Self {
        let view = MatRef {
            data: &self.data[cols.start * self.cs..],
            cols: cols.len(),
            ..self
        };
        view.check();
        view
    }

    fn check(&self) {
        if self.rows > 0 && self.cols > 0 {
            // Checked: a wrapped product would let a huge view pass as a small one.
            let last = (self.rows - 1)
                .checked_mul(self.rs)
                .and_then(|r| r.checked_add((self.cols - 1).checked_mul(self.cs)?));
            assert!(
                last.is_some_and(|last| last < self.data.len()),
                "matrix view exceeds its buffer"
            );
        }
    }
}

/// `C = alpha * A B + beta * C`, with `C` row-major `(A.rows, B.cols)` and leading dimension
/// `ldc`. When `beta == 0`, `C` is overwritten (its old contents, even NaN, are ignored).
///
/// # Panics
/// On inconsistent dimensions or views that exceed their buffers: these are internal
/// invariants, never user input.
pub(crate) fn gemm(alpha: f32, a: MatRef<'_>, b: MatRef<'_>, beta: f32, c: &mut [f32], ldc: usize) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "inner dimensions differ");
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        ldc >= n && output_end(m, n, ldc).is_some_and(|end| end <= c.len()),
        "output exceeds its buffer"
    );
    if k == 0 {
        scale_rows(c, m, n, ldc, beta);
        return;
    }
    if m == 1 {
        let c = &mut c[..n];
        // Row-major rows `n` apart; a one-row view of a column (`rs` 1, `cs` 1) is not.
        if b.cs == 1 && b.rs >= n {
            scale_rows(c, 1, n, n, beta);
            return gemv(alpha, a.data, a.cs, k, b.data, b.rs, c);
        }
        if b.rs == 1 {
            return row_dot_columns(alpha, a, b, beta, c);
        }
    }
    let c = CPtr(c.as_mut_ptr());
    split_columns(n, m * k, &|cols: Range<usize>| {
        // Whole, so that the closure captures the shareable `CPtr`, not its raw pointer.
        let c: CPtr = c;
        let b = b.columns(cols.clone());
        // SAFETY: `check` and the assertions above guarantee that every index matrixmultiply
        // touches, `(rows-1)*rs + (cols-1)*cs`, lies inside the corresponding slice; `c` was
        // borrowed mutably, so it cannot alias `a` or `b`, and each call writes only its own
        // columns `cols` of it.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                b.cols,
                alpha,
                a.data.as_ptr(),
                a.rs as isize,
                a.cs as isize,
                b.data.as_ptr(),
                b.rs as isize,
                b.cs as isize,
                beta,
                c.0.wrapping_add(cols.start),
                ldc as isize,
                1,
            );
        }
    });
}

/// One past the last element of a row-major `(m, n)` output with leading dimension `ldc`
/// (`m > 0`), or `None` when that overflows.
pub(crate) fn output_end(m: usize, n: usize, ldc: usize) -> Option<usize> {
    (m - 1).checked_mul(ldc)?.checked_add(n)
}

/// The output pointer, shared by the threads that write disjoint column ranges of it.
#[derive(Clone, Copy)]
pub(crate) struct CPtr(pub(crate) *mut f32);
// SAFETY: each thread given a `CPtr` writes only its own columns of the output.
unsafe impl Send for CPtr {}
// SAFETY: as above; the pointer itself is only copied.
unsafe impl Sync for CPtr {}

fn scale_rows(c: &mut [f32], m: usize, n: usize, ldc: usize, beta: f32) {
    if beta == 1.0 {
        // Every product that adds to its output: a sweep that would change nothing.
        return;
    }
    for i in 0..m {
        let row = &mut c[i * ldc..i * ldc + n];
        if beta == 0.0 {
            row.fill(0.0);
        } else {
            row.iter_mut().for_each(|v| *v *= beta);
        }
    }
}

/// `c[j] = alpha * dot(a, B[:, j]) + beta * c[j]` for a matrix `B` whose columns are contiguous.
fn row_dot_columns(alpha: f32, a: MatRef<'_>, b: MatRef<'_>, beta: f32, c: &mut [f32]) {
    let k = b.rows;
    let a_row: Vec<f32>;
    let a_slice = if a.cs == 1 {
        &a.data[..k]
    } else {
        a_row = (0..k).map(|i| a.data[i * a.cs]).collect();
        &a_row
    };
    for (j, cj) in c.iter_mut().enumerate() {
        let col = &b.data[j * b.cs..j * b.cs + k];
        let d = dot(a_slice, col);
        *cj = alpha * d + if beta == 0.0 { 0.0 } else { beta * *cj };
    }
}

/// Dot product with eight independent accumulators, so the compiler can keep them in one
/// SIMD register instead of serialising on a single sum.
pub(crate) fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let xc = x.chunks_exact(8);
    let yc = y.chunks_exact(8);
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for l in 0..8 {
            acc[l] += xs[l] * ys[l];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (a, b) in xr.iter().zip(yr) {
        sum += a * b;
    }
    sum
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernels::test_support::{data, transpose};

    /// One row times the transpose of a one-column matrix: the view's rows are 1 apart, not
    /// `n`, so it must not be read as a row-major matrix (a Dense layer's batch-1 backward).
    #[test]
    fn one_row_times_a_transposed_column() {
        let w = [3.0f32, 5.0];
        let mut c = [1.0f32; 2];
        gemm(
            1.0,
            MatRef::new(&[2.0], 1, 1),
            MatRef::new(&w, 2, 1).t(),
            0.0,
            &mut c,
            2,
        );
        assert_eq!(c, [6.0, 10.0]);
    }

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_naive_product_for_all_paths_and_transposes() {
        for &(m, k, n) in &[
            (1, 7, 5),
            (1, 33, 70),
            (3, 4, 5),
            (17, 9, 31),
            (1, 1, 1),
            (64, 40, 3),
            // Large enough to be split between threads (on the pool); Miri, which interprets
            // every instruction, checks the same paths at the sizes above.
            #[cfg(not(miri))]
            (40, 128, 600),
        ] {
            let a = data(m * k, 1);
            let b = data(k * n, 2);
            let want = naive(&a, &b, m, k, n);
            let at = transpose(&a, m, k);
            let bt = transpose(&b, k, n);
            let views = [
                (MatRef::new(&a, m, k), MatRef::new(&b, k, n)),
                (MatRef::new(&at, k, m).t(), MatRef::new(&b, k, n)),
                (MatRef::new(&a, m, k), MatRef::new(&bt, n, k).t()),
                (MatRef::new(&at, k, m).t(), MatRef::new(&bt, n, k).t()),
            ];
            for (va, vb) in views {
                let mut c = vec![f32::NAN; m * n];
                gemm(1.0, va, vb, 0.0, &mut c, n);
                for (g, w) in c.iter().zip(&want) {
                    assert!((g - w).abs() < 1e-4, "{m}x{k}x{n}: {g} vs {w}");
                }
                let mut c2 = want.clone();
                gemm(2.0, va, vb, -1.0, &mut c2, n);
                for (g, w) in c2.iter().zip(&want) {
                    assert!((g - w).abs() < 1e-4, "accumulate {m}x{k}x{n}");
                }
                // Adding to the output as it is (`beta` 1, which skips the scaling sweep).
                let mut c3 = want.clone();
                gemm(1.0, va, vb, 1.0, &mut c3, n);
                for (g, w) in c3.iter().zip(&want) {
                    assert!((g - 2.0 * w).abs() < 2e-4, "add {m}x{k}x{n}: {g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn writes_into_a_strided_output() {
        let a = data(6, 3);
        let b = data(6, 4);
        let want = naive(&a, &b, 2, 3, 2);
        let mut c = vec![9.0; 2 * 5];
        gemm(
            1.0,
            MatRef::new(&a, 2, 3),
            MatRef::new(&b, 3, 2),
            0.0,
            &mut c,
            5,
        );
        assert!((c[0] - want[0]).abs() < 1e-5 && (c[6] - want[3]).abs() < 1e-5);
        assert_eq!(c[2], 9.0, "columns beyond n are untouched");
    }

    #[test]
    fn strided_views_select_blocks() {
        // The right half of a 3 x 4 matrix, as used for GRU's candidate block.
        let u = data(12, 5);
        let x = data(3, 6);
        let mut c = vec![0.0; 2];
        gemm(
            1.0,
            MatRef::new(&x, 1, 3),
            MatRef::with_ld(&u[2..], 3, 2, 4),
            0.0,
            &mut c,
            2,
        );
        let want: f32 = (0..3).map(|p| x[p] * u[p * 4 + 2]).sum();
        assert!((c[0] - want).abs() < 1e-5);
    }
}

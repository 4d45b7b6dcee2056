//! What the reduced-precision products share ([`Precision::Bf16`](crate::Precision::Bf16) in
//! `bf16.rs`, [`Precision::Int8`](crate::Precision::Int8) in `int8.rs`): [`LowMatrix`], a
//! weight matrix in either format, and [`product`], `out += x W` with whichever it holds; the
//! split of a product between threads; and the switch that makes a format take its portable
//! kernel on a CPU that has the fast one.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "`split` checks the buffers' bounds on entry with checked arithmetic: every \
              part's rows and columns stay below them"
)]

use std::ops::Range;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use super::bf16::{self, Bf16Matrix};
use super::gemm::CPtr;
use super::int8::{self, Int8Matrix};
use super::pool::{split_columns, split_rows};
use crate::precision::Precision;

/// A `(k, n)` weight matrix in a reduced format, for `out += x W`.
#[derive(Clone, Debug)]
pub(crate) enum LowMatrix {
    Bf16(Bf16Matrix),
    Int8(Int8Matrix),
}

impl LowMatrix {
    /// `w` row-major `(k, n)` in the format of `precision`; `None` at `F32`.
    ///
    /// # Panics
    /// When `w` holds fewer than `k * n` values: an internal invariant.
    pub(crate) fn new(precision: Precision, w: &[f32], k: usize, n: usize) -> Option<Self> {
        match precision {
            Precision::F32 => None,
            Precision::Bf16 => Some(LowMatrix::Bf16(Bf16Matrix::new(w, k, n))),
            Precision::Int8 => Some(LowMatrix::Int8(Int8Matrix::new(w, k, n))),
        }
    }

    /// Columns (`n`).
    pub(crate) fn cols(&self) -> usize {
        match self {
            LowMatrix::Bf16(w) => w.cols(),
            LowMatrix::Int8(w) => w.cols(),
        }
    }
}

/// `out[r, c] += sum_i x[r, i] W[i, cols.start + c]` for `r < m` and `c < cols.len()`: `x`
/// row-major `(m, k)`, `out` with rows `ldo` apart.
///
/// # Panics
/// When the buffers are shorter than the sizes imply or `cols` lies beyond `W`: internal
/// invariants, never user input.
pub(crate) fn product(
    x: &[f32],
    m: usize,
    w: &LowMatrix,
    cols: Range<usize>,
    out: &mut [f32],
    ldo: usize,
) {
    match w {
        LowMatrix::Bf16(w) => bf16::product(x, m, w, cols, out, ldo),
        LowMatrix::Int8(w) => int8::product(x, m, w, cols, out, ldo),
    }
}

/// Splits `out[.., cols] += x W[:, cols]` (`W` with `k` rows and `wn` columns) between
/// threads, its columns at batch 1 and its rows above, and calls `run(x rows, W columns, out
/// part)` for each part: `x` holds the part's rows, `out` starts at its first output, rows
/// `ldo` apart.
///
/// # Panics
/// When the buffers are shorter than the sizes imply or `cols` lies beyond `wn`.
#[allow(
    clippy::too_many_arguments,
    reason = "a product's operands and sizes, as the kernels take them"
)]
pub(super) fn split(
    x: &[f32],
    m: usize,
    (k, wn): (usize, usize),
    cols: Range<usize>,
    out: &mut [f32],
    ldo: usize,
    run: &(impl Fn(&[f32], Range<usize>, &mut [f32]) + Sync),
) {
    let n = cols.len();
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    assert!(
        cols.end <= wn
            && m.checked_mul(k).is_some_and(|len| len <= x.len())
            && ldo >= n
            && (m - 1)
                .checked_mul(ldo)
                .and_then(|e| e.checked_add(n))
                .is_some_and(|end| end <= out.len()),
        "reduced-precision product operands exceed their buffers"
    );
    let op = CPtr(out.as_mut_ptr());
    let part = |rows: Range<usize>, part: Range<usize>| {
        // Whole, so that the closure captures the shareable `CPtr`, not its raw pointer.
        let op: CPtr = op;
        let x = &x[rows.start * k..rows.end * k];
        // SAFETY: `rows` and `part` lie within `0..m` and `0..n` (the splits cover them
        // exactly once), so these outputs are inside `out` (asserted above) and no other
        // call writes them.
        let out = unsafe {
            std::slice::from_raw_parts_mut(
                op.0.add(rows.start * ldo + part.start),
                (rows.len() - 1) * ldo + part.len(),
            )
        };
        run(x, cols.start + part.start..cols.start + part.end, out);
    };
    if m == 1 {
        split_columns(n, k, &|cols| part(0..1, cols));
    } else {
        split_rows(m, k * n, &|rows| part(rows, 0..n));
    }
}

/// Whether a format's products take its portable kernel even where the CPU has the fast
/// one: off unless the environment variable `var` is `portable`, or set by [`Self::force`].
pub(super) struct KernelChoice {
    var: &'static str,
    portable: AtomicBool,
    from_env: Once,
}

impl KernelChoice {
    pub(super) const fn new(var: &'static str) -> Self {
        KernelChoice {
            var,
            portable: AtomicBool::new(false),
            from_env: Once::new(),
        }
    }

    /// Takes the portable kernel (`true`) or the fastest one (`false`) from now on.
    pub(super) fn force(&self, on: bool) {
        self.from_env.call_once(|| {});
        self.portable.store(on, Ordering::Relaxed);
    }

    /// Whether the portable kernel is chosen.
    pub(super) fn portable(&self) -> bool {
        self.from_env.call_once(|| {
            let portable = std::env::var(self.var).is_ok_and(|v| v == "portable");
            self.portable.store(portable, Ordering::Relaxed);
        });
        self.portable.load(Ordering::Relaxed)
    }
}

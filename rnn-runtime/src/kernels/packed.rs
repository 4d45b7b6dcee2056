//! Products with a matrix packed once and used at every time step.
//!
//! A recurrence multiplies the state by the same recurrent kernel at every step, and a general
//! SGEMM repacks that kernel on every call: for the few-row products of a recurrence (one row
//! per sequence in the batch) packing costs about as much as the arithmetic. Here the kernel
//! is packed once per pass into panels of [`NR`] columns, row after row, so the micro-kernel
//! streams it contiguously and the state rows are read in place.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "Hot loops over buffers whose bounds `MatRef::check`, `gemm` and `gemm_packed` \
              assert at entry with checked arithmetic: every index stays below those bounds, \
              and panels of `chunks_exact(NR)` are `[f32; NR]`"
)]

use multiversion::multiversion;
use multiversion::target::target_cfg_f;

use std::ops::Range;

use super::gemm::{CPtr, MatRef, gemm, output_end};
use super::pool::{COLUMN_BLOCK, split_columns};

/// Columns per panel: one AVX-512 register, two AVX ones; the blocks in which products are
/// split between threads are whole panels.
const NR: usize = COLUMN_BLOCK;
/// Rows per micro-tile: `MR x NR` accumulators fit the registers of AVX2 and AVX-512.
const MR: usize = 6;

/// A `k x n` matrix packed into column panels for [`gemm_packed`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Packed {
    k: usize,
    n: usize,
    /// Panel `jp` holds rows `0..k` of columns `jp*NR..(jp+1)*NR`, zero-padded past `n`.
    data: Vec<f32>,
}

impl Packed {
    /// Packs `b` for products with `rows` rows, reusing this buffer; leaves it empty when
    /// packing would not pay (see [`worth_packing`]).
    pub(crate) fn pack(&mut self, b: MatRef<'_>, rows: usize) {
        let (k, n) = (b.rows(), b.cols());
        if !worth_packing(rows, k, n) {
            self.k = 0;
            self.n = 0;
            return;
        }
        let panels = n.div_ceil(NR);
        self.k = k;
        self.n = n;
        self.data.clear();
        self.data.resize(panels * k * NR, 0.0);
        for (jp, panel) in self.data.chunks_exact_mut(k * NR).enumerate() {
            let j0 = jp * NR;
            let cols = (n - j0).min(NR);
            for (p, row) in panel.chunks_exact_mut(NR).enumerate() {
                for (c, v) in row[..cols].iter_mut().enumerate() {
                    *v = b.at(p, j0 + c);
                }
            }
        }
    }
}

/// Whether packing pays for products with `rows` rows and a `k x n` kernel: with few rows,
/// or a kernel so small that SGEMM's per-call packing dominates. With many rows SGEMM's
/// packing is spread over them, and its larger micro-kernel wins. A single row reads each
/// weight once whatever the layout, so it goes to the matrix-vector kernel unpacked.
pub(crate) fn worth_packing(rows: usize, k: usize, n: usize) -> bool {
    rows > 1 && (rows <= 64 || k * n <= 2048)
}

/// `C += A B` with `A` row-major `(m, k)` and contiguous, and `C` row-major `(m, n)` with
/// leading dimension `ldc`. Uses `packed` when it holds `b` (see [`worth_packing`]), else
/// SGEMM on `b`. Large products split their columns between rayon's threads.
///
/// # Panics
/// On inconsistent dimensions: internal invariants, never user input.
pub(crate) fn gemm_packed(
    a: &[f32],
    m: usize,
    b: MatRef<'_>,
    packed: &Packed,
    c: &mut [f32],
    ldc: usize,
) {
    let (k, n) = (b.rows(), b.cols());
    if packed.k != k || packed.n != n || !worth_packing(m, k, n) {
        gemm(1.0, MatRef::new(a, m, k), b, 1.0, c, ldc);
        return;
    }
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        m.checked_mul(k).is_some_and(|len| len <= a.len()),
        "left matrix exceeds its buffer"
    );
    assert!(
        ldc >= n && output_end(m, n, ldc).is_some_and(|end| end <= c.len()),
        "output exceeds its buffer"
    );
    assert!(
        n.div_ceil(NR)
            .checked_mul(k)
            .and_then(|p| p.checked_mul(NR))
            .is_some_and(|len| len <= packed.data.len()),
        "packed panels exceed their buffer"
    );
    let c = CPtr(c.as_mut_ptr());
    split_columns(n, m * k, &|cols: Range<usize>| {
        // SAFETY: checked above: `c` holds `(m-1)*ldc + n` elements and `a` holds `m*k`;
        // column ranges start at multiples of NR, so each call's panels write only its own
        // columns `cols`.
        unsafe {
            panels(
                a,
                m,
                (packed.k, packed.n),
                &packed.data,
                cols.start / NR..cols.end.div_ceil(NR),
                c,
                ldc,
            )
        }
    });
}

/// Runs the panels `range` of a packed `(k, n)` matrix whose panels are `data`. The panels
/// come as a slice of their own, not inside the `Packed`, so that the compiler knows the
/// output writes cannot change them and keeps the micro-kernel vectorised.
///
/// # Safety
/// `c` must point to `(m-1)*ldc + n` elements whose columns of the panels `range` nothing
/// else accesses during the call; `a` holds `m*k` values.
#[multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
unsafe fn panels(
    a: &[f32],
    m: usize,
    (k, n): (usize, usize),
    data: &[f32],
    range: Range<usize>,
    c: CPtr,
    ldc: usize,
) {
    // Fused multiply-adds only where the hardware has them: elsewhere `mul_add` is a slow
    // library call.
    // SAFETY: `panels_with` has exactly this function's contract, which the caller upholds.
    unsafe {
        if target_cfg_f!(target_feature = "fma") {
            panels_with::<true>(a, m, (k, n), data, range, c, ldc)
        } else {
            panels_with::<false>(a, m, (k, n), data, range, c, ldc)
        }
    }
}

/// # Safety
/// As for [`panels`].
#[inline(always)]
unsafe fn panels_with<const FMA: bool>(
    a: &[f32],
    m: usize,
    (k, n): (usize, usize),
    data: &[f32],
    range: Range<usize>,
    c: CPtr,
    ldc: usize,
) {
    for jp in range {
        let panel = &data[jp * k * NR..(jp + 1) * k * NR];
        let j0 = jp * NR;
        let cols = (n - j0).min(NR);
        let mut i = 0;
        while i + MR <= m {
            // SAFETY: `tile` needs rows `i..i+MR` and columns `j0..j0+cols` inside `c`: the
            // loop condition keeps the rows below `m`, `cols` stops at `n`, and the caller
            // guarantees `c` holds `(m-1)*ldc + n` elements whose columns of this panel no
            // one else touches; `a` holds `m*k` values.
            unsafe { tile::<MR, FMA>(a, k, i, panel, c, ldc, j0, cols) };
            i += MR;
        }
        // SAFETY: as above, for the remaining `m - i < MR` rows, all below `m`.
        unsafe {
            match m - i {
                1 => tile::<1, FMA>(a, k, i, panel, c, ldc, j0, cols),
                2 => tile::<2, FMA>(a, k, i, panel, c, ldc, j0, cols),
                3 => tile::<3, FMA>(a, k, i, panel, c, ldc, j0, cols),
                4 => tile::<4, FMA>(a, k, i, panel, c, ldc, j0, cols),
                5 => tile::<5, FMA>(a, k, i, panel, c, ldc, j0, cols),
                _ => {}
            }
        }
    }
}

/// `C[i0..i0+R, j0..j0+cols] += A[i0..i0+R, :] panel`, accumulating in registers.
///
/// # Safety
/// `c` must point to a buffer holding row `i0 + R - 1` up to column `j0 + cols` (row stride
/// `ldc`), whose elements in rows `i0..i0+R`, columns `j0..j0+cols` nothing else accesses
/// during the call; `a` holds rows `i0..i0+R` of length `k`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn tile<const R: usize, const FMA: bool>(
    a: &[f32],
    k: usize,
    i0: usize,
    panel: &[f32],
    c: CPtr,
    ldc: usize,
    j0: usize,
    cols: usize,
) {
    let rows: [&[f32]; R] = std::array::from_fn(|r| &a[(i0 + r) * k..(i0 + r + 1) * k]);
    let mut acc = [[0.0f32; NR]; R];
    for (p, bp) in panel.chunks_exact(NR).enumerate() {
        let bp: &[f32; NR] = bp.try_into().expect("panels are NR wide");
        for r in 0..R {
            // SAFETY: the panel is `k * NR` long, so `chunks_exact(NR)` yields `p < k`, and
            // every row was sliced to length `k` above.
            let av = unsafe { *rows[r].get_unchecked(p) };
            for (acc, &bv) in acc[r].iter_mut().zip(bp) {
                *acc = if FMA {
                    av.mul_add(bv, *acc)
                } else {
                    *acc + av * bv
                };
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        // SAFETY: row `i0 + r` and columns `j0..j0+cols` lie inside `c`, and nothing else
        // accesses them during the call (the caller's contract), so this slice is unique.
        let out = unsafe { std::slice::from_raw_parts_mut(c.0.add((i0 + r) * ldc + j0), cols) };
        for (o, v) in out.iter_mut().zip(acc) {
            *o += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gemm::tests::{data, transpose};

    #[test]
    fn matches_gemm_for_every_tile_shape() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (1, 7, 17),
            (5, 3, 16),
            (6, 32, 128),
            (7, 20, 33),
            (13, 64, 100),
            (32, 256, 1024),
            (100, 100, 400),
        ] {
            let a = data(m * k, 1);
            let b = data(k * n, 2);
            let c0 = data(m * n, 3);
            for transposed in [false, true] {
                let bt: Vec<f32>;
                let view = if transposed {
                    bt = transpose(&b, k, n);
                    MatRef::new(&bt, n, k).t()
                } else {
                    MatRef::new(&b, k, n)
                };
                let mut want = c0.clone();
                gemm(1.0, MatRef::new(&a, m, k), view, 1.0, &mut want, n);
                let mut packed = Packed::default();
                packed.pack(view, m);
                let mut got = c0.clone();
                gemm_packed(&a, m, view, &packed, &mut got, n);
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                        "{m}x{k}x{n}: {g} vs {w}"
                    );
                }
            }
        }
    }
}

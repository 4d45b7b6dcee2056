//! Products with weights stored in bfloat16, for reduced-precision inference
//! ([`Precision::Bf16`](crate::Precision::Bf16)): `out += x W` for `m` rows of `f32` inputs
//! `x` and a `bf16` matrix `W`, the input projection of all steps and the per-step recurrent
//! product alike.
//!
//! A bf16 value is the upper half of an `f32`, so widening one is a 16-bit shift. The matrix
//! is stored with its rows paired: the 32-bit word at `(p, j)` holds `W[2p, j]` in its low half
//! and `W[2p + 1, j]` in its high half. That is the operand layout of AVX-512 BF16's
//! `vdpbf16ps`, which multiplies such pairs by a pair of inputs and adds both products to one
//! `f32` lane; and it lets the portable kernel widen both halves of a word with one shift and
//! one mask. Half the bytes of `f32` weights are read per product, which is what batch-1
//! steps (generation) wait for, and `vdpbf16ps` does twice the multiply-adds of an `f32` FMA,
//! which is what large batches wait for.
//!
//! Two kernels:
//! - **dot** (x86-64 with `avx512bf16`): the inputs are rounded to bf16 as well (to nearest
//!   even), and `vdpbf16ps` accumulates in `f32`. Tiles of 4 rows by 64 columns (one row by 128
//!   columns at batch 1) keep their sums in registers for the whole reduction.
//! - **portable** (everywhere else): inputs stay `f32`, weights are widened and multiplied in
//!   `f32`; the compiler vectorises it for the instruction set found at run time.
//!
//! [`force_portable`] (or `RNN_BF16_KERNEL=portable` in the environment) makes every product
//! take the portable kernel, so both are exercised on a CPU that has the instructions.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Hot loops over buffers whose bounds `product` checks on entry with checked \
              arithmetic: every index stays below them"
)]

use std::cell::RefCell;
use std::ops::Range;

use half::bf16;
use multiversion::multiversion;

use super::low::{KernelChoice, split};

/// A `(k, n)` matrix in bf16 with its rows paired (see the module's documentation).
#[derive(Clone, Debug, Default)]
pub(crate) struct Bf16Matrix {
    k: usize,
    n: usize,
    /// `(k.div_ceil(2), n)` words; past an odd `k`, the high halves are zero.
    pairs: Vec<u32>,
}

/// The bits of `v` rounded to the nearest bf16 (ties to even).
fn bits(v: f32) -> u32 {
    u32::from(bf16::from_f32(v).to_bits())
}

impl Bf16Matrix {
    /// `w` row-major `(k, n)`, rounded to bf16.
    ///
    /// # Panics
    /// When `w` holds fewer than `k * n` values: an internal invariant.
    pub(crate) fn new(w: &[f32], k: usize, n: usize) -> Self {
        assert!(k.checked_mul(n).is_some_and(|len| len <= w.len()));
        let mut pairs = vec![0u32; k.div_ceil(2) * n];
        for (p, out) in pairs.chunks_exact_mut(n.max(1)).enumerate() {
            let lo = &w[2 * p * n..(2 * p + 1) * n];
            match w
                .get((2 * p + 1) * n..(2 * p + 2) * n)
                .filter(|_| 2 * p + 1 < k)
            {
                Some(hi) => {
                    for ((o, &a), &b) in out.iter_mut().zip(lo).zip(hi) {
                        *o = bits(a) | bits(b) << 16;
                    }
                }
                None => out.iter_mut().zip(lo).for_each(|(o, &a)| *o = bits(a)),
            }
        }
        Bf16Matrix { k, n, pairs }
    }

    /// Rows (`k`).
    #[cfg(test)]
    fn rows(&self) -> usize {
        self.k
    }

    /// Columns (`n`).
    pub(crate) fn cols(&self) -> usize {
        self.n
    }

    /// The value at `(i, j)`, widened.
    #[cfg(test)]
    fn at(&self, i: usize, j: usize) -> f32 {
        let word = self.pairs[(i / 2) * self.n + j];
        f32::from_bits(if i.is_multiple_of(2) {
            word << 16
        } else {
            word & 0xffff_0000
        })
    }
}

/// `RNN_BF16_KERNEL=portable` or [`force_portable`].
static CHOICE: KernelChoice = KernelChoice::new("RNN_BF16_KERNEL");

/// Makes every bf16 product take the portable kernel (`true`) or the fastest one this CPU has
/// (`false`, the default unless `RNN_BF16_KERNEL=portable` is set).
pub(crate) fn force_portable(on: bool) {
    CHOICE.force(on);
}

/// Whether the products run the `vdpbf16ps` kernel.
pub(crate) fn uses_dot() -> bool {
    !CHOICE.portable() && dot::available()
}

/// `out[r, c] += sum_i x[r, i] W[i, cols.start + c]` for `r < m` and `c < cols.len()`: `x`
/// row-major `(m, W.rows())`, `out` with rows `ldo` apart. Large products split their rows
/// (their columns at batch 1) between threads.
///
/// # Panics
/// When the buffers are shorter than the sizes imply or `cols` lies beyond `W`: internal
/// invariants, never user input.
pub(crate) fn product(
    x: &[f32],
    m: usize,
    w: &Bf16Matrix,
    cols: Range<usize>,
    out: &mut [f32],
    ldo: usize,
) {
    let (k, n) = (w.k, cols.len());
    // Only x86-64 has the `dot` kernel.
    #[cfg(target_arch = "x86_64")]
    let dot = uses_dot();
    split(x, m, (k, w.n), cols, out, ldo, &|x, cols, out| {
        #[cfg(target_arch = "x86_64")]
        if dot {
            return dot::product(x, w, cols, out, ldo);
        }
        for (r, xr) in x.chunks_exact(k).enumerate() {
            portable(
                xr,
                &w.pairs,
                w.n,
                cols.clone(),
                &mut out[r * ldo..r * ldo + n],
            );
        }
    });
}

/// One row, `f32` inputs and widened weights: `y += x W[:, cols]`. Zero pairs of inputs (a
/// one-hot character) cost no reads of `W`.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn portable(x: &[f32], pairs: &[u32], ldw: usize, cols: Range<usize>, y: &mut [f32]) {
    let n = y.len();
    let at = |i: usize| x.get(i).copied().unwrap_or(0.0);
    let row = |p: usize| &pairs[p * ldw + cols.start..p * ldw + cols.start + n];
    let kp = x.len().div_ceil(2);
    let mut p = 0;
    while p < kp {
        let (x0, x1) = (at(2 * p), at(2 * p + 1));
        if p + 1 < kp {
            // Two pairs per sweep: `y` is read and written once for four rows of `W`.
            let (x2, x3) = (at(2 * p + 2), at(2 * p + 3));
            let (w0, w1) = (row(p), row(p + 1));
            for j in 0..n {
                let (a, b) = (w0[j], w1[j]);
                y[j] += x0 * f32::from_bits(a << 16)
                    + x1 * f32::from_bits(a & 0xffff_0000)
                    + x2 * f32::from_bits(b << 16)
                    + x3 * f32::from_bits(b & 0xffff_0000);
            }
            p += 2;
        } else {
            if x0 != 0.0 || x1 != 0.0 {
                for (o, &a) in y.iter_mut().zip(row(p)) {
                    *o += x0 * f32::from_bits(a << 16) + x1 * f32::from_bits(a & 0xffff_0000);
                }
            }
            p += 1;
        }
    }
}

thread_local! {
    /// The inputs of the rows a thread multiplies, rounded and paired as `W` is: reused, so a
    /// step allocates nothing once the buffer has grown.
    static PAIRED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

#[cfg(target_arch = "x86_64")]
mod dot {
    use std::arch::x86_64::*;
    use std::ops::Range;
    use std::sync::OnceLock;

    use super::{Bf16Matrix, PAIRED};

    const LANES: usize = 16;

    pub(super) fn available() -> bool {
        static HAS: OnceLock<bool> = OnceLock::new();
        *HAS.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("avx512bf16")
        })
    }

    /// `out += x W[:, cols]` for the `m` rows of `x` (`W.rows()` values each), `out` with
    /// rows `ldo` apart holding `(m - 1) * ldo + cols.len()` values.
    pub(super) fn product(
        x: &[f32],
        w: &Bf16Matrix,
        cols: Range<usize>,
        out: &mut [f32],
        ldo: usize,
    ) {
        assert!(available());
        let (k, n) = (w.k, cols.len());
        let m = x.len() / k;
        let kp = k.div_ceil(2);
        assert!(x.len() >= m * k && cols.end <= w.n && out.len() >= (m - 1) * ldo + n);
        PAIRED.with_borrow_mut(|xb| {
            xb.clear();
            xb.resize(m * kp, 0);
            for (xr, pr) in x.chunks_exact(k).zip(xb.chunks_exact_mut(kp)) {
                // SAFETY: the CPU has the instructions (asserted); `xr` holds `k` values and
                // `pr` `kp = ceil(k / 2)` words, that is at least `k` bf16 values.
                unsafe { round_row(xr, pr) };
            }
            let wp = w.pairs[cols.start..].as_ptr();
            let op = out.as_mut_ptr();
            // SAFETY: the CPU has the instructions (asserted); every tile reads rows of `xb`
            // below `m`, words of `W` in rows `< kp` and columns `< cols.end`, and outputs in
            // rows `< m` and columns `< n`, inside the buffers (asserted above).
            unsafe {
                if m == 1 {
                    tiles::<1, 8>(xb.as_ptr(), kp, wp, w.n, n, op, ldo, 1);
                    return;
                }
                let full = m / 4 * 4;
                tiles::<4, 4>(xb.as_ptr(), kp, wp, w.n, n, op, ldo, full / 4);
                let (xt, ot) = (xb.as_ptr().add(full * kp), op.add(full * ldo));
                match m - full {
                    1 => tiles::<1, 4>(xt, kp, wp, w.n, n, ot, ldo, 1),
                    2 => tiles::<2, 4>(xt, kp, wp, w.n, n, ot, ldo, 1),
                    3 => tiles::<3, 4>(xt, kp, wp, w.n, n, ot, ldo, 1),
                    _ => {}
                }
            }
        });
    }

    /// Rounds `x` to bf16 (to nearest even) into `out` in order, two values per word: the
    /// words are then the pairs of consecutive inputs that `vdpbf16ps` multiplies by a word of
    /// `W`. A last odd value gets a zero partner.
    ///
    /// # Safety
    /// The CPU has AVX-512F, BW, VL and BF16; `out` holds at least `x.len()` bf16 values.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    unsafe fn round_row(x: &[f32], out: &mut [u32]) {
        let k = x.len();
        assert!(2 * out.len() >= k);
        let dst = out.as_mut_ptr() as *mut i16;
        let mut i = 0;
        while i < k {
            let live = (k - i).min(LANES);
            let mask = ((1u32 << live) - 1) as __mmask16;
            // SAFETY: the mask keeps the load below `k` and the store below `k` bf16 values,
            // inside `out` (asserted).
            unsafe {
                let v = _mm512_maskz_loadu_ps(mask, x.as_ptr().add(i));
                let b = std::mem::transmute::<__m256bh, __m256i>(_mm512_cvtneps_pbh(v));
                _mm256_mask_storeu_epi16(dst.add(i), mask, b);
            }
            i += LANES;
        }
        if k % 2 == 1 {
            // SAFETY: word `k / 2` exists (asserted); its high half is the partner.
            unsafe { *dst.add(k) = 0 };
        }
    }

    /// Every tile of `blocks` blocks of `MR` rows by `n` columns, `16 NV` columns at a time; the column tiles are the outer loop, so a
    /// tile's part of `W` stays in the first-level cache for every row block.
    ///
    /// # Safety
    /// The CPU has AVX-512F and AVX-512 BF16; `xb` holds `blocks * MR` rows of `kp`
    /// words, `w` `kp` rows of `ldw` words with `n` columns from it, `out` as many rows of `n`
    /// values `ldo` apart.
    #[allow(
        clippy::too_many_arguments,
        reason = "one tile's operands, kept as raw parts"
    )]
    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn tiles<const MR: usize, const NV: usize>(
        xb: *const u32,
        kp: usize,
        w: *const u32,
        ldw: usize,
        n: usize,
        out: *mut f32,
        ldo: usize,
        blocks: usize,
    ) {
        let mut j = 0;
        while j < n {
            let live = (n - j).min(NV * LANES);
            for b in 0..blocks {
                // SAFETY: the caller's contract; the tile stays within `n` columns.
                unsafe {
                    tile::<MR, NV>(
                        xb.add(b * MR * kp),
                        kp,
                        w.add(j),
                        ldw,
                        live,
                        out.add(b * MR * ldo + j),
                        ldo,
                    );
                }
            }
            j += NV * LANES;
        }
    }

    /// `out[..MR, ..live] += xb[..MR] W[:, ..live]`, sums in `MR * NV` registers.
    ///
    /// # Safety
    /// As for [`tiles`], with `live <= 16 NV` columns.
    #[target_feature(enable = "avx512f,avx512bf16")]
    #[inline]
    unsafe fn tile<const MR: usize, const NV: usize>(
        xb: *const u32,
        kp: usize,
        w: *const u32,
        ldw: usize,
        live: usize,
        out: *mut f32,
        ldo: usize,
    ) {
        let masks: [__mmask16; NV] = std::array::from_fn(|v| {
            let l = live.saturating_sub(v * LANES).min(LANES);
            ((1u32 << l) - 1) as __mmask16
        });
        let mut acc = [[_mm512_setzero_ps(); NV]; MR];
        for p in 0..kp {
            // SAFETY: row `p < kp` of `W` and of every `xb` row; masks stop at `live`.
            unsafe {
                if MR == 1 && *xb.add(p) == 0 {
                    // A zero pair of inputs (one-hot rows): nothing to add.
                    continue;
                }
                let wv: [__m512bh; NV] = std::array::from_fn(|v| {
                    let row = w.add(p * ldw + v * LANES) as *const i32;
                    std::mem::transmute::<__m512i, __m512bh>(_mm512_maskz_loadu_epi32(
                        masks[v], row,
                    ))
                });
                for (r, acc) in acc.iter_mut().enumerate() {
                    let xv = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(
                        *xb.add(r * kp + p) as i32,
                    ));
                    for v in 0..NV {
                        acc[v] = _mm512_dpbf16_ps(acc[v], xv, wv[v]);
                    }
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            for v in 0..NV {
                if masks[v] == 0 {
                    continue;
                }
                // SAFETY: row `r < MR`; the mask keeps the access below column `live`.
                unsafe {
                    let o = out.add(r * ldo + v * LANES);
                    let sum = _mm512_add_ps(_mm512_maskz_loadu_ps(masks[v], o), acc[v]);
                    _mm512_mask_storeu_ps(o, masks[v], sum);
                }
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod dot {
    pub(super) fn available() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::{SIZES, data};

    /// `out + x W[:, cols]` in `f64`, one element at a time, from the bf16 weights and the
    /// inputs as the kernel reads them (`round` rounds them to bf16).
    fn plain(
        x: &[f32],
        m: usize,
        w: &Bf16Matrix,
        cols: Range<usize>,
        out: &[f32],
        ldo: usize,
        round: bool,
    ) -> Vec<f32> {
        let k = w.rows();
        let mut want = out.to_vec();
        for r in 0..m {
            for (c, j) in cols.clone().enumerate() {
                let mut sum = f64::from(out[r * ldo + c]);
                for i in 0..k {
                    let xi = x[r * k + i];
                    let xi = if round {
                        bf16::from_f32(xi).to_f32()
                    } else {
                        xi
                    };
                    sum += f64::from(xi) * f64::from(w.at(i, j));
                }
                want[r * ldo + c] = sum as f32;
            }
        }
        want
    }

    fn check(dot: bool) {
        for &k in SIZES {
            for &n in SIZES {
                let wf = data(k * n, 2);
                let w = Bf16Matrix::new(&wf, k, n);
                for &m in &[1, 2, 5] {
                    for cols in [0..n, n / 3..n] {
                        let ldo = cols.len() + 2;
                        let mut x = data(m * k, 1);
                        // A zero pair: skipped at batch 1.
                        x[..2.min(k)].fill(0.0);
                        let out0 = data((m - 1) * ldo + cols.len(), 3);
                        let want = plain(&x, m, &w, cols.clone(), &out0, ldo, dot);
                        let mut got = out0.clone();
                        force_portable(!dot);
                        product(&x, m, &w, cols.clone(), &mut got, ldo);
                        for (g, w) in got.iter().zip(&want) {
                            assert!(
                                (g - w).abs() <= 1e-5 * (1.0 + w.abs()) * (k as f32).sqrt(),
                                "dot={dot} m={m} k={k} n={n} cols={cols:?}: {g} vs {w}"
                            );
                        }
                    }
                }
            }
        }
        force_portable(false);
    }

    /// The two kernels switch through one global flag: one test runs every case in turn.
    #[test]
    fn kernels_match_a_plain_loop_at_odd_sizes() {
        check(false);
        if dot::available() {
            check(true);
        } else {
            eprintln!("note: this CPU has no AVX-512 BF16; only the portable kernel was tested");
        }
        // Products large enough to be split between threads (columns at batch 1, rows
        // above), with each kernel; Miri, which reports one CPU (so nothing is split),
        // checks the same calls on a product it interprets in seconds.
        let (k, n) = if cfg!(miri) { (33, 71) } else { (300, 2000) };
        let w = Bf16Matrix::new(&data(k * n, 5), k, n);
        for dot in [false, dot::available()] {
            force_portable(!dot);
            for m in [1, 64] {
                let x = data(m * k, 4);
                let out0 = data(m * n, 6);
                let want = plain(&x, m, &w, 0..n, &out0, n, dot);
                let mut got = out0.clone();
                if cfg!(miri) {
                    // Rayon's pools break Stacked Borrows inside crossbeam-epoch (see
                    // `pool`'s tests): under Miri the product runs on the calling thread.
                    product(&x, m, &w, 0..n, &mut got, n);
                } else {
                    crate::kernels::pool::install(|| product(&x, m, &w, 0..n, &mut got, n));
                }
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "m={m}: {g} vs {w}");
                }
            }
        }
        force_portable(false);
    }

    #[test]
    fn rounding_is_to_nearest_and_pairs_hold_consecutive_rows() {
        let w = [1.0f32, 2.0, 1.0 + 1.0 / 256.0, -3.5, 0.1, 7.0];
        let b = Bf16Matrix::new(&w, 3, 2);
        assert_eq!((b.rows(), b.cols()), (3, 2));
        assert_eq!(b.at(0, 1), 2.0);
        assert_eq!(b.at(1, 0), 1.0); // halfway between two bf16 values: to even
        assert_eq!(b.at(1, 1), -3.5);
        assert!((b.at(2, 0) - 0.1).abs() < 1e-3);
        assert_eq!(b.pairs[2] >> 16, 0); // no fourth row
    }
}

//! Products with weights stored in int8, for reduced-precision inference
//! ([`Precision::Int8`](crate::Precision::Int8)): `out += x W` for `m` rows of `f32` inputs
//! `x` and a `(k, n)` matrix `W`, the input projection of all steps and the per-step recurrent
//! product alike.
//!
//! Both operands are quantized symmetrically: each column of `W` (one output unit) once, to
//! `round(W[i, j] / s_j)` with `s_j = max_i |W[i, j]| / 127`; each row of `x` when it is
//! multiplied (dynamically: per row of the batch, per step in a recurrence), with its own
//! `s_x = max_i |x[i]| / 127`. The integer products are summed exactly in `i32` and
//! `out[j] += sum * (s_x s_j)`. A row's error is thus at most half a step of each operand's
//! grid, relative to its largest value.
//!
//! The matrix is stored with its rows in fours: the 32-bit word at `(p, j)` holds
//! `W[4p + q, j] + 128` in byte `q`, as an unsigned byte. That is the operand layout of
//! AVX-512 VNNI's `vpdpbusd`, which multiplies four unsigned bytes by four signed ones and
//! adds the four products to one `i32` lane: the weights are its unsigned operand and a
//! broadcast word of four quantized inputs its signed one, so each lane gets
//! `sum x (w + 128)`, and subtracting `128 sum x` (the row's sum, made when it is quantized)
//! leaves `sum x w` exactly. A zero word of inputs (one-hot rows) adds nothing to either
//! and is skipped at batch 1.
//!
//! The sum of a reduction of `k` rows is at most `127 * 127 * k`, which fits in `i32` up to
//! 133,000 rows: longer reductions are cut into chunks of [`CHUNK`] words whose sums are
//! scaled and added to `out` one by one.
//!
//! Two kernels, with the same integer sums and the same `f32` operations after them, so
//! their results are identical:
//! - **vnni** (x86-64 with `avx512vnni`): tiles of 4 rows by 64 columns (one row by 128
//!   columns at batch 1) keep their sums in registers for a whole chunk.
//! - **portable** (everywhere else): a row at a time, widened to `i32`; the compiler
//!   vectorises it for the instruction set found at run time.
//!
//! [`force_portable`] (or `RNN_INT8_KERNEL=portable` in the environment) makes every product
//! take the portable kernel, so both are exercised on a CPU that has the instructions.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Hot loops over buffers whose bounds `low::split` checks on entry with checked \
              arithmetic: every index stays below them; quantized values lie within \
              -127..=127, so their sums over a chunk fit in `i32`"
)]

use std::cell::RefCell;
use std::ops::Range;

use multiversion::multiversion;

use super::low::{KernelChoice, split};

/// Words of a chunk of the reduction: `4 * CHUNK` rows, whose exact sum `127 * 127 * 4 *
/// CHUNK` stays below `i32::MAX`.
const CHUNK: usize = 1 << 15;

/// A `(k, n)` matrix in int8 with one scale per column (see the module's documentation).
#[derive(Clone, Debug, Default)]
pub(crate) struct Int8Matrix {
    k: usize,
    n: usize,
    /// `(k.div_ceil(4), n)` words of four biased bytes; past `k`, bytes of a zero weight.
    quads: Vec<u32>,
    /// One per column: `max |W[:, j]| / 127`.
    scales: Vec<f32>,
    /// Words per chunk of the reduction.
    chunk: usize,
}

impl Int8Matrix {
    /// `w` row-major `(k, n)`, quantized per column.
    ///
    /// # Panics
    /// When `w` holds fewer than `k * n` values: an internal invariant.
    pub(crate) fn new(w: &[f32], k: usize, n: usize) -> Self {
        Self::with_chunk(w, k, n, CHUNK)
    }

    /// As [`new`](Self::new), with `chunk` words per chunk of the reduction.
    fn with_chunk(w: &[f32], k: usize, n: usize, chunk: usize) -> Self {
        assert!(chunk > 0 && k.checked_mul(n).is_some_and(|len| len <= w.len()));
        let mut scales = vec![0.0f32; n];
        for row in w[..k * n].chunks_exact(n.max(1)) {
            for (s, v) in scales.iter_mut().zip(row) {
                *s = s.max(v.abs());
            }
        }
        let factors: Vec<f32> = scales
            .iter()
            .map(|&m| if m > 0.0 { 127.0 / m } else { 0.0 })
            .collect();
        scales.iter_mut().for_each(|s| *s /= 127.0);
        let mut quads = vec![0x8080_8080u32; k.div_ceil(4) * n];
        for (i, row) in w[..k * n].chunks_exact(n.max(1)).enumerate() {
            let shift = 8 * (i % 4);
            let words = &mut quads[i / 4 * n..(i / 4 + 1) * n];
            for ((word, &v), &f) in words.iter_mut().zip(row).zip(&factors) {
                let q = (v * f).round_ties_even().clamp(-127.0, 127.0) as i32;
                *word = *word & !(0xff << shift) | ((q + 128) as u32) << shift;
            }
        }
        Int8Matrix {
            k,
            n,
            quads,
            scales,
            chunk,
        }
    }

    /// Columns (`n`).
    pub(crate) fn cols(&self) -> usize {
        self.n
    }

    /// The quantized value at `(i, j)`.
    #[cfg(test)]
    fn at(&self, i: usize, j: usize) -> i32 {
        ((self.quads[i / 4 * self.n + j] >> (8 * (i % 4))) & 0xff) as i32 - 128
    }
}

/// `RNN_INT8_KERNEL=portable` or [`force_portable`].
static CHOICE: KernelChoice = KernelChoice::new("RNN_INT8_KERNEL");

/// Makes every int8 product take the portable kernel (`true`) or the fastest one this CPU has
/// (`false`, the default unless `RNN_INT8_KERNEL=portable` is set).
pub(crate) fn force_portable(on: bool) {
    CHOICE.force(on);
}

/// Whether the products run the `vpdpbusd` kernel.
pub(crate) fn uses_vnni() -> bool {
    !CHOICE.portable() && vnni::available()
}

/// Rows of `x` quantized, and the portable kernel's sums: a thread's scratch, reused, so a
/// step allocates nothing once it has grown.
#[derive(Default)]
struct Rows {
    /// `(m, k.div_ceil(4))` words of four signed bytes; past `k`, zeros.
    words: Vec<u32>,
    /// One per row: `max |x| / 127`; NaN for a row with a value that is not finite.
    scales: Vec<f32>,
    /// `(m, chunks)`: the sum of each row's quantized values in each chunk.
    sums: Vec<i32>,
    /// The portable kernel's `i32` sums of one row.
    acc: Vec<i32>,
}

thread_local! {
    static ROWS: RefCell<Rows> = RefCell::new(Rows::default());
}

impl Rows {
    /// Quantizes the rows of `x` (`k` values each) for a matrix with `chunk` words per chunk.
    fn quantize(&mut self, x: &[f32], k: usize, chunk: usize) {
        let (m, kq) = (x.len() / k, k.div_ceil(4));
        let chunks = kq.div_ceil(chunk);
        self.words.clear();
        self.words.resize(m * kq, 0);
        self.scales.clear();
        self.sums.clear();
        self.sums.resize(m * chunks, 0);
        for ((xr, wr), sums) in x
            .chunks_exact(k)
            .zip(self.words.chunks_exact_mut(kq))
            .zip(self.sums.chunks_exact_mut(chunks))
        {
            self.scales.push(quantize_row(xr, wr, sums, chunk));
        }
    }
}

/// Quantizes `x` into `words` (four signed bytes each, in order) and the sum of each chunk
/// of `chunk` words into `sums`; returns the row's scale. A row of zeros has scale 0; a row
/// with a value that is not finite gets zeros and scale NaN, so its outputs are NaN as in
/// `f32`.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn quantize_row(x: &[f32], words: &mut [u32], sums: &mut [i32], chunk: usize) -> f32 {
    // One pass for both, in a form the compiler vectorises; a NaN never passes `a > max`,
    // so `finite` is what catches it.
    let (mut max, mut finite) = (0.0f32, true);
    for v in x {
        let a = v.abs();
        if a > max {
            max = a;
        }
        finite &= v.is_finite();
    }
    if !finite || max == 0.0 {
        words.fill(0);
        sums.fill(0);
        return if finite { 0.0 } else { f32::NAN };
    }
    let f = 127.0 / max;
    let q = |v: f32| (v * f).round_ties_even().clamp(-127.0, 127.0) as i32;
    let word = |[a, b, c, d]: [i32; 4]| {
        u32::from(a as u8)
            | u32::from(b as u8) << 8
            | u32::from(c as u8) << 16
            | u32::from(d as u8) << 24
    };
    for ((ws, xs), s) in words
        .chunks_mut(chunk)
        .zip(x.chunks(4 * chunk))
        .zip(sums.iter_mut())
    {
        let mut sum = 0;
        let quads = xs.chunks_exact(4);
        let tail = quads.remainder();
        for (w, v) in ws.iter_mut().zip(quads) {
            let v = [q(v[0]), q(v[1]), q(v[2]), q(v[3])];
            sum += v[0] + v[1] + v[2] + v[3];
            *w = word(v);
        }
        if let Some(w) = ws.get_mut(xs.len() / 4) {
            let v: [i32; 4] = std::array::from_fn(|i| tail.get(i).map_or(0, |&v| q(v)));
            sum += v[0] + v[1] + v[2] + v[3];
            *w = word(v);
        }
        *s = sum;
    }
    max / 127.0
}

/// `out[r, c] += sum_i x[r, i] W[i, cols.start + c]` for `r < m` and `c < cols.len()`, both
/// operands quantized: `x` row-major `(m, k)`, `out` with rows `ldo` apart. Large products
/// split their rows (their columns at batch 1) between threads.
///
/// # Panics
/// When the buffers are shorter than the sizes imply or `cols` lies beyond `W`: internal
/// invariants, never user input.
pub(crate) fn product(
    x: &[f32],
    m: usize,
    w: &Int8Matrix,
    cols: Range<usize>,
    out: &mut [f32],
    ldo: usize,
) {
    let k = w.k;
    // Only x86-64 has the `vnni` kernel.
    #[cfg(target_arch = "x86_64")]
    let vnni = uses_vnni();
    split(x, m, (k, w.n), cols, out, ldo, &|x, cols, out| {
        // No product runs inside another on this thread, so the scratch is free.
        ROWS.with_borrow_mut(|rows| {
            rows.quantize(x, k, w.chunk);
            #[cfg(target_arch = "x86_64")]
            if vnni {
                return vnni::product(rows, w, cols, out, ldo);
            }
            portable(rows, w, cols, out, ldo);
        });
    });
}

/// The portable kernel: each row's sums in `i32`, one chunk at a time, then scaled into
/// `out`.
fn portable(rows: &mut Rows, w: &Int8Matrix, cols: Range<usize>, out: &mut [f32], ldo: usize) {
    let (kq, n) = (w.k.div_ceil(4), cols.len());
    let chunks = kq.div_ceil(w.chunk);
    rows.acc.clear();
    rows.acc.resize(n, 0);
    let sw = &w.scales[cols.clone()];
    for (r, (xr, &sx)) in rows.words.chunks_exact(kq).zip(&rows.scales).enumerate() {
        let o = &mut out[r * ldo..r * ldo + n];
        for c in 0..chunks {
            let part = c * w.chunk..((c + 1) * w.chunk).min(kq);
            rows.acc.fill(0);
            sums(
                &xr[part.clone()],
                &w.quads[part.start * w.n..],
                w.n,
                cols.start,
                &mut rows.acc,
            );
            scale_into(&rows.acc, sx, sw, o);
        }
    }
}

/// `acc[j] += sum_p x[p] . W[p, start + j]` over words of four bytes: signed inputs, biased
/// weights.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn sums(x: &[u32], quads: &[u32], ldw: usize, start: usize, acc: &mut [i32]) {
    let n = acc.len();
    for (p, &xw) in x.iter().enumerate() {
        if xw == 0 {
            continue;
        }
        let xs = xw.to_le_bytes().map(|b| i32::from(b as i8));
        let row = &quads[p * ldw + start..p * ldw + start + n];
        for (a, &u) in acc.iter_mut().zip(row) {
            let wb = u.to_le_bytes().map(|b| i32::from(b) - 128);
            *a += xs[0] * wb[0] + xs[1] * wb[1] + xs[2] * wb[2] + xs[3] * wb[3];
        }
    }
}

/// `out[j] += acc[j] * (sx * sw[j])`: the operations the vnni kernel does, in its order.
fn scale_into(acc: &[i32], sx: f32, sw: &[f32], out: &mut [f32]) {
    for ((o, &a), &s) in out.iter_mut().zip(acc).zip(sw) {
        *o += a as f32 * (sx * s);
    }
}

#[cfg(target_arch = "x86_64")]
mod vnni {
    use std::arch::x86_64::*;
    use std::ops::Range;
    use std::sync::OnceLock;

    use super::{Int8Matrix, Rows};

    const LANES: usize = 16;

    pub(super) fn available() -> bool {
        static HAS: OnceLock<bool> = OnceLock::new();
        *HAS.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vnni")
        })
    }

    /// The operands of one product's tiles, as raw parts.
    #[derive(Clone, Copy)]
    struct Operands {
        /// Quantized rows, `kq` words each, and their scales and chunk sums.
        x: *const u32,
        sx: *const f32,
        sums: *const i32,
        kq: usize,
        chunk: usize,
        chunks: usize,
        /// `W`'s words from the first column, rows `ldw` words apart, and its scales.
        w: *const u32,
        sw: *const f32,
        ldw: usize,
        /// Output rows, `ldo` apart.
        out: *mut f32,
        ldo: usize,
    }

    impl Operands {
        /// The operands from row `r` and column `j` on.
        ///
        /// # Safety
        /// Row `r` and column `j` lie within the product.
        unsafe fn at(self, r: usize, j: usize) -> Self {
            // SAFETY: the caller's contract.
            unsafe {
                Operands {
                    x: self.x.add(r * self.kq),
                    sx: self.sx.add(r),
                    sums: self.sums.add(r * self.chunks),
                    w: self.w.add(j),
                    sw: self.sw.add(j),
                    out: self.out.add(r * self.ldo + j),
                    ..self
                }
            }
        }
    }

    /// `out += x W[:, cols]` for the rows quantized in `rows`, `out` with rows `ldo` apart
    /// holding `(m - 1) * ldo + cols.len()` values.
    pub(super) fn product(
        rows: &Rows,
        w: &Int8Matrix,
        cols: Range<usize>,
        out: &mut [f32],
        ldo: usize,
    ) {
        assert!(available());
        let (kq, n, m) = (w.k.div_ceil(4), cols.len(), rows.scales.len());
        let chunks = kq.div_ceil(w.chunk);
        assert!(
            rows.words.len() >= m * kq
                && rows.sums.len() >= m * chunks
                && cols.end <= w.n
                && w.quads.len() >= kq * w.n
                && out.len() >= (m - 1) * ldo + n
        );
        let ops = Operands {
            x: rows.words.as_ptr(),
            sx: rows.scales.as_ptr(),
            sums: rows.sums.as_ptr(),
            kq,
            chunk: w.chunk,
            chunks,
            w: w.quads[cols.start..].as_ptr(),
            sw: w.scales[cols.start..].as_ptr(),
            ldw: w.n,
            out: out.as_mut_ptr(),
            ldo,
        };
        // SAFETY: the CPU has the instructions (asserted); every tile reads rows of `x`
        // below `m`, words of `W` in rows `< kq` and columns `< cols.end`, and outputs in
        // rows `< m` and columns `< n`, inside the buffers (asserted above).
        unsafe {
            if m == 1 {
                tiles::<1, 8>(ops, n, 1);
                return;
            }
            let full = m / 4 * 4;
            tiles::<4, 4>(ops, n, full / 4);
            let tail = ops.at(full, 0);
            match m - full {
                1 => tiles::<1, 4>(tail, n, 1),
                2 => tiles::<2, 4>(tail, n, 1),
                3 => tiles::<3, 4>(tail, n, 1),
                _ => {}
            }
        }
    }

    /// Every tile of `blocks` blocks of `MR` rows by `n` columns, `16 NV` columns at a time;
    /// the column tiles are the outer loop, so a tile's part of `W` stays in the first-level
    /// cache for every row block.
    ///
    /// # Safety
    /// The CPU has AVX-512F and VNNI; `ops` holds `blocks * MR` rows and `n` columns.
    #[target_feature(enable = "avx512f,avx512vnni")]
    unsafe fn tiles<const MR: usize, const NV: usize>(ops: Operands, n: usize, blocks: usize) {
        let mut j = 0;
        while j < n {
            let live = (n - j).min(NV * LANES);
            for b in 0..blocks {
                // SAFETY: the caller's contract; the tile stays within `n` columns.
                unsafe { tile::<MR, NV>(ops.at(b * MR, j), live) };
            }
            j += NV * LANES;
        }
    }

    /// `out[..MR, ..live] += x[..MR] W[:, ..live]`, each chunk's sums in `MR * NV` registers.
    ///
    /// # Safety
    /// As for [`tiles`], with `live <= 16 NV` columns.
    #[target_feature(enable = "avx512f,avx512vnni")]
    #[inline]
    unsafe fn tile<const MR: usize, const NV: usize>(ops: Operands, live: usize) {
        let masks: [__mmask16; NV] = std::array::from_fn(|v| {
            let l = live.saturating_sub(v * LANES).min(LANES);
            ((1u32 << l) - 1) as __mmask16
        });
        for c in 0..ops.chunks {
            let part = c * ops.chunk..((c + 1) * ops.chunk).min(ops.kq);
            let mut acc = [[_mm512_setzero_si512(); NV]; MR];
            for p in part {
                // SAFETY: row `p < kq` of `W` and of every `x` row; masks stop at `live`.
                unsafe {
                    if MR == 1 && *ops.x.add(p) == 0 {
                        // Zero inputs (one-hot rows): nothing to add, to the sums or to the
                        // correction.
                        continue;
                    }
                    let wv: [__m512i; NV] = std::array::from_fn(|v| {
                        let row = ops.w.add(p * ops.ldw + v * LANES) as *const i32;
                        _mm512_maskz_loadu_epi32(masks[v], row)
                    });
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let xv = _mm512_set1_epi32(*ops.x.add(r * ops.kq + p) as i32);
                        for v in 0..NV {
                            acc[v] = _mm512_dpbusd_epi32(acc[v], wv[v], xv);
                        }
                    }
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                // SAFETY: row `r < MR`, chunk `c < chunks`; the masks keep every access
                // below column `live`.
                unsafe {
                    // The biased weights added `128 sum x`: take it away, in wrapping `i32`
                    // as `vpdpbusd` summed, which leaves the exact sum.
                    let bias =
                        _mm512_set1_epi32((*ops.sums.add(r * ops.chunks + c)).wrapping_mul(128));
                    let sx = _mm512_set1_ps(*ops.sx.add(r));
                    for v in 0..NV {
                        if masks[v] == 0 {
                            continue;
                        }
                        let sw = _mm512_maskz_loadu_ps(masks[v], ops.sw.add(v * LANES));
                        let sum = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[v], bias));
                        let o = ops.out.add(r * ops.ldo + v * LANES);
                        let add = _mm512_mul_ps(sum, _mm512_mul_ps(sx, sw));
                        let new = _mm512_add_ps(_mm512_maskz_loadu_ps(masks[v], o), add);
                        _mm512_mask_storeu_ps(o, masks[v], new);
                    }
                }
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod vnni {
    pub(super) fn available() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::{SIZES, data};

    /// `x` quantized as the kernels do, in plain integers: the values and the scale.
    fn quantized(x: &[f32]) -> (Vec<i32>, f32) {
        let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if max == 0.0 {
            return (vec![0; x.len()], 0.0);
        }
        let q = x
            .iter()
            .map(|v| (v * (127.0 / max)).round_ties_even() as i32)
            .collect();
        (q, max / 127.0)
    }

    /// `out + x W[:, cols]` from the quantized operands, one element at a time: the sum of
    /// each chunk in `i64` (checked to fit in `i32`), scaled as the kernels scale it.
    fn plain(
        x: &[f32],
        m: usize,
        w: &Int8Matrix,
        cols: Range<usize>,
        out: &[f32],
        ldo: usize,
    ) -> Vec<f32> {
        let k = w.k;
        let rows = 4 * w.chunk;
        let mut want = out.to_vec();
        for r in 0..m {
            let (xq, sx) = quantized(&x[r * k..(r + 1) * k]);
            for (c, j) in cols.clone().enumerate() {
                let o = &mut want[r * ldo + c];
                for start in (0..k).step_by(rows) {
                    let sum: i64 = (start..(start + rows).min(k))
                        .map(|i| i64::from(xq[i]) * i64::from(w.at(i, j)))
                        .sum();
                    let sum = i32::try_from(sum).unwrap();
                    *o += sum as f32 * (sx * w.scales[j]);
                }
            }
        }
        want
    }

    fn check(vnni: bool) {
        for &k in SIZES {
            for &n in SIZES {
                let wf = data(k * n, 2);
                // One chunk, and chunks of two words (eight rows) with a short last one.
                for chunk in [CHUNK, 2] {
                    let w = Int8Matrix::with_chunk(&wf, k, n, chunk);
                    for &m in &[1, 2, 5] {
                        for cols in [0..n, n / 3..n] {
                            let ldo = cols.len() + 2;
                            let mut x = data(m * k, 1);
                            // A zero word of inputs: skipped at batch 1.
                            x[..4.min(k)].fill(0.0);
                            let out0 = data((m - 1) * ldo + cols.len(), 3);
                            let want = plain(&x, m, &w, cols.clone(), &out0, ldo);
                            let mut got = out0.clone();
                            force_portable(!vnni);
                            product(&x, m, &w, cols.clone(), &mut got, ldo);
                            assert_eq!(
                                got, want,
                                "vnni={vnni} m={m} k={k} n={n} chunk={chunk} cols={cols:?}"
                            );
                        }
                    }
                }
            }
        }
        not_finite_inputs_give_nan();
        force_portable(false);
    }

    /// A row with an infinite or NaN input gives NaN outputs; the other rows are unaffected.
    fn not_finite_inputs_give_nan() {
        let w = Int8Matrix::new(&data(8 * 3, 1), 8, 3);
        for bad in [f32::INFINITY, f32::NAN] {
            let mut x = data(2 * 8, 2);
            x[9] = bad;
            let mut out = vec![0.0f32; 6];
            product(&x, 2, &w, 0..3, &mut out, 3);
            assert!(out[..3].iter().all(|v| v.is_finite()), "{out:?}");
            assert!(out[3..].iter().all(|v| v.is_nan()), "{out:?}");
        }
    }

    /// The two kernels switch through one global flag: one test runs every case in turn.
    #[test]
    fn kernels_match_a_plain_integer_loop_at_odd_sizes() {
        check(false);
        if vnni::available() {
            check(true);
        } else {
            eprintln!("note: this CPU has no AVX-512 VNNI; only the portable kernel was tested");
        }
        // Products large enough to be split between threads (columns at batch 1, rows
        // above), with each kernel.
        if cfg!(miri) {
            return;
        }
        let (k, n) = (300, 2000);
        let w = Int8Matrix::new(&data(k * n, 5), k, n);
        for vnni in [false, vnni::available()] {
            force_portable(!vnni);
            for m in [1, 64] {
                let x = data(m * k, 4);
                let out0 = data(m * n, 6);
                let want = plain(&x, m, &w, 0..n, &out0, n);
                let mut got = out0.clone();
                crate::kernels::pool::install(|| product(&x, m, &w, 0..n, &mut got, n));
                assert_eq!(got, want, "m={m}");
            }
        }
        force_portable(false);
    }

    #[test]
    fn quantization_is_symmetric_per_column_and_rounds_to_nearest() {
        // Columns: largest 2.0, all zeros, largest 0.5 (negative).
        let w = [1.0f32, 0.0, -0.5, 2.0, 0.0, 0.25, -0.01, 0.0, 0.0];
        let q = Int8Matrix::new(&w, 3, 3);
        assert_eq!(q.scales, [2.0 / 127.0, 0.0, 0.5 / 127.0]);
        assert_eq!([q.at(0, 0), q.at(1, 0), q.at(2, 0)], [64, 127, -1]); // 63.5 to even
        assert_eq!([q.at(0, 1), q.at(1, 1), q.at(2, 1)], [0, 0, 0]);
        assert_eq!([q.at(0, 2), q.at(1, 2), q.at(2, 2)], [-127, 64, 0]);
        // The fourth row, past k, holds zero weights.
        assert_eq!(q.quads[0] >> 24, 128);
    }
}

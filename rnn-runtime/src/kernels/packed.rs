//! Products with a matrix packed once and used at every time step.
//!
//! A recurrence multiplies the state by the same recurrent kernel at every step, and a general
//! SGEMM repacks that kernel on every call: for the products of a recurrence (one row per
//! sequence in the batch, an inner dimension of about a hundred) packing is a large part of
//! the work at every batch size. Here the kernel is packed once per pass and the state rows
//! are read in place.
//!
//! The output's columns are seen as `strips` blocks of equal `width` (LSTM's four gates,
//! GRU's three) and a panel holds the same `NR` columns of every block, row after row, so a
//! micro-tile keeps `R x G` accumulators of 16 lanes busy (24 of AVX-512's 32 registers for
//! LSTM) and ends holding every gate of its units. Tiles leave the kernel through
//! [`WriteBack`].
//!
//! Measured (`bench` below; one thread on a shared 2-core AMD EPYC with AVX-512, where
//! matrixmultiply's 1024^3 SGEMM reached 80 GFLOP/s): 73-103 GFLOP/s at the recurrent shapes
//! against SGEMM's 56-80, from parity at (256, 100, 400) to 1.5x at (32, 256, 1024) and 1.65x
//! at (128, 32, 32), where SGEMM's per-call packing weighs most.
//!
//! Computing LSTM's gates and cell update in the write-back (no separate sweep) was built and
//! measured 4-10 % slower than the product followed by row sweeps (the sweeps
//! stream whole rows; the write-back works on 16-unit pieces at four strides), so the cells
//! sweep rows after the product, split between threads by rows. The `gemm` crate was not
//! measured: it also packs the right-hand matrix per call, which is what this kernel avoids.
//!
//! The tile is written with AVX-512 intrinsics where the CPU has them, AVX2+FMA or plain code
//! elsewhere; [`Isa::detect`] picks one at run time and the tests run every one the CPU has.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "Hot loops over buffers whose bounds `MatRef::check`, `gemm` and `gemm_packed` \
              assert at entry with checked arithmetic: every index stays below those bounds, \
              and panels of `chunks_exact(NR)` are `[f32; NR]`"
)]

use std::ops::Range;

use super::gemm::{CPtr, MatRef, gemm, output_end};
use super::pool::{COLUMN_BLOCK, split_columns, split_rows};

/// Columns of one strip in a panel: one AVX-512 register; threads split the product in whole
/// panels.
pub(crate) const NR: usize = COLUMN_BLOCK;

/// A `k x n` matrix packed into gate-interleaved panels for [`gemm_packed`] and [`product`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Packed {
    k: usize,
    n: usize,
    /// Blocks of `width` columns; a panel holds `NR` columns of each.
    strips: usize,
    width: usize,
    /// Panel `jp` holds, for rows `0..k`, columns `s*width + jp*NR ..+ NR` of every strip `s`,
    /// zero-padded past `width`.
    data: Vec<f32>,
}

impl Packed {
    /// Packs `b` as `strips` column blocks (3 or 4, dividing its columns; otherwise as
    /// [`plain_strips`] chooses), reusing this buffer.
    pub(crate) fn pack(&mut self, b: MatRef<'_>, strips: usize) {
        let (k, n) = (b.rows(), b.cols());
        let strips = if matches!(strips, 3 | 4) && n % strips == 0 {
            strips
        } else {
            plain_strips(n)
        };
        let width = n / strips;
        let pw = strips * NR;
        self.k = k;
        self.n = n;
        self.strips = strips;
        self.width = width;
        self.data.clear();
        self.data.resize(width.div_ceil(NR) * k * pw, 0.0);
        if k == 0 {
            return;
        }
        let (data, rs, cs) = b.parts();
        for (jp, panel) in self.data.chunks_exact_mut(k * pw).enumerate() {
            let j0 = jp * NR;
            let cols = (width - j0).min(NR);
            for s in 0..strips {
                let col0 = s * width + j0;
                if cs == 1 {
                    // Row-major: each panel row copies a run of `cols` contiguous values.
                    for (p, row) in panel.chunks_exact_mut(pw).enumerate() {
                        let from = p * rs + col0;
                        row[s * NR..s * NR + cols].copy_from_slice(&data[from..from + cols]);
                    }
                } else if rs == 1 {
                    // A transposed row-major matrix (a backward pass's `U^T`, `W^T`): each
                    // column is contiguous, read once in order, written down the panel.
                    for c in 0..cols {
                        let from = (col0 + c) * cs;
                        let column = &data[from..from + k];
                        let lane = panel.iter_mut().skip(s * NR + c).step_by(pw);
                        lane.zip(column).for_each(|(v, &x)| *v = x);
                    }
                } else {
                    for (p, row) in panel.chunks_exact_mut(pw).enumerate() {
                        for (c, v) in row[s * NR..s * NR + cols].iter_mut().enumerate() {
                            *v = b.at(p, col0 + c);
                        }
                    }
                }
            }
        }
    }

    /// Whether this holds a `k x n` matrix (an empty packing holds none).
    pub(crate) fn holds(&self, k: usize, n: usize) -> bool {
        self.k == k && self.n == n && n > 0
    }
}

/// Strips for a plain product with `n` columns: four when each is whole panels, else one.
/// Four accumulators per row keep the FMA units busy where one would wait on its own
/// latency (a single row, at batch 1).
pub(crate) fn plain_strips(n: usize) -> usize {
    if n.is_multiple_of(4 * NR) { 4 } else { 1 }
}

/// What becomes of a finished micro-tile of `A B`.
pub(crate) trait WriteBack<const G: usize>: Sync {
    /// Rows `row0..row0 + acc.len()` of the product in units `j0..j0 + cols` of every strip:
    /// `acc[r][s][c]` is the product's column `s * width + j0 + c` in row `row0 + r`
    /// (`acc[r][s][cols..]` is padding). A whole tile at once, so that the rows' element-wise
    /// work, independent from row to row, can overlap. `acc` may be used as scratch.
    ///
    /// # Safety
    /// Called once per `(row, j0)` of the product, possibly from several threads at once
    /// for different `(row, j0)`; an implementation writes only what belongs to its tile.
    unsafe fn tile(&self, row0: usize, j0: usize, cols: usize, acc: &mut [[[f32; NR]; G]]);

    /// Called before the tile of `rows` rows from `row0` at `j0` is computed, to start
    /// loading what [`WriteBack::tile`] will read (the cache misses then overlap the
    /// arithmetic).
    #[inline(always)]
    fn prefetch(&self, row0: usize, rows: usize, j0: usize) {
        let _ = (row0, rows, j0);
    }
}

/// Asks the CPU to start loading the cache line holding `p` (a hint: never faults).
#[inline(always)]
pub(crate) fn prefetch(p: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A row-major `C` (row stride `ldc`) that write-backs store tiles into, strips `width`
/// columns apart: the tile addressing and prefetch of every write-back to `C`.
#[derive(Clone, Copy)]
pub(crate) struct Output {
    c: CPtr,
    ldc: usize,
    width: usize,
}

impl Output {
    /// `c` with rows `ldc` apart, for an `m x n` product packed in strips of `width` columns.
    ///
    /// # Panics
    /// If `c` does not hold the product: an internal invariant, never user input.
    pub(crate) fn new(c: &mut [f32], m: usize, n: usize, ldc: usize, width: usize) -> Self {
        assert!(
            ldc >= n && output_end(m, n, ldc).is_some_and(|end| end <= c.len()),
            "output exceeds its buffer"
        );
        Output {
            c: CPtr(c.as_mut_ptr()),
            ldc,
            width,
        }
    }

    /// [`WriteBack::prefetch`] of the rows of `C` a tile is written to.
    #[inline(always)]
    pub(crate) fn prefetch<const G: usize>(&self, row0: usize, rows: usize, j0: usize) {
        for r in row0..row0 + rows {
            for s in 0..G {
                prefetch(self.c.0.wrapping_add(r * self.ldc + s * self.width + j0));
            }
        }
    }

    /// Hands `store` each row and strip of a tile (as [`WriteBack::tile`] gets it): the `cols`
    /// values of `C` it covers, its accumulators and the column of `C` it starts at.
    ///
    /// # Safety
    /// The tile is one of the `m x n` product's (which [`Output::new`] checked `C` holds), and
    /// no other call is given the same `(row0, j0)` tile at the same time.
    #[inline(always)]
    pub(crate) unsafe fn store<const G: usize>(
        &self,
        row0: usize,
        j0: usize,
        cols: usize,
        acc: &[[[f32; NR]; G]],
        mut store: impl FnMut(&mut [f32], &[f32; NR], usize),
    ) {
        for (r, acc) in acc.iter().enumerate() {
            for (s, acc) in acc.iter().enumerate() {
                let col = s * self.width + j0;
                // SAFETY: the caller's contract: `C` holds the tile and tiles are disjoint, so
                // this slice is unique.
                let out = unsafe {
                    std::slice::from_raw_parts_mut(self.c.0.add((row0 + r) * self.ldc + col), cols)
                };
                store(out, acc, col);
            }
        }
    }
}

/// The plain write-back: adds the tile to `C`.
struct AddTo(Output);

impl<const G: usize> WriteBack<G> for AddTo {
    #[inline(always)]
    fn prefetch(&self, row0: usize, rows: usize, j0: usize) {
        self.0.prefetch::<G>(row0, rows, j0);
    }

    #[inline(always)]
    unsafe fn tile(&self, row0: usize, j0: usize, cols: usize, acc: &mut [[[f32; NR]; G]]) {
        // SAFETY: `Output::new` checked that `C` holds every row and column of the product;
        // this `(row0, j0)` tile is this call's own (the trait's contract).
        unsafe {
            self.0.store(row0, j0, cols, acc, |out, acc, _| {
                for (o, v) in out.iter_mut().zip(acc) {
                    *o += v;
                }
            });
        }
    }
}

/// `C += A B` with `A` row-major `(m, k)` and contiguous, and `C` row-major `(m, n)` with
/// leading dimension `ldc`. Uses `packed` when it holds `b`, else SGEMM on `b`.
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
    // One row reads each weight once whatever the layout: `gemm` sends it to the
    // matrix-vector kernel, which reads the unpacked matrix in place.
    if !packed.holds(k, n) || k == 0 || m == 1 {
        gemm(1.0, MatRef::new(a, m, k), b, 1.0, c, ldc);
        return;
    }
    if m == 0 {
        return;
    }
    let wb = AddTo(Output::new(c, m, n, ldc, packed.width));
    match packed.strips {
        4 => product::<4, _>(a, m, packed, &wb),
        3 => product::<3, _>(a, m, packed, &wb),
        _ => product::<1, _>(a, m, packed, &wb),
    }
}

/// [`gemm_packed`] on the calling thread only, for callers that split rows between threads
/// themselves.
pub(crate) fn gemm_packed_serial(
    a: &[f32],
    m: usize,
    b: MatRef<'_>,
    packed: &Packed,
    c: &mut [f32],
    ldc: usize,
) {
    let (k, n) = (b.rows(), b.cols());
    if !packed.holds(k, n) || k == 0 {
        gemm(1.0, MatRef::new(a, m, k), b, 1.0, c, ldc);
        return;
    }
    if m == 0 {
        return;
    }
    assert!(
        m.checked_mul(k).is_some_and(|len| len <= a.len()),
        "left matrix exceeds its buffer"
    );
    let wb = AddTo(Output::new(c, m, n, ldc, packed.width));
    let job = Job {
        a,
        row0: 0,
        m,
        k,
        width: packed.width,
        data: &packed.data,
    };
    let panels = 0..packed.width.div_ceil(NR);
    // SAFETY: one call covers every tile once; `a` holds `m * k` values and `data` every
    // panel; the detected instruction set is the CPU's.
    unsafe {
        match packed.strips {
            4 => job.run::<4, _>(Isa::detect(), panels, &wb),
            3 => job.run::<3, _>(Isa::detect(), panels, &wb),
            _ => job.run::<1, _>(Isa::detect(), panels, &wb),
        }
    }
}

/// Runs `A packed` for `A` row-major `(m, k)`, handing every micro-tile to `wb`. The panels
/// are split between rayon's threads, so each reads only its part of the packed matrix.
///
/// # Panics
/// If `packed` does not have `G` strips or `a` is shorter than `m * k`.
pub(crate) fn product<const G: usize, W: WriteBack<G>>(
    a: &[f32],
    m: usize,
    packed: &Packed,
    wb: &W,
) {
    product_with(Isa::detect(), a, m, packed, wb);
}

/// [`product`] with a chosen instruction set.
fn product_with<const G: usize, W: WriteBack<G>>(
    isa: Isa,
    a: &[f32],
    m: usize,
    packed: &Packed,
    wb: &W,
) {
    let (k, width) = (packed.k, packed.width);
    assert_eq!(packed.strips, G, "packed with another number of strips");
    assert!(
        m.checked_mul(k).is_some_and(|len| len <= a.len()),
        "left matrix exceeds its buffer"
    );
    if m == 0 || width == 0 || k == 0 {
        return;
    }
    let panels = width.div_ceil(NR);
    let job = |rows: Range<usize>| Job {
        a: &a[rows.start * k..rows.end * k],
        row0: rows.start,
        m: rows.len(),
        k,
        width,
        data: &packed.data,
    };
    if panels % 2 == 0 || panels >= 8 {
        // Each thread reads only its panels of the kernel.
        split_columns(width, m * k * G, &|units: Range<usize>| {
            // SAFETY: the panel ranges of the calls are disjoint, so each `(row, j0)` tile is
            // handed to `wb` once; `a` holds `m * k` values (asserted above) and `data` every
            // panel of a `k x n` packing.
            unsafe { job(0..m).run::<G, W>(isa, units.start / NR..units.end.div_ceil(NR), wb) }
        });
    } else {
        // A few panels, odd: split by panels, one thread would get most of the work (4 of
        // 7 for 100 units), so split the rows instead.
        split_rows(m, k * G * width, &|rows: Range<usize>| {
            // SAFETY: the row ranges of the calls are disjoint, so each `(row, j0)` tile is
            // handed to `wb` once; `a` holds `m * k` values (asserted above) and `data` every
            // panel of a `k x n` packing.
            unsafe { job(rows).run::<G, W>(isa, 0..panels, wb) }
        });
    }
}

/// The instruction set a product runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// Plain code (whatever the compile target allows, SSE2 on x86-64).
    Portable,
    /// AVX2 with fused multiply-adds, eight lanes.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX-512 intrinsics on the full 16-lane registers.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The best this CPU has.
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// Every instruction set this CPU can run, for tests.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Isa> {
        let mut all = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                all.push(Isa::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                all.push(Isa::Avx512);
            }
        }
        all
    }
}

/// One thread's share of a product.
#[derive(Clone, Copy)]
struct Job<'a> {
    /// Rows `row0..row0 + m` of the left matrix.
    a: &'a [f32],
    row0: usize,
    m: usize,
    k: usize,
    width: usize,
    data: &'a [f32],
}

impl Job<'_> {
    /// # Safety
    /// `isa` must be supported by the CPU; `a` holds `m * k` values; `data` holds the
    /// `panels`; the same `(row, j0)` tile must not be handed to `wb` by another call.
    unsafe fn run<const G: usize, W: WriteBack<G>>(self, isa: Isa, panels: Range<usize>, wb: &W) {
        // SAFETY: passed on from the caller; each arm runs only on CPUs with its features.
        unsafe {
            match (isa, G) {
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx512, 4) => self.avx512::<G, 6, 3, W>(panels, wb),
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx512, 3) => self.avx512::<G, 8, 4, W>(panels, wb),
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx512, _) => self.avx512::<G, 12, 6, W>(panels, wb),
                // Sixteen 8-lane registers: two per accumulator of 16 lanes.
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx2, 1) => self.avx2::<G, 6, 3, W>(panels, wb),
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx2, 3) => self.avx2::<G, 2, 1, W>(panels, wb),
                #[cfg(target_arch = "x86_64")]
                (Isa::Avx2, _) => self.avx2::<G, 1, 1, W>(panels, wb),
                (Isa::Portable, _) => self.tiles::<G, 2, 1, W, PortableTile>(panels, wb),
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512<const G: usize, const R: usize, const RH: usize, W: WriteBack<G>>(
        self,
        panels: Range<usize>,
        wb: &W,
    ) {
        // SAFETY: the caller's contract; AVX-512F is enabled here.
        unsafe { self.tiles::<G, R, RH, W, Avx512Tile>(panels, wb) }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2<const G: usize, const R: usize, const RH: usize, W: WriteBack<G>>(
        self,
        panels: Range<usize>,
        wb: &W,
    ) {
        // SAFETY: the caller's contract; AVX2 and FMA are enabled here.
        unsafe { self.tiles::<G, R, RH, W, FmaTile>(panels, wb) }
    }

    /// Every tile of `panels`: rows in tiles of `R`, then `RH`, then one.
    ///
    /// # Safety
    /// As for [`Job::run`], with `T`'s instructions enabled in the caller.
    #[inline(always)]
    unsafe fn tiles<const G: usize, const R: usize, const RH: usize, W, T>(
        self,
        panels: Range<usize>,
        wb: &W,
    ) where
        W: WriteBack<G>,
        T: Tile,
    {
        let (m, k) = (self.m, self.k);
        let pw = G * NR;
        let mut acc = [[[0.0f32; NR]; G]; R];
        for jp in panels {
            let panel = &self.data[jp * k * pw..(jp + 1) * k * pw];
            let j0 = jp * NR;
            let cols = (self.width - j0).min(NR);
            let mut i = 0;
            while i < m {
                let rows = if i + R <= m {
                    R
                } else if i + RH <= m {
                    RH
                } else {
                    1
                };
                wb.prefetch(self.row0 + i, rows, j0);
                let a = &self.a[i * k..(i + rows) * k];
                // SAFETY: the caller enabled `T`'s instructions; `a` holds `rows` rows of `k`
                // and `panel` `k` rows of `pw`.
                unsafe {
                    if rows == R {
                        T::tile::<G, R>(a, k, panel, &mut acc)
                    } else if rows == RH {
                        T::tile::<G, RH>(a, k, panel, first_rows::<G, R, RH>(&mut acc))
                    } else {
                        T::tile::<G, 1>(a, k, panel, first_rows::<G, R, 1>(&mut acc))
                    }
                }
                // SAFETY: these `(row, j0)` are visited once: rows advance, and panels are this
                // call's own.
                unsafe { wb.tile(self.row0 + i, j0, cols, &mut acc[..rows]) };
                i += rows;
            }
        }
    }
}

/// The first `S` rows of a tile buffer.
#[inline(always)]
fn first_rows<const G: usize, const R: usize, const S: usize>(
    acc: &mut [[[f32; NR]; G]; R],
) -> &mut [[[f32; NR]; G]; S] {
    (&mut acc[..S]).try_into().expect("S <= R")
}

/// A micro-kernel: `out[r][s] = A[r, :] panel[:, s]` for `R` rows.
trait Tile {
    /// # Safety
    /// The kernel's instructions are enabled; `a` holds `R * k` values and `panel`
    /// `k * G * NR`.
    unsafe fn tile<const G: usize, const R: usize>(
        a: &[f32],
        k: usize,
        panel: &[f32],
        out: &mut [[[f32; NR]; G]; R],
    );
}

/// Plain code over arrays, vectorised by the compiler; `FMA` picks fused multiply-adds.
#[inline(always)]
fn tile_arrays<const G: usize, const R: usize, const FMA: bool>(
    a: &[f32],
    k: usize,
    panel: &[f32],
    out: &mut [[[f32; NR]; G]; R],
) {
    let rows: [&[f32]; R] = std::array::from_fn(|r| &a[r * k..(r + 1) * k]);
    let mut acc = [[[0.0f32; NR]; G]; R];
    for (p, bp) in panel.chunks_exact(G * NR).take(k).enumerate() {
        for r in 0..R {
            let av = rows[r][p];
            for s in 0..G {
                for c in 0..NR {
                    let bv = bp[s * NR + c];
                    acc[r][s][c] = if FMA {
                        av.mul_add(bv, acc[r][s][c])
                    } else {
                        acc[r][s][c] + av * bv
                    };
                }
            }
        }
    }
    *out = acc;
}

struct PortableTile;

impl Tile for PortableTile {
    #[inline(always)]
    unsafe fn tile<const G: usize, const R: usize>(
        a: &[f32],
        k: usize,
        panel: &[f32],
        out: &mut [[[f32; NR]; G]; R],
    ) {
        tile_arrays::<G, R, false>(a, k, panel, out)
    }
}

struct FmaTile;

impl Tile for FmaTile {
    #[inline(always)]
    unsafe fn tile<const G: usize, const R: usize>(
        a: &[f32],
        k: usize,
        panel: &[f32],
        out: &mut [[[f32; NR]; G]; R],
    ) {
        tile_arrays::<G, R, true>(a, k, panel, out)
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx512Tile;

#[cfg(target_arch = "x86_64")]
impl Tile for Avx512Tile {
    #[inline(always)]
    unsafe fn tile<const G: usize, const R: usize>(
        a: &[f32],
        k: usize,
        panel: &[f32],
        out: &mut [[[f32; NR]; G]; R],
    ) {
        use std::arch::x86_64::{
            __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
            _mm512_storeu_ps,
        };
        assert!(a.len() >= R * k && panel.len() >= k * G * NR);
        let (a, b) = (a.as_ptr(), panel.as_ptr());
        // SAFETY: AVX-512F is enabled by the caller; every pointer stays inside `a`
        // (`r * k + p < R * k`) and `panel` (`(p * G + s) * NR + 16 <= k * G * NR`), as
        // asserted above.
        unsafe {
            let mut acc: [[__m512; G]; R] = [[_mm512_setzero_ps(); G]; R];
            for p in 0..k {
                let bp = b.add(p * G * NR);
                let bv: [__m512; G] = std::array::from_fn(|s| _mm512_loadu_ps(bp.add(s * NR)));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let av = _mm512_set1_ps(*a.add(r * k + p));
                    for (acc, &bv) in acc.iter_mut().zip(&bv) {
                        *acc = _mm512_fmadd_ps(av, bv, *acc);
                    }
                }
            }
            for (out, acc) in out.iter_mut().zip(&acc) {
                for (out, &acc) in out.iter_mut().zip(acc) {
                    _mm512_storeu_ps(out.as_mut_ptr(), acc);
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernels::test_support::{SIZES, data, near, transpose};

    /// `C += A B` by the definition, in f64.
    fn plain(a: &[f32], b: MatRef<'_>, m: usize, c: &mut [f32], ldc: usize) {
        let (k, n) = (b.rows(), b.cols());
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k)
                    .map(|p| a[i * k + p] as f64 * b.at(p, j) as f64)
                    .sum();
                c[i * ldc + j] = (c[i * ldc + j] as f64 + s) as f32;
            }
        }
    }

    fn check_all(m: usize, k: usize, n: usize, strips: usize) {
        let a = data(m * k, 1);
        let b = data(k * n, 2);
        let ldc = n + 3;
        let c0 = data(m * ldc, 3);
        for transposed in [false, true] {
            let bt: Vec<f32>;
            let view = if transposed {
                bt = transpose(&b, k, n);
                MatRef::new(&bt, n, k).t()
            } else {
                MatRef::new(&b, k, n)
            };
            let mut want = c0.clone();
            plain(&a, view, m, &mut want, ldc);
            let mut packed = Packed::default();
            packed.pack(view, strips);
            for isa in Isa::available() {
                let mut got = c0.clone();
                let wb = AddTo(Output::new(&mut got, m, n, ldc, packed.width));
                match packed.strips {
                    4 => product_with::<4, _>(isa, &a, m, &packed, &wb),
                    3 => product_with::<3, _>(isa, &a, m, &packed, &wb),
                    _ => product_with::<1, _>(isa, &a, m, &packed, &wb),
                }
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        near(f64::from(*g), f64::from(*w), k),
                        "{isa:?} {m}x{k}x{n}/{strips} at {i}: {g} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_path_matches_the_plain_loop_at_odd_sizes() {
        // Miri, which interprets every instruction, checks the sizes up to 33 (and one
        // product of 99 columns, three strips) in a few minutes.
        let small = |d: usize| !cfg!(miri) || d <= 33;
        for m in [1, 7, 33, 257].into_iter().filter(|&m| small(m)) {
            // (257, 100): seven panels, which large products split by rows.
            for (k, n) in [
                (1, 1),
                (7, 7),
                (33, 33),
                (7, 28),
                (33, 132),
                (257, 257),
                (257, 100),
            ]
            .into_iter()
            .filter(|&(k, n)| small(k) && small(n))
            {
                check_all(m, k, n, 1);
                check_all(m, k, n, 4);
            }
        }
        for (m, k, n) in [(7, 33, 99), (33, 7, 771), (257, 33, 3 * 257)] {
            if !small(m) || !small(k) || (cfg!(miri) && n > 99) {
                continue;
            }
            check_all(m, k, n, 3);
        }
    }

    /// Each panel value read by its definition, `b.at(p, column)`, for both layouts `pack`
    /// copies with a loop of its own (row-major and transposed, dense or with a leading
    /// dimension).
    #[test]
    fn packing_puts_every_value_where_the_definition_says() {
        for &k in SIZES {
            for n in [1, 7, 33, 28, 132, 257, 99] {
                let b = data(2 * k * (n + 2), 5);
                let bt = transpose(&b[..k * n], k, n);
                let views = [
                    MatRef::new(&b, k, n),
                    MatRef::with_ld(&b, k, n, n + 2),
                    MatRef::new(&bt, n, k).t(),
                    // Transposed, its columns `2k` apart rather than `k`.
                    MatRef::with_ld(&b, n, k, 2 * k).t(),
                ];
                for view in views {
                    for strips in [1, 3, 4] {
                        let mut packed = Packed::default();
                        packed.pack(view, strips);
                        let (s, width) = (packed.strips, packed.width);
                        let pw = s * NR;
                        let kk = view.rows();
                        let mut want = vec![0.0f32; packed.data.len()];
                        for (jp, panel) in want.chunks_exact_mut(kk.max(1) * pw).enumerate() {
                            let j0 = jp * NR;
                            for p in 0..kk {
                                for st in 0..s {
                                    for c in 0..(width - j0).min(NR) {
                                        panel[p * pw + st * NR + c] =
                                            view.at(p, st * width + j0 + c);
                                    }
                                }
                            }
                        }
                        assert!(packed.data == want, "k {k}, n {n}, {strips} strips");
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_packed_matches_gemm_and_falls_back_without_a_packing() {
        // Miri, which interprets every instruction, checks one product at odd row and depth
        // counts and two panels.
        let sizes: &[_] = if cfg!(miri) {
            &[(7, 33, 128, 4)]
        } else {
            &[(13, 64, 256, 4), (100, 100, 400, 4), (32, 256, 1024, 4)]
        };
        for &(m, k, n, strips) in sizes {
            let a = data(m * k, 1);
            let b = data(k * n, 2);
            let view = MatRef::new(&b, k, n);
            let c0 = data(m * n, 3);
            let mut want = c0.clone();
            gemm(1.0, MatRef::new(&a, m, k), view, 1.0, &mut want, n);
            let mut packed = Packed::default();
            let mut unpacked = c0.clone();
            gemm_packed(&a, m, view, &packed, &mut unpacked, n);
            assert_eq!(unpacked, want, "an empty packing is plain SGEMM");
            packed.pack(view, strips);
            let mut got = c0.clone();
            gemm_packed(&a, m, view, &packed, &mut got, n);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{g} vs {w}");
            }
        }
    }
}

/// Throughput of the per-step products against SGEMM, and the machine's SGEMM peak:
/// `cargo test --release -p rnn-runtime --lib kernels::packed::bench -- --ignored --nocapture`.
#[cfg(test)]
mod bench {
    use super::*;
    use crate::kernels::test_support::data;
    use std::time::Instant;

    /// Best GFLOP/s of `f` (doing `flops`) over a few rounds of about 0.2 s.
    fn gflops(flops: f64, mut f: impl FnMut()) -> f64 {
        f();
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let (start, mut reps) = (Instant::now(), 0u32);
            while start.elapsed().as_secs_f64() < 0.2 {
                f();
                reps += 1;
            }
            best = best.min(start.elapsed().as_secs_f64() / f64::from(reps));
        }
        flops / best / 1e9
    }

    fn on_threads(threads: usize, f: impl FnOnce() -> f64 + Send) -> f64 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
            .install(f)
    }

    #[test]
    #[ignore = "a timing run, not a check"]
    fn recurrent_products_against_sgemm() {
        let n = 1024;
        let (a, b) = (data(n * n, 1), data(n * n, 2));
        let mut c = vec![0.0; n * n];
        for threads in [1, 2] {
            let peak = on_threads(threads, || {
                gflops(2.0 * (n * n * n) as f64, || {
                    gemm(
                        1.0,
                        MatRef::new(&a, n, n),
                        MatRef::new(&b, n, n),
                        0.0,
                        &mut c,
                        n,
                    )
                })
            });
            println!("SGEMM 1024^3, {threads} thread(s): {peak:.1} GFLOP/s");
        }
        println!("per-step product (m, k, n, strips): packed / SGEMM GFLOP/s, 1 and 2 threads");
        for (m, k, n, strips) in [
            (100, 100, 400, 4),
            (256, 100, 400, 4),
            (32, 256, 1024, 4),
            (128, 64, 256, 4),
            (128, 32, 32, 1),
            (100, 400, 100, 1),
            (32, 1024, 256, 4),
        ] {
            let (a, b) = (data(m * k, 1), data(k * n, 2));
            let view = MatRef::new(&b, k, n);
            let mut packed = Packed::default();
            packed.pack(view, strips);
            let mut c = vec![0.0; m * n];
            let flops = 2.0 * (m * k * n) as f64;
            let mut line = format!("({m}, {k}, {n}, {strips}):");
            for threads in [1, 2] {
                let mine = on_threads(threads, || {
                    gflops(flops, || gemm_packed(&a, m, view, &packed, &mut c, n))
                });
                let sgemm = on_threads(threads, || {
                    gflops(flops, || {
                        gemm(1.0, MatRef::new(&a, m, k), view, 1.0, &mut c, n)
                    })
                });
                line += &format!("  {mine:.1} / {sgemm:.1}");
            }
            println!("{line}");
        }
        println!(
            "input projection with bias (rows, k, n): gemm_tall_bias GFLOP/s, 1 and 2 threads"
        );
        for (m, k, n) in [(3200, 16, 400), (3200, 100, 400), (1280, 256, 1024)] {
            let (a, b) = (data(m * k, 1), data(k * n, 2));
            let (view, bias) = (MatRef::new(&b, k, n), data(n, 3));
            let mut c = vec![0.0; m * n];
            let flops = 2.0 * (m * k * n) as f64;
            let mut line = format!("({m}, {k}, {n}):");
            for threads in [1, 2] {
                let mine = on_threads(threads, || {
                    gflops(flops, || {
                        crate::kernels::tall::gemm_tall_bias(&a, m, view, Some(&bias), &mut c, n)
                    })
                });
                line += &format!("  {mine:.1}");
            }
            println!("{line}");
        }
    }
}

//! The weights of a batch-1 recurrent step packed in panels: one product `[x, h] [W; U] + b`
//! per step, whose output for a block of units is every gate of those units, so that the
//! gates run on it while it is still in registers and the first-level cache.
//!
//! At batch 1 a step reads every weight once and does two flops per weight: its speed is
//! that of reading the weights. The layout serves that: the stacked matrix `[W; U]`
//! (`(IN + H, G*H)`, the kernel's rows then the recurrent kernel's) is cut into panels of a
//! few units each; a panel holds, for each of its rows, the columns of its units in every
//! gate side by side ([`ROW`] values, one cache-line pair per row), and its rows are stored
//! one after the other. A panel is thus read front to back in one stream, its outputs stay
//! in eight vector registers, and panels are independent, so two threads split a step by
//! panels. Rows whose input is zero (a one-hot character: all but one row of `W`) are not
//! read at all.
//!
//! Keeping the panels costs a second copy of the layer's weights, made once per version of
//! them (see `layers/recurrent/panel_step.rs`).

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Hot loops over buffers whose bounds `Panels::pack` and `Panels::product` check \
              at entry with checked arithmetic: every index stays below them"
)]

use std::ops::Range;
use std::sync::OnceLock;

/// Values per panel row: every gate of the panel's units, 128 lanes (eight 512-bit vectors)
/// whatever the number of gates, so the kernel's accumulators fill the registers.
pub(crate) const ROW: usize = 128;

/// The non-zero entries of a product's input row `[x, h]`, as `(row, value)` pairs, in a
/// buffer kept from step to step: every row listed is below [`Inputs::rows`], which the
/// kernels rely on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Inputs {
    pairs: Vec<(usize, f32)>,
    rows: usize,
}

impl Inputs {
    /// Lists the non-zero values of `parts` laid end to end. Allocates only when the buffer
    /// is smaller than the parts (see [`Inputs::reserve`]).
    pub(crate) fn fill(&mut self, parts: &[&[f32]]) {
        self.pairs.clear();
        let mut r = 0;
        for part in parts {
            for &v in *part {
                if v != 0.0 {
                    self.pairs.push((r, v));
                }
                r += 1;
            }
        }
        self.rows = r;
    }

    /// Makes room for `rows` entries, so that filling allocates nothing.
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.pairs.reserve(rows.saturating_sub(self.pairs.len()));
    }

    /// Rows of the input row, zero or not.
    #[cfg(test)]
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }
}

/// `[W; U]` and the bias of a recurrent layer in panels (see the module's notes).
#[derive(Clone, Debug, Default)]
pub(crate) struct Panels {
    /// Rows of the stacked matrix.
    k: usize,
    units: usize,
    /// Units per panel; the last panel may have fewer.
    width: usize,
    /// `(panels, k, ROW)`: in row `r` of panel `p`, gate `g` of unit `p * width + u` is at
    /// `g * w + u`, `w` that panel's unit count; lanes past `gates * w` are zero.
    data: Vec<f32>,
    /// `(panels, ROW)`: the bias in the same layout (zeros without one).
    bias: Vec<f32>,
}

impl Panels {
    /// Packs `blocks`, row-major matrices of `gates * units` columns stacked in that order
    /// (`(rows, matrix)` pairs), with `bias` (`gates * units` values) if any. `None` when
    /// `gates` does not divide [`ROW`] (GRU's three gates) or the sizes are inconsistent.
    pub(crate) fn pack(
        blocks: &[(usize, &[f32])],
        gates: usize,
        units: usize,
        bias: Option<&[f32]>,
    ) -> Option<Self> {
        if gates == 0 || !ROW.is_multiple_of(gates) || units == 0 {
            return None;
        }
        let gh = gates.checked_mul(units)?;
        let mut k = 0usize;
        for &(rows, m) in blocks {
            if rows.checked_mul(gh)? != m.len() {
                return None;
            }
            k = k.checked_add(rows)?;
        }
        if bias.is_some_and(|b| b.len() != gh) {
            return None;
        }
        let width = ROW / gates;
        let panels = units.div_ceil(width);
        let mut data = vec![0.0f32; panels.checked_mul(k)?.checked_mul(ROW)?];
        let mut packed_bias = vec![0.0f32; panels * ROW];
        for p in 0..panels {
            let u0 = p * width;
            let w = width.min(units - u0);
            let panel = &mut data[p * k * ROW..(p + 1) * k * ROW];
            let mut r = 0;
            for &(rows, m) in blocks {
                for src in m.chunks_exact(gh).take(rows) {
                    let dst = &mut panel[r * ROW..(r + 1) * ROW];
                    for g in 0..gates {
                        dst[g * w..(g + 1) * w]
                            .copy_from_slice(&src[g * units + u0..g * units + u0 + w]);
                    }
                    r += 1;
                }
            }
            if let Some(b) = bias {
                let dst = &mut packed_bias[p * ROW..(p + 1) * ROW];
                for g in 0..gates {
                    dst[g * w..(g + 1) * w].copy_from_slice(&b[g * units + u0..g * units + u0 + w]);
                }
            }
        }
        Some(Panels {
            k,
            units,
            width,
            data,
            bias: packed_bias,
        })
    }

    /// Rows of the stacked matrix.
    pub(crate) fn rows(&self) -> usize {
        self.k
    }

    /// Number of panels.
    pub(crate) fn count(&self) -> usize {
        self.units.div_ceil(self.width.max(1))
    }

    /// The units of panel `p`.
    pub(crate) fn units_of(&self, p: usize) -> Range<usize> {
        let u0 = p * self.width;
        u0..(u0 + self.width).min(self.units)
    }

    /// The gates' pre-activations of panel `p`'s `w` units, `out[g * w + u]`: the bias plus
    /// each non-zero input times its row. Lanes past `gates * w` are zero.
    ///
    /// # Panics
    /// When `p` is out of range or `x` has more rows than the panels: internal invariants,
    /// never user input.
    pub(crate) fn product(&self, p: usize, x: &Inputs, out: &mut [f32; ROW]) {
        assert!(p < self.count(), "panel out of range");
        assert!(x.rows <= self.k, "input rows beyond the panels");
        let panel = &self.data[p * self.k * ROW..(p + 1) * self.k * ROW];
        let bias: &[f32; ROW] = self.bias[p * ROW..(p + 1) * ROW]
            .try_into()
            .unwrap_or(&[0.0; ROW]);
        out.copy_from_slice(bias);
        kernel()(panel, x, out);
    }
}

/// `acc += sum value * panel[row]` over the pairs of the inputs, every row holding [`ROW`]
/// values.
type Kernel = fn(&[f32], &Inputs, &mut [f32; ROW]);

/// The kernel for this CPU, chosen once.
fn kernel() -> Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    *KERNEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            return avx512::accumulate;
        }
        portable
    })
}

/// The portable kernel, vectorised by the compiler for the instruction set found at run time.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn portable(panel: &[f32], x: &Inputs, acc: &mut [f32; ROW]) {
    for &(r, v) in &x.pairs {
        let row = &panel[r * ROW..(r + 1) * ROW];
        for (a, w) in acc.iter_mut().zip(row) {
            *a += v * w;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{Inputs, ROW};

    const LANES: usize = 16;
    const VECS: usize = ROW / LANES;

    /// Checked entry point of the AVX-512 kernel.
    pub(super) fn accumulate(panel: &[f32], x: &Inputs, acc: &mut [f32; ROW]) {
        assert!(std::arch::is_x86_feature_detected!("avx512f"));
        assert!(
            x.rows
                .checked_mul(ROW)
                .is_some_and(|len| len <= panel.len())
        );
        // SAFETY: AVX-512F is present and every row listed is below `x.rows` (`Inputs`'
        // invariant), so it lies inside `panel` (both checked above).
        unsafe { rows(panel, &x.pairs, acc) }
    }

    /// # Safety
    /// The CPU has AVX-512F; every row of `nz` holds [`ROW`] values of `panel`.
    #[target_feature(enable = "avx512f")]
    unsafe fn rows(panel: &[f32], nz: &[(usize, f32)], acc: &mut [f32; ROW]) {
        let out = acc.as_mut_ptr();
        // SAFETY: `acc` holds `ROW = VECS * LANES` values.
        let mut a: [__m512; VECS] =
            std::array::from_fn(|v| unsafe { _mm512_loadu_ps(out.add(v * LANES)) });
        let base = panel.as_ptr();
        for &(r, x) in nz {
            let xv = _mm512_set1_ps(x);
            // SAFETY: row `r` holds `ROW` values (the caller's contract).
            let row = unsafe { base.add(r * ROW) };
            for (v, a) in a.iter_mut().enumerate() {
                // SAFETY: as above, `v * LANES + LANES <= ROW`.
                *a = _mm512_fmadd_ps(xv, unsafe { _mm512_loadu_ps(row.add(v * LANES)) }, *a);
            }
        }
        for (v, a) in a.iter().enumerate() {
            // SAFETY: as for the loads of `acc`.
            unsafe { _mm512_storeu_ps(out.add(v * LANES), *a) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::{SIZES, data};

    /// `b + [x, h] [W; U]`, one element at a time.
    fn plain(x: &[f32], w: &[f32], h: &[f32], u: &[f32], b: &[f32], gh: usize) -> Vec<f32> {
        (0..gh)
            .map(|j| {
                let xs: f32 = (0..x.len()).map(|i| x[i] * w[i * gh + j]).sum();
                let hs: f32 = (0..h.len()).map(|i| h[i] * u[i * gh + j]).sum();
                b[j] + xs + hs
            })
            .collect()
    }

    fn check(kernel: Kernel, name: &str) {
        for gates in [1, 4] {
            for &input in SIZES {
                for &units in SIZES {
                    let gh = gates * units;
                    let mut x = data(input, 1);
                    // Zero inputs are skipped.
                    x[input / 2] = 0.0;
                    let h = data(units, 2);
                    let (w, u, b) = (data(input * gh, 3), data(units * gh, 4), data(gh, 5));
                    let want = plain(&x, &w, &h, &u, &b, gh);
                    let panels =
                        Panels::pack(&[(input, &w), (units, &u)], gates, units, Some(&b)).unwrap();
                    assert_eq!(panels.rows(), input + units);
                    let mut nz = Inputs::default();
                    nz.fill(&[&x, &h]);
                    assert_eq!(nz.rows(), input + units);
                    let mut got = vec![f32::NAN; gh];
                    for p in 0..panels.count() {
                        let units_p = panels.units_of(p);
                        let wp = units_p.len();
                        let mut out = [f32::NAN; ROW];
                        let kp = panels.k;
                        let panel = &panels.data[p * kp * ROW..(p + 1) * kp * ROW];
                        out.copy_from_slice(&panels.bias[p * ROW..(p + 1) * ROW]);
                        kernel(panel, &nz, &mut out);
                        assert!(
                            out[gates * wp..].iter().all(|&v| v == 0.0),
                            "{name} padding"
                        );
                        for g in 0..gates {
                            for (i, unit) in units_p.clone().enumerate() {
                                got[g * units + unit] = out[g * wp + i];
                            }
                        }
                        // The checked entry point (the kernel for this CPU) agrees.
                        let mut again = [0.0; ROW];
                        panels.product(p, &nz, &mut again);
                        for (a, o) in again.iter().zip(&out) {
                            assert!((a - o).abs() <= 1e-5 * (1.0 + o.abs()), "{name}: {a} {o}");
                        }
                    }
                    for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                            "{name} gates={gates} in={input} units={units} col {j}: {g} vs {w}"
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
            check(avx512::accumulate, "avx512");
            return;
        }
        eprintln!("note: this CPU has no AVX-512; only the portable kernel was tested");
    }

    #[test]
    fn three_gates_and_inconsistent_sizes_are_not_packed() {
        let w = data(2 * 9, 1);
        assert!(Panels::pack(&[(2, &w)], 3, 3, None).is_none());
        assert!(Panels::pack(&[(3, &w)], 1, 9, None).is_none());
        assert!(Panels::pack(&[(2, &w)], 1, 9, Some(&[0.0; 8])).is_none());
    }
}

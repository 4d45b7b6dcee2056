//! Adam's element-wise passes without AMSGrad or clipping (the step of `fit` with the
//! defaults): one loop per pass over a parameter's weights, gradients and slots, compiled for
//! the CPU's widest vectors and split between the pool's threads.
//!
//! The general passes read each value through per-element closures (a slot that may be
//! missing, a gradient that may be absent) and update the moments and the weights in two
//! loops; here both are one loop body the compiler vectorises whole. Every value is computed
//! with the same operations in the same order as the general passes, so both give the same
//! bits, and a part's result does not depend on where the parameter was split.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Parts of `PART` values of buffers that `step` and `all_finite` assert to have \
              the same length: every range ends at or before that length"
)]

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use multiversion::multiversion;

use super::Coeffs;
use crate::kernels::gemm::CPtr;
use crate::kernels::pool::{on_pool_to_split_rows, split_rows};

/// Values per part when a pass is split between threads: whole cache lines, and enough work
/// per part that handing one over pays.
const PART: usize = 4096;

/// Operations per value (moments, square root, division), for the split's threshold.
const WORK: usize = 16;

/// The parts of `len` values, as ranges of values.
fn values(parts: Range<usize>, len: usize) -> Range<usize> {
    parts.start * PART..(parts.end * PART).min(len)
}

/// Runs `f`, which passes parameters of at most `largest` values to [`step`] or
/// [`all_finite`], on the pool when such a parameter is large enough for them to split, else
/// on the calling thread.
pub(super) fn on_pool<R: Send>(largest: usize, f: impl FnOnce() -> R + Send) -> R {
    on_pool_to_split_rows(largest.div_ceil(PART), PART * WORK, f)
}

/// One step of a parameter: new moments `m`, `v` and weights `w` from the gradients `g`.
///
/// # Panics
/// If the four buffers differ in length: an internal invariant.
pub(super) fn step(c: Coeffs, w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    let len = w.len();
    assert!(g.len() == len && m.len() == len && v.len() == len);
    let (wp, mp, vp) = (
        CPtr(w.as_mut_ptr()),
        CPtr(m.as_mut_ptr()),
        CPtr(v.as_mut_ptr()),
    );
    split_rows(len.div_ceil(PART), PART * WORK, &|parts: Range<usize>| {
        // Whole, so that the closure captures the shareable `CPtr`s, not their pointers.
        let (wp, mp, vp): (CPtr, CPtr, CPtr) = (wp, mp, vp);
        let r = values(parts, len);
        // SAFETY: the three buffers hold `len` values (asserted above) and the ranges of
        // different calls are disjoint, so these slices are unique.
        let (w, m, v) = unsafe {
            (
                std::slice::from_raw_parts_mut(wp.0.add(r.start), r.len()),
                std::slice::from_raw_parts_mut(mp.0.add(r.start), r.len()),
                std::slice::from_raw_parts_mut(vp.0.add(r.start), r.len()),
            )
        };
        step_part(c, w, &g[r], m, v);
    });
}

#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn step_part(c: Coeffs, w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    let v = &mut v[..w.len()];
    for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        (*m, *v) = c.moments(*m, *v, g);
        *w = c.weight(*w, *m, *v);
    }
}

/// Whether the step would leave every weight of a parameter finite, changing nothing.
///
/// # Panics
/// If the four buffers differ in length: an internal invariant.
pub(super) fn all_finite(c: Coeffs, w: &[f32], g: &[f32], m: &[f32], v: &[f32]) -> bool {
    let len = w.len();
    assert!(g.len() == len && m.len() == len && v.len() == len);
    let bad = AtomicBool::new(false);
    split_rows(len.div_ceil(PART), PART * WORK, &|parts: Range<usize>| {
        let r = values(parts, len);
        let (w, g, m, v) = (&w[r.clone()], &g[r.clone()], &m[r.clone()], &v[r]);
        if !part_finite(c, w, g, m, v) {
            bad.store(true, Ordering::Relaxed);
        }
    });
    !bad.into_inner()
}

#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn part_finite(c: Coeffs, w: &[f32], g: &[f32], m: &[f32], v: &[f32]) -> bool {
    let bad = w
        .iter()
        .zip(g)
        .zip(m.iter().zip(v))
        .fold(false, |bad, ((&w, &g), (&m, &v))| {
            let (m, v) = c.moments(m, v, g);
            bad | !c.weight(w, m, v).is_finite()
        });
    !bad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::{SIZES, data};

    fn coeffs() -> Coeffs {
        Coeffs {
            alpha: 1e-3,
            one_minus_b1: 0.1,
            one_minus_b2: 1e-3,
            eps: 1e-7,
        }
    }

    fn bits(x: &[f32]) -> Vec<u32> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    /// The general passes: moments first, then the weights, one value at a time.
    fn plain(c: Coeffs, w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        for i in 0..w.len() {
            (m[i], v[i]) = c.moments(m[i], v[i], g[i]);
        }
        for i in 0..w.len() {
            w[i] = c.weight(w[i], m[i], v[i]);
        }
    }

    #[test]
    fn the_fused_step_gives_the_plain_loops_bits_at_odd_sizes() {
        // Past one part and split between threads on the pool, besides the odd sizes.
        let more: &[usize] = if cfg!(miri) {
            &[]
        } else {
            &[PART + 7, 40 * PART + 33]
        };
        for &len in SIZES.iter().chain(more) {
            let g = data(len, 1);
            let (w0, m0) = (data(len, 2), data(len, 3));
            let v0: Vec<f32> = data(len, 4).iter().map(|x| x * x).collect();
            let (mut w, mut m, mut v) = (w0.clone(), m0.clone(), v0.clone());
            crate::kernels::pool::on_pool(2, || step(coeffs(), &mut w, &g, &mut m, &mut v));
            let (mut pw, mut pm, mut pv) = (w0, m0, v0);
            plain(coeffs(), &mut pw, &g, &mut pm, &mut pv);
            assert_eq!(bits(&w), bits(&pw), "{len} weights");
            assert_eq!(bits(&m), bits(&pm), "{len} momentums");
            assert_eq!(bits(&v), bits(&pv), "{len} velocities");
        }
    }

    #[test]
    fn a_single_non_finite_weight_anywhere_is_found() {
        let more: &[usize] = if cfg!(miri) { &[] } else { &[40 * PART + 33] };
        for &len in SIZES.iter().chain(more) {
            let (w, g, m) = (data(len, 1), data(len, 2), data(len, 3));
            let v = vec![0.0f32; len];
            let c = coeffs();
            assert!(crate::kernels::pool::on_pool(2, || all_finite(
                c, &w, &g, &m, &v
            )));
            for at in [0, len / 2, len - 1] {
                let mut bad_g = g.clone();
                bad_g[at] = f32::NAN;
                let mut bad_w = w.clone();
                bad_w[at] = f32::INFINITY;
                let found = crate::kernels::pool::on_pool(2, || {
                    [
                        all_finite(c, &w, &bad_g, &m, &v),
                        all_finite(c, &bad_w, &g, &m, &v),
                    ]
                });
                assert_eq!(found, [false, false], "{len} values, at {at}");
            }
        }
    }
}

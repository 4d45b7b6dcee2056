//! LSTM's gate sweeps with Keras' default activations (`tanh`, `sigmoid`), one pass over each
//! row compiled for the CPU's widest vectors.
//!
//! The general sweeps call an activation per gate block and then run the cell update and the
//! gate derivatives as separate loops in the baseline instruction set; with the activations
//! known, each unit's gates, cell update and output (or all its derivatives) are one loop
//! body that the compiler vectorises whole. Every value is computed with the same operations
//! in the same order as the general sweeps, so both give the same bits.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Rows of `4 * h` and `h` values: every slice is cut to `h` before the loops, \
              whose index stays below it"
)]

use multiversion::multiversion;

use crate::activation::Activation;
use crate::kernels::math::{sigmoid, tanh};
use crate::layers::cell::CellCtx;

/// Whether the pass uses the activations these sweeps are written for.
pub(super) fn applies(ctx: &CellCtx<'_>) -> bool {
    ctx.act == Activation::Tanh && ctx.ract == Activation::Sigmoid
}

/// The gates and cell update of whole rows of `4 * h` pre-activations `z` (which become
/// `[i | f | g | o]`), writing `c` and `h`: what `gate_rows` does for these activations.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub(super) fn forward(
    h: usize,
    z: &mut [f32],
    c_prev: &[f32],
    c_out: &mut [f32],
    h_out: &mut [f32],
) {
    for (b, zr) in z.chunks_exact_mut(4 * h).enumerate() {
        let (i, rest) = zr.split_at_mut(h);
        let (f, rest) = rest.split_at_mut(h);
        let (g, o) = rest.split_at_mut(h);
        let o = &mut o[..h];
        let row = b * h..(b + 1) * h;
        let cp = &c_prev[row.clone()];
        let c = &mut c_out[row.clone()];
        let hv = &mut h_out[row];
        for j in 0..h {
            let (iv, fv, gv, ov) = (sigmoid(i[j]), sigmoid(f[j]), tanh(g[j]), sigmoid(o[j]));
            (i[j], f[j], g[j], o[j]) = (iv, fv, gv, ov);
            let cv = fv * cp[j] + iv * gv;
            c[j] = cv;
            hv[j] = ov * tanh(cv);
        }
    }
}

/// What one backward step reads for its rows: gates `(rows, 4h)`, the others `(rows, h)`.
pub(super) struct Reads<'a> {
    pub(super) gates: &'a [f32],
    pub(super) dh: &'a [f32],
    pub(super) dc: &'a [f32],
    /// `c` of this step: backward recomputes `tanh(c)` rather than keep it for every step.
    pub(super) c: &'a [f32],
    pub(super) c_prev: &'a [f32],
}

/// The gate derivatives of whole rows, none of them masked: writes `dz = [di | df | dg | do]`
/// (before the activations), the previous `c`'s gradient and zeros in `dh_prev` (before the
/// product adds `dz U^T`): what `backward_rows` does for these activations.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub(super) fn backward(
    h: usize,
    r: &Reads<'_>,
    dz: &mut [f32],
    dc_prev: &mut [f32],
    dh_prev: &mut [f32],
) {
    dh_prev.fill(0.0);
    for (b, dzr) in dz.chunks_exact_mut(4 * h).enumerate() {
        let gr = &r.gates[b * 4 * h..(b + 1) * 4 * h];
        let (i, f, g, o) = (&gr[..h], &gr[h..2 * h], &gr[2 * h..3 * h], &gr[3 * h..]);
        let (di, rest) = dzr.split_at_mut(h);
        let (df, rest) = rest.split_at_mut(h);
        let (dg, dout) = rest.split_at_mut(h);
        let dout = &mut dout[..h];
        let row = b * h..(b + 1) * h;
        let (dh, dc) = (&r.dh[row.clone()], &r.dc[row.clone()]);
        let (c, cp) = (&r.c[row.clone()], &r.c_prev[row.clone()]);
        let dcp = &mut dc_prev[row];
        for j in 0..h {
            // Through h = o * tanh(c), then the cell update, as the general sweep computes it.
            let tc = tanh(c[j]);
            let dtc = (dh[j] * o[j]) * (1.0 - tc * tc);
            let dct = dc[j] + dtc;
            di[j] = (dct * g[j]) * (i[j] * (1.0 - i[j]));
            df[j] = (dct * cp[j]) * (f[j] * (1.0 - f[j]));
            dg[j] = (dct * i[j]) * (1.0 - g[j] * g[j]);
            dout[j] = (dh[j] * tc) * (o[j] * (1.0 - o[j]));
            dcp[j] = dct * f[j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gemm::tests::data;

    /// The general sweeps, written out with the activations' own functions.
    fn plain_forward(
        h: usize,
        z: &mut [f32],
        cp: &[f32],
        c: &mut [f32],
        tc: &mut [f32],
        hv: &mut [f32],
    ) {
        let (sig, th) = (Activation::Sigmoid, Activation::Tanh);
        for (b, zr) in z.chunks_exact_mut(4 * h).enumerate() {
            sig.apply(&mut zr[..h], h);
            sig.apply(&mut zr[h..2 * h], h);
            th.apply(&mut zr[2 * h..3 * h], h);
            sig.apply(&mut zr[3 * h..], h);
            for j in 0..h {
                let k = b * h + j;
                c[k] = zr[h + j] * cp[k] + zr[j] * zr[2 * h + j];
                tc[k] = c[k];
            }
            th.apply(&mut tc[b * h..(b + 1) * h], h);
            for j in 0..h {
                let k = b * h + j;
                hv[k] = zr[3 * h + j] * tc[k];
            }
        }
    }

    fn plain_backward(h: usize, r: &Reads<'_>, dz: &mut [f32], dcp: &mut [f32], dhp: &mut [f32]) {
        let (sig, th) = (Activation::Sigmoid, Activation::Tanh);
        dhp.fill(0.0);
        for (b, dzr) in dz.chunks_exact_mut(4 * h).enumerate() {
            let gr = &r.gates[b * 4 * h..(b + 1) * 4 * h];
            let row = b * h..(b + 1) * h;
            let mut tc = r.c[row.clone()].to_vec();
            th.apply(&mut tc, h);
            let mut dtc: Vec<f32> = (0..h).map(|j| r.dh[b * h + j] * gr[3 * h + j]).collect();
            th.backward(&tc, &mut dtc, h);
            for j in 0..h {
                let k = b * h + j;
                let dct = r.dc[k] + dtc[j];
                dzr[j] = dct * gr[2 * h + j];
                dzr[h + j] = dct * r.c_prev[k];
                dzr[2 * h + j] = dct * gr[j];
                dzr[3 * h + j] = r.dh[k] * tc[j];
                dcp[k] = dct * gr[h + j];
            }
            sig.backward(&gr[..h], &mut dzr[..h], h);
            sig.backward(&gr[h..2 * h], &mut dzr[h..2 * h], h);
            th.backward(&gr[2 * h..3 * h], &mut dzr[2 * h..3 * h], h);
            sig.backward(&gr[3 * h..], &mut dzr[3 * h..], h);
        }
    }

    fn bits(x: &[f32]) -> Vec<u32> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn the_fused_sweeps_give_the_general_sweeps_bits_at_odd_sizes() {
        // Miri, which interprets every instruction, checks the widths up to 33.
        let widths: &[usize] = if cfg!(miri) {
            &[1, 7, 33]
        } else {
            &[1, 7, 33, 257]
        };
        for &h in widths {
            for rows in [1, 7, 33] {
                let len = rows * h;
                // Pre-activations up to +-4, where the activations are far from saturated.
                let z0: Vec<f32> = data(4 * len, 1).iter().map(|v| 4.0 * v).collect();
                let cp = data(len, 2);
                let mut outs = Vec::new();
                for fused in [true, false] {
                    let mut z = z0.clone();
                    let (mut c, mut tc, mut hv) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
                    if fused {
                        forward(h, &mut z, &cp, &mut c, &mut hv);
                    } else {
                        plain_forward(h, &mut z, &cp, &mut c, &mut tc, &mut hv);
                    }
                    let (dh, dc) = (data(len, 3), data(len, 4));
                    let r = Reads {
                        gates: &z,
                        dh: &dh,
                        dc: &dc,
                        c: &c,
                        c_prev: &cp,
                    };
                    let mut dz = vec![f32::NAN; 4 * len];
                    let (mut dcp, mut dhp) = (vec![f32::NAN; len], vec![f32::NAN; len]);
                    if fused {
                        backward(h, &r, &mut dz, &mut dcp, &mut dhp);
                    } else {
                        plain_backward(h, &r, &mut dz, &mut dcp, &mut dhp);
                    }
                    outs.push([&z, &c, &hv, &dz, &dcp, &dhp].map(|v| bits(v)));
                }
                assert!(outs[0] == outs[1], "h {h}, {rows} rows");
                assert!(outs[0][4].iter().all(|b| f32::from_bits(*b).is_finite()));
            }
        }
    }
}

//! `GRU`: gates z, r, h in Keras' column order; `h_t = z * h_{t-1} + (1 - z) * hh`.
//!
//! ```text
//! reset_after = true (Keras 3 default), bias (2, 3H) = [b_x; b_h]:
//!   [xz | xr | xh] = x_t W + b_x     [hz | hr | hu] = h_{t-1} U + b_h
//!   z = ract(xz + hz)   r = ract(xr + hr)   hh = act(xh + r * hu)
//! reset_after = false, bias (3H):
//!   z = ract(xz + h_{t-1} U_z)   r = ract(xr + h_{t-1} U_r)   hh = act(xh + (r * h_{t-1}) U_h)
//! ```

use std::marker::PhantomData;

use crate::error::Result;
use crate::init::Rng;
use crate::kernels::gemm::{MatRef, gemm};
use crate::kernels::packed::gemm_packed;
use crate::layer::{Layer, Mode};
use crate::output::Array;
use crate::param::{Param, Weights};
use crate::tensor::Sequence;

use super::recurrent::{
    CellKind, Last, Recurrent, RecurrentCore, ReturnMode, RnnConfig, StepCtx, carry_masked_rows,
    recurrent_layer, zero_masked_rows,
};

/// A gated recurrent unit layer (Keras `GRU`) from `IN` features to `H` units.
///
/// `R` is [`Last`] (the default) or [`Sequences`](super::recurrent::Sequences);
/// `RESET_AFTER = false` is Keras' `reset_after=False` (the reset gate applied before the
/// recurrent product, one bias row); `BIAS = false` is `use_bias=False`.
///
/// ```
/// use rnn_runtime::{Gru, Last, Weights};
/// assert_eq!(<Gru<100, 128> as Weights>::PARAMS, 88_320);
/// assert_eq!(<Gru<100, 128, Last, false> as Weights>::PARAMS, 87_936);
/// ```
#[derive(Clone, Debug)]
pub struct Gru<
    const IN: usize,
    const H: usize,
    R = Last,
    const RESET_AFTER: bool = true,
    const BIAS: bool = true,
> {
    core: RecurrentCore,
    _mode: PhantomData<R>,
}

recurrent_layer!(
    Gru<IN, H, R, RESET_AFTER, BIAS>,
    [const RESET_AFTER: bool, const BIAS: bool],
    CellKind::Gru { reset_after: RESET_AFTER },
    BIAS
);

impl<const IN: usize, const H: usize, R: ReturnMode, const RESET_AFTER: bool, const BIAS: bool>
    Layer<Sequence<IN>> for Gru<IN, H, R, RESET_AFTER, BIAS>
{
    type Output = R::Output<H>;

    fn forward(&mut self, x: &Sequence<IN>, _mode: Mode) -> Result<R::Output<H>> {
        Ok(self.core.layer_forward::<R, IN, H>(x))
    }

    fn backward(&mut self, x: &Sequence<IN>, dy: R::Output<H>) -> Result<Sequence<IN>> {
        self.core.layer_backward::<R, IN, H>(x, dy)
    }

    fn states(&self) -> Vec<Array> {
        self.core.states("")
    }

    fn set_state_grads(&mut self, grads: &[&[f32]]) -> Result<()> {
        self.core.set_state_grads(grads)
    }
}

/// Combines the gates of one row into the new state: `h = z * h_prev + (1 - z) * hh`.
fn combine(z: &[f32], hh: &[f32], h_prev: &[f32], h_out: &mut [f32]) {
    for j in 0..h_out.len() {
        h_out[j] = z[j] * h_prev[j] + (1.0 - z[j]) * hh[j];
    }
}

/// One step with `reset_after = true`. `z` holds `x_t W + b_x` and becomes `[z | r | hh]`;
/// `hu` gets the recurrent candidate part `h_prev U_h + b_h` (kept for the backward pass).
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_step_reset_after(
    ctx: &StepCtx<'_>,
    z: &mut [f32],
    h_prev: &[f32],
    first: bool,
    rec_bias: Option<&[f32]>,
    rec: &mut [f32],
    hu: &mut [f32],
    h_out: &mut [f32],
) {
    let (batch, h) = (ctx.batch, ctx.units);
    let gh = 3 * h;
    let rec = &mut rec[..batch * gh];
    match rec_bias {
        Some(bias) => rec
            .chunks_exact_mut(gh)
            .for_each(|r| r.copy_from_slice(bias)),
        None => rec.fill(0.0),
    }
    if !first {
        gemm_packed(h_prev, batch, MatRef::new(ctx.u, h, gh), ctx.up, rec, gh);
    }
    for b in 0..batch {
        let zr = &mut z[b * gh..(b + 1) * gh];
        let rr = &rec[b * gh..(b + 1) * gh];
        zr[..2 * h]
            .iter_mut()
            .zip(&rr[..2 * h])
            .for_each(|(a, b)| *a += b);
        ctx.ract.apply(&mut zr[..h], h);
        ctx.ract.apply(&mut zr[h..2 * h], h);
        let row = b * h..(b + 1) * h;
        hu[row.clone()].copy_from_slice(&rr[2 * h..]);
        let (zg, rest) = zr.split_at_mut(h);
        let (r, hh) = rest.split_at_mut(h);
        for j in 0..h {
            hh[j] += r[j] * rr[2 * h + j];
        }
        ctx.act.apply(hh, h);
        combine(zg, hh, &h_prev[row.clone()], &mut h_out[row]);
    }
    carry_masked_rows(ctx, h_out, h_prev);
}

/// One step with `reset_after = false`. `z` holds `x_t W + b` and becomes `[z | r | hh]`;
/// `rh` gets `r * h_prev` (kept for the backward pass).
pub(crate) fn forward_step_reset_before(
    ctx: &StepCtx<'_>,
    z: &mut [f32],
    h_prev: &[f32],
    first: bool,
    rec: &mut [f32],
    rh: &mut [f32],
    h_out: &mut [f32],
) {
    let (batch, h) = (ctx.batch, ctx.units);
    let gh = 3 * h;
    if !first {
        // z and r blocks: h_prev U[:, :2H], added straight into z.
        gemm(
            1.0,
            MatRef::new(h_prev, batch, h),
            MatRef::with_ld(ctx.u, h, 2 * h, gh),
            1.0,
            z,
            gh,
        );
    }
    for b in 0..batch {
        let zr = &mut z[b * gh..(b + 1) * gh];
        ctx.ract.apply(&mut zr[..h], h);
        ctx.ract.apply(&mut zr[h..2 * h], h);
        let row = b * h..(b + 1) * h;
        let (r, hp) = (&zr[h..2 * h], &h_prev[row.clone()]);
        rh[row]
            .iter_mut()
            .zip(r.iter().zip(hp))
            .for_each(|(o, (r, h))| *o = r * h);
    }
    let rec = &mut rec[..batch * h];
    rec.fill(0.0);
    if !first {
        gemm(
            1.0,
            MatRef::new(rh, batch, h),
            MatRef::with_ld(&ctx.u[2 * h..], h, h, gh),
            0.0,
            rec,
            h,
        );
    }
    for b in 0..batch {
        let zr = &mut z[b * gh..(b + 1) * gh];
        let hh = &mut zr[2 * h..];
        hh.iter_mut()
            .zip(&rec[b * h..(b + 1) * h])
            .for_each(|(a, b)| *a += b);
        ctx.act.apply(hh, h);
        let row = b * h..(b + 1) * h;
        let (zg, hh) = (&zr[..h], &zr[2 * h..]);
        combine(zg, hh, &h_prev[row.clone()], &mut h_out[row]);
    }
    carry_masked_rows(ctx, h_out, h_prev);
}

/// Gradients through `h = z * h_prev + (1 - z) * hh` for one row: writes `dz` (before the
/// gate activation), `dhh` (after the candidate activation, before its derivative) and the
/// direct path to `h_prev`.
fn combine_backward(
    z: &[f32],
    hh: &[f32],
    hp: &[f32],
    dh: &[f32],
    dz: &mut [f32],
    dhh: &mut [f32],
    direct: &mut [f32],
) {
    for j in 0..dh.len() {
        dz[j] = dh[j] * (hp[j] - hh[j]);
        dhh[j] = dh[j] * (1.0 - z[j]);
        direct[j] = dh[j] * z[j];
    }
}

/// One step back with `reset_after = true`. Writes the input-side pre-activation gradients
/// `dz = [dz | dr | dxh]`, the recurrent-side ones `drec = [dz | dr | dhu]` and `dh_prev`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_step_reset_after(
    ctx: &StepCtx<'_>,
    gates: &[f32],
    h_prev: &[f32],
    hu: &[f32],
    dh: &[f32],
    dz: &mut [f32],
    drec: &mut [f32],
    dh_prev: &mut [f32],
) {
    let (batch, h) = (ctx.batch, ctx.units);
    let gh = 3 * h;
    for b in 0..batch {
        let row = b * h..(b + 1) * h;
        let gr = &gates[b * gh..(b + 1) * gh];
        let (zg, r, hh) = (&gr[..h], &gr[h..2 * h], &gr[2 * h..]);
        let dzr = &mut dz[b * gh..(b + 1) * gh];
        let (dzg, rest) = dzr.split_at_mut(h);
        let (dr, dxh) = rest.split_at_mut(h);
        combine_backward(
            zg,
            hh,
            &h_prev[row.clone()],
            &dh[row.clone()],
            dzg,
            dxh,
            &mut dh_prev[row.clone()],
        );
        ctx.act.backward(hh, dxh, h);
        let hur = &hu[row];
        let drr = &mut drec[b * gh..(b + 1) * gh];
        for j in 0..h {
            dr[j] = dxh[j] * hur[j];
            drr[2 * h + j] = dxh[j] * r[j];
        }
        ctx.ract.backward(zg, dzg, h);
        ctx.ract.backward(r, dr, h);
        drr[..2 * h].copy_from_slice(&dzr[..2 * h]);
    }
    zero_masked_rows(ctx, dz, gh);
    zero_masked_rows(ctx, drec, gh);
    carry_masked_rows(ctx, dh_prev, dh);
    gemm_packed(
        drec,
        batch,
        MatRef::new(ctx.u, h, gh).t(),
        ctx.up,
        dh_prev,
        h,
    );
}

/// One step back with `reset_after = false`. Writes `dz = [dz | dr | dxh]` (pre-activation)
/// and `dh_prev`; `drh` is scratch for the gradient of `r * h_prev`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_step_reset_before(
    ctx: &StepCtx<'_>,
    gates: &[f32],
    h_prev: &[f32],
    _rh: &[f32],
    dh: &[f32],
    dz: &mut [f32],
    dh_prev: &mut [f32],
    drh: &mut [f32],
) {
    let (batch, h) = (ctx.batch, ctx.units);
    let gh = 3 * h;
    for b in 0..batch {
        let row = b * h..(b + 1) * h;
        let gr = &gates[b * gh..(b + 1) * gh];
        let (zg, hh) = (&gr[..h], &gr[2 * h..]);
        let dzr = &mut dz[b * gh..(b + 1) * gh];
        let (dzg, rest) = dzr.split_at_mut(h);
        let dxh = &mut rest[h..];
        combine_backward(
            zg,
            hh,
            &h_prev[row.clone()],
            &dh[row.clone()],
            dzg,
            dxh,
            &mut dh_prev[row],
        );
        ctx.act.backward(hh, dxh, h);
    }
    zero_masked_rows(ctx, dz, gh);
    // Gradient of r * h_prev through the candidate's recurrent product.
    gemm(
        1.0,
        MatRef::with_ld(&dz[2 * h..], batch, h, gh),
        MatRef::with_ld(&ctx.u[2 * h..], h, h, gh).t(),
        0.0,
        drh,
        h,
    );
    for b in 0..batch {
        let row = b * h..(b + 1) * h;
        let gr = &gates[b * gh..(b + 1) * gh];
        let (zg, r) = (&gr[..h], &gr[h..2 * h]);
        let (hp, d) = (&h_prev[row.clone()], &drh[row.clone()]);
        let dzr = &mut dz[b * gh..(b + 1) * gh];
        let direct = &mut dh_prev[row];
        for j in 0..h {
            dzr[h + j] = d[j] * hp[j];
            direct[j] += d[j] * r[j];
        }
        let (dzg, rest) = dzr.split_at_mut(h);
        ctx.ract.backward(zg, dzg, h);
        ctx.ract.backward(r, &mut rest[..h], h);
    }
    zero_masked_rows(ctx, dz, gh);
    carry_masked_rows(ctx, dh_prev, dh);
    gemm(
        1.0,
        MatRef::with_ld(dz, batch, 2 * h, gh),
        MatRef::with_ld(ctx.u, h, 2 * h, gh).t(),
        1.0,
        dh_prev,
        h,
    );
}

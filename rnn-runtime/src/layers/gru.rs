//! `GRU`: gates z, r, h in Keras' column order; `h_t = z * h_{t-1} + (1 - z) * hh`.
//!
//! ```text
//! reset_after = true (Keras 3 default), bias (2, 3H) = [b_x; b_h]:
//!   [xz | xr | xh] = x_t W + b_x     [hz | hr | hu] = h_{t-1} U + b_h
//!   z = ract(xz + hz)   r = ract(xr + hr)   hh = act(xh + r * hu)
//! reset_after = false, bias (3H):
//!   z = ract(xz + h_{t-1} U_z)   r = ract(xr + h_{t-1} U_r)   hh = act(xh + (r * h_{t-1}) U_h)
//! ```

use crate::error::Result;
use crate::init::Rng;
use crate::kernels::gemm::{MatRef, gemm};
use crate::layer::{Layer, Mode};
use crate::param::{Param, Weights};
use crate::tensor::Sequence;

use super::cell::{BackwardStep, Cell, CellCtx, ForwardStep, GradCtx, sized};
use super::recurrent::{Recurrent, Rnn, RnnCore, keras_recurrent_layer, rnn_layer_methods};
use super::rnn_config::{Last, ReturnMode, RnnConfig};

/// The cell of `GRU` (Keras `GRUCell`): three gates, one state. `RESET_AFTER` is Keras'
/// `reset_after` (the default, `true`, has a second bias row for the recurrent side).
///
/// ```
/// use rnn_runtime::{Cell, GruCell};
/// assert_eq!(<GruCell<true>>::NAME, "gru_cell");
/// assert_eq!((<GruCell<true>>::BIAS_ROWS, <GruCell<false>>::BIAS_ROWS), (2, 1));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct GruCell<const RESET_AFTER: bool = true>;

/// What a GRU pass keeps besides the gates and `h`, and its scratch.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct GruTrace {
    /// `reset_after`, `(T, B, H)`: the recurrent candidate part `h_{t-1} U_h + b_h`.
    hu: Vec<f32>,
    /// `reset_after = false`, `(T, B, H)`: `r * h_{t-1}`, which the candidate multiplies.
    rh: Vec<f32>,
    /// `(B, G*H)` (`reset_after`) or `(B, H)`: a step's recurrent product.
    rec: Vec<f32>,
    /// Backward, `reset_after`, `(T, B, G*H)`: the recurrent-side pre-activation gradients,
    /// which differ from the input side's in the candidate block.
    drec: Vec<f32>,
    /// Backward, `reset_after = false`, `(B, H)`: the gradient of `r * h_{t-1}`.
    drh: Vec<f32>,
}

/// Gate blocks of the free step functions below: z, r, h.
const GATES: usize = rnn_spec::Cell::Gru.gates();

impl<const RESET_AFTER: bool> Cell for GruCell<RESET_AFTER> {
    const KIND: rnn_spec::Cell = rnn_spec::Cell::Gru;
    const RESET_AFTER: bool = RESET_AFTER;
    type Trace = GruTrace;

    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`time * len` is the `(time, batch, units)` size of the layer's `hs`, which \
                  `run` checked on entry (and `step_init` for its two slots)"
    )]
    fn prepare_forward(tr: &mut GruTrace, time: usize, len: usize) {
        if RESET_AFTER {
            sized(&mut tr.hu, time * len);
            sized(&mut tr.rec, Self::GATES * len);
        } else {
            sized(&mut tr.rh, time * len);
            sized(&mut tr.rec, len);
        }
    }

    /// `z` becomes `[z | r | hh]`.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "a forward step of a pass whose buffers `run` sized with checked lengths on \
                  entry: `t` and `prev` are steps `< time` of the `(time, batch, units)` \
                  traces, `z` is the step's `(batch, GATES * units)` rows, and `split_rows` \
                  hands out row ranges within `batch`; the bias has `BIAS_ROWS * GATES * \
                  units` values"
    )]
    fn forward_step(ctx: &CellCtx<'_>, io: ForwardStep<'_>, tr: &mut GruTrace) {
        let len = io.h.len();
        let at = io.t * len..(io.t + 1) * len;
        if RESET_AFTER {
            let gh = Self::GATES * ctx.units;
            let rec_bias = ctx.bias.map(|b| &b[gh..]);
            forward_step_reset_after(ctx, io, rec_bias, &mut tr.rec, &mut tr.hu[at]);
        } else {
            forward_step_reset_before(ctx, io, &mut tr.rec, &mut tr.rh[at]);
        }
    }

    /// There is no state beyond `h`.
    fn state(_: &GruTrace, _: usize, _: usize, _: usize) -> &[f32] {
        &[]
    }

    fn state_mut(_: &mut GruTrace, _: usize, _: usize, _: usize) -> &mut [f32] {
        &mut []
    }

    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`time * batch * GATES * units` is the size of the pass's `dzs`, checked \
                  when the forward pass sized `zs`"
    )]
    fn prepare_backward(tr: &mut GruTrace, time: usize, batch: usize, units: usize) {
        if RESET_AFTER {
            sized(&mut tr.drec, time * batch * Self::GATES * units);
        } else {
            sized(&mut tr.drh, batch * units);
        }
    }

    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "a backward step of a pass whose buffers the layer's `backward` sized from \
                  the forward pass's checked lengths: `t` and `prev` are steps `< time` of \
                  the `(time, batch, units)` traces, `gates` and `dz` are the step's `(batch, \
                  GATES * units)` rows, and row ranges stay within `batch`"
    )]
    fn backward_step(ctx: &CellCtx<'_>, io: BackwardStep<'_>, tr: &mut GruTrace) {
        let len = io.dh.len();
        if RESET_AFTER {
            let (t, n) = (io.t, Self::GATES * len);
            let hu = &tr.hu[t * len..(t + 1) * len];
            backward_step_reset_after(ctx, io, hu, &mut tr.drec[t * n..(t + 1) * n]);
        } else {
            backward_step_reset_before(ctx, io, &mut tr.drh);
        }
    }

    /// `reset_after`: the recurrent side has its own gradients (and bias row);
    /// `reset_after = false`: the candidate block of `U` multiplies `r * h_{t-1}`, not
    /// `h_{t-1}`.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`GradCtx` comes from a pass whose `(time, batch, GATES * units)` buffers \
                  were sized with checked lengths; `du` is `(units, GATES * units)` and the \
                  traces hold `time * batch` rows"
    )]
    fn recurrent_grads(g: &GradCtx<'_>, tr: &GruTrace, du: &mut [f32], db_rest: &mut [f32]) {
        let (h, n) = (g.units, g.batch * g.time);
        let gh = GATES * h;
        if RESET_AFTER {
            let drec = &tr.drec[..n * gh];
            g.add_recurrent_grad(drec, gh, du);
            if !db_rest.is_empty() {
                for row in drec.chunks_exact(gh) {
                    db_rest.iter_mut().zip(row).for_each(|(a, b)| *a += b);
                }
            }
        } else {
            g.add_recurrent_grad(g.dzs, 2 * h, du);
            gemm(
                1.0,
                MatRef::new(&tr.rh[..n * h], n, h).t(),
                MatRef::with_ld(&g.dzs[2 * h..], n, h, gh),
                1.0,
                &mut du[2 * h..],
                gh,
            );
        }
    }
}

/// The end of one row's step in both modes: the candidate's activation, then the new state
/// `h = z * h_prev + (1 - z) * hh`. `zr` holds the row's `[z | r | hh]`, `hh` before its
/// activation.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "`zr` holds one row of `GATES * units` and `h_prev`, `h_out` one row of `units` \
              each, as the step functions slice them"
)]
fn combine(ctx: &CellCtx<'_>, zr: &mut [f32], h_prev: &[f32], h_out: &mut [f32]) {
    let h = ctx.units;
    ctx.act.apply(&mut zr[2 * h..], h);
    let (z, hh) = (&zr[..h], &zr[2 * h..]);
    for j in 0..h_out.len() {
        h_out[j] = z[j] * h_prev[j] + (1.0 - z[j]) * hh[j];
    }
}

/// One step with `reset_after = true`. `z` holds `x_t W + b_x` and becomes `[z | r | hh]`;
/// `hu` gets the recurrent candidate part `h_prev U_h + b_h` (kept for the backward pass).
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "a forward step of a pass whose buffers `run` sized with checked lengths on \
              entry: `t` and `prev` are steps `< time` of the `(time, batch, units)` traces, \
              `z` is the step's `(batch, GATES * units)` rows, and `split_rows` hands out row \
              ranges within `batch`"
)]
fn forward_step_reset_after(
    ctx: &CellCtx<'_>,
    io: ForwardStep<'_>,
    rec_bias: Option<&[f32]>,
    rec: &mut [f32],
    hu: &mut [f32],
) {
    let first = io.first();
    let ForwardStep {
        z,
        h_prev,
        h: h_out,
        scratch,
        ..
    } = io;
    let (batch, h) = (ctx.batch, ctx.units);
    let gh = GATES * h;
    let rec = &mut rec[..batch * gh];
    match rec_bias {
        Some(bias) => rec
            .chunks_exact_mut(gh)
            .for_each(|r| r.copy_from_slice(bias)),
        None => rec.fill(0.0),
    }
    if !first {
        ctx.recurrent_product(h_prev, GATES, (rec, gh), scratch);
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
        let (r, hh) = zr[h..].split_at_mut(h);
        for j in 0..h {
            hh[j] += r[j] * rr[2 * h + j];
        }
        combine(ctx, zr, &h_prev[row.clone()], &mut h_out[row]);
    }
    ctx.carry_masked_rows(h_out, h_prev);
}

/// One step with `reset_after = false`. `z` holds `x_t W + b` and becomes `[z | r | hh]`;
/// `rh` gets `r * h_prev` (kept for the backward pass).
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "a forward step of a pass whose buffers `run` sized with checked lengths on \
              entry: `t` and `prev` are steps `< time` of the `(time, batch, units)` traces, \
              `z` is the step's `(batch, GATES * units)` rows, and `split_rows` hands out row \
              ranges within `batch`"
)]
fn forward_step_reset_before(
    ctx: &CellCtx<'_>,
    io: ForwardStep<'_>,
    rec: &mut [f32],
    rh: &mut [f32],
) {
    let first = io.first();
    let ForwardStep {
        z,
        h_prev,
        h: h_out,
        scratch,
        ..
    } = io;
    let (batch, h) = (ctx.batch, ctx.units);
    let gh = GATES * h;
    if !first {
        // z and r blocks: h_prev U[:, :2H], added straight into z.
        ctx.recurrent_product(h_prev, 2, (z, gh), scratch);
    }
    // The candidate's product reads h_prev times its own recurrent dropout mask.
    let cand = ctx.rdrop_gate(2);
    for b in 0..batch {
        let zr = &mut z[b * gh..(b + 1) * gh];
        ctx.ract.apply(&mut zr[..h], h);
        ctx.ract.apply(&mut zr[h..2 * h], h);
        let row = b * h..(b + 1) * h;
        let (r, hp) = (&zr[h..2 * h], &h_prev[row.clone()]);
        let rhr = &mut rh[row.clone()];
        rhr.iter_mut()
            .zip(r.iter().zip(hp))
            .for_each(|(o, (r, h))| *o = r * h);
        if let Some(m) = cand {
            rhr.iter_mut().zip(&m[row]).for_each(|(o, m)| *o *= m);
        }
    }
    let rec = &mut rec[..batch * h];
    rec.fill(0.0);
    if let (false, Some(w)) = (first, ctx.low) {
        crate::kernels::low::product(rh, batch, w, 2 * h..gh, rec, h);
    } else if !first {
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
        zr[2 * h..]
            .iter_mut()
            .zip(&rec[b * h..(b + 1) * h])
            .for_each(|(a, b)| *a += b);
        let row = b * h..(b + 1) * h;
        combine(ctx, zr, &h_prev[row.clone()], &mut h_out[row]);
    }
    ctx.carry_masked_rows(h_out, h_prev);
}

/// The start of one row's step back in both modes, the gradients through
/// `h = z * h_prev + (1 - z) * hh` and the candidate's activation: of the row's `dzr =
/// [dz | dr | dxh]`, writes `dz` (before the gate activation) and `dxh` (before the candidate
/// activation); writes the direct path to `h_prev`. `gr` holds the row's gates `[z | r | hh]`.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "`gr` and `dzr` hold rows of `GATES * units` and the other slices rows of \
              `units`, as the step functions slice them"
)]
fn combine_backward(
    ctx: &CellCtx<'_>,
    gr: &[f32],
    hp: &[f32],
    dh: &[f32],
    dzr: &mut [f32],
    direct: &mut [f32],
) {
    let h = ctx.units;
    let (z, hh) = (&gr[..h], &gr[2 * h..]);
    let (dz, rest) = dzr.split_at_mut(h);
    let dhh = &mut rest[h..];
    for j in 0..dh.len() {
        dz[j] = dh[j] * (hp[j] - hh[j]);
        dhh[j] = dh[j] * (1.0 - z[j]);
        direct[j] = dh[j] * z[j];
    }
    ctx.act.backward(hh, dhh, h);
}

/// One step back with `reset_after = true`. Writes the input-side pre-activation gradients
/// `dz = [dz | dr | dxh]`, the recurrent-side ones `drec = [dz | dr | dhu]` and `dh_prev`.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "a backward step of a pass whose buffers the layer's `backward` sized from the \
              forward pass's checked lengths: `t` and `prev` are steps `< time` of the \
              `(time, batch, units)` traces, `gates` and `dz` are the step's `(batch, GATES * \
              units)` rows, and row ranges stay within `batch`"
)]
fn backward_step_reset_after(
    ctx: &CellCtx<'_>,
    io: BackwardStep<'_>,
    hu: &[f32],
    drec: &mut [f32],
) {
    let BackwardStep {
        gates,
        h_prev,
        dh,
        dz,
        dh_prev,
        scratch,
        ..
    } = io;
    let (batch, h) = (ctx.batch, ctx.units);
    let gh = GATES * h;
    for b in 0..batch {
        let row = b * h..(b + 1) * h;
        let gr = &gates[b * gh..(b + 1) * gh];
        let dzr = &mut dz[b * gh..(b + 1) * gh];
        combine_backward(
            ctx,
            gr,
            &h_prev[row.clone()],
            &dh[row.clone()],
            dzr,
            &mut dh_prev[row.clone()],
        );
        let (zg, r) = (&gr[..h], &gr[h..2 * h]);
        let (dzg, rest) = dzr.split_at_mut(h);
        let (dr, dxh) = rest.split_at_mut(h);
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
    ctx.zero_masked_rows(dz, gh);
    ctx.zero_masked_rows(drec, gh);
    ctx.carry_masked_rows(dh_prev, dh);
    ctx.recurrent_product_grad((drec, gh), GATES, dh_prev, scratch);
}

/// One step back with `reset_after = false`. Writes `dz = [dz | dr | dxh]` (pre-activation)
/// and `dh_prev`; `drh` is scratch for the gradient of `r * h_prev`. This is the cell's
/// recurrent-gradient special case: the candidate's recurrent product reads `r * h_prev`, so
/// its gradient reaches `r` and `h_prev` through `drh`.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "a backward step of a pass whose buffers the layer's `backward` sized from the \
              forward pass's checked lengths: `t` and `prev` are steps `< time` of the \
              `(time, batch, units)` traces, `gates` and `dz` are the step's `(batch, GATES * \
              units)` rows, and row ranges stay within `batch`"
)]
fn backward_step_reset_before(ctx: &CellCtx<'_>, io: BackwardStep<'_>, drh: &mut [f32]) {
    let BackwardStep {
        gates,
        h_prev,
        dh,
        dz,
        dh_prev,
        scratch,
        ..
    } = io;
    let (batch, h) = (ctx.batch, ctx.units);
    let gh = GATES * h;
    for b in 0..batch {
        let row = b * h..(b + 1) * h;
        combine_backward(
            ctx,
            &gates[b * gh..(b + 1) * gh],
            &h_prev[row.clone()],
            &dh[row.clone()],
            &mut dz[b * gh..(b + 1) * gh],
            &mut dh_prev[row],
        );
    }
    ctx.zero_masked_rows(dz, gh);
    // Gradient of r * h_prev through the candidate's recurrent product.
    gemm(
        1.0,
        MatRef::with_ld(&dz[2 * h..], batch, h, gh),
        MatRef::with_ld(&ctx.u[2 * h..], h, h, gh).t(),
        0.0,
        drh,
        h,
    );
    let cand = ctx.rdrop_gate(2);
    for b in 0..batch {
        let row = b * h..(b + 1) * h;
        let gr = &gates[b * gh..(b + 1) * gh];
        let (zg, r) = (&gr[..h], &gr[h..2 * h]);
        let (hp, d) = (&h_prev[row.clone()], &drh[row.clone()]);
        let m = cand.map(|m| &m[row.clone()]);
        let dzr = &mut dz[b * gh..(b + 1) * gh];
        let direct = &mut dh_prev[row];
        for j in 0..h {
            // The candidate read r * (h_prev * m) under recurrent dropout.
            let mj = m.map_or(1.0, |m| m[j]);
            dzr[h + j] = d[j] * hp[j] * mj;
            direct[j] += d[j] * r[j] * mj;
        }
        let (dzg, rest) = dzr.split_at_mut(h);
        ctx.ract.backward(zg, dzg, h);
        ctx.ract.backward(r, &mut rest[..h], h);
    }
    ctx.zero_masked_rows(dz, gh);
    ctx.carry_masked_rows(dh_prev, dh);
    ctx.recurrent_product_grad((dz, gh), 2, dh_prev, scratch);
}

/// A gated recurrent unit layer (Keras `GRU`) from `IN` features to `H` units: [`Rnn`] with a
/// [`GruCell`].
///
/// `R` is [`Last`] (the default) or [`Sequences`](super::rnn_config::Sequences);
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
>(Rnn<GruCell<RESET_AFTER>, IN, H, R, BIAS>);

keras_recurrent_layer!(
    Gru<IN, H, R, RESET_AFTER, BIAS>,
    [const RESET_AFTER: bool, const BIAS: bool],
    GruCell<RESET_AFTER>
);

impl<const IN: usize, const H: usize, R: ReturnMode, const RESET_AFTER: bool, const BIAS: bool>
    Layer<Sequence<IN>> for Gru<IN, H, R, RESET_AFTER, BIAS>
{
    type Output = R::Output<H>;

    fn forward(&mut self, x: &Sequence<IN>, mode: Mode) -> Result<R::Output<H>> {
        self.0.forward(x, mode)
    }

    fn backward(
        &mut self,
        x: &Sequence<IN>,
        dy: R::Output<H>,
        ds: &[&[f32]],
    ) -> Result<Sequence<IN>> {
        self.0.backward(x, dy, ds)
    }

    // `states`, `step` and the rest: as the `Rnn`'s.
    rnn_layer_methods!();
}

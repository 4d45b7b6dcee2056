//! `LSTM`: gates i, f, c, o in Keras' column order.
//!
//! ```text
//! [z_i | z_f | z_c | z_o] = x_t W + h_{t-1} U + b
//! i = ract(z_i)  f = ract(z_f)  g = act(z_c)  o = ract(z_o)
//! c_t = f * c_{t-1} + i * g        h_t = o * act(c_t)
//! ```

use std::marker::PhantomData;

use crate::error::Result;
use crate::init::Rng;
use crate::kernels::gemm::MatRef;
use crate::kernels::packed::gemm_packed;
use crate::layer::{Layer, Mode};
use crate::output::Array;
use crate::param::{Param, Weights};
use crate::tensor::Sequence;

use super::recurrent::{
    CellKind, Last, Recurrent, RecurrentCore, ReturnMode, RnnConfig, StepCtx, carry_masked_rows,
    recurrent_layer, zero_masked_rows,
};

/// A long short-term memory layer (Keras `LSTM`) from `IN` features to `H` units.
///
/// `R` is [`Last`] (the default) or [`Sequences`](super::recurrent::Sequences)
/// (`return_sequences=True`); `BIAS = false` is `use_bias=False`. With `return_state` the
/// final `h` and `c` are extra outputs, h first.
///
/// ```
/// use rnn_runtime::{Layer, Lstm, Mode, RnnConfig, Sequence, Weights, seeded_rng};
/// let mut lstm = Lstm::<3, 4>::new("lstm", RnnConfig::default(), &mut seeded_rng(0));
/// assert_eq!(<Lstm<3, 4> as Weights>::PARAMS, 4 * 4 * (3 + 4) + 16);
/// let y = lstm.forward(&Sequence::<3>::zeros(2, 5), Mode::Inference).unwrap();
/// assert_eq!(y.shape(), [2, 4]);
/// ```
#[derive(Clone, Debug)]
pub struct Lstm<const IN: usize, const H: usize, R = Last, const BIAS: bool = true> {
    core: RecurrentCore,
    _mode: PhantomData<R>,
}

recurrent_layer!(Lstm<IN, H, R, BIAS>, [const BIAS: bool], CellKind::Lstm, BIAS);

impl<const IN: usize, const H: usize, R: ReturnMode, const BIAS: bool> Layer<Sequence<IN>>
    for Lstm<IN, H, R, BIAS>
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

/// One step. `z` holds `x_t W + b` and becomes `[i | f | g | o]`; writes `h`, `c` and
/// `tc = act(c)` (kept for the backward pass).
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_step(
    ctx: &StepCtx<'_>,
    z: &mut [f32],
    h_prev: &[f32],
    c_prev: &[f32],
    first: bool,
    h_out: &mut [f32],
    c_out: &mut [f32],
    tc: &mut [f32],
) {
    let (batch, h) = (ctx.batch, ctx.units);
    if !first {
        gemm_packed(
            h_prev,
            batch,
            MatRef::new(ctx.u, h, 4 * h),
            ctx.up,
            z,
            4 * h,
        );
    }
    for b in 0..batch {
        let zr = &mut z[b * 4 * h..(b + 1) * 4 * h];
        ctx.ract.apply(&mut zr[..h], h);
        ctx.ract.apply(&mut zr[h..2 * h], h);
        ctx.act.apply(&mut zr[2 * h..3 * h], h);
        ctx.ract.apply(&mut zr[3 * h..], h);
        let (i, rest) = zr.split_at(h);
        let (f, rest) = rest.split_at(h);
        let (g, o) = rest.split_at(h);
        let row = b * h..(b + 1) * h;
        let (cp, c, tcr) = (
            &c_prev[row.clone()],
            &mut c_out[row.clone()],
            &mut tc[row.clone()],
        );
        for j in 0..h {
            c[j] = f[j] * cp[j] + i[j] * g[j];
        }
        tcr.copy_from_slice(c);
        ctx.act.apply(tcr, h);
        let hr = &mut h_out[row];
        for j in 0..h {
            hr[j] = o[j] * tcr[j];
        }
    }
    carry_masked_rows(ctx, h_out, h_prev);
    carry_masked_rows(ctx, c_out, c_prev);
}

/// One step back. From the state gradients `dh`, `dc` and the step's activations, writes the
/// pre-activation gradients `dz` (`[di | df | dg | do]` before the activations) and the
/// gradients of the previous state, `dh_prev` and `dc_prev`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_step(
    ctx: &StepCtx<'_>,
    gates: &[f32],
    c_prev: &[f32],
    tc: &[f32],
    dh: &[f32],
    dc: &[f32],
    dz: &mut [f32],
    dh_prev: &mut [f32],
    dc_prev: &mut [f32],
    dtc: &mut [f32],
) {
    let (batch, h) = (ctx.batch, ctx.units);
    for b in 0..batch {
        let row = b * h..(b + 1) * h;
        let gr = &gates[b * 4 * h..(b + 1) * 4 * h];
        let (i, f, g, o) = (&gr[..h], &gr[h..2 * h], &gr[2 * h..3 * h], &gr[3 * h..]);
        let (dhr, dcr, tcr, cp) = (
            &dh[row.clone()],
            &dc[row.clone()],
            &tc[row.clone()],
            &c_prev[row.clone()],
        );
        // Gradient reaching c_t through h_t = o * act(c_t).
        let dtcr = &mut dtc[row.clone()];
        for j in 0..h {
            dtcr[j] = dhr[j] * o[j];
        }
        ctx.act.backward(tcr, dtcr, h);
        let dzr = &mut dz[b * 4 * h..(b + 1) * 4 * h];
        let dcp = &mut dc_prev[row];
        for j in 0..h {
            let dct = dcr[j] + dtcr[j];
            dzr[j] = dct * g[j];
            dzr[h + j] = dct * cp[j];
            dzr[2 * h + j] = dct * i[j];
            dzr[3 * h + j] = dhr[j] * tcr[j];
            dcp[j] = dct * f[j];
        }
        ctx.ract.backward(i, &mut dzr[..h], h);
        ctx.ract.backward(f, &mut dzr[h..2 * h], h);
        ctx.act.backward(g, &mut dzr[2 * h..3 * h], h);
        ctx.ract.backward(o, &mut dzr[3 * h..], h);
    }
    zero_masked_rows(ctx, dz, 4 * h);
    carry_masked_rows(ctx, dc_prev, dc);
    dh_prev.fill(0.0);
    carry_masked_rows(ctx, dh_prev, dh);
    gemm_packed(
        dz,
        batch,
        MatRef::new(ctx.u, h, 4 * h).t(),
        ctx.up,
        dh_prev,
        h,
    );
}

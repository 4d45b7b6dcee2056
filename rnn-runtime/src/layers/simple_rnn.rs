//! `SimpleRNN`: `h_t = act(x_t W + h_{t-1} U + b)`.

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

/// A fully connected recurrent layer (Keras `SimpleRNN`) from `IN` features to `H` units.
///
/// `R` is [`Last`] (the default) or [`Sequences`](super::recurrent::Sequences)
/// (`return_sequences=True`); `BIAS = false` is `use_bias=False`.
///
/// ```
/// use rnn_runtime::{Layer, Mode, RnnConfig, Sequence, Sequences, SimpleRnn, Weights, seeded_rng};
/// let mut rnn = SimpleRnn::<3, 4, Sequences>::new("simple_rnn", RnnConfig::default(), &mut seeded_rng(0));
/// assert_eq!(<SimpleRnn<3, 4> as Weights>::PARAMS, 32);
/// let y = rnn.forward(&Sequence::<3>::zeros(2, 5), Mode::Inference).unwrap();
/// assert_eq!(y.shape(), [2, 5, 4]);
/// ```
#[derive(Clone, Debug)]
pub struct SimpleRnn<const IN: usize, const H: usize, R = Last, const BIAS: bool = true> {
    core: RecurrentCore,
    _mode: PhantomData<R>,
}

recurrent_layer!(SimpleRnn<IN, H, R, BIAS>, [const BIAS: bool], CellKind::Simple, BIAS);

impl<const IN: usize, const H: usize, R: ReturnMode, const BIAS: bool> Layer<Sequence<IN>>
    for SimpleRnn<IN, H, R, BIAS>
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

/// One step: `z` holds `x_t W + b` and becomes `act(z + h_prev U)`; `h_out` gets the new state.
pub(crate) fn forward_step(
    ctx: &StepCtx<'_>,
    z: &mut [f32],
    h_prev: &[f32],
    first: bool,
    h_out: &mut [f32],
) {
    let (b, h) = (ctx.batch, ctx.units);
    if !first {
        gemm_packed(h_prev, b, MatRef::new(ctx.u, h, h), ctx.up, z, h);
    }
    ctx.act.apply(z, h);
    h_out.copy_from_slice(z);
    carry_masked_rows(ctx, h_out, h_prev);
}

/// One step back: from `dh` (gradient of this step's state) and the activations `a`, writes the
/// pre-activation gradient `dz` and the previous state's gradient `dh_prev`.
pub(crate) fn backward_step(
    ctx: &StepCtx<'_>,
    a: &[f32],
    dh: &[f32],
    dz: &mut [f32],
    dh_prev: &mut [f32],
) {
    let (b, h) = (ctx.batch, ctx.units);
    dz.copy_from_slice(dh);
    ctx.act.backward(a, dz, h);
    zero_masked_rows(ctx, dz, h);
    // A masked step passes its state gradient straight to the previous step.
    dh_prev.fill(0.0);
    carry_masked_rows(ctx, dh_prev, dh);
    gemm_packed(dz, b, MatRef::new(ctx.u, h, h).t(), ctx.up, dh_prev, h);
}

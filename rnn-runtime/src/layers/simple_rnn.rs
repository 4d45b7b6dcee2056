//! `SimpleRNN`: `h_t = act(x_t W + h_{t-1} U + b)`.

use crate::error::Result;
use crate::init::Rng;
use crate::layer::{Layer, Mode};
use crate::param::{Param, Weights};
use crate::tensor::Sequence;

use super::cell::{BackwardStep, Cell, CellCtx, ForwardStep};
use super::recurrent::{Recurrent, Rnn, RnnCore, keras_recurrent_layer, rnn_layer_methods};
use super::rnn_config::{Last, ReturnMode, RnnConfig};

/// The cell of `SimpleRNN` (Keras `SimpleRNNCell`): one gate, one state.
///
/// ```
/// use rnn_runtime::{Cell, SimpleRnnCell};
/// assert_eq!((SimpleRnnCell::NAME, SimpleRnnCell::GATES), ("simple_rnn_cell", 1));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SimpleRnnCell;

impl Cell for SimpleRnnCell {
    const KIND: rnn_spec::Cell = rnn_spec::Cell::Simple;
    /// The activations are the gates, which the layer keeps: nothing else.
    type Trace = ();

    fn prepare_forward(_: &mut (), _: usize, _: usize) {}

    /// `z` becomes `act(z + h_prev U)`, which is also the new state.
    fn forward_step(ctx: &CellCtx<'_>, io: ForwardStep<'_>, _: &mut ()) {
        let h = ctx.units;
        if !io.first() {
            ctx.recurrent_product(io.h_prev, 1, (io.z, h), io.scratch);
        }
        ctx.act.apply(io.z, h);
        io.h.copy_from_slice(io.z);
        ctx.carry_masked_rows(io.h, io.h_prev);
    }

    /// There is no state beyond `h`.
    fn state(_: &(), _: usize, _: usize, _: usize) -> &[f32] {
        &[]
    }

    fn state_mut(_: &mut (), _: usize, _: usize, _: usize) -> &mut [f32] {
        &mut []
    }

    fn prepare_backward(_: &mut (), _: usize, _: usize, _: usize) {}

    fn backward_step(ctx: &CellCtx<'_>, io: BackwardStep<'_>, _: &mut ()) {
        let h = ctx.units;
        io.dz.copy_from_slice(io.dh);
        ctx.act.backward(io.gates, io.dz, h);
        ctx.zero_masked_rows(io.dz, h);
        // A masked step passes its state gradient straight to the previous step.
        io.dh_prev.fill(0.0);
        ctx.carry_masked_rows(io.dh_prev, io.dh);
        ctx.recurrent_product_grad((io.dz, h), 1, io.dh_prev, io.scratch);
    }
}

/// A fully connected recurrent layer (Keras `SimpleRNN`) from `IN` features to `H` units:
/// [`Rnn`] with a [`SimpleRnnCell`].
///
/// `R` is [`Last`] (the default) or [`Sequences`](super::rnn_config::Sequences)
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
pub struct SimpleRnn<const IN: usize, const H: usize, R = Last, const BIAS: bool = true>(
    Rnn<SimpleRnnCell, IN, H, R, BIAS>,
);

keras_recurrent_layer!(SimpleRnn<IN, H, R, BIAS>, [const BIAS: bool], SimpleRnnCell);

impl<const IN: usize, const H: usize, R: ReturnMode, const BIAS: bool> Layer<Sequence<IN>>
    for SimpleRnn<IN, H, R, BIAS>
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

//! `Bidirectional`: a recurrent layer run forward and backward over the sequence, merged.

use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::init::Rng;
use crate::kernels::pool::join;
use crate::layer::{Layer, Mode};
use crate::layer_step::LayerStep;
use crate::output::Array;
use crate::param::{Param, Weights};
use crate::size::checked_len;
use crate::tensor::{Mask, Sequence, Tensor, Unmerged};

use super::cell::Cell;
use super::recurrent::{OutputGrad, Recurrent, too_many_state_grads};
use super::rnn_config::{RecurrentOutput, ReturnMode, RnnConfig, RnnOptions};

/// How `Bidirectional` combines its two directions (Keras `merge_mode`).
pub trait Merge: Send + Sync + 'static {
    /// Output features per unit of the wrapped layer: 2 for `concat`, else 1.
    const FACTOR: usize;
    /// Keras' name of the mode.
    const NAME: &'static str;
    /// The layer's output for a wrapped layer returning `R` (each direction's output being
    /// `D`), merged to `OUT` features.
    type Output<R: ReturnMode, D: RecurrentOutput, const OUT: usize>: Tensor<
        Grad = Self::Output<R, D, OUT>,
    >;
    /// Merges the two directions' outputs: `rows` pairs of rows of `units` features, read
    /// from each direction's states, in the output's (time-major) order.
    #[doc(hidden)]
    fn merge<'a, R: ReturnMode, D: RecurrentOutput, const OUT: usize>(
        shape: (usize, usize),
        units: usize,
        pairs: impl Iterator<Item = (&'a [f32], &'a [f32])>,
        rows: usize,
        mask: Option<&Mask>,
    ) -> Self::Output<R, D, OUT>;
    /// The two directions' parts of the output gradient, read in place where the merge
    /// allows it; `values` gives the two directions' outputs, which only `mul` needs.
    #[doc(hidden)]
    #[allow(
        private_interfaces,
        reason = "called by `Bidirectional` only, with the crate's own gradient view"
    )]
    fn split<'a, R: ReturnMode, D: RecurrentOutput, const OUT: usize>(
        dy: &'a Self::Output<R, D, OUT>,
        units: usize,
        values: impl FnOnce() -> (Vec<f32>, Vec<f32>),
    ) -> (OutputGrad<'a>, OutputGrad<'a>);
}

/// Defines an element-wise merge mode: the forward combination of two rows of `H` values
/// and each side's part of the gradient `dy` (rows of the merged width).
macro_rules! merge_mode {
    ($(#[$doc:meta])* $name:ident,
     combine: |$f:ident, $b:ident, $out:ident| $combine:block,
     split: |$dy:ident, $h:ident, $values:ident| $split:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Merge for $name {
            const FACTOR: usize = rnn_spec::MergeMode::$name.factor();
            const NAME: &'static str = rnn_spec::MergeMode::$name.keras_name();
            type Output<R: ReturnMode, D: RecurrentOutput, const OUT: usize> = R::Output<OUT>;

            #[allow(
                clippy::arithmetic_side_effects,
                reason = "`rows` is the number of output rows of a forward pass that checked \
                          `rows * units`; `OUT` is at most `2 * units`, so the merged buffer \
                          is at most twice an existing f32 buffer, far below `usize::MAX`"
            )]
            fn merge<'a, R: ReturnMode, D: RecurrentOutput, const OUT: usize>(
                (batch, time): (usize, usize),
                _units: usize,
                pairs: impl Iterator<Item = (&'a [f32], &'a [f32])>,
                rows: usize,
                mask: Option<&Mask>,
            ) -> R::Output<OUT> {
                let mut merged = vec![0.0f32; rows * OUT];
                for (($f, $b), $out) in pairs.zip(merged.chunks_exact_mut(OUT)) {
                    $combine
                }
                R::Output::<OUT>::wrap(batch, time, merged, mask)
            }

            #[allow(
                private_interfaces,
                reason = "called by `Bidirectional` only, with the crate's own gradient view"
            )]
            fn split<'a, R: ReturnMode, D: RecurrentOutput, const OUT: usize>(
                dy: &'a R::Output<OUT>,
                $h: usize,
                $values: impl FnOnce() -> (Vec<f32>, Vec<f32>),
            ) -> (OutputGrad<'a>, OutputGrad<'a>) {
                let $dy = dy.raw();
                $split
            }
        }
    };
}

merge_mode!(
    /// `merge_mode = concat` (Keras' default): `[forward, backward]` on the last axis.
    Concat,
    combine: |f, b, out| {
        let (fo, bo) = out.split_at_mut(f.len());
        fo.copy_from_slice(f);
        bo.copy_from_slice(b);
    },
    split: |dy, h, _values| {
        // Each direction reads its half of every row in place.
        let ld = h.saturating_mul(2);
        (OutputGrad::part(dy, ld, 0, 1.0), OutputGrad::part(dy, ld, h, 1.0))
    }
);

merge_mode!(
    /// `merge_mode = sum`: `forward + backward`.
    Sum,
    combine: |f, b, out| {
        for (o, (f, b)) in out.iter_mut().zip(f.iter().zip(b)) { *o = f + b; }
    },
    split: |dy, h, _values| (OutputGrad::part(dy, h, 0, 1.0), OutputGrad::part(dy, h, 0, 1.0))
);

merge_mode!(
    /// `merge_mode = mul`: `forward * backward`.
    Mul,
    combine: |f, b, out| {
        for (o, (f, b)) in out.iter_mut().zip(f.iter().zip(b)) { *o = f * b; }
    },
    split: |dy, h, values| {
        // Each side's gradient is `dy` times the other side's output.
        let (f, b) = values();
        let times = |v: &[f32]| dy.iter().zip(v).map(|(d, v)| d * v).collect();
        (OutputGrad::owned(times(&b), h), OutputGrad::owned(times(&f), h))
    }
);

merge_mode!(
    /// `merge_mode = ave`: `(forward + backward) / 2`.
    Ave,
    combine: |f, b, out| {
        for (o, (f, b)) in out.iter_mut().zip(f.iter().zip(b)) { *o = (f + b) * 0.5; }
    },
    split: |dy, h, _values| (OutputGrad::part(dy, h, 0, 0.5), OutputGrad::part(dy, h, 0, 0.5))
);

/// `merge_mode = None`: the two directions are returned as two outputs ([`Unmerged`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMerge;

impl Merge for NoMerge {
    const FACTOR: usize = rnn_spec::MergeMode::NoMerge.factor();
    const NAME: &'static str = rnn_spec::MergeMode::NoMerge.keras_name();
    type Output<R: ReturnMode, D: RecurrentOutput, const OUT: usize> = Unmerged<D>;

    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`rows * units` is the size of each direction's output, which its forward pass \
                  checked"
    )]
    fn merge<'a, R: ReturnMode, D: RecurrentOutput, const OUT: usize>(
        (batch, time): (usize, usize),
        units: usize,
        pairs: impl Iterator<Item = (&'a [f32], &'a [f32])>,
        rows: usize,
        mask: Option<&Mask>,
    ) -> Unmerged<D> {
        let (mut fw, mut bw) = (
            Vec::with_capacity(rows * units),
            Vec::with_capacity(rows * units),
        );
        for (f, b) in pairs {
            fw.extend_from_slice(f);
            bw.extend_from_slice(b);
        }
        Unmerged {
            forward: D::wrap(batch, time, fw, mask),
            backward: D::wrap(batch, time, bw, mask),
        }
    }

    #[allow(
        private_interfaces,
        reason = "called by `Bidirectional` only, with the crate's own gradient view"
    )]
    fn split<'a, R: ReturnMode, D: RecurrentOutput, const OUT: usize>(
        dy: &'a Unmerged<D>,
        units: usize,
        _values: impl FnOnce() -> (Vec<f32>, Vec<f32>),
    ) -> (OutputGrad<'a>, OutputGrad<'a>) {
        (
            OutputGrad::part(dy.forward.raw(), units, 0, 1.0),
            OutputGrad::part(dy.backward.raw(), units, 0, 1.0),
        )
    }
}

/// Keras `Bidirectional(layer, merge_mode)`: the wrapped layer `L` reads the sequence forward,
/// a copy with its own weights reads it backward, and `M` merges the two into `OUT` features
/// (`2 * units` for [`Concat`], `units` otherwise; checked at compile time).
///
/// The backward copy's sequence output is flipped back to the original time order before
/// merging, and inside `Bidirectional` masked steps output zeros when sequences are returned,
/// as in Keras.
///
/// ```
/// use rnn_runtime::{Bidirectional, Concat, Layer, Lstm, Mode, RnnConfig, Sequence, Sequences, Weights, seeded_rng};
/// type Bi = Bidirectional<Lstm<3, 4, Sequences>, 8, Concat>;
/// assert_eq!(<Bi as Weights>::PARAMS, 2 * (16 * 7 + 16));
/// let mut bi = Bi::new("bidirectional", "lstm", RnnConfig::default(), &mut seeded_rng(0));
/// let y = bi.forward(&Sequence::<3>::zeros(2, 5), Mode::Inference).unwrap();
/// assert_eq!(y.shape(), [2, 5, 8]);
/// ```
#[derive(Clone, Debug)]
pub struct Bidirectional<L, const OUT: usize, M = Concat> {
    name: String,
    forward: L,
    backward: L,
    mask: Option<Mask>,
    shape: (usize, usize),
    _merge: PhantomData<M>,
}

impl<L: Recurrent, const OUT: usize, M: Merge> Bidirectional<L, OUT, M> {
    const OUT_MATCHES_MERGE: () = assert!(
        OUT == M::FACTOR * L::UNITS,
        "Bidirectional: OUT must be 2 * units for Concat and units for the other merge modes"
    );

    /// Builds both directions. `path` is this layer's Keras path (e.g.
    /// `sequential/bidirectional`) and `inner` the wrapped layer's Keras name (e.g. `lstm_1`):
    /// the weights are named `{path}/forward_{inner}/...` and `{path}/backward_{inner}/...`.
    pub fn new(path: &str, inner: &str, cfg: RnnConfig, rng: &mut Rng) -> Self {
        let () = Self::OUT_MATCHES_MERGE;
        let mut forward = L::build(&format!("{path}/forward_{inner}"), cfg, rng);
        let back_cfg = cfg.go_backwards(!cfg.go_backwards);
        let mut backward = L::build(&format!("{path}/backward_{inner}"), back_cfg, rng);
        // Keras sets zero_output_for_mask = return_sequences on both copies.
        forward.core_mut().zero_output_for_mask = L::Mode::SEQUENCES;
        backward.core_mut().zero_output_for_mask = L::Mode::SEQUENCES;
        Bidirectional {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            forward,
            backward,
            mask: None,
            shape: (0, 0),
            _merge: PhantomData,
        }
    }

    /// The forward-reading layer.
    pub fn forward_layer(&self) -> &L {
        &self.forward
    }

    /// The backward-reading layer.
    pub fn backward_layer(&self) -> &L {
        &self.backward
    }

    /// Output order of each direction: the forward copy as a plain layer returns it, the
    /// backward copy flipped back.
    fn reverse_flags(&self) -> (bool, bool) {
        (
            self.forward.core().cfg.go_backwards,
            !self.backward.core().cfg.go_backwards,
        )
    }

    fn outputs(&self) -> (Vec<f32>, Vec<f32>) {
        let seq = L::Mode::SEQUENCES;
        let (rf, rb) = self.reverse_flags();
        (
            self.forward.core().main_output(seq, rf),
            self.backward.core().main_output(seq, rb),
        )
    }

    fn run(
        &mut self,
        x: &[f32],
        (batch, time): (usize, usize),
        mask: Option<&Mask>,
        mode: Mode,
    ) -> Result<M::Output<L::Mode, L::Direction, OUT>> {
        // The two directions are independent: each gets a core when there are two.
        let (fw, bw) = (&mut self.forward, &mut self.backward);
        let (a, b) = join(
            || fw.core_mut().forward(x, (batch, time), mask, mode),
            || bw.core_mut().forward(x, (batch, time), mask, mode),
        );
        a?;
        b?;
        self.mask = mask.cloned();
        self.shape = (batch, time);
        // Straight from each direction's states into the merged rows.
        let seq = L::Mode::SEQUENCES;
        let steps = if seq { time } else { 1 };
        let (rf, rb) = self.reverse_flags();
        let (fw, bw) = (self.forward.core(), self.backward.core());
        let pairs = (0..steps).flat_map(|s| {
            (0..batch).map(move |b| (fw.output_row(seq, rf, s, b), bw.output_row(seq, rb, s, b)))
        });
        Ok(M::merge::<L::Mode, L::Direction, OUT>(
            (batch, time),
            L::UNITS,
            pairs,
            checked_len(&self.name, &[steps, batch])?,
            mask,
        ))
    }

    fn run_backward(
        &mut self,
        x: &[f32],
        dy: M::Output<L::Mode, L::Direction, OUT>,
        dstates: &[&[f32]],
    ) -> Result<Vec<f32>> {
        let n = self.forward.core().state_count();
        let (dsf, dsb) = dstates.split_at(dstates.len().min(n));
        if dsb.len() > n {
            return Err(too_many_state_grads(
                &self.name,
                dstates.len(),
                n.saturating_mul(2),
            ));
        }
        let (batch, time) = self.shape;
        let (dfw, dbw) = M::split::<L::Mode, L::Direction, OUT>(&dy, L::UNITS, || self.outputs());
        let seq = L::Mode::SEQUENCES;
        let rows = checked_len(&self.name, &[batch, if seq { time } else { 1 }])?;
        for d in [&dfw, &dbw] {
            if Some(d.data.len()) != rows.checked_mul(d.ld) {
                let mut shape = vec![batch];
                shape.extend(seq.then_some(time));
                shape.push(OUT);
                let per = if d.ld == L::UNITS {
                    " per direction"
                } else {
                    ""
                };
                return Err(Error::shape(
                    format!("{}: output gradient", self.name),
                    crate::error::fmt_shape(&shape),
                    format!("{} values{per}", d.data.len()),
                ));
            }
        }
        let (rf, rb) = self.reverse_flags();
        let (fw, bw) = (&mut self.forward, &mut self.backward);
        let (dx, dxb) = join(
            || fw.core_mut().backward(x, dfw, seq, rf, dsf),
            || bw.core_mut().backward(x, dbw, seq, rb, dsb),
        );
        let (mut dx, dxb) = (dx?, dxb?);
        dx.iter_mut().zip(&dxb).for_each(|(a, b)| *a += b);
        Ok(dx)
    }

    fn states(&self) -> Vec<Array> {
        let mut s = self.forward.core().states("forward_");
        s.extend(self.backward.core().states("backward_"));
        s
    }
}

impl<L: Recurrent, const OUT: usize, M: Merge> Weights for Bidirectional<L, OUT, M> {
    const PARAMS: usize = rnn_spec::bidirectional_params(
        <L::Cell as Cell>::KIND,
        L::IN,
        L::UNITS,
        L::BIAS,
        <L::Cell as Cell>::RESET_AFTER,
    );
    fn params(&self) -> Vec<&Param> {
        let mut all = self.forward.core().params();
        all.extend(self.backward.core().params());
        all
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut all = self.forward.core_mut().params_mut();
        all.extend(self.backward.core_mut().params_mut());
        all
    }
}

/// `Bidirectional` takes what its wrapped layer takes.
impl<const IN: usize, L, const OUT: usize, M: Merge> Layer<Sequence<IN>>
    for Bidirectional<L, OUT, M>
where
    L: Recurrent + Layer<Sequence<IN>>,
{
    type Output = M::Output<L::Mode, L::Direction, OUT>;

    fn forward(&mut self, x: &Sequence<IN>, mode: Mode) -> Result<Self::Output> {
        self.run(x.as_slice(), (x.batch(), x.time()), x.mask(), mode)
    }

    fn backward(
        &mut self,
        x: &Sequence<IN>,
        dy: Self::Output,
        dstates: &[&[f32]],
    ) -> Result<Sequence<IN>> {
        if (x.batch(), x.time()) != self.shape {
            return Err(Error::config(
                self.name.clone(),
                "backward needs the input of the preceding training forward pass",
            ));
        }
        let dx = self.run_backward(x.as_slice(), dy, dstates)?;
        Ok(Sequence::from_time_major(x.batch(), x.time(), dx))
    }

    fn states(&self) -> Vec<Array> {
        Bidirectional::states(self)
    }

    fn rnn_options(&self) -> Option<RnnOptions> {
        self.forward.rnn_options()
    }

    fn set_inference_precision(&mut self, precision: crate::Precision) {
        self.forward.core_mut().set_inference_precision(precision);
        self.backward.core_mut().set_inference_precision(precision);
    }

    fn step_init(&self, _batch: usize) -> Result<LayerStep> {
        Err(Error::config(
            self.name.clone(),
            "Bidirectional reads the sequence from both ends, so it cannot run one step at a \
             time",
        ))
    }
}

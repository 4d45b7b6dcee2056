//! The [`Cell`] trait: what distinguishes SimpleRNN, LSTM and GRU. A cell knows its gate
//! layout, state names, bias shape and initialisation, one step forward and back, and the
//! weight gradients its recurrence needs beyond the shared ones; the recurrent layer
//! (`recurrent.rs`) owns everything else: the time loop, direction, masking, workspaces and
//! the weight-gradient products.
//!
//! Buffers are time-major and indexed by the *original* time step (see `recurrent.rs`); a
//! step's views give the cell the shared buffers at its step and the positions `t` (this
//! step) and `prev` (the step whose state it reads) for the buffers the cell keeps itself.

use std::fmt::Debug;

use crate::activation::Activation;
use crate::init::Rng;
use crate::kernels::gemm::{MatRef, gemm};
use crate::kernels::low::{self, LowMatrix};
use crate::kernels::packed::{Packed, gemm_packed};

use super::rnn_config::RnnConfig;

/// One kind of recurrent cell (Keras `SimpleRNNCell`, `LSTMCell`, `GRUCell`).
///
/// Its weights are `kernel (input, GATES * units)`, `recurrent_kernel (units, GATES * units)`
/// and, with a bias, `bias (BIAS_ROWS, GATES * units)` (printed `(GATES * units,)` when there
/// is one row). The step functions take views built by the recurrent layer; their fields are
/// private to this crate, so the three Keras cells are the implementations.
///
/// ```
/// use rnn_runtime::{Cell, GruCell, LstmCell};
/// assert_eq!(LstmCell::STATE_NAMES, ["state_h", "state_c"]);
/// assert_eq!(<GruCell<true>>::BIAS_ROWS, 2);
/// assert_eq!(rnn_runtime::cell_params::<LstmCell>(100, 64, true), 42_240);
/// ```
pub trait Cell: Clone + Debug + Default + Send + Sync + 'static {
    /// Which of Keras' cells this is; its gates, states, names and parameter formula are
    /// [`rnn_spec::Cell`]'s.
    const KIND: rnn_spec::Cell;
    /// GRU's `reset_after`; the other cells ignore it, as [`rnn_spec::Cell::bias_rows`] does.
    const RESET_AFTER: bool = false;
    /// Keras' name of the cell, the scope of its weights: `lstm_cell`.
    const NAME: &'static str = Self::KIND.cell_name();
    /// Gate blocks in the kernels' columns.
    const GATES: usize = Self::KIND.gates();
    /// Rows of the bias.
    const BIAS_ROWS: usize = Self::KIND.bias_rows(Self::RESET_AFTER);
    /// Keras' names of the states, `h` first.
    const STATE_NAMES: &'static [&'static str] = Self::KIND.state_names();
    /// What a forward pass keeps for the backward pass beyond the gates and `h`, and the
    /// cell's backward scratch; sized per batch shape and reused.
    type Trace: Clone + Debug + Default + Send + Sync;

    /// Keras' shape of the bias: `(GATES * units,)` for one row, else
    /// `(BIAS_ROWS, GATES * units)`.
    fn bias_shape(units: usize) -> Vec<usize> {
        // A width past `usize::MAX` saturates: no buffer of that shape passes
        // `size::checked_len`, so it is refused where it would be allocated.
        let width = Self::GATES.saturating_mul(units);
        match Self::BIAS_ROWS {
            1 => vec![width],
            rows => vec![rows, width],
        }
    }

    /// Initial bias values, `BIAS_ROWS * GATES * units` of them, from `bias_initializer`
    /// (LSTM also has `unit_forget_bias`).
    #[doc(hidden)]
    fn init_bias(cfg: &RnnConfig, units: usize, bias: &mut [f32], rng: &mut Rng) {
        bias.copy_from_slice(&cfg.bias_initializer.fill(&Self::bias_shape(units), rng));
    }

    /// Sizes the trace for a forward pass of `time` steps of `len = batch * units` values.
    #[doc(hidden)]
    fn prepare_forward(trace: &mut Self::Trace, time: usize, len: usize);

    /// One step forward: `io.z` holds `x_t W + b` and becomes the gate activations; writes
    /// `io.h` and the cell's own values at `io.t`. Masked rows carry the previous state.
    #[doc(hidden)]
    fn forward_step(ctx: &CellCtx<'_>, io: ForwardStep<'_>, trace: &mut Self::Trace);

    /// State `which` (1 and up; `h` is the layer's) at time `t`, `len` values.
    #[doc(hidden)]
    fn state(trace: &Self::Trace, which: usize, t: usize, len: usize) -> &[f32];

    /// State `which` (1 and up) at time `t`, to overwrite.
    #[doc(hidden)]
    fn state_mut(trace: &mut Self::Trace, which: usize, t: usize, len: usize) -> &mut [f32];

    /// Sizes and clears the cell's backward scratch.
    #[doc(hidden)]
    fn prepare_backward(trace: &mut Self::Trace, time: usize, batch: usize, units: usize);

    /// Adds the gradient of the final states `1..` (LSTM: `c`) before the first backward step.
    #[doc(hidden)]
    fn seed_state_grads(trace: &mut Self::Trace, grads: &[&[f32]]) {
        debug_assert!(grads.is_empty(), "{} has one state", Self::NAME);
        let _ = (trace, grads);
    }

    /// One step back: from `io.dh` (and the cell's own state gradients) writes the
    /// pre-activation gradients `io.dz` and the previous state's gradient `io.dh_prev`.
    #[doc(hidden)]
    fn backward_step(ctx: &CellCtx<'_>, io: BackwardStep<'_>, trace: &mut Self::Trace);

    /// Adds the recurrent kernel's gradient to `du` and the bias rows beyond the first (which
    /// the layer sums from `dzs`) to `db_rest`. By default every gate reads `h_{t-1}` directly
    /// and its pre-activation gradient is in `dzs`.
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`units` of a built layer, whose `GATES * units`-wide kernels exist"
    )]
    #[doc(hidden)]
    fn recurrent_grads(g: &GradCtx<'_>, trace: &Self::Trace, du: &mut [f32], db_rest: &mut [f32]) {
        let _ = (trace, db_rest);
        g.add_recurrent_grad(g.dzs, Self::GATES * g.units, du);
    }
}

/// Keras' parameter count of a cell's layer: kernels, and the bias when `bias`.
///
/// ```
/// use rnn_runtime::{SimpleRnnCell, cell_params};
/// assert_eq!(cell_params::<SimpleRnnCell>(3, 4, true), 32);
/// ```
pub const fn cell_params<C: Cell>(input: usize, units: usize, bias: bool) -> usize {
    C::KIND.params(input, units, bias, C::RESET_AFTER)
}

/// What every step of one pass shares: sizes, activations, the step's mask and weights.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct CellCtx<'a> {
    pub(crate) batch: usize,
    pub(crate) units: usize,
    pub(crate) act: Activation,
    pub(crate) ract: Activation,
    /// Validity of each row at this step; `None` when nothing is masked.
    pub(crate) mask: Option<&'a [bool]>,
    /// Recurrent kernel, `(units, gates * units)` row-major.
    pub(crate) u: &'a [f32],
    /// The recurrent kernel packed for this pass: `U` forward, `U^T` backward; empty when
    /// the products go to the general kernels (single steps).
    pub(crate) up: &'a Packed,
    /// The whole bias (all rows), if any.
    pub(crate) bias: Option<&'a [f32]>,
    /// Recurrent dropout in training: `(GATES, batch, units)` factors of `h_{t-1}`, one
    /// block per gate, the same at every step (`rnn_dropout.rs`); `None` otherwise.
    pub(crate) rdrop: Option<&'a [f32]>,
    /// The recurrent kernel in bf16 or int8, when inference runs at that precision.
    pub(crate) low: Option<&'a LowMatrix>,
}

#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "`CellCtx` comes from a pass that sized its buffers on entry: `mask` has \
              `batch` entries, `u` is `(units, GATES * units)`, `rdrop` is `(GATES, batch, \
              units)`, step buffers are `(batch, width)`: every row `b < batch` and gate \
              `g < gates` is in bounds"
)]
impl CellCtx<'_> {
    pub(crate) fn masked(&self, b: usize) -> bool {
        self.mask.is_some_and(|m| !m[b])
    }

    /// Masked rows keep the previous step's values.
    pub(crate) fn carry_masked_rows(&self, out: &mut [f32], prev: &[f32]) {
        if self.mask.is_none() {
            return;
        }
        let h = self.units;
        for b in (0..self.batch).filter(|&b| self.masked(b)) {
            out[b * h..(b + 1) * h].copy_from_slice(&prev[b * h..(b + 1) * h]);
        }
    }

    /// `out[:, ..gates*H] += h_prev U[:, ..gates*H]` (`out` with leading dimension `ldo`),
    /// each gate's block reading `h_prev` times its recurrent dropout mask when there is
    /// one; `scratch` is `(batch, units)`.
    pub(crate) fn recurrent_product(
        &self,
        h_prev: &[f32],
        gates: usize,
        (out, ldo): (&mut [f32], usize),
        scratch: &mut [f32],
    ) {
        let (b, h) = (self.batch, self.units);
        let gh = self.u.len() / h;
        if let (Some(w), None) = (self.low, self.rdrop) {
            return low::product(h_prev, b, w, 0..gates * h, out, ldo);
        }
        match self.rdrop {
            None if gates * h == gh => {
                gemm_packed(h_prev, b, MatRef::new(self.u, h, gh), self.up, out, ldo);
            }
            None => gemm(
                1.0,
                MatRef::new(h_prev, b, h),
                MatRef::with_ld(self.u, h, gates * h, gh),
                1.0,
                out,
                ldo,
            ),
            Some(masks) => {
                let hm = &mut scratch[..b * h];
                for g in 0..gates {
                    let m = &masks[g * b * h..(g + 1) * b * h];
                    hm.iter_mut()
                        .zip(h_prev.iter().zip(m))
                        .for_each(|(o, (v, m))| *o = v * m);
                    gemm(
                        1.0,
                        MatRef::new(hm, b, h),
                        MatRef::with_ld(&self.u[g * h..], h, h, gh),
                        1.0,
                        &mut out[g * h..],
                        ldo,
                    );
                }
            }
        }
    }

    /// The gradient of [`Self::recurrent_product`] with respect to `h_prev`: adds
    /// `d[:, ..gates*H] U[:, ..gates*H]^T` (times each gate's mask) to `dh_prev`; `d` has
    /// leading dimension `ldd`.
    pub(crate) fn recurrent_product_grad(
        &self,
        (d, ldd): (&[f32], usize),
        gates: usize,
        dh_prev: &mut [f32],
        scratch: &mut [f32],
    ) {
        let (b, h) = (self.batch, self.units);
        let gh = self.u.len() / h;
        match self.rdrop {
            None if gates * h == gh && ldd == gh => {
                gemm_packed(d, b, MatRef::new(self.u, h, gh).t(), self.up, dh_prev, h);
            }
            None => gemm(
                1.0,
                MatRef::with_ld(d, b, gates * h, ldd),
                MatRef::with_ld(self.u, h, gates * h, gh).t(),
                1.0,
                dh_prev,
                h,
            ),
            Some(masks) => {
                let part = &mut scratch[..b * h];
                for g in 0..gates {
                    gemm(
                        1.0,
                        MatRef::with_ld(&d[g * h..], b, h, ldd),
                        MatRef::with_ld(&self.u[g * h..], h, h, gh).t(),
                        0.0,
                        part,
                        h,
                    );
                    let m = &masks[g * b * h..(g + 1) * b * h];
                    dh_prev
                        .iter_mut()
                        .zip(part.iter().zip(m))
                        .for_each(|(o, (v, m))| *o += v * m);
                }
            }
        }
    }

    /// Gate `g`'s recurrent dropout factors, `(batch, units)`, if the state is dropped.
    pub(crate) fn rdrop_gate(&self, g: usize) -> Option<&[f32]> {
        let len = self.batch * self.units;
        self.rdrop.map(|m| &m[g * len..(g + 1) * len])
    }

    /// Zeroes the rows of masked samples in a `(batch, width)` buffer.
    pub(crate) fn zero_masked_rows(&self, buf: &mut [f32], width: usize) {
        if self.mask.is_none() {
            return;
        }
        for b in (0..self.batch).filter(|&b| self.masked(b)) {
            buf[b * width..(b + 1) * width].fill(0.0);
        }
    }
}

/// The views of one forward step.
#[doc(hidden)]
pub struct ForwardStep<'a> {
    /// `(batch, gates * units)`: `x_t W + b` in, the gate activations out.
    pub(crate) z: &'a mut [f32],
    /// The state read, `(batch, units)` (zeros before the first step).
    pub(crate) h_prev: &'a [f32],
    /// The state written.
    pub(crate) h: &'a mut [f32],
    /// Time index of this step in the cell's trace.
    pub(crate) t: usize,
    /// Time index of the state read, `None` before the first step (the state is zero).
    pub(crate) prev: Option<usize>,
    /// The zero state, `(batch, units)`.
    pub(crate) zeros: &'a [f32],
    /// `(batch, units)` scratch of the recurrent product under recurrent dropout.
    pub(crate) scratch: &'a mut [f32],
}

impl ForwardStep<'_> {
    /// Whether the state read is known to be zero, so its product can be skipped.
    pub(crate) fn first(&self) -> bool {
        self.prev.is_none()
    }
}

/// The views of one backward step.
#[doc(hidden)]
pub struct BackwardStep<'a> {
    /// `(batch, gates * units)`: this step's gate activations.
    pub(crate) gates: &'a [f32],
    /// The state this step read.
    pub(crate) h_prev: &'a [f32],
    /// Gradient of this step's state.
    pub(crate) dh: &'a [f32],
    /// Pre-activation gradients written, input side, `(batch, gates * units)`.
    pub(crate) dz: &'a mut [f32],
    /// Gradient of the previous state, written.
    pub(crate) dh_prev: &'a mut [f32],
    /// Time index of this step.
    pub(crate) t: usize,
    /// Time index of the state read, `None` at the first step.
    pub(crate) prev: Option<usize>,
    /// The zero state, `(batch, units)`.
    pub(crate) zeros: &'a [f32],
    /// `(batch, units)` scratch of the recurrent product under recurrent dropout.
    pub(crate) scratch: &'a mut [f32],
}

/// What the weight gradients of a whole backward pass read.
#[doc(hidden)]
pub struct GradCtx<'a> {
    pub(crate) batch: usize,
    pub(crate) time: usize,
    pub(crate) units: usize,
    pub(crate) go_backwards: bool,
    /// `(T, B, H)`: the state after each step.
    pub(crate) hs: &'a [f32],
    /// `(T, B, G*H)`: pre-activation gradients on the input side.
    pub(crate) dzs: &'a [f32],
    /// Recurrent dropout: `(G, T, B, H)`, `hs` times each gate's mask, which is what the
    /// gates' recurrent products read.
    pub(crate) hsm: Option<&'a [f32]>,
}

impl GradCtx<'_> {
    /// `du[:, ..cols] += sum_t h_{t-1}^T d_t[:, ..cols]`, with `d` `(T, B, G*H)`. Each step's
    /// recurrent gradient pairs with the state it read, the neighbouring time step: one GEMM
    /// over the shifted ranges (the first step read zeros).
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`GradCtx` comes from a pass that sized `hs` to `(time, batch, units)`, \
                  `dzs` to `(time, batch, GATES * units)`, `hsm` to `(GATES, time, batch, \
                  units)` and `du` to `(units, GATES * units)`; `time >= 2` here, and \
                  `cols <= GATES * units`"
    )]
    pub(crate) fn add_recurrent_grad(&self, d: &[f32], cols: usize, du: &mut [f32]) {
        let (batch, time, h) = (self.batch, self.time, self.units);
        if time < 2 {
            return;
        }
        let gh = du.len() / h;
        let (len, m) = (batch * h, (time - 1) * batch);
        let (hp, d) = if self.go_backwards {
            (len..time * len, &d[..m * gh])
        } else {
            (0..m * h, &d[batch * gh..time * batch * gh])
        };
        let Some(hsm) = self.hsm else {
            gemm(
                1.0,
                MatRef::new(&self.hs[hp], m, h).t(),
                MatRef::with_ld(d, m, cols, gh),
                1.0,
                du,
                gh,
            );
            return;
        };
        // Under recurrent dropout each gate's block read its own masked state.
        let per_gate = time * len;
        for g in 0..cols / h {
            let hs = &hsm[g * per_gate..(g + 1) * per_gate];
            gemm(
                1.0,
                MatRef::new(&hs[hp.clone()], m, h).t(),
                MatRef::with_ld(&d[g * h..], m, h, gh),
                1.0,
                &mut du[g * h..],
                gh,
            );
        }
    }
}

/// The slices of a per-step buffer at a previous step (if any) and at the current step.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "callers pass step indices `prev, cur < time` of a buffer of `time * len` values \
              that they sized, and `prev != cur`"
)]
pub(crate) fn prev_and_cur(
    buf: &mut [f32],
    prev: Option<usize>,
    cur: usize,
    len: usize,
) -> (Option<&[f32]>, &mut [f32]) {
    match prev {
        None => (None, &mut buf[cur * len..(cur + 1) * len]),
        Some(p) if p < cur => {
            let (a, b) = buf.split_at_mut(cur * len);
            (Some(&a[p * len..(p + 1) * len]), &mut b[..len])
        }
        Some(p) => {
            let (a, b) = buf.split_at_mut(p * len);
            (Some(&b[..len]), &mut a[cur * len..(cur + 1) * len])
        }
    }
}

/// Resizes a buffer to `len` (reusing its allocation) and returns it.
pub(crate) fn sized(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    v.resize(len, 0.0);
    v.as_mut_slice()
}

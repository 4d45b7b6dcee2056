//! The recurrent layer, generic over its [`Cell`]: weights, workspaces, the time loop
//! (direction, masking, outputs), the weight-gradient GEMMs and single steps. The gate
//! equations of each cell are in `simple_rnn.rs`, `lstm.rs` and `gru.rs`.
//!
//! Layout: every buffer is time-major and indexed by the *original* time step `t`, whatever
//! the processing direction: `hs[t]` is the state after reading `x[t]`. The input projection
//! of all steps is one GEMM; each step adds one product with the recurrent kernel (packed
//! once per pass); the backward pass walks the steps in reverse with one product per step for
//! the state gradient, then gets `dW`, `dU` and `dx` with one GEMM each over all steps.
//! Buffers are sized once per batch shape and reused, so no step allocates.

use std::marker::PhantomData;
use std::ops::Range;

use crate::error::{Error, Result, fmt_shape};
use crate::init::Rng;
use crate::kernels::gemm::{MatRef, gemm};
use crate::kernels::low::{self, LowMatrix};
use crate::kernels::packed::{Packed, gemm_packed, plain_strips};
use crate::kernels::tall::{gemm_packed_bias, gemm_tall_bias};
use crate::layer::{Layer, Mode};
use crate::layer_step::{LayerStep, StepContext, StepData, StepScratch, check_step_len};
use crate::layers::embedding::Lookup;
use crate::output::Array;
use crate::param::{Param, Weights};
use crate::precision::{Copies, Precision, Reduced};
use crate::size::{checked_len, try_zeroed};
use crate::tensor::{Mask, Sequence, Tensor, TokenBatch};

use super::cell::{
    BackwardStep, Cell, CellCtx, ForwardStep, GradCtx, cell_params, prev_and_cur, sized,
};
use super::rnn_config::{Last, RecurrentOutput, ReturnMode, RnnConfig, RnnOptions};
use super::rnn_dropout::RnnDropout;

mod fold;
#[cfg(test)]
mod inference_tests;
mod merged;
mod panel_step;
use fold::Folded;
pub(crate) use merged::OutputGrad;
use panel_step::{PanelCache, PanelScratch};

/// Buffers of one layer shared by every cell, sized per batch shape and reused across calls.
#[derive(Clone, Debug, Default)]
struct Workspace {
    batch: usize,
    time: usize,
    mask: Option<Mask>,
    /// `(T, B, G*H)`: input projections, then the gate activations of every step; backward
    /// replaces each step's gates (read for the last time) with their gradients, on the
    /// input side before the activations, which the weight gradients then read. An
    /// inference pass keeps one block of steps at a time (see [`PROJECT_ROWS`]).
    zs: Vec<f32>,
    /// Whether a backward pass has replaced the gates in `zs` since the last forward pass.
    spent: bool,
    /// Whether the last forward pass kept what a backward pass reads; an inference pass
    /// keeps only what its next step reads.
    recorded: bool,
    /// Whether `hs` holds every step's state rather than two slots used in turn.
    all_states: bool,
    /// `(T, B, H)`: state after each step; an inference pass of a layer that returns only
    /// its last output keeps two steps, `(2, B, H)`.
    hs: Vec<f32>,
    /// `(B, H)` zeros: the initial state.
    zeros: Vec<f32>,
    /// Backward: `(B, G*H)` one step's pre-activation gradients, until they replace its
    /// gates in `zs`.
    dz: Vec<f32>,
    /// Backward: `(B, H)` state gradients of the current and previous step.
    dh: Vec<f32>,
    dh_prev: Vec<f32>,
    /// The recurrent kernel packed for the per-step products: `U` in the forward pass, `U^T`
    /// in the backward pass.
    packed: Packed,
}

/// Rows of the input projection an inference pass runs at once: it projects a block of
/// steps at a time, enough rows for the product to run at the speed of one over every step,
/// and keeps no other step's gates (only a backward pass reads them).
const PROJECT_ROWS: usize = 256;

impl Workspace {
    /// Where `hs` keeps the state of processing step `s`, at original time `t`.
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "a remainder by a non-zero constant"
    )]
    fn h_slot(&self, s: usize, t: usize) -> usize {
        if self.all_states { t } else { s % 2 }
    }

    /// Where the cell's trace keeps step `s`, at original time `t`: the trace has every step
    /// only for a backward pass.
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "a remainder by a non-zero constant"
    )]
    fn trace_slot(&self, s: usize, t: usize) -> usize {
        if self.recorded { t } else { s % 2 }
    }
}

/// Weights, configuration and workspaces of one recurrent layer (one direction) with cell
/// `C`; the run-time part of [`Rnn`], which `Bidirectional` drives directly.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct RnnCore<C: Cell> {
    name: String,
    input: usize,
    units: usize,
    pub(crate) cfg: RnnConfig,
    /// Masked steps output zeros instead of the previous output (set inside Bidirectional
    /// with `return_sequences`, as Keras does).
    pub(crate) zero_output_for_mask: bool,
    /// Whether the layer returns its output sequence (`return_sequences`): an inference pass
    /// then keeps every step's state, and otherwise only the last two.
    pub(crate) sequences: bool,
    kernel: Param,
    recurrent: Param,
    bias: Option<Param>,
    ws: Workspace,
    trace: C::Trace,
    /// `dropout` and `recurrent_dropout`: generator, masks and their scratch.
    drop: RnnDropout,
    /// The table of a preceding Embedding folded into the input projection.
    fold: Folded,
    /// Reduced-precision copies of `kernel` and `recurrent` for inference.
    low: Reduced,
    /// `[W; U]` packed for single-row steps.
    panels: PanelCache,
}

impl<C: Cell> RnnCore<C> {
    pub(crate) fn new(
        path: &str,
        input: usize,
        units: usize,
        use_bias: bool,
        cfg: RnnConfig,
        rng: &mut Rng,
    ) -> Self {
        // A width past `usize::MAX` saturates: no weight of that shape passes the checked
        // sizes of its allocation.
        let gh = C::GATES.saturating_mul(units);
        let scope = format!("{path}/{}", C::NAME);
        let kernel = Param::new(
            format!("{scope}/kernel"),
            vec![input, gh],
            cfg.kernel_initializer.fill(&[input, gh], rng),
        );
        let recurrent = Param::new(
            format!("{scope}/recurrent_kernel"),
            vec![units, gh],
            cfg.recurrent_initializer.fill(&[units, gh], rng),
        );
        let bias = use_bias.then(|| {
            let mut b = Param::zeros(format!("{scope}/bias"), C::bias_shape(units));
            C::init_bias(&cfg, units, b.values_mut(), rng);
            b
        });
        let drop = RnnDropout::new(&cfg, rng);
        RnnCore {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            input,
            units,
            cfg,
            zero_output_for_mask: false,
            sequences: false,
            kernel,
            recurrent,
            bias,
            ws: Workspace::default(),
            trace: C::Trace::default(),
            drop,
            fold: Folded::default(),
            low: Reduced::default(),
            panels: PanelCache::default(),
        }
    }

    pub(crate) fn params(&self) -> Vec<&Param> {
        let mut all = vec![&self.kernel, &self.recurrent];
        all.extend(self.bias.as_ref());
        all
    }

    pub(crate) fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut all = vec![&mut self.kernel, &mut self.recurrent];
        all.extend(self.bias.as_mut());
        all
    }

    /// Original time index of processing step `s`.
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "callers pass a processing step `s < time`"
    )]
    fn time_index(go_backwards: bool, s: usize, time: usize) -> usize {
        if go_backwards { time - 1 - s } else { s }
    }

    /// The context of a step: everything but the mask is the same for every step of a pass.
    fn ctx<'a>(
        &'a self,
        mask: Option<&'a [bool]>,
        batch: usize,
        packed: &'a Packed,
        rdrop: Option<&'a [f32]>,
    ) -> CellCtx<'a> {
        CellCtx {
            batch,
            units: self.units,
            act: self.cfg.activation,
            ract: self.cfg.recurrent_activation,
            mask,
            u: self.recurrent.values(),
            up: packed,
            bias: self.bias.as_ref().map(Param::values),
            rdrop,
            low: None,
        }
    }

    pub(crate) fn set_inference_precision(&mut self, precision: Precision) {
        self.low.set(precision);
    }

    /// The reduced-precision copies of `[kernel, recurrent]` for a pass in `mode`, if any.
    fn low_copies(&self, mode: Mode) -> Option<std::sync::Arc<Copies>> {
        (mode == Mode::Inference)
            .then(|| self.low.copies(&[&self.kernel, &self.recurrent]))
            .flatten()
    }

    /// `z = x W + b` with the reduced-precision copy `w` of the kernel.
    fn project_input_low(&self, x: &[f32], rows: usize, z: &mut [f32], w: &LowMatrix) {
        if self.fill_bias(z) == 0.0 {
            z.fill(0.0);
        }
        low::product(x, rows, w, 0..w.cols(), z, w.cols());
    }

    /// Fixes the dropout masks of the following training passes instead of drawing them
    /// (for gradient checks): `input` `(1, B, IN)`, or `(GATES, B, IN)` as Keras 3 draws them
    /// for LSTM and GRU with `recurrent_dropout`; `recurrent` `(GATES, B, H)`; each may be
    /// empty (nothing dropped there). The values are the factors (0 or `1 / (1 - rate)`).
    #[doc(hidden)]
    pub fn set_dropout_masks(&mut self, input: Vec<f32>, recurrent: Vec<f32>) {
        self.drop.set_masks(input, recurrent);
    }

    /// `z = x W + b` (the input side of the gates) for `rows` rows of `x`; with input
    /// dropout in training, `x` times its mask(s).
    fn project_input_dropped(&mut self, x: &[f32], rows: usize, z: &mut [f32]) {
        if !self.drop.drops_input() {
            return self.project_input(x, rows, z);
        }
        if self.fill_bias(z) == 0.0 {
            z.fill(0.0);
        }
        self.drop
            .project_input(x, self.kernel.values(), self.input, z);
    }

    /// Copies the input-side bias into every row of `z`; returns the factor of `z` for a
    /// product added to it (0 without a bias, which leaves `z` as it was).
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "the bias holds `BIAS_ROWS * GATES * units` values, `GATES * units` of a \
                  built layer"
    )]
    fn fill_bias(&self, z: &mut [f32]) -> f32 {
        let gh = C::GATES * self.units;
        match &self.bias {
            Some(b) => {
                let row = &b.values()[..gh];
                z.chunks_exact_mut(gh).for_each(|z| z.copy_from_slice(row));
                1.0
            }
            None => 0.0,
        }
    }

    /// `z = x W + b` (the input side of the gates) for `rows` rows of `x`.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`GATES * units` of a built layer, whose kernel and bias hold that many columns"
    )]
    fn project_input(&self, x: &[f32], rows: usize, z: &mut [f32]) {
        let gh = C::GATES * self.units;
        let bias = self.bias.as_ref().map(|b| &b.values()[..gh]);
        let w = MatRef::new(self.kernel.values(), self.input, gh);
        gemm_tall_bias(x, rows, w, bias, z, gh);
    }

    /// [`Self::project_input`] with the kernel packed in `packed` on first use, for a pass
    /// that projects its input block after block.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`GATES * units` of a built layer, whose kernel and bias hold that many columns"
    )]
    fn project_input_packed(&self, x: &[f32], rows: usize, z: &mut [f32], packed: &mut Packed) {
        let gh = C::GATES * self.units;
        let bias = self.bias.as_ref().map(|b| &b.values()[..gh]);
        let w = MatRef::new(self.kernel.values(), self.input, gh);
        if !packed.holds(self.input, gh) {
            packed.pack(w, plain_strips(gh));
        }
        gemm_packed_bias(x, rows, w, packed, bias, z, gh);
    }

    /// Runs the layer over `x` (time-major `(time, batch, input)`), filling the workspace.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`run` hands out time ranges within `0..time`, and `x` holds `time * batch` \
                  rows of `input` (a `Sequence` of this layer's input), a size checked below"
    )]
    pub(crate) fn forward(
        &mut self,
        x: &[f32],
        (batch, time): (usize, usize),
        mask: Option<&Mask>,
        mode: Mode,
    ) -> Result<()> {
        checked_len(&self.name, &[batch, time, self.input])?;
        let low = self.low_copies(mode);
        let kernel = low.as_ref().and_then(|c| c.mats.first());
        let (row, mut packed) = (batch * self.input, Packed::default());
        self.run(batch, time, mask, mode, |core, steps, z| {
            let (x, rows) = (&x[steps.start * row..steps.end * row], steps.len() * batch);
            match kernel {
                Some(w) => core.project_input_low(x, rows, z, w),
                None if steps.len() == time => core.project_input_dropped(x, rows, z),
                None => core.project_input_packed(x, rows, z, &mut packed),
            }
        })
    }

    /// Runs the layer over `time` steps of `batch` rows whose input projections `project`
    /// writes (time-major `(steps, batch, G*H)` for a range of original time steps),
    /// filling the workspace. A pass that records projects every step at once; an inference
    /// pass projects blocks of steps as it reaches them (dropout, which changes the
    /// projection, drops only in recording passes).
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "the sizes are checked on entry (`batch * time * GATES * units`, `batch * time * \
              units`, `batch * units`), so the step offsets `t * batch * gh` below them \
              cannot overflow and index buffers of those sizes; `s < time`"
    )]
    fn run(
        &mut self,
        batch: usize,
        time: usize,
        mask: Option<&Mask>,
        mode: Mode,
        mut project: impl FnMut(&mut Self, Range<usize>, &mut [f32]),
    ) -> Result<()> {
        if time == 0 {
            return Err(Error::Empty {
                layer: self.name.clone(),
                what: format!(
                    "the sequence has no time steps (shape {}); a recurrent layer needs at \
                     least one",
                    fmt_shape(&[batch, 0, self.input])
                ),
            });
        }
        let (h, gh) = (self.units, C::GATES * self.units);
        let n = checked_len(&self.name, &[batch, time])?;
        let len = checked_len(&self.name, &[batch, self.units])?;
        let (zs_len, hs_len) = (
            checked_len(&self.name, &[n, gh])?,
            checked_len(&self.name, &[n, h])?,
        );
        let dims = (batch, self.input, h, C::GATES);
        self.drop.begin(&self.name, &self.cfg, mode, dims)?;
        let records = mode.records();
        // Steps projected at once: all of them when a backward pass reads every step's gates.
        let block = if records {
            time
        } else {
            PROJECT_ROWS.div_ceil(batch.max(1)).clamp(1, time)
        };
        let mut ws = std::mem::take(&mut self.ws);
        ws.batch = batch;
        ws.time = time;
        ws.mask = mask.filter(|m| !m.all_valid()).cloned();
        ws.spent = false;
        ws.recorded = records;
        ws.all_states = records || self.sequences;
        // At most the sizes checked above: `block <= time`, and two steps at most.
        let slots = if records { time } else { time.min(2) };
        sized(
            &mut ws.zs,
            if records { zs_len } else { block * batch * gh },
        );
        sized(&mut ws.hs, if ws.all_states { hs_len } else { slots * len });
        ws.zeros.clear();
        ws.zeros.resize(len, 0.0);
        C::prepare_forward(&mut self.trace, slots, len);
        let low = self.low_copies(mode);
        // One row's products read `U` where it is (`gemm_packed` sends them to the
        // matrix-vector kernel): packing it would cost a third of a batch-1 pass. The bf16
        // copies have their own layout.
        if low.is_none() && batch > 1 {
            ws.packed
                .pack(MatRef::new(self.recurrent.values(), h, gh), C::GATES);
        }
        let go_back = self.cfg.go_backwards;
        // The original time steps of the block of processing steps from `s`.
        let span = |s: usize| {
            let end = (s + block).min(time);
            if go_back {
                time - end..time - s
            } else {
                s..end
            }
        };
        let mut steps = span(0);
        project(self, steps.clone(), &mut ws.zs[..steps.len() * batch * gh]);

        let mut trace = std::mem::take(&mut self.trace);
        let mut drop = std::mem::take(&mut self.drop);
        let (rdrop, scratch) = drop.step_views();
        for s in 0..time {
            let t = Self::time_index(go_back, s, time);
            if !steps.contains(&t) {
                steps = span(s);
                project(self, steps.clone(), &mut ws.zs[..steps.len() * batch * gh]);
            }
            let prev = (s > 0).then(|| Self::time_index(go_back, s - 1, time));
            let step_mask = ws.mask.as_ref().map(|m| m.step(t));
            let mut ctx = self.ctx(step_mask, batch, &ws.packed, rdrop);
            ctx.low = low.as_ref().map(|c| &c.mats[1]);
            let (hp, ho) = (prev.map(|p| ws.h_slot(s - 1, p)), ws.h_slot(s, t));
            let (tp, to) = (prev.map(|p| ws.trace_slot(s - 1, p)), ws.trace_slot(s, t));
            let (h_prev, h_out) = prev_and_cur(&mut ws.hs, hp, ho, len);
            let z = t - steps.start;
            let io = ForwardStep {
                z: &mut ws.zs[z * batch * gh..(z + 1) * batch * gh],
                h_prev: h_prev.unwrap_or(&ws.zeros),
                h: h_out,
                t: to,
                prev: tp,
                zeros: &ws.zeros,
                scratch,
            };
            C::forward_step(&ctx, io, &mut trace);
        }
        self.drop = drop;
        self.trace = trace;
        self.ws = ws;
        Ok(())
    }

    /// State `which` (0 = h, 1 = c) after the last processed step: `(batch, units)`.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`t < time` and `batch * units` of the last forward pass, whose `(time, \
                  batch, units)` states `run` sized with checked lengths"
    )]
    pub(crate) fn final_state(&self, which: usize) -> &[f32] {
        let (batch, time) = (self.ws.batch, self.ws.time);
        // Before any forward pass there are no rows: `(0, units)`.
        let Some(last) = time.checked_sub(1) else {
            return &[];
        };
        let t = Self::time_index(self.cfg.go_backwards, last, time);
        let len = batch * self.units;
        if which == 0 {
            let at = self.ws.h_slot(last, t);
            &self.ws.hs[at * len..(at + 1) * len]
        } else {
            C::state(&self.trace, which, self.ws.trace_slot(last, t), len)
        }
    }

    /// The output sequence, time-major. Step `s` of the result is the output at original time
    /// `s`, or `T-1-s` when `reverse`. Masked steps repeat the previous output (that is, the
    /// carried state), or are zero with `zero_output_for_mask`.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`s, t < time` and `b < batch` of the last forward pass, whose `(time, \
                  batch, units)` states `run` sized with checked lengths (none before the \
                  first pass)"
    )]
    pub(crate) fn output_sequence(&self, reverse: bool) -> Vec<f32> {
        let (batch, time, h) = (self.ws.batch, self.ws.time, self.units);
        let len = batch * h;
        let mut out = vec![0.0f32; time * len];
        for s in 0..time {
            let t = if reverse { time - 1 - s } else { s };
            let dst = &mut out[s * len..(s + 1) * len];
            dst.copy_from_slice(&self.ws.hs[t * len..(t + 1) * len]);
            if let (true, Some(mask)) = (self.zero_output_for_mask, &self.ws.mask) {
                for (b, &valid) in mask.step(t).iter().enumerate() {
                    if !valid {
                        dst[b * h..(b + 1) * h].fill(0.0);
                    }
                }
            }
        }
        out
    }

    /// The main output's raw data (see [`RecurrentOutput`]): the output sequence (ordered as
    /// [`Self::output_sequence`] with `reverse`) or the last output.
    pub(crate) fn main_output(&self, sequences: bool, reverse: bool) -> Vec<f32> {
        if sequences {
            self.output_sequence(reverse)
        } else {
            self.final_state(0).to_vec()
        }
    }

    /// The final states as named outputs, prefixed (`forward_` inside Bidirectional).
    pub(crate) fn states(&self, prefix: &str) -> Vec<Array> {
        if !self.cfg.return_state {
            return Vec::new();
        }
        C::STATE_NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                Array::new(
                    format!("{prefix}{name}"),
                    vec![self.ws.batch, self.units],
                    self.final_state(i).to_vec(),
                )
            })
            .collect()
    }

    pub(crate) fn state_count(&self) -> usize {
        if self.cfg.return_state {
            C::STATE_NAMES.len()
        } else {
            0
        }
    }

    /// Checks the gradient of the main output and of the states against the last forward pass.
    fn check_grads(&self, dy: &OutputGrad<'_>, sequences: bool, dstates: &[&[f32]]) -> Result<()> {
        let (batch, time, h) = (self.ws.batch, self.ws.time, self.units);
        let (dy_len, ld) = (dy.data.len(), dy.ld);
        let want = if sequences {
            checked_len(&self.name, &[batch, time, ld])?
        } else {
            checked_len(&self.name, &[batch, ld])?
        };
        if dy_len != want || dy.col.checked_add(h).is_none_or(|end| end > ld) {
            let shape = if sequences {
                fmt_shape(&[batch, time, ld])
            } else {
                fmt_shape(&[batch, ld])
            };
            return Err(Error::shape(
                format!("{}: output gradient", self.name),
                shape,
                format!("{dy_len} values"),
            ));
        }
        let n = self.state_count();
        if dstates.len() > n {
            return Err(too_many_state_grads(&self.name, dstates.len(), n));
        }
        let want_state = checked_len(&self.name, &[batch, h])?;
        for (g, name) in dstates.iter().zip(C::STATE_NAMES) {
            if g.len() != want_state {
                return Err(Error::shape(
                    format!("{}: gradient of {name}", self.name),
                    fmt_shape(&[batch, h]),
                    format!("{} values", g.len()),
                ));
            }
        }
        Ok(())
    }

    /// Back-propagates through time. `dy` is the gradient of the main output, laid out as
    /// [`Self::main_output`] gives it for the same `sequences` and `reverse` (its rows possibly
    /// part of a wider gradient, see [`OutputGrad`]), and `dstates`
    /// those of the final states (`h`, then `c` for LSTM; fewer means zero). Returns `dx`,
    /// time-major.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`batch` and `time` are the last forward pass's, which checked `batch * time * \
              GATES * units`, `batch * time * units` and `batch * units` on entry; `x.len()` \
              is checked against `n * input` first, so every step offset below those sizes \
              cannot overflow and stays in bounds"
    )]
    pub(crate) fn backward(
        &mut self,
        x: &[f32],
        dy: OutputGrad<'_>,
        sequences: bool,
        reverse: bool,
        dstates: &[&[f32]],
    ) -> Result<Vec<f32>> {
        let (batch, time, h) = (self.ws.batch, self.ws.time, self.units);
        let (input, gh) = (self.input, C::GATES * h);
        let (n, len) = (batch * time, batch * h);
        if time > 0 && !self.ws.recorded {
            return Err(Error::config(
                self.name.clone(),
                "backward needs a recording forward pass (Mode::Training or \
                 Mode::InferenceGrad); the last one ran in Mode::Inference, which keeps only \
                 what the next step reads",
            ));
        }
        if time == 0 || self.ws.hs.len() < n * h || Some(x.len()) != n.checked_mul(input) {
            return Err(Error::config(
                self.name.clone(),
                "backward needs the input of the preceding training forward pass",
            ));
        }
        if self.ws.spent {
            return Err(Error::config(
                self.name.clone(),
                "backward already ran for the last forward pass; run a training forward pass \
                 before the next backward pass",
            ));
        }
        self.check_grads(&dy, sequences, dstates)?;
        let go_back = self.cfg.go_backwards;
        let zero_masked = self.zero_output_for_mask;
        let mut ws = std::mem::take(&mut self.ws);
        let mut trace = std::mem::take(&mut self.trace);
        ws.packed.pack(
            MatRef::new(self.recurrent.values(), h, gh).t(),
            plain_strips(h),
        );
        sized(&mut ws.dz, batch * gh);
        ws.spent = true;
        sized(&mut ws.dh_prev, len);
        sized(&mut ws.dh, len).fill(0.0);
        C::prepare_backward(&mut trace, time, batch, h);
        if !sequences {
            for b in 0..batch {
                dy.add_row(b, &mut ws.dh[b * h..(b + 1) * h]);
            }
        }
        if let Some(src) = dstates.first() {
            ws.dh.iter_mut().zip(*src).for_each(|(a, b)| *a += b);
        }
        C::seed_state_grads(&mut trace, dstates.get(1..).unwrap_or(&[]));
        let mut drop = std::mem::take(&mut self.drop);
        let (rdrop, scratch) = drop.step_views();

        for s in (0..time).rev() {
            let t = Self::time_index(go_back, s, time);
            let prev = (s > 0).then(|| Self::time_index(go_back, s - 1, time));
            let mask = ws.mask.as_ref().map(|m| m.step(t));
            if sequences {
                let at = if reverse { time - 1 - t } else { t };
                for b in 0..batch {
                    if zero_masked && mask.is_some_and(|m| !m[b]) {
                        continue; // a zero output has no gradient path
                    }
                    dy.add_row(at * batch + b, &mut ws.dh[b * h..(b + 1) * h]);
                }
            }
            let ctx = self.ctx(mask, batch, &ws.packed, rdrop);
            let at = t * batch * gh..(t + 1) * batch * gh;
            let io = BackwardStep {
                gates: &ws.zs[at.clone()],
                h_prev: match prev {
                    Some(p) => &ws.hs[p * len..(p + 1) * len],
                    None => &ws.zeros[..],
                },
                dh: &ws.dh,
                dz: &mut ws.dz,
                dh_prev: &mut ws.dh_prev,
                t,
                prev,
                zeros: &ws.zeros,
                scratch: &mut *scratch,
            };
            C::backward_step(&ctx, io, &mut trace);
            // No later step reads these gates: their gradients take their place, so that a
            // pass keeps one `(T, B, G*H)` buffer rather than two.
            ws.zs[at].copy_from_slice(&ws.dz);
            std::mem::swap(&mut ws.dh, &mut ws.dh_prev);
        }
        // Read: freed before `dx`, often as large, is allocated.
        std::mem::drop(dy);

        // Weight gradients over all steps at once.
        let dzs = &ws.zs[..n * gh];
        if !drop.drops_input() {
            gemm(
                1.0,
                MatRef::new(x, n, input).t(),
                MatRef::new(dzs, n, gh),
                1.0,
                self.kernel.grad_mut(),
                gh,
            );
        }
        let (db_first, db_rest) = match &mut self.bias {
            Some(b) => b.grad_mut().split_at_mut(gh),
            None => (&mut [][..], &mut [][..]),
        };
        if !db_first.is_empty() {
            for row in dzs.chunks_exact(gh) {
                db_first.iter_mut().zip(row).for_each(|(a, b)| *a += b);
            }
        }
        let g = GradCtx {
            batch,
            time,
            units: h,
            go_backwards: go_back,
            hs: &ws.hs[..n * h],
            dzs,
            hsm: drop.masked_states(&ws.hs[..n * h]),
        };
        C::recurrent_grads(&g, &trace, self.recurrent.grad_mut(), db_rest);
        let mut dx = vec![0.0f32; n * input];
        if drop.drops_input() {
            let (w, dw) = self.kernel.values_and_grad_mut();
            drop.input_grads(x, dzs, (&*w, dw), &mut dx);
        } else {
            let wt = MatRef::new(self.kernel.values(), input, gh).t();
            // Packed where `U^T` was, which no step reads any more: a packing of its own per
            // pass was a megabyte allocated and faulted in every step (T3).
            ws.packed.pack(wt, plain_strips(input));
            gemm_packed(dzs, n, wt, &ws.packed, &mut dx, input);
        }
        self.drop = drop;
        self.trace = trace;
        self.ws = ws;
        Ok(dx)
    }

    /// A zero step state for `batch` rows.
    pub(crate) fn step_init(&self, batch: usize) -> Result<LayerStep> {
        if self.cfg.go_backwards {
            return Err(Error::config(
                self.name.clone(),
                "a layer with go_backwards reads the sequence from its end, so it cannot run \
                 one step at a time",
            ));
        }
        let len = checked_len(&self.name, &[batch, self.units])?;
        let z = try_zeroed(&self.name, checked_len(&self.name, &[len, C::GATES])?)?;
        let hs = try_zeroed(&self.name, checked_len(&self.name, &[2, len])?)?;
        let mut trace = C::Trace::default();
        // Two slots used in turn: the state read and the state written.
        C::prepare_forward(&mut trace, 2, len);
        let scratch = RnnStep::<C> {
            len,
            cur: 0,
            z,
            hs,
            zeros: try_zeroed(&self.name, len)?,
            trace,
            unpacked: Packed::default(),
            panel: self.panel_scratch(batch),
        };
        LayerStep::with_states(
            &self.name,
            batch,
            self.units,
            C::STATE_NAMES,
            Box::new(scratch),
        )
    }

    /// One step: `x` is `(batch, input)`; writes the new state as the step's output.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`cur` is 0 or 1 and `hs` holds the two slots of `len` values that `step_init` \
              sized with checked lengths"
    )]
    pub(crate) fn step(
        &self,
        x: StepData<'_>,
        cx: &StepContext,
        state: &mut LayerStep,
    ) -> Result<()> {
        let x = x.values(&self.name)?;
        state.check_owner(&self.name, self.units)?;
        let batch = state.batch();
        check_step_len(&self.name, x.len(), batch, self.input)?;
        let mask = cx.mask();
        if let Some(m) = mask.filter(|m| m.len() != batch) {
            return Err(Error::shape(
                format!("{}: the step's mask", self.name),
                format!("{batch} rows"),
                format!("{} rows", m.len()),
            ));
        }
        let (st, out) = state.scratch_mut::<RnnStep<C>>()?;
        let len = st.len;
        // The bf16 copies, when chosen, take every step; the f32 panels only f32 steps.
        let low = self.low_copies(Mode::Inference);
        if low.is_none() && self.panel_step(x, mask.is_some(), st) {
            out.copy_from_slice(&st.hs[st.cur * len..(st.cur + 1) * len]);
            return Ok(());
        }
        let (prev, t) = (st.cur, 1 - st.cur);
        match &low {
            Some(c) => match c.mats.first() {
                Some(w) => self.project_input_low(x, batch, &mut st.z, w),
                None => self.project_input(x, batch, &mut st.z),
            },
            None => self.project_input(x, batch, &mut st.z),
        }
        // The state may be anything (`set_states`), so its product is never skipped; the
        // kernel is not packed, so a single row is a matrix-vector product over `U`.
        let mut ctx = self.ctx(mask, batch, &st.unpacked, None);
        ctx.low = low.as_ref().map(|c| &c.mats[1]);
        let (h_prev, h) = prev_and_cur(&mut st.hs, Some(prev), t, len);
        let io = ForwardStep {
            z: &mut st.z,
            h_prev: h_prev.unwrap_or(&st.zeros),
            h,
            t,
            prev: Some(prev),
            zeros: &st.zeros,
            scratch: &mut [],
        };
        C::forward_step(&ctx, io, &mut st.trace);
        st.cur = t;
        out.copy_from_slice(&st.hs[t * len..(t + 1) * len]);
        Ok(())
    }
}

/// The error for more state gradients than the layer returns states.
pub(crate) fn too_many_state_grads(layer: &str, got: usize, states: usize) -> Error {
    Error::config(
        layer,
        format!("got {got} state gradient(s), but the layer returns {states} state(s)"),
    )
}

/// A recurrent layer's step state: its states in two slots used in turn, and scratch.
#[derive(Clone, Debug)]
struct RnnStep<C: Cell> {
    len: usize,
    /// The slot holding the current state.
    cur: usize,
    /// `(B, G*H)`: the step's gates.
    z: Vec<f32>,
    /// `(2, B, H)`: `h` in both slots.
    hs: Vec<f32>,
    zeros: Vec<f32>,
    /// The cell's other states and scratch, with two time slots.
    trace: C::Trace,
    /// An empty packing: single steps use the general products.
    unpacked: Packed,
    /// Single-row steps: the panels and their scratch.
    panel: PanelScratch,
}

impl<C: Cell> StepScratch for RnnStep<C> {
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`cur` is 0 or 1 and `hs` holds the two slots of `len` values that `step_init` \
              sized with checked lengths"
    )]
    fn states(&self) -> Vec<&[f32]> {
        let (t, len) = (self.cur, self.len);
        (0..C::STATE_NAMES.len())
            .map(|i| match i {
                0 => &self.hs[t * len..(t + 1) * len],
                i => C::state(&self.trace, i, t, len),
            })
            .collect()
    }

    fn clone_box(&self) -> Box<dyn StepScratch> {
        Box::new(self.clone())
    }

    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`cur` is 0 or 1 and `hs` holds the two slots of `len` values that `step_init` \
              sized with checked lengths"
    )]
    fn state_mut(&mut self, i: usize) -> &mut [f32] {
        let (t, len) = (self.cur, self.len);
        match i {
            0 => &mut self.hs[t * len..(t + 1) * len],
            i => C::state_mut(&mut self.trace, i, t, len),
        }
    }
}

/// A recurrent layer with cell `C` from `IN` features to `H` units: what
/// [`SimpleRnn`](crate::SimpleRnn), [`Lstm`](crate::Lstm) and [`Gru`](crate::Gru) wrap.
///
/// `R` is [`Last`] (the default) or [`Sequences`](super::rnn_config::Sequences)
/// (`return_sequences=True`); `BIAS = false` is `use_bias=False`.
///
/// ```
/// use rnn_runtime::{Layer, LstmCell, Mode, Rnn, RnnConfig, Sequence, Weights, seeded_rng};
/// let mut lstm = Rnn::<LstmCell, 3, 4>::new("lstm", RnnConfig::default(), &mut seeded_rng(0));
/// assert_eq!(<Rnn<LstmCell, 3, 4> as Weights>::PARAMS, 4 * 4 * (3 + 4) + 16);
/// let y = lstm.forward(&Sequence::<3>::zeros(2, 5), Mode::Inference).unwrap();
/// assert_eq!(y.shape(), [2, 4]);
/// ```
#[derive(Clone, Debug)]
pub struct Rnn<C: Cell, const IN: usize, const H: usize, R = Last, const BIAS: bool = true> {
    core: RnnCore<C>,
    _mode: PhantomData<R>,
}

impl<C: Cell, const IN: usize, const H: usize, R: ReturnMode, const BIAS: bool>
    Rnn<C, IN, H, R, BIAS>
{
    /// Builds the layer with Keras' initializers (Glorot-uniform kernel, orthogonal
    /// recurrent kernel, the cell's bias). `path` is the layer's Keras variable path, e.g.
    /// `sequential/lstm_1`; its last component names the layer in error messages.
    pub fn new(path: &str, cfg: RnnConfig, rng: &mut Rng) -> Self {
        let mut core = RnnCore::new(path, IN, H, BIAS, cfg, rng);
        core.sequences = R::SEQUENCES;
        Rnn {
            core,
            _mode: PhantomData,
        }
    }

    /// The options the layer was built with.
    pub fn config(&self) -> &RnnConfig {
        &self.core.cfg
    }
}

impl<C: Cell, const IN: usize, const H: usize, R: ReturnMode, const BIAS: bool> Weights
    for Rnn<C, IN, H, R, BIAS>
{
    const PARAMS: usize = cell_params::<C>(IN, H, BIAS);
    fn params(&self) -> Vec<&Param> {
        self.core.params()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.core.params_mut()
    }
}

impl<C: Cell, const IN: usize, const H: usize, R: ReturnMode, const BIAS: bool> Layer<Sequence<IN>>
    for Rnn<C, IN, H, R, BIAS>
{
    type Output = R::Output<H>;

    fn forward(&mut self, x: &Sequence<IN>, mode: Mode) -> Result<R::Output<H>> {
        self.core
            .forward(x.as_slice(), (x.batch(), x.time()), x.mask(), mode)?;
        let data = self
            .core
            .main_output(R::SEQUENCES, self.core.cfg.go_backwards);
        Ok(R::Output::<H>::wrap(x.batch(), x.time(), data, x.mask()))
    }

    fn backward(
        &mut self,
        x: &Sequence<IN>,
        dy: R::Output<H>,
        dstates: &[&[f32]],
    ) -> Result<Sequence<IN>> {
        if (x.batch(), x.time()) != (self.core.ws.batch, self.core.ws.time) {
            // Same total length is not enough: a batch of another shape mixes up the rows.
            return Err(Error::config(
                self.core.name.clone(),
                format!(
                    "backward needs the input of the preceding training forward pass, of shape \
                     {}; got {}",
                    fmt_shape(&[self.core.ws.batch, self.core.ws.time, IN]),
                    fmt_shape(&x.shape())
                ),
            ));
        }
        let (batch, steps) = (dy.batch(), dy.steps());
        let want_steps = R::SEQUENCES.then_some(x.time());
        if batch != x.batch() || steps != want_steps {
            let mut want = vec![x.batch()];
            let mut got = vec![batch];
            want.extend(want_steps);
            got.extend(steps);
            want.push(H);
            got.push(H);
            return Err(Error::shape(
                format!("{}: output gradient", self.core.name),
                fmt_shape(&want),
                fmt_shape(&got),
            ));
        }
        let go_back = self.core.cfg.go_backwards;
        let dy = OutputGrad::owned(dy.unwrap(), H);
        let dx = self
            .core
            .backward(x.as_slice(), dy, R::SEQUENCES, go_back, dstates)?;
        Ok(Sequence::from_time_major(x.batch(), x.time(), dx))
    }

    fn states(&self) -> Vec<Array> {
        self.core.states("")
    }

    fn rnn_options(&self) -> Option<RnnOptions> {
        Some(RnnOptions {
            config: self.core.cfg,
            reset_after: C::RESET_AFTER,
        })
    }

    fn forward_lookup(
        &mut self,
        ids: &TokenBatch,
        lookup: Lookup<'_>,
    ) -> Option<Result<R::Output<H>>> {
        let mask = self.core.forward_lookup(ids, lookup)?;
        Some(mask.map(|mask| {
            let data = self
                .core
                .main_output(R::SEQUENCES, self.core.cfg.go_backwards);
            R::Output::<H>::wrap(ids.batch(), ids.time(), data, mask.as_ref())
        }))
    }

    fn step_init(&self, batch: usize) -> Result<LayerStep> {
        self.core.step_init(batch)
    }

    fn step(&self, x: StepData<'_>, cx: &mut StepContext, state: &mut LayerStep) -> Result<()> {
        self.core.step(x, cx, state)
    }

    fn set_inference_precision(&mut self, precision: Precision) {
        self.core.set_inference_precision(precision);
    }
}

/// A recurrent layer type: [`Rnn`] and the Keras-named layers around it (what
/// `Bidirectional` can wrap).
pub trait Recurrent: Weights + Sized + Send + Sync {
    /// The cell.
    type Cell: Cell;
    /// Whether the sequence or the last output is returned.
    type Mode: ReturnMode;
    /// The main output: `Features<UNITS>` or `Sequence<UNITS>`.
    type Direction: RecurrentOutput;
    /// Input features.
    const IN: usize;
    /// Units.
    const UNITS: usize;
    /// Whether the layer has a bias (Keras `use_bias`).
    const BIAS: bool;
    #[doc(hidden)]
    fn core(&self) -> &RnnCore<Self::Cell>;
    #[doc(hidden)]
    fn core_mut(&mut self) -> &mut RnnCore<Self::Cell>;
    /// Builds the layer with its weights under `path`.
    fn build(path: &str, cfg: RnnConfig, rng: &mut Rng) -> Self;
}

impl<C: Cell, const IN: usize, const H: usize, R: ReturnMode, const BIAS: bool> Recurrent
    for Rnn<C, IN, H, R, BIAS>
{
    type Cell = C;
    type Mode = R;
    type Direction = R::Output<H>;
    const IN: usize = IN;
    const UNITS: usize = H;
    const BIAS: bool = BIAS;
    fn core(&self) -> &RnnCore<C> {
        &self.core
    }
    fn core_mut(&mut self) -> &mut RnnCore<C> {
        &mut self.core
    }
    fn build(path: &str, cfg: RnnConfig, rng: &mut Rng) -> Self {
        Self::new(path, cfg, rng)
    }
}

/// Implements construction, `Weights` and `Recurrent` for a Keras-named layer type
/// `$ty<IN, H, R, ...>`, a newtype around `Rnn<$cell, IN, H, R, BIAS>`. (Its `Layer` impl is
/// written in its own file, so that compile errors about layer inputs show a plain impl.)
macro_rules! keras_recurrent_layer {
    ($ty:ident<$($p:ident),*>, [$($g:tt)*], $cell:ty) => {
        impl<const IN: usize, const H: usize, R: ReturnMode, $($g)*> $ty<$($p),*> {
            /// Builds the layer with Keras' initializers (Glorot-uniform kernel, orthogonal
            /// recurrent kernel, zero bias but for LSTM's `unit_forget_bias`). `path` is the
            /// layer's Keras variable path, e.g. `sequential/lstm_1`; its last component names
            /// the layer in error messages.
            pub fn new(path: &str, cfg: RnnConfig, rng: &mut Rng) -> Self {
                $ty(Rnn::new(path, cfg, rng))
            }

            /// The options the layer was built with.
            pub fn config(&self) -> &RnnConfig {
                self.0.config()
            }

            /// The generic layer this one is.
            pub fn as_rnn(&self) -> &Rnn<$cell, IN, H, R, BIAS> {
                &self.0
            }
        }

        impl<const IN: usize, const H: usize, R: ReturnMode, $($g)*> Weights for $ty<$($p),*> {
            const PARAMS: usize = <Rnn<$cell, IN, H, R, BIAS> as Weights>::PARAMS;
            fn params(&self) -> Vec<&Param> {
                self.0.params()
            }
            fn params_mut(&mut self) -> Vec<&mut Param> {
                self.0.params_mut()
            }
        }

        impl<const IN: usize, const H: usize, R: ReturnMode, $($g)*> Recurrent for $ty<$($p),*> {
            type Cell = $cell;
            type Mode = R;
            type Direction = R::Output<H>;
            const IN: usize = IN;
            const UNITS: usize = H;
            const BIAS: bool = BIAS;
            fn core(&self) -> &RnnCore<$cell> {
                self.0.core()
            }
            fn core_mut(&mut self) -> &mut RnnCore<$cell> {
                self.0.core_mut()
            }
            fn build(path: &str, cfg: RnnConfig, rng: &mut Rng) -> Self {
                Self::new(path, cfg, rng)
            }
        }
    };
}

pub(crate) use keras_recurrent_layer;

/// The methods of `Layer<Sequence<IN>>` that a Keras-named layer (a newtype of [`Rnn`], as
/// `keras_recurrent_layer!` describes) passes to its [`Rnn`] unchanged, written inside its
/// `impl Layer` beside its own `forward` and `backward`.
macro_rules! rnn_layer_methods {
    () => {
        fn states(&self) -> Vec<$crate::output::Array> {
            self.0.states()
        }

        fn rnn_options(&self) -> Option<$crate::layers::rnn_config::RnnOptions> {
            self.0.rnn_options()
        }

        fn forward_lookup(
            &mut self,
            ids: &$crate::tensor::TokenBatch,
            lookup: $crate::layers::embedding::Lookup<'_>,
        ) -> Option<$crate::error::Result<Self::Output>> {
            self.0.forward_lookup(ids, lookup)
        }

        fn step_init(&self, batch: usize) -> $crate::error::Result<$crate::layer_step::LayerStep> {
            self.0.step_init(batch)
        }

        fn step(
            &self,
            x: $crate::layer_step::StepData<'_>,
            cx: &mut $crate::layer_step::StepContext,
            state: &mut $crate::layer_step::LayerStep,
        ) -> $crate::error::Result<()> {
            self.0.step(x, cx, state)
        }

        fn set_inference_precision(&mut self, precision: $crate::Precision) {
            self.0.set_inference_precision(precision);
        }
    };
}

pub(crate) use rnn_layer_methods;

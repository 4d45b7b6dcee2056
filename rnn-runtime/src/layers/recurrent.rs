//! What SimpleRNN, LSTM and GRU share: configuration, weights, workspaces, the time loop
//! (direction, masking, outputs) and the weight-gradient GEMMs. The gate equations of each
//! cell, forward and backward, are in `simple_rnn.rs`, `lstm.rs` and `gru.rs`.
//!
//! Layout: every buffer is time-major and indexed by the *original* time step `t`, whatever
//! the processing direction: `hs[t]` is the state after reading `x[t]`. The input projection
//! of all steps is one GEMM; each step adds one GEMM with the recurrent kernel; the backward
//! pass walks the steps in reverse with one GEMM per step for the state gradient, then gets
//! `dW`, `dU` and `dx` with one GEMM each over all steps. Buffers are sized once per batch
//! shape and reused, so no step allocates.

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::init::{Rng, glorot_uniform, orthogonal};
use crate::kernels::gemm::{MatRef, gemm};
use crate::kernels::packed::Packed;
use crate::output::Array;
use crate::param::Param;
use crate::tensor::{Features, Mask, Sequence, Tensor};

use super::{gru, lstm, simple_rnn};

/// Options of SimpleRNN, LSTM and GRU that do not change shapes or parameter counts (those
/// are const generics of the layer types). Defaults are Keras 3's.
///
/// ```
/// use rnn_runtime::{Activation, RnnConfig};
/// let cfg = RnnConfig::default().go_backwards(true).activation(Activation::Relu);
/// assert_eq!(cfg.recurrent_activation, Activation::Sigmoid);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnConfig {
    /// Output activation (`tanh`).
    pub activation: Activation,
    /// Gate activation of LSTM and GRU (`sigmoid`).
    pub recurrent_activation: Activation,
    /// Also return the final states (`false`).
    pub return_state: bool,
    /// Read the sequence from the last step to the first (`false`).
    pub go_backwards: bool,
    /// LSTM: initialise the forget-gate bias to 1 (`true`).
    pub unit_forget_bias: bool,
}

impl Default for RnnConfig {
    fn default() -> Self {
        RnnConfig {
            activation: Activation::Tanh,
            recurrent_activation: Activation::Sigmoid,
            return_state: false,
            go_backwards: false,
            unit_forget_bias: true,
        }
    }
}

impl RnnConfig {
    /// Sets `activation`.
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }
    /// Sets `recurrent_activation`.
    pub fn recurrent_activation(mut self, a: Activation) -> Self {
        self.recurrent_activation = a;
        self
    }
    /// Sets `return_state`.
    pub fn return_state(mut self, on: bool) -> Self {
        self.return_state = on;
        self
    }
    /// Sets `go_backwards`.
    pub fn go_backwards(mut self, on: bool) -> Self {
        self.go_backwards = on;
        self
    }
    /// Sets `unit_forget_bias`.
    pub fn unit_forget_bias(mut self, on: bool) -> Self {
        self.unit_forget_bias = on;
        self
    }
}

/// What a recurrent layer returns as its main output: the last output (`Last`, Keras'
/// default) or the whole sequence (`Sequences`, `return_sequences=True`).
pub trait ReturnMode: Send + Sync + 'static {
    /// Whether the whole sequence is returned.
    const SEQUENCES: bool;
    /// `Features<D>` for [`Last`], `Sequence<D>` for [`Sequences`].
    type Output<const D: usize>: Tensor<Grad = Self::Output<D>>;
    /// Wraps raw data: time-major `(time, batch, D)` for sequences, `(batch, D)` otherwise.
    #[doc(hidden)]
    fn wrap<const D: usize>(
        batch: usize,
        time: usize,
        data: Vec<f32>,
        mask: Option<&Mask>,
    ) -> Self::Output<D>;
    /// The raw data of an output (or of its gradient), as [`ReturnMode::wrap`] takes it.
    #[doc(hidden)]
    fn unwrap<const D: usize>(y: Self::Output<D>) -> Vec<f32>;
}

/// Return the last output only: `(batch, units)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Last;

/// Return the output of every step: `(batch, time, units)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequences;

impl ReturnMode for Last {
    const SEQUENCES: bool = false;
    type Output<const D: usize> = Features<D>;
    fn wrap<const D: usize>(
        batch: usize,
        _: usize,
        data: Vec<f32>,
        _: Option<&Mask>,
    ) -> Features<D> {
        Features::from_vec(batch, data)
    }
    fn unwrap<const D: usize>(y: Features<D>) -> Vec<f32> {
        y.into_vec()
    }
}

impl ReturnMode for Sequences {
    const SEQUENCES: bool = true;
    type Output<const D: usize> = Sequence<D>;
    fn wrap<const D: usize>(
        batch: usize,
        time: usize,
        data: Vec<f32>,
        mask: Option<&Mask>,
    ) -> Sequence<D> {
        // Keras passes the input mask on unchanged when the sequence is returned.
        Sequence::from_time_major(batch, time, data).with_mask(mask.cloned())
    }
    fn unwrap<const D: usize>(y: Sequence<D>) -> Vec<f32> {
        y.into_time_major()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CellKind {
    Simple,
    Lstm,
    Gru { reset_after: bool },
}

impl CellKind {
    fn gates(self) -> usize {
        match self {
            CellKind::Simple => 1,
            CellKind::Lstm => 4,
            CellKind::Gru { .. } => 3,
        }
    }

    fn cell_name(self) -> &'static str {
        match self {
            CellKind::Simple => "simple_rnn_cell",
            CellKind::Lstm => "lstm_cell",
            CellKind::Gru { .. } => "gru_cell",
        }
    }

    fn state_names(self) -> &'static [&'static str] {
        match self {
            CellKind::Lstm => &["state_h", "state_c"],
            _ => &["state_h"],
        }
    }

    /// Keras' parameter count.
    pub(crate) const fn params(self, input: usize, units: usize, bias: bool) -> usize {
        let (g, bias_rows) = match self {
            CellKind::Simple => (1, 1),
            CellKind::Lstm => (4, 1),
            CellKind::Gru { reset_after } => (3, if reset_after { 2 } else { 1 }),
        };
        g * units * (input + units) + if bias { bias_rows * g * units } else { 0 }
    }
}

/// Per-step inputs shared by every cell: sizes, activations, mask and recurrent kernel.
pub(crate) struct StepCtx<'a> {
    pub batch: usize,
    pub units: usize,
    pub act: Activation,
    pub ract: Activation,
    /// Validity of each row at this step; `None` when nothing is masked.
    pub mask: Option<&'a [bool]>,
    /// Recurrent kernel, `(units, gates * units)` row-major.
    pub u: &'a [f32],
    /// The recurrent kernel packed for this pass: `U` forward, `U^T` backward.
    pub up: &'a Packed,
}

impl StepCtx<'_> {
    pub fn masked(&self, b: usize) -> bool {
        self.mask.is_some_and(|m| !m[b])
    }
}

/// Buffers of one layer, sized per batch shape and reused across calls.
#[derive(Clone, Debug, Default)]
pub(crate) struct Workspace {
    pub batch: usize,
    pub time: usize,
    pub mask: Option<Mask>,
    /// `(T, B, G*H)`: input projections, then the gate activations of every step.
    pub zs: Vec<f32>,
    /// `(T, B, H)`: state after each step.
    pub hs: Vec<f32>,
    /// LSTM `(T, B, H)`: cell state after each step.
    pub cs: Vec<f32>,
    /// LSTM: `act(c)`; GRU `reset_after`: the recurrent candidate part `h U_h + b_h`;
    /// GRU `reset_after = false`: `r * h_prev`. `(T, B, H)`.
    pub aux: Vec<f32>,
    /// `(B, G*H)` scratch for a step's recurrent product.
    pub rec: Vec<f32>,
    /// `(B, H)` zeros: the initial state.
    pub zeros: Vec<f32>,
    /// Backward: `(T, B, G*H)` pre-activation gradients on the input side.
    pub dzs: Vec<f32>,
    /// Backward, GRU `reset_after`: `(T, B, G*H)` pre-activation gradients on the recurrent side.
    pub drec: Vec<f32>,
    /// Backward: `(B, H)` state gradients of the current and previous step, and scratch.
    pub dh: Vec<f32>,
    pub dc: Vec<f32>,
    pub dh_prev: Vec<f32>,
    pub dc_prev: Vec<f32>,
    pub tmp: Vec<f32>,
    /// The recurrent kernel packed for the per-step products: `U` in the forward pass, `U^T`
    /// in the backward pass.
    pub packed: Packed,
}

fn sized(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    v.resize(len, 0.0);
    &mut v[..len]
}

/// The slices of a per-step buffer at a previous step (if any) and at the current step.
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

/// Weights, configuration and workspace of one recurrent layer (one direction).
#[derive(Clone, Debug)]
pub struct RecurrentCore {
    name: String,
    kind: CellKind,
    input: usize,
    units: usize,
    pub(crate) cfg: RnnConfig,
    /// Masked steps output zeros instead of the previous output (set inside Bidirectional
    /// with `return_sequences`, as Keras does).
    pub(crate) zero_output_for_mask: bool,
    kernel: Param,
    recurrent: Param,
    bias: Option<Param>,
    pub(crate) ws: Workspace,
    state_grads: Vec<Vec<f32>>,
}

impl RecurrentCore {
    pub(crate) fn new(
        path: &str,
        kind: CellKind,
        input: usize,
        units: usize,
        use_bias: bool,
        cfg: RnnConfig,
        rng: &mut Rng,
    ) -> Self {
        let g = kind.gates();
        let scope = format!("{path}/{}", kind.cell_name());
        let kernel = Param::new(
            format!("{scope}/kernel"),
            vec![input, g * units],
            glorot_uniform(input, g * units, rng),
        );
        let recurrent = Param::new(
            format!("{scope}/recurrent_kernel"),
            vec![units, g * units],
            orthogonal(units, g * units, rng),
        );
        let bias = use_bias.then(|| {
            let shape = match kind {
                CellKind::Gru { reset_after: true } => vec![2, g * units],
                _ => vec![g * units],
            };
            let mut b = Param::zeros(format!("{scope}/bias"), shape);
            if kind == CellKind::Lstm && cfg.unit_forget_bias {
                b.values_mut()[units..2 * units].fill(1.0);
            }
            b
        });
        RecurrentCore {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            kind,
            input,
            units,
            cfg,
            zero_output_for_mask: false,
            kernel,
            recurrent,
            bias,
            ws: Workspace::default(),
            state_grads: Vec::new(),
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
    fn time_index(&self, s: usize, time: usize) -> usize {
        if self.cfg.go_backwards {
            time - 1 - s
        } else {
            s
        }
    }

    /// Runs the layer over `x` (time-major `(time, batch, input)`), filling the workspace.
    pub(crate) fn forward(&mut self, x: &[f32], batch: usize, time: usize, mask: Option<&Mask>) {
        let (h, g) = (self.units, self.kind.gates());
        let (gh, n) = (g * h, batch * time);
        let (act, ract) = (self.cfg.activation, self.cfg.recurrent_activation);
        let ws = &mut self.ws;
        ws.batch = batch;
        ws.time = time;
        ws.mask = mask.filter(|m| !m.all_valid()).cloned();
        let zs = sized(&mut ws.zs, n * gh);
        sized(&mut ws.hs, n * h);
        sized(&mut ws.rec, batch * gh);
        ws.zeros.clear();
        ws.zeros.resize(batch * h, 0.0);
        if self.kind != CellKind::Simple {
            sized(&mut ws.aux, n * h);
        }
        if self.kind == CellKind::Lstm {
            sized(&mut ws.cs, n * h);
        }
        ws.packed
            .pack(MatRef::new(self.recurrent.values(), h, gh), batch);

        // Input projection of every step at once; the input bias is broadcast first.
        let beta = match &self.bias {
            Some(b) => {
                let row = &b.values()[..gh];
                zs.chunks_exact_mut(gh).for_each(|z| z.copy_from_slice(row));
                1.0
            }
            None => 0.0,
        };
        gemm(
            1.0,
            MatRef::new(x, n, self.input),
            MatRef::new(self.kernel.values(), self.input, gh),
            beta,
            zs,
            gh,
        );

        let rec_bias = match (self.kind, &self.bias) {
            (CellKind::Gru { reset_after: true }, Some(b)) => Some(&b.values()[gh..]),
            _ => None,
        };
        let step_len = batch * h;
        for s in 0..time {
            let t = if self.cfg.go_backwards {
                time - 1 - s
            } else {
                s
            };
            let prev = (s > 0).then(|| if self.cfg.go_backwards { t + 1 } else { t - 1 });
            let ctx = StepCtx {
                batch,
                units: h,
                act,
                ract,
                mask: ws.mask.as_ref().map(|m| m.step(t)),
                u: self.recurrent.values(),
                up: &ws.packed,
            };
            let z = &mut ws.zs[t * batch * gh..(t + 1) * batch * gh];
            let (h_prev, h_out) = prev_and_cur(&mut ws.hs, prev, t, step_len);
            let h_prev = h_prev.unwrap_or(&ws.zeros);
            let first = prev.is_none();
            match self.kind {
                CellKind::Simple => simple_rnn::forward_step(&ctx, z, h_prev, first, h_out),
                CellKind::Lstm => {
                    let (c_prev, c_out) = prev_and_cur(&mut ws.cs, prev, t, step_len);
                    let tc = &mut ws.aux[t * step_len..(t + 1) * step_len];
                    lstm::forward_step(
                        &ctx,
                        z,
                        h_prev,
                        c_prev.unwrap_or(&ws.zeros),
                        first,
                        h_out,
                        c_out,
                        tc,
                    );
                }
                CellKind::Gru { reset_after } => {
                    let aux = &mut ws.aux[t * step_len..(t + 1) * step_len];
                    let rec = &mut ws.rec[..];
                    if reset_after {
                        gru::forward_step_reset_after(
                            &ctx, z, h_prev, first, rec_bias, rec, aux, h_out,
                        );
                    } else {
                        gru::forward_step_reset_before(&ctx, z, h_prev, first, rec, aux, h_out);
                    }
                }
            }
        }
    }

    /// State `which` (0 = h, 1 = c) after the last processed step: `(batch, units)`.
    pub(crate) fn final_state(&self, which: usize) -> &[f32] {
        let (batch, time) = (self.ws.batch, self.ws.time);
        let t = self.time_index(time - 1, time);
        let len = batch * self.units;
        let buf = if which == 0 { &self.ws.hs } else { &self.ws.cs };
        &buf[t * len..(t + 1) * len]
    }

    /// The output sequence, time-major. Step `s` of the result is the output at original time
    /// `s`, or `T-1-s` when `reverse`. Masked steps repeat the previous output (that is, the
    /// carried state), or are zero with `zero_output_for_mask`.
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

    /// The main output's raw data (see [`ReturnMode::wrap`]): the output sequence (ordered as
    /// [`Self::output_sequence`] with `reverse`) or the last output.
    pub(crate) fn main_output(&self, sequences: bool, reverse: bool) -> Vec<f32> {
        if sequences {
            self.output_sequence(reverse)
        } else {
            self.final_state(0).to_vec()
        }
    }

    /// A plain layer's forward pass: the main output in processing order.
    pub(crate) fn layer_forward<R: ReturnMode, const IN: usize, const H: usize>(
        &mut self,
        x: &Sequence<IN>,
    ) -> R::Output<H> {
        self.forward(x.as_slice(), x.batch(), x.time(), x.mask());
        let data = self.main_output(R::SEQUENCES, self.cfg.go_backwards);
        R::wrap::<H>(x.batch(), x.time(), data, x.mask())
    }

    /// A plain layer's backward pass.
    pub(crate) fn layer_backward<R: ReturnMode, const IN: usize, const H: usize>(
        &mut self,
        x: &Sequence<IN>,
        dy: R::Output<H>,
    ) -> Result<Sequence<IN>> {
        let dy = R::unwrap(dy);
        let dx = self.backward(x.as_slice(), &dy, R::SEQUENCES, self.cfg.go_backwards)?;
        Ok(Sequence::from_time_major(x.batch(), x.time(), dx))
    }

    /// The final states as named outputs, prefixed (`forward_` inside Bidirectional).
    pub(crate) fn states(&self, prefix: &str) -> Vec<Array> {
        if !self.cfg.return_state {
            return Vec::new();
        }
        self.kind
            .state_names()
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
            self.kind.state_names().len()
        } else {
            0
        }
    }

    /// Stores gradients for the final states, used by the next `backward`.
    pub(crate) fn set_state_grads(&mut self, grads: &[&[f32]]) -> Result<()> {
        let want = self.state_count();
        if grads.len() != want {
            return Err(Error::shape(
                self.name.clone(),
                format!("{want} state gradient(s)"),
                grads.len().to_string(),
            ));
        }
        let len = self.ws.batch * self.units;
        for (g, name) in grads.iter().zip(self.kind.state_names()) {
            if g.len() != len {
                return Err(Error::shape(
                    format!("{}: gradient of {name}", self.name),
                    format!("({}, {})", self.ws.batch, self.units),
                    format!("{} values", g.len()),
                ));
            }
        }
        self.state_grads = grads.iter().map(|g| g.to_vec()).collect();
        Ok(())
    }

    /// Back-propagates through time. `dy` is the gradient of the main output, laid out as
    /// [`Self::main_output`] gives it for the same `sequences` and `reverse`; gradients of the
    /// final states come from [`Self::set_state_grads`]. Returns `dx`, time-major.
    pub(crate) fn backward(
        &mut self,
        x: &[f32],
        dy: &[f32],
        sequences: bool,
        reverse: bool,
    ) -> Result<Vec<f32>> {
        let (batch, time, h) = (self.ws.batch, self.ws.time, self.units);
        let (g, input) = (self.kind.gates(), self.input);
        let (gh, n, len) = (g * h, batch * time, batch * h);
        if self.ws.hs.len() < n * h || x.len() != n * input {
            return Err(Error::config(
                self.name.clone(),
                "backward needs the input of the preceding training forward pass",
            ));
        }
        let state_grads = std::mem::take(&mut self.state_grads);
        let (act, ract) = (self.cfg.activation, self.cfg.recurrent_activation);
        let go_back = self.cfg.go_backwards;
        let zero_masked = self.zero_output_for_mask;
        let ws = &mut self.ws;
        ws.packed
            .pack(MatRef::new(self.recurrent.values(), h, gh).t(), batch);
        sized(&mut ws.dzs, n * gh);
        let reset_after = self.kind == CellKind::Gru { reset_after: true };
        if reset_after {
            sized(&mut ws.drec, n * gh);
        }
        sized(&mut ws.dh_prev, len);
        sized(&mut ws.dc_prev, len);
        sized(&mut ws.tmp, len.max(batch * gh));
        let dh = sized(&mut ws.dh, len);
        dh.fill(0.0);
        let dc = sized(&mut ws.dc, len);
        dc.fill(0.0);
        let (d_seq, d_last) = if sequences {
            (Some(dy), None)
        } else {
            (None, Some(dy))
        };
        for src in d_last
            .into_iter()
            .chain(state_grads.first().map(Vec::as_slice))
        {
            ws.dh.iter_mut().zip(src).for_each(|(a, b)| *a += b);
        }
        if let Some(src) = state_grads.get(1) {
            ws.dc.iter_mut().zip(src).for_each(|(a, b)| *a += b);
        }

        for s in (0..time).rev() {
            let t = if go_back { time - 1 - s } else { s };
            let prev = (s > 0).then(|| if go_back { t + 1 } else { t - 1 });
            let mask = ws.mask.as_ref().map(|m| m.step(t));
            if let Some(d) = d_seq {
                let at = if reverse { time - 1 - t } else { t };
                let src = &d[at * len..(at + 1) * len];
                for b in 0..batch {
                    if zero_masked && mask.is_some_and(|m| !m[b]) {
                        continue; // a zero output has no gradient path
                    }
                    ws.dh[b * h..(b + 1) * h]
                        .iter_mut()
                        .zip(&src[b * h..(b + 1) * h])
                        .for_each(|(a, b)| *a += b);
                }
            }
            let ctx = StepCtx {
                batch,
                units: h,
                act,
                ract,
                mask,
                u: self.recurrent.values(),
                up: &ws.packed,
            };
            let zs_t = &ws.zs[t * batch * gh..(t + 1) * batch * gh];
            let dz_t = &mut ws.dzs[t * batch * gh..(t + 1) * batch * gh];
            let h_prev = match prev {
                Some(p) => &ws.hs[p * len..(p + 1) * len],
                None => &ws.zeros[..],
            };
            let aux_t = ws.aux.get(t * len..(t + 1) * len).unwrap_or(&[]);
            match self.kind {
                CellKind::Simple => {
                    simple_rnn::backward_step(&ctx, zs_t, &ws.dh, dz_t, &mut ws.dh_prev)
                }
                CellKind::Lstm => {
                    let c_prev = match prev {
                        Some(p) => &ws.cs[p * len..(p + 1) * len],
                        None => &ws.zeros[..],
                    };
                    lstm::backward_step(
                        &ctx,
                        zs_t,
                        c_prev,
                        aux_t,
                        &ws.dh,
                        &ws.dc,
                        dz_t,
                        &mut ws.dh_prev,
                        &mut ws.dc_prev,
                        &mut ws.tmp[..len],
                    );
                }
                CellKind::Gru { reset_after: true } => {
                    let drec_t = &mut ws.drec[t * batch * gh..(t + 1) * batch * gh];
                    gru::backward_step_reset_after(
                        &ctx,
                        zs_t,
                        h_prev,
                        aux_t,
                        &ws.dh,
                        dz_t,
                        drec_t,
                        &mut ws.dh_prev,
                    );
                }
                CellKind::Gru { reset_after: false } => gru::backward_step_reset_before(
                    &ctx,
                    zs_t,
                    h_prev,
                    aux_t,
                    &ws.dh,
                    dz_t,
                    &mut ws.dh_prev,
                    &mut ws.tmp[..len],
                ),
            }
            std::mem::swap(&mut ws.dh, &mut ws.dh_prev);
            std::mem::swap(&mut ws.dc, &mut ws.dc_prev);
        }

        // Weight gradients over all steps at once.
        let dzs = &ws.dzs[..n * gh];
        gemm(
            1.0,
            MatRef::new(x, n, input).t(),
            MatRef::new(dzs, n, gh),
            1.0,
            self.kernel.grad_mut(),
            gh,
        );
        // dU pairs each step's recurrent-side gradient with the state it read, which is the
        // neighbouring time step: one GEMM over the shifted ranges.
        let drec = if reset_after { &ws.drec[..n * gh] } else { dzs };
        let du = self.recurrent.grad_mut();
        if time > 1 {
            let m = (time - 1) * batch;
            let (hp, d) = if go_back {
                (&ws.hs[len..n * h], &drec[..m * gh])
            } else {
                (&ws.hs[..m * h], &drec[batch * gh..])
            };
            let cols = if self.kind == (CellKind::Gru { reset_after: false }) {
                2 * h // the candidate block reads r * h, handled below
            } else {
                gh
            };
            gemm(
                1.0,
                MatRef::new(hp, m, h).t(),
                MatRef::with_ld(d, m, cols, gh),
                1.0,
                du,
                gh,
            );
        }
        if self.kind == (CellKind::Gru { reset_after: false }) {
            gemm(
                1.0,
                MatRef::new(&ws.aux[..n * h], n, h).t(),
                MatRef::with_ld(&dzs[2 * h..], n, h, gh),
                1.0,
                &mut du[2 * h..],
                gh,
            );
        }
        if let Some(b) = &mut self.bias {
            let db = b.grad_mut();
            for row in dzs.chunks_exact(gh) {
                db[..gh].iter_mut().zip(row).for_each(|(a, b)| *a += b);
            }
            if reset_after {
                for row in ws.drec[..n * gh].chunks_exact(gh) {
                    db[gh..].iter_mut().zip(row).for_each(|(a, b)| *a += b);
                }
            }
        }
        let mut dx = vec![0.0f32; n * input];
        gemm(
            1.0,
            MatRef::new(dzs, n, gh),
            MatRef::new(self.kernel.values(), input, gh).t(),
            0.0,
            &mut dx,
            input,
        );
        Ok(dx)
    }
}

/// A recurrent layer type: SimpleRNN, LSTM or GRU (what `Bidirectional` can wrap).
pub trait Recurrent: Sized + Send + Sync {
    /// Input features.
    const IN: usize;
    /// Units.
    const UNITS: usize;
    /// Parameter count of one direction.
    const PARAMS: usize;
    /// Whether the sequence or the last output is returned.
    type Mode: ReturnMode;
    #[doc(hidden)]
    fn core(&self) -> &RecurrentCore;
    #[doc(hidden)]
    fn core_mut(&mut self) -> &mut RecurrentCore;
    /// Builds the layer with its weights under `path`.
    fn build(path: &str, cfg: RnnConfig, rng: &mut Rng) -> Self;
}

/// Implements construction, `Weights` and `Recurrent` for a recurrent layer type
/// `$ty<IN, H, R, ...>` whose cell is `$kind` and whose bias flag is `$bias`. (`Layer` is
/// implemented in each layer's file: compile errors about layer inputs then show a plain impl.)
macro_rules! recurrent_layer {
    ($ty:ident<$($p:ident),*>, [$($g:tt)*], $kind:expr, $bias:expr) => {
        impl<const IN: usize, const H: usize, R: ReturnMode, $($g)*> $ty<$($p),*> {
            /// Builds the layer with Keras' initializers (Glorot-uniform kernel, orthogonal
            /// recurrent kernel, zero bias). `path` is the layer's Keras variable path, e.g.
            /// `sequential/lstm_1`; its last component names the layer in error messages.
            pub fn new(path: &str, cfg: RnnConfig, rng: &mut Rng) -> Self {
                $ty {
                    core: RecurrentCore::new(path, $kind, IN, H, $bias, cfg, rng),
                    _mode: PhantomData,
                }
            }

            /// The options the layer was built with.
            pub fn config(&self) -> &RnnConfig {
                &self.core.cfg
            }
        }

        impl<const IN: usize, const H: usize, R: ReturnMode, $($g)*> Weights for $ty<$($p),*> {
            const PARAMS: usize = ($kind).params(IN, H, $bias);
            fn params(&self) -> Vec<&Param> {
                self.core.params()
            }
            fn params_mut(&mut self) -> Vec<&mut Param> {
                self.core.params_mut()
            }
        }

        impl<const IN: usize, const H: usize, R: ReturnMode, $($g)*> Recurrent for $ty<$($p),*> {
            const IN: usize = IN;
            const UNITS: usize = H;
            const PARAMS: usize = ($kind).params(IN, H, $bias);
            type Mode = R;
            fn core(&self) -> &RecurrentCore {
                &self.core
            }
            fn core_mut(&mut self) -> &mut RecurrentCore {
                &mut self.core
            }
            fn build(path: &str, cfg: RnnConfig, rng: &mut Rng) -> Self {
                Self::new(path, cfg, rng)
            }
        }
    };
}

pub(crate) use recurrent_layer;

/// Masked rows keep the previous step's values.
pub(crate) fn carry_masked_rows(ctx: &StepCtx<'_>, out: &mut [f32], prev: &[f32]) {
    if ctx.mask.is_none() {
        return;
    }
    let h = ctx.units;
    for b in (0..ctx.batch).filter(|&b| ctx.masked(b)) {
        out[b * h..(b + 1) * h].copy_from_slice(&prev[b * h..(b + 1) * h]);
    }
}

/// Zeroes the rows of masked samples in a `(batch, width)` buffer.
pub(crate) fn zero_masked_rows(ctx: &StepCtx<'_>, buf: &mut [f32], width: usize) {
    if ctx.mask.is_none() {
        return;
    }
    for b in (0..ctx.batch).filter(|&b| ctx.masked(b)) {
        buf[b * width..(b + 1) * width].fill(0.0);
    }
}

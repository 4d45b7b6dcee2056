//! `LSTM`: gates i, f, c, o in Keras' column order.
//!
//! ```text
//! [z_i | z_f | z_c | z_o] = x_t W + h_{t-1} U + b
//! i = ract(z_i)  f = ract(z_f)  g = act(z_c)  o = ract(z_o)
//! c_t = f * c_{t-1} + i * g        h_t = o * act(c_t)
//! ```

use crate::activation::Activation;
use crate::error::Result;
use crate::init::Rng;
use crate::kernels::gemm::CPtr;
use crate::kernels::gemm::MatRef;
use crate::kernels::math;
use crate::kernels::packed::{NR, WriteBack, gemm_packed, product};
use crate::layer::{Layer, Mode};
use crate::layer_step::{LayerStep, StepContext, StepData};
use crate::output::Array;
use crate::param::{Param, Weights};
use crate::tensor::Sequence;

use super::cell::{BackwardStep, Cell, CellCtx, ForwardStep, prev_and_cur, sized};
use super::recurrent::{Recurrent, Rnn, RnnCore, keras_recurrent_layer};
use super::rnn_config::{Last, ReturnMode, RnnConfig};

/// The cell of `LSTM` (Keras `LSTMCell`): four gates, states `h` and `c`.
///
/// ```
/// use rnn_runtime::{Cell, LstmCell};
/// assert_eq!((LstmCell::NAME, LstmCell::GATES), ("lstm_cell", 4));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct LstmCell;

/// What an LSTM pass keeps besides the gates and `h`, and its backward scratch.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct LstmTrace {
    /// `(T, B, H)`: the cell state after each step.
    cs: Vec<f32>,
    /// `(T, B, H)`: `act(c)` after each step.
    tcs: Vec<f32>,
    /// Backward, `(B, H)`: gradient of this step's and the previous step's `c`.
    dc: Vec<f32>,
    dc_prev: Vec<f32>,
    /// Backward, `(B, H)`: gradient reaching `c` through `h = o * act(c)`.
    dtc: Vec<f32>,
}

impl Cell for LstmCell {
    const KIND: rnn_spec::Cell = rnn_spec::Cell::Lstm;
    type Trace = LstmTrace;

    /// Keras' `unit_forget_bias`: the forget gate starts open.
    fn init_bias(cfg: &RnnConfig, units: usize, bias: &mut [f32]) {
        bias.fill(0.0);
        if cfg.unit_forget_bias {
            bias[units..2 * units].fill(1.0);
        }
    }

    fn prepare_forward(tr: &mut LstmTrace, time: usize, len: usize) {
        sized(&mut tr.cs, time * len);
        sized(&mut tr.tcs, time * len);
    }

    /// `z` becomes `[i | f | g | o]`; writes `h`, `c` and `act(c)`.
    fn forward_step(ctx: &CellCtx<'_>, io: ForwardStep<'_>, tr: &mut LstmTrace) {
        let len = io.h.len();
        let (c_prev, c_out) = prev_and_cur(&mut tr.cs, io.prev, io.t, len);
        let c_prev = c_prev.unwrap_or(io.zeros);
        let tc = &mut tr.tcs[io.t * len..(io.t + 1) * len];
        let first = io.first();
        let ForwardStep {
            z,
            h_prev,
            h: h_out,
            ..
        } = io;
        let (batch, h) = (ctx.batch, ctx.units);
        if fused(ctx) {
            let wb = FusedStep {
                z: CPtr(z.as_mut_ptr()),
                c_prev,
                c: CPtr(c_out.as_mut_ptr()),
                tc: CPtr(tc.as_mut_ptr()),
                h: CPtr(h_out.as_mut_ptr()),
                units: h,
            };
            assert!(z.len() >= batch * Self::GATES * h && c_prev.len() >= batch * h);
            assert!(c_out.len() >= batch * h && tc.len() >= batch * h && h_out.len() >= batch * h);
            product::<4, _>(h_prev, batch, ctx.up, &wb);
            ctx.carry_masked_rows(h_out, h_prev);
            ctx.carry_masked_rows(c_out, c_prev);
            return;
        }
        if !first {
            gemm_packed(
                h_prev,
                batch,
                MatRef::new(ctx.u, h, Self::GATES * h),
                ctx.up,
                z,
                Self::GATES * h,
            );
        }
        for b in 0..batch {
            let zr = &mut z[b * Self::GATES * h..(b + 1) * Self::GATES * h];
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
        ctx.carry_masked_rows(h_out, h_prev);
        ctx.carry_masked_rows(c_out, c_prev);
    }

    fn state(tr: &LstmTrace, _: usize, t: usize, len: usize) -> &[f32] {
        &tr.cs[t * len..(t + 1) * len]
    }

    fn state_mut(tr: &mut LstmTrace, _: usize, t: usize, len: usize) -> &mut [f32] {
        &mut tr.cs[t * len..(t + 1) * len]
    }

    fn prepare_backward(tr: &mut LstmTrace, _: usize, batch: usize, units: usize) {
        let len = batch * units;
        sized(&mut tr.dc, len).fill(0.0);
        sized(&mut tr.dc_prev, len);
        sized(&mut tr.dtc, len);
    }

    fn seed_state_grads(tr: &mut LstmTrace, grads: &[&[f32]]) {
        if let Some(dc) = grads.first() {
            tr.dc.iter_mut().zip(*dc).for_each(|(a, b)| *a += b);
        }
    }

    /// Writes `dz = [di | df | dg | do]` (before the activations), `dh_prev`, and the
    /// previous `c`'s gradient, which becomes the next (earlier) step's `dc`.
    fn backward_step(ctx: &CellCtx<'_>, io: BackwardStep<'_>, tr: &mut LstmTrace) {
        let len = io.dh.len();
        let c_prev = match io.prev {
            Some(p) => &tr.cs[p * len..(p + 1) * len],
            None => io.zeros,
        };
        let tc = &tr.tcs[io.t * len..(io.t + 1) * len];
        let BackwardStep {
            gates,
            dh,
            dz,
            dh_prev,
            ..
        } = io;
        let (dc, dc_prev, dtc) = (&tr.dc[..], &mut tr.dc_prev[..], &mut tr.dtc[..]);
        let (batch, h) = (ctx.batch, ctx.units);
        for b in 0..batch {
            let row = b * h..(b + 1) * h;
            let gr = &gates[b * Self::GATES * h..(b + 1) * Self::GATES * h];
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
            let dzr = &mut dz[b * Self::GATES * h..(b + 1) * Self::GATES * h];
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
        ctx.zero_masked_rows(dz, Self::GATES * h);
        ctx.carry_masked_rows(dc_prev, dc);
        dh_prev.fill(0.0);
        ctx.carry_masked_rows(dh_prev, dh);
        gemm_packed(
            dz,
            batch,
            MatRef::new(ctx.u, h, Self::GATES * h).t(),
            ctx.up,
            dh_prev,
            h,
        );
        std::mem::swap(&mut tr.dc, &mut tr.dc_prev);
    }
}

/// Whether a forward step can run fused: the recurrent kernel is packed by gate, and the
/// activations are Keras' defaults, which the write-back computes inline.
fn fused(ctx: &CellCtx<'_>) -> bool {
    let h = ctx.units;
    ctx.up.holds(h, 4 * h)
        && ctx.up.strips() == 4
        && ctx.act == Activation::Tanh
        && ctx.ract == Activation::Sigmoid
}

/// The write-back of a fused forward step: adds the tile of `h_{t-1} U` to the input side in
/// `z`, applies the gates and updates the cell, so no sweep over `(B, 4H)` follows the
/// product. Writes the gate activations into `z` (the backward pass reads them), `c`,
/// `tanh(c)` and `h`.
struct FusedStep<'a> {
    /// `(B, 4H)`.
    z: CPtr,
    /// `(B, H)`.
    c_prev: &'a [f32],
    /// `(B, H)` each.
    c: CPtr,
    tc: CPtr,
    h: CPtr,
    units: usize,
}

// SAFETY: the pointers are written only in disjoint tiles (see `WriteBack::tile`).
unsafe impl Sync for FusedStep<'_> {}

/// `NR` values from `src`, zero past `cols`.
///
/// # Safety
/// `src` points to `cols <= NR` readable values.
#[inline(always)]
unsafe fn load(src: *const f32, cols: usize) -> [f32; NR] {
    let mut v = [0.0; NR];
    // SAFETY: the caller's contract.
    unsafe {
        if cols == NR {
            v = std::ptr::read_unaligned(src.cast::<[f32; NR]>());
        } else {
            std::ptr::copy_nonoverlapping(src, v.as_mut_ptr(), cols);
        }
    }
    v
}

/// Stores the first `cols` of `v` at `dst`.
///
/// # Safety
/// `dst` points to `cols <= NR` writable values that nothing else accesses.
#[inline(always)]
unsafe fn store(dst: *mut f32, v: &[f32; NR], cols: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        if cols == NR {
            std::ptr::write_unaligned(dst.cast::<[f32; NR]>(), *v);
        } else {
            std::ptr::copy_nonoverlapping(v.as_ptr(), dst, cols);
        }
    }
}

impl WriteBack<4> for FusedStep<'_> {
    #[inline(always)]
    unsafe fn tile(&self, row: usize, j0: usize, cols: usize, acc: &[[f32; NR]; 4]) {
        let h = self.units;
        let (zr, at) = (row * 4 * h + j0, row * h + j0);
        // SAFETY: `forward_step` asserted that `z` holds `(B, 4H)` and the others `(B, H)`;
        // this tile's units `j0..j0 + cols` of row `row` are its own.
        unsafe {
            let z = self.z.0.add(zr);
            let mut gate: [[f32; NR]; 4] = std::array::from_fn(|s| load(z.add(s * h), cols));
            let cp = load(self.c_prev.as_ptr().add(at), cols);
            let (mut c, mut tc, mut hv) = ([0.0; NR], [0.0; NR], [0.0; NR]);
            for j in 0..NR {
                let i = math::sigmoid(gate[0][j] + acc[0][j]);
                let f = math::sigmoid(gate[1][j] + acc[1][j]);
                let g = math::tanh(gate[2][j] + acc[2][j]);
                let o = math::sigmoid(gate[3][j] + acc[3][j]);
                c[j] = f * cp[j] + i * g;
                tc[j] = math::tanh(c[j]);
                hv[j] = o * tc[j];
                (gate[0][j], gate[1][j], gate[2][j], gate[3][j]) = (i, f, g, o);
            }
            for (s, gate) in gate.iter().enumerate() {
                store(z.add(s * h), gate, cols);
            }
            store(self.c.0.add(at), &c, cols);
            store(self.tc.0.add(at), &tc, cols);
            store(self.h.0.add(at), &hv, cols);
        }
    }
}

/// A long short-term memory layer (Keras `LSTM`) from `IN` features to `H` units: [`Rnn`]
/// with an [`LstmCell`].
///
/// `R` is [`Last`] (the default) or [`Sequences`](super::rnn_config::Sequences)
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
pub struct Lstm<const IN: usize, const H: usize, R = Last, const BIAS: bool = true>(
    Rnn<LstmCell, IN, H, R, BIAS>,
);

keras_recurrent_layer!(Lstm<IN, H, R, BIAS>, [const BIAS: bool], LstmCell);

impl<const IN: usize, const H: usize, R: ReturnMode, const BIAS: bool> Layer<Sequence<IN>>
    for Lstm<IN, H, R, BIAS>
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

    fn states(&self) -> Vec<Array> {
        self.0.states()
    }

    fn step_init(&self, batch: usize) -> Result<LayerStep> {
        self.0.step_init(batch)
    }

    fn step(&self, x: StepData<'_>, cx: &mut StepContext, state: &mut LayerStep) -> Result<()> {
        self.0.step(x, cx, state)
    }
}

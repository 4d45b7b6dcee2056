//! `LSTM`: gates i, f, c, o in Keras' column order.
//!
//! ```text
//! [z_i | z_f | z_c | z_o] = x_t W + h_{t-1} U + b
//! i = ract(z_i)  f = ract(z_f)  g = act(z_c)  o = ract(z_o)
//! c_t = f * c_{t-1} + i * g        h_t = o * act(c_t)
//! ```

use std::ops::Range;

use crate::error::Result;
use crate::init::Rng;
use crate::kernels::gemm::{CPtr, MatRef};
use crate::kernels::packed::gemm_packed_serial;
use crate::kernels::pool::split_rows;
use crate::layer::{Layer, Mode};
use crate::param::{Param, Weights};
use crate::size::{row, row_mut};
use crate::tensor::Sequence;

use super::cell::{BackwardStep, Cell, CellCtx, ForwardStep, prev_and_cur, sized};
use super::recurrent::{Recurrent, Rnn, RnnCore, keras_recurrent_layer, rnn_layer_methods};
use super::rnn_config::{Last, ReturnMode, RnnConfig};

mod sweeps;

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
    /// `(T, B, H)`: the cell state after each step. (Backward recomputes `act(c)` from it,
    /// one activation per unit, rather than keeping a second `(T, B, H)` buffer.)
    cs: Vec<f32>,
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
    /// As Keras: with `unit_forget_bias`, `[init((units,)), ones, init((2 * units,))]`, two
    /// draws with their own fans; otherwise one draw of `(4 * units,)`.
    fn init_bias(cfg: &RnnConfig, units: usize, bias: &mut [f32], rng: &mut Rng) {
        let init = cfg.bias_initializer;
        // `bias` is the layer's `(4 * units,)` bias.
        if cfg.unit_forget_bias {
            let (input, rest) = bias.split_at_mut(units);
            let (forget, rest) = rest.split_at_mut(units);
            input.copy_from_slice(&init.fill(&[units], rng));
            forget.fill(1.0);
            rest.copy_from_slice(&init.fill(&[rest.len()], rng));
        } else {
            bias.copy_from_slice(&init.fill(&[bias.len()], rng));
        }
    }

    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`time * len` is the `(time, batch, units)` size of the layer's `hs`, which \
                  `run` checked on entry (and `step_init` for its two slots)"
    )]
    fn prepare_forward(tr: &mut LstmTrace, time: usize, len: usize) {
        sized(&mut tr.cs, time * len);
    }

    /// `z` becomes `[i | f | g | o]`; writes `h`, `c` and `act(c)`.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "a forward step of a pass whose buffers `run` sized with checked lengths on \
                  entry: `t` and `prev` are steps `< time` of the `(time, batch, units)` \
                  traces, `z` is the step's `(batch, GATES * units)` rows, and `split_rows` \
                  hands out row ranges within `batch`"
    )]
    fn forward_step(ctx: &CellCtx<'_>, io: ForwardStep<'_>, tr: &mut LstmTrace) {
        let len = io.h.len();
        let (c_prev, c_out) = prev_and_cur(&mut tr.cs, io.prev, io.t, len);
        let c_prev = c_prev.unwrap_or(io.zeros);
        let first = io.first();
        let ForwardStep {
            z,
            h_prev,
            h: h_out,
            scratch,
            ..
        } = io;
        let (batch, h) = (ctx.batch, ctx.units);
        if !first {
            let gates = Self::GATES;
            ctx.recurrent_product(h_prev, gates, (z, gates * h), scratch);
        }
        let gh = Self::GATES * h;
        assert!(z.len() >= batch * gh && c_prev.len() >= batch * h);
        assert!(c_out.len() >= batch * h && h_out.len() >= batch * h);
        let (zp, cp, hp) = (
            CPtr(z.as_mut_ptr()),
            CPtr(c_out.as_mut_ptr()),
            CPtr(h_out.as_mut_ptr()),
        );
        // About a hundred operations per gate value (five exponentials per unit).
        split_rows(batch, 100 * gh, &|rows: Range<usize>| {
            // Whole, so that the closure captures the shareable `CPtr`s, not their pointers.
            let (zp, cp, hp): (CPtr, CPtr, CPtr) = (zp, cp, hp);
            let (r0, m) = (rows.start, rows.len());
            // SAFETY: the buffers hold `batch` rows (asserted above) and row ranges are
            // disjoint between calls, so these slices are unique.
            let (z, c, hv) = unsafe {
                (
                    std::slice::from_raw_parts_mut(zp.0.add(r0 * gh), m * gh),
                    std::slice::from_raw_parts_mut(cp.0.add(r0 * h), m * h),
                    std::slice::from_raw_parts_mut(hp.0.add(r0 * h), m * h),
                )
            };
            gate_rows(ctx, z, &c_prev[r0 * h..(r0 + m) * h], c, hv);
        });
        ctx.carry_masked_rows(h_out, h_prev);
        ctx.carry_masked_rows(c_out, c_prev);
    }

    fn state(tr: &LstmTrace, _: usize, t: usize, len: usize) -> &[f32] {
        cell_state(&tr.cs, t, len)
    }

    fn state_mut(tr: &mut LstmTrace, _: usize, t: usize, len: usize) -> &mut [f32] {
        // Empty where `cs` has no step `t`, as `cell_state`.
        row_mut(&mut tr.cs, t, len).unwrap_or_default()
    }

    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`batch * units` was checked by the forward pass this backward pass follows"
    )]
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
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "a backward step of a pass whose buffers the layer's `backward` sized from \
                  the forward pass's checked lengths: `t` and `prev` are steps `< time` of \
                  the `(time, batch, units)` traces, `gates` and `dz` are the step's `(batch, \
                  GATES * units)` rows, and row ranges stay within `batch`"
    )]
    fn backward_step(ctx: &CellCtx<'_>, io: BackwardStep<'_>, tr: &mut LstmTrace) {
        // Recurrent dropout multiplies each gate's product by its own mask: one product per
        // gate, below; without it, rows split between threads end to end.
        if ctx.rdrop.is_none() {
            return backward_split(ctx, io, tr);
        }
        let len = io.dh.len();
        let c_prev = match io.prev {
            Some(p) => cell_state(&tr.cs, p, len),
            None => io.zeros,
        };
        let c = cell_state(&tr.cs, io.t, len);
        let BackwardStep {
            gates,
            dh,
            dz,
            dh_prev,
            scratch,
            ..
        } = io;
        let (dc, dc_prev, dtc) = (&tr.dc[..], &mut tr.dc_prev[..], &mut tr.dtc[..]);
        let (batch, gh) = (ctx.batch, Self::GATES * ctx.units);
        let reads = BackwardReads {
            gates,
            dh,
            dc,
            c,
            c_prev,
        };
        backward_rows(ctx, &reads, 0..batch, dz, dc_prev, dtc, dh_prev);
        ctx.recurrent_product_grad((dz, gh), Self::GATES, dh_prev, scratch);
        std::mem::swap(&mut tr.dc, &mut tr.dc_prev);
    }
}

/// The gates and cell update of some rows: `z` holds their pre-activations and becomes
/// `[i | f | g | o]`; writes `c` and `h` (all slices hold just these rows).
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "called by `forward_step` and the panel step with row ranges of their checked \
              buffers: `z` holds `rows * GATES * units` values and `c_prev`, `c`, `h` \
              `rows * units`"
)]
pub(super) fn gate_rows(
    ctx: &CellCtx<'_>,
    z: &mut [f32],
    c_prev: &[f32],
    c_out: &mut [f32],
    h_out: &mut [f32],
) {
    let h = ctx.units;
    if sweeps::applies(ctx) {
        return sweeps::forward(h, z, c_prev, c_out, h_out);
    }
    let gh = 4 * h;
    for (b, zr) in z.chunks_exact_mut(gh).enumerate() {
        ctx.ract.apply(&mut zr[..h], h);
        ctx.ract.apply(&mut zr[h..2 * h], h);
        ctx.act.apply(&mut zr[2 * h..3 * h], h);
        ctx.ract.apply(&mut zr[3 * h..], h);
        let (i, rest) = zr.split_at(h);
        let (f, rest) = rest.split_at(h);
        let (g, o) = rest.split_at(h);
        let row = b * h..(b + 1) * h;
        let (cp, c) = (&c_prev[row.clone()], &mut c_out[row.clone()]);
        for j in 0..h {
            c[j] = f[j] * cp[j] + i[j] * g[j];
        }
        // `h` holds `act(c)` until the output gate multiplies it.
        let hr = &mut h_out[row];
        hr.copy_from_slice(c);
        ctx.act.apply(hr, h);
        for j in 0..h {
            hr[j] *= o[j];
        }
    }
}

/// The backward step without recurrent dropout: each thread takes whole rows, gate
/// derivatives then their product with the packed recurrent kernel.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "a backward step of a pass whose buffers the layer's `backward` sized from the \
              forward pass's checked lengths: `t` and `prev` are steps `< time` of the \
              `(time, batch, units)` traces, `gates` and `dz` are the step's `(batch, GATES * \
              units)` rows, and row ranges stay within `batch`"
)]
fn backward_split(ctx: &CellCtx<'_>, io: BackwardStep<'_>, tr: &mut LstmTrace) {
    let len = io.dh.len();
    let c_prev = match io.prev {
        Some(p) => cell_state(&tr.cs, p, len),
        None => io.zeros,
    };
    let c = cell_state(&tr.cs, io.t, len);
    let BackwardStep {
        gates,
        dh,
        dz,
        dh_prev,
        ..
    } = io;
    let (dc, dc_prev, dtc) = (&tr.dc[..], &mut tr.dc_prev[..], &mut tr.dtc[..]);
    let (batch, h) = (ctx.batch, ctx.units);
    let gh = LstmCell::GATES * h;
    assert!(dz.len() >= batch * gh && gates.len() >= batch * gh);
    assert!(
        [dc.len(), dc_prev.len(), dtc.len(), dh_prev.len()]
            .iter()
            .all(|&l| l >= len)
    );
    let reads = BackwardReads {
        gates,
        dh,
        dc,
        c,
        c_prev,
    };
    let (dz, dc_prev, dtc, dh_prev) = (
        CPtr(dz.as_mut_ptr()),
        CPtr(dc_prev.as_mut_ptr()),
        CPtr(dtc.as_mut_ptr()),
        CPtr(dh_prev.as_mut_ptr()),
    );
    // Each thread takes whole rows, derivatives and product: a row's `dh_prev` needs
    // only its own `dz`.
    split_rows(batch, gh * h, &|rows: Range<usize>| {
        // Whole, so that the closure captures the shareable `CPtr`s, not their pointers.
        let (dz, dc_prev, dtc, dh_prev): (CPtr, CPtr, CPtr, CPtr) = (dz, dc_prev, dtc, dh_prev);
        let (r0, m) = (rows.start, rows.len());
        // SAFETY: the buffers hold `batch` rows (asserted above) and row ranges are
        // disjoint between calls, so these slices are unique.
        let (dz, dc_prev, dtc, dh_prev) = unsafe {
            (
                std::slice::from_raw_parts_mut(dz.0.add(r0 * gh), m * gh),
                std::slice::from_raw_parts_mut(dc_prev.0.add(r0 * h), m * h),
                std::slice::from_raw_parts_mut(dtc.0.add(r0 * h), m * h),
                std::slice::from_raw_parts_mut(dh_prev.0.add(r0 * h), m * h),
            )
        };
        backward_rows(ctx, &reads, rows, dz, dc_prev, dtc, dh_prev);
        gemm_packed_serial(dz, m, MatRef::new(ctx.u, h, gh).t(), ctx.up, dh_prev, h);
    });
    std::mem::swap(&mut tr.dc, &mut tr.dc_prev);
}

/// The cell state at step `t` of a pass's `cs` (`len` values a step). A step the pass does
/// not have (a broken invariant) gives an empty slice, which the rows' slicing refuses.
fn cell_state(cs: &[f32], t: usize, len: usize) -> &[f32] {
    row(cs, t, len).unwrap_or_default()
}

/// What a backward step reads, `(B, 4H)` or `(B, H)`.
struct BackwardReads<'a> {
    gates: &'a [f32],
    dh: &'a [f32],
    dc: &'a [f32],
    c: &'a [f32],
    c_prev: &'a [f32],
}

/// The gate derivatives of `rows`: writes their `dz = [di | df | dg | do]` (before the
/// activations), the previous `c`'s gradient, and `dh_prev` as the masked rows carry it
/// (zero elsewhere, before the product adds `dz U^T`). The outputs hold just these rows.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "called by `backward_step` and `backward_split` with row ranges within `batch` \
              of their checked `(batch, GATES * units)` and `(batch, units)` buffers"
)]
fn backward_rows(
    ctx: &CellCtx<'_>,
    r: &BackwardReads<'_>,
    rows: Range<usize>,
    dz: &mut [f32],
    dc_prev: &mut [f32],
    dtc: &mut [f32],
    dh_prev: &mut [f32],
) {
    let h = ctx.units;
    let gh = 4 * h;
    if ctx.mask.is_none() && sweeps::applies(ctx) {
        let (rg, rh) = (rows.start * gh..rows.end * gh, rows.start * h..rows.end * h);
        let reads = sweeps::Reads {
            gates: &r.gates[rg],
            dh: &r.dh[rh.clone()],
            dc: &r.dc[rh.clone()],
            c: &r.c[rh.clone()],
            c_prev: &r.c_prev[rh],
        };
        return sweeps::backward(h, &reads, dz, dc_prev, dh_prev);
    }
    for (local, b) in rows.enumerate() {
        let row = b * h..(b + 1) * h;
        let out = local * h..(local + 1) * h;
        let dzr = &mut dz[local * gh..(local + 1) * gh];
        let (dhr, dcr) = (&r.dh[row.clone()], &r.dc[row.clone()]);
        if ctx.masked(b) {
            // A masked step passes its state gradients straight to the previous step.
            dzr.fill(0.0);
            dc_prev[out.clone()].copy_from_slice(dcr);
            dh_prev[out].copy_from_slice(dhr);
            continue;
        }
        dh_prev[out.clone()].fill(0.0);
        let gr = &r.gates[b * gh..(b + 1) * gh];
        let (i, f, g, o) = (&gr[..h], &gr[h..2 * h], &gr[2 * h..3 * h], &gr[3 * h..]);
        let cp = &r.c_prev[row.clone()];
        // `act(c_t)`, recomputed from `c_t` as the forward pass computed it, in the place of
        // `do`, which is the last written.
        let (dzr_ifg, tcr) = dzr.split_at_mut(3 * h);
        tcr.copy_from_slice(&r.c[row]);
        ctx.act.apply(tcr, h);
        // Gradient reaching c_t through h_t = o * act(c_t).
        let dtcr = &mut dtc[out.clone()];
        for j in 0..h {
            dtcr[j] = dhr[j] * o[j];
        }
        ctx.act.backward(tcr, dtcr, h);
        let dcp = &mut dc_prev[out];
        for j in 0..h {
            let dct = dcr[j] + dtcr[j];
            dzr_ifg[j] = dct * g[j];
            dzr_ifg[h + j] = dct * cp[j];
            dzr_ifg[2 * h + j] = dct * i[j];
            tcr[j] *= dhr[j];
            dcp[j] = dct * f[j];
        }
        ctx.ract.backward(i, &mut dzr[..h], h);
        ctx.ract.backward(f, &mut dzr[h..2 * h], h);
        ctx.act.backward(g, &mut dzr[2 * h..3 * h], h);
        ctx.ract.backward(o, &mut dzr[3 * h..], h);
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

    // `states`, `step` and the rest: as the `Rnn`'s.
    rnn_layer_methods!();
}

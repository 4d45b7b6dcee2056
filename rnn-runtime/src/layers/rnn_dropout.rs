//! `dropout` and `recurrent_dropout` of the recurrent layers, as Keras 3's cells apply them
//! (`DropoutRNNCell`): the masks are drawn once per call (per batch row) and reused at every
//! step; kept values are scaled by `1 / (1 - rate)`; at inference nothing is dropped.
//!
//! The input mask multiplies `x_t` before the input projection. As it is the same at every
//! step, the masked input of all steps is projected with one GEMM (one per gate when there
//! are per-gate masks). The recurrent mask multiplies `h_{t-1}` before each gate's recurrent
//! product. Keras 3 draws one mask per gate for LSTM and GRU when `recurrent_dropout > 0`
//! (their `implementation = 1`, `dropout_mask_count` = 4 or 3) for both the input and the
//! state, and one input mask shared by all gates otherwise; SimpleRNN has one of each.
//!
//! Every buffer here is sized per batch shape and reused across calls.

use std::ops::Range;

use rand::{RngExt, SeedableRng};

use crate::error::{Error, Result, fmt_shape};
use crate::init::Rng;
use crate::kernels::gemm::{MatRef, gemm};
use crate::layer::Mode;
use crate::size::checked_len;

use super::cell::sized;
use super::rnn_config::RnnConfig;

/// Dropout state of one recurrent layer (one direction): its generator, the masks of the
/// last training pass and the scratch of the masked products.
#[derive(Clone, Debug, Default)]
pub(crate) struct RnnDropout {
    /// Seeded at construction when a rate is non-zero, so a model seed gives the same run.
    rng: Option<Rng>,
    /// Whether the masks were given ([`RnnDropout::set_masks`]) rather than drawn.
    fixed: bool,
    /// Whether the last forward pass dropped: its masks are what its backward pass uses.
    active: bool,
    /// `(in_count, B, IN)` factors of the input (0 or `1 / (1 - rate)`); empty for none.
    input: Vec<f32>,
    in_count: usize,
    /// Input features `IN` of the current pass.
    in_width: usize,
    /// `(GATES, B, H)` factors of `h_{t-1}`, one block per gate; empty for none.
    recurrent: Vec<f32>,
    /// `(T, B, IN)`: the masked input of one mask, and the input gradient of one gate.
    xm: Vec<f32>,
    /// `(GATES, T, B, H)`: the states times each gate's recurrent mask, for `dU`.
    hsm: Vec<f32>,
    /// `(B, H)`: a step's masked state, or one gate's part of its gradient.
    scratch: Vec<f32>,
}

/// Multiplies every `(B, width)` block of `data` (time-major steps) by `mask`, into `out`.
fn mask_steps(data: &[f32], mask: &[f32], out: &mut [f32]) {
    for (o, d) in out
        .chunks_exact_mut(mask.len())
        .zip(data.chunks_exact(mask.len()))
    {
        for ((o, d), m) in o.iter_mut().zip(d).zip(mask) {
            *o = d * m;
        }
    }
}

impl RnnDropout {
    pub(crate) fn new(cfg: &RnnConfig, rng: &mut Rng) -> Self {
        // Drawn only when needed, so that a model without dropout keeps its initial weights.
        let on = cfg.dropout > 0.0 || cfg.recurrent_dropout > 0.0;
        RnnDropout {
            rng: on.then(|| Rng::seed_from_u64(rng.random())),
            ..RnnDropout::default()
        }
    }

    /// Input masks of a cell with `gates` gates: one per gate when the state is dropped too
    /// (Keras' `implementation = 1`), else one.
    fn input_count(cfg: &RnnConfig, gates: usize) -> usize {
        match (cfg.dropout > 0.0, cfg.recurrent_dropout > 0.0) {
            (false, _) => 0,
            (true, true) => gates,
            (true, false) => 1,
        }
    }

    /// Fixes the masks of the following training passes instead of drawing them: `input`
    /// `(n, B, IN)` with `n` one or `gates` (see the module docs), `recurrent`
    /// `(gates, B, H)`; empty for none. Factors are the multipliers themselves (0 or
    /// `1 / (1 - rate)` as drawn, but any values are taken).
    pub(crate) fn set_masks(&mut self, input: Vec<f32>, recurrent: Vec<f32>) {
        self.fixed = true;
        self.input = input;
        self.recurrent = recurrent;
    }

    /// Starts a forward pass: draws the masks in training (or checks the fixed ones).
    pub(crate) fn begin(
        &mut self,
        layer: &str,
        cfg: &RnnConfig,
        mode: Mode,
        (batch, input, units, gates): (usize, usize, usize, usize),
    ) -> Result<()> {
        self.active = false;
        self.in_width = input;
        let b_in = checked_len(layer, &[batch, input])?;
        sized(&mut self.scratch, checked_len(layer, &[batch, units])?);
        if !mode.drops() {
            return Ok(());
        }
        if self.fixed {
            let in_count = self.input.len().checked_div(b_in).unwrap_or(0);
            let ok_in = Some(self.input.len()) == in_count.checked_mul(b_in)
                && (in_count == 0 || in_count == 1 || in_count == gates);
            let ok_rec = self.recurrent.is_empty()
                || self.recurrent.len() == checked_len(layer, &[gates, batch, units])?;
            if !ok_in || !ok_rec {
                return Err(Error::shape(
                    format!("{layer}: dropout masks"),
                    format!(
                        "input {} or {}, recurrent {}",
                        fmt_shape(&[1, batch, input]),
                        fmt_shape(&[gates, batch, input]),
                        fmt_shape(&[gates, batch, units])
                    ),
                    format!("{} and {} values", self.input.len(), self.recurrent.len()),
                ));
            }
            self.in_count = in_count;
        } else {
            let Some(rng) = self.rng.as_mut() else {
                return Ok(());
            };
            self.in_count = Self::input_count(cfg, gates);
            draw(
                rng,
                cfg.dropout,
                &mut self.input,
                checked_len(layer, &[self.in_count, batch, input])?,
            );
            let rec = if cfg.recurrent_dropout > 0.0 {
                gates
            } else {
                0
            };
            draw(
                rng,
                cfg.recurrent_dropout,
                &mut self.recurrent,
                checked_len(layer, &[rec, batch, units])?,
            );
        }
        self.active = self.in_count > 0 || !self.recurrent.is_empty();
        Ok(())
    }

    /// The recurrent masks (if the state is dropped) and the per-step scratch, `(B, H)`.
    pub(crate) fn step_views(&mut self) -> (Option<&[f32]>, &mut [f32]) {
        let masks =
            (self.active && !self.recurrent.is_empty()).then_some(self.recurrent.as_slice());
        (masks, &mut self.scratch)
    }

    /// Whether the current pass drops the input.
    pub(crate) fn drops_input(&self) -> bool {
        self.active && self.in_count > 0
    }

    /// Mask `g` (the gate's, or the shared one) with the columns of `z` it feeds, out of
    /// `gh`.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`g < in_count`, and `begin` checked that `input` holds `in_count` masks of \
                  `b_in` values; `in_count` is 1, or `GATES` and then `gh = GATES * units`"
    )]
    fn input_block(&self, g: usize, b_in: usize, gh: usize) -> (&[f32], Range<usize>) {
        let cols = if self.in_count == 1 {
            0..gh
        } else {
            let w = gh / self.in_count;
            g * w..(g + 1) * w
        };
        (&self.input[g * b_in..(g + 1) * b_in], cols)
    }

    /// `z += (x ⊙ m) W` over all `rows = T * B` rows of `x` (`(T, B, IN)`), with one GEMM
    /// per input mask; `kernel` is `W`, `(IN, GH)`, and `z` already holds the bias.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "called when `drops_input()` (so `in_count > 0`) with `x` `(T, B, IN)`, `kernel` \
                  `(IN, GH)` and `z`, `dzs` `(T * B, GH)` as the recurrent layer sized them, \
                  `IN > 0`; `begin` checked the masks' lengths"
    )]
    pub(crate) fn project_input(&mut self, x: &[f32], kernel: &[f32], input: usize, z: &mut [f32]) {
        let gh = kernel.len() / input;
        let rows = x.len() / input;
        self.each_masked_input(x, input, gh, |xm, _, cols| {
            gemm(
                1.0,
                MatRef::new(xm, rows, input),
                MatRef::with_ld(&kernel[cols.start..], input, cols.len(), gh),
                1.0,
                &mut z[cols.start..],
                gh,
            );
        });
    }

    /// The input side of the backward pass: `dW += (x ⊙ m)^T dz` and
    /// `dx = (dz W^T) ⊙ m`, per input mask.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "called when `drops_input()` (so `in_count > 0`) with `x` `(T, B, IN)`, `kernel` \
                  `(IN, GH)` and `z`, `dzs` `(T * B, GH)` as the recurrent layer sized them, \
                  `IN > 0`; `begin` checked the masks' lengths"
    )]
    pub(crate) fn input_grads(
        &mut self,
        x: &[f32],
        dzs: &[f32],
        (kernel, dkernel): (&[f32], &mut [f32]),
        dx: &mut [f32],
    ) {
        let b_in = self.input.len() / self.in_count;
        let input = self.in_width;
        let (rows, gh) = (x.len() / input, kernel.len() / input);
        dx.fill(0.0);
        self.each_masked_input(x, input, gh, |xm, mask, cols| {
            let dz = MatRef::with_ld(&dzs[cols.start..], rows, cols.len(), gh);
            gemm(
                1.0,
                MatRef::new(xm, rows, input).t(),
                dz,
                1.0,
                &mut dkernel[cols.start..],
                gh,
            );
            let w = MatRef::with_ld(&kernel[cols.start..], input, cols.len(), gh);
            gemm(1.0, dz, w.t(), 0.0, xm, input);
            for (d, v) in dx.chunks_exact_mut(b_in).zip(xm.chunks_exact(b_in)) {
                for ((d, v), m) in d.iter_mut().zip(v).zip(mask) {
                    *d += v * m;
                }
            }
        });
    }

    /// Calls `f(xm, mask, cols)` for each input mask, with `xm` the input `x` (`(T, B, IN)`,
    /// `input = IN`) times the mask at every step and `cols` the columns of `z` (out of `gh`)
    /// that the mask feeds. `f` may overwrite `xm`, which is scratch.
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "called by `project_input` and `input_grads`, when `drops_input()` (so \
                  `in_count > 0`), with `x` `(T, B, IN)` and `IN > 0`"
    )]
    fn each_masked_input(
        &mut self,
        x: &[f32],
        input: usize,
        gh: usize,
        mut f: impl FnMut(&mut [f32], &[f32], Range<usize>),
    ) {
        let rows = x.len() / input;
        let b_in = self.input.len() / self.in_count;
        let mut xm = std::mem::take(&mut self.xm);
        sized(&mut xm, rows * input);
        for g in 0..self.in_count {
            let (mask, cols) = self.input_block(g, b_in, gh);
            mask_steps(x, mask, &mut xm);
            f(&mut xm, mask, cols);
        }
        self.xm = xm;
    }

    /// Fills [`Self::hsm`] with the states `hs` (`(T, B, H)`) times each gate's recurrent
    /// mask, for the recurrent kernel's gradient; `None` when the state is not dropped.
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "the state is dropped, so `begin` sized `scratch` to `(B, H)` and checked \
                  `recurrent` is `(gates, B, H)`; `hsm` is `gates` blocks as long as `hs`, which \
                  is no longer than the pass's `(T, B, GATES * H)` gradients"
    )]
    pub(crate) fn masked_states(&mut self, hs: &[f32]) -> Option<&[f32]> {
        if !self.active || self.recurrent.is_empty() {
            return None;
        }
        let b_h = self.scratch.len();
        let gates = self.recurrent.len() / b_h;
        let per_gate = hs.len();
        sized(&mut self.hsm, gates * per_gate);
        for g in 0..gates {
            mask_steps(
                hs,
                &self.recurrent[g * b_h..(g + 1) * b_h],
                &mut self.hsm[g * per_gate..(g + 1) * per_gate],
            );
        }
        Some(&self.hsm)
    }
}

/// Fills `mask` with `len` factors: 0 with probability `rate`, else `1 / (1 - rate)`.
fn draw(rng: &mut Rng, rate: f32, mask: &mut Vec<f32>, len: usize) {
    mask.clear();
    let keep = 1.0 / (1.0 - rate);
    mask.extend((0..len).map(|_| {
        if rng.random::<f32>() < rate {
            0.0
        } else {
            keep
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::seeded_rng;

    fn cfg(dropout: f32, recurrent: f32) -> RnnConfig {
        RnnConfig::default()
            .dropout(dropout)
            .recurrent_dropout(recurrent)
    }

    #[test]
    fn masks_per_keras_cell() {
        // SimpleRNN (1 gate), LSTM (4), GRU (3): one input mask unless the state is dropped
        // too, then one per gate; one recurrent mask per gate.
        for (gates, d, r, want_in, want_rec) in [
            (1, 0.2, 0.2, 1, 1),
            (4, 0.2, 0.0, 1, 0),
            (4, 0.2, 0.2, 4, 4),
            (3, 0.0, 0.2, 0, 3),
        ] {
            let c = cfg(d, r);
            let mut drop = RnnDropout::new(&c, &mut seeded_rng(0));
            drop.begin("l", &c, Mode::Training, (2, 3, 5, gates))
                .unwrap();
            assert_eq!(drop.input.len(), want_in * 2 * 3, "{gates} {d} {r}");
            assert_eq!(drop.recurrent.len(), want_rec * 2 * 5, "{gates} {d} {r}");
            assert!(drop.active);
        }
    }

    #[test]
    fn drawn_factors_are_zero_or_scaled_in_the_right_proportion() {
        let c = cfg(0.25, 0.0);
        let mut drop = RnnDropout::new(&c, &mut seeded_rng(3));
        drop.begin("l", &c, Mode::Training, (100, 100, 1, 1))
            .unwrap();
        let keep = 1.0 / 0.75;
        assert!(drop.input.iter().all(|&m| m == 0.0 || m == keep));
        let kept = drop.input.iter().filter(|&&m| m != 0.0).count() as f64 / 1e4;
        // 5 binomial standard deviations of 10,000 draws: 0.022.
        assert!((kept - 0.75).abs() < 0.022, "{kept}");
    }

    #[test]
    fn inference_and_zero_rates_drop_nothing() {
        let c = cfg(0.5, 0.5);
        let mut drop = RnnDropout::new(&c, &mut seeded_rng(0));
        for mode in [Mode::Inference, Mode::InferenceGrad] {
            drop.begin("l", &c, mode, (2, 3, 4, 4)).unwrap();
            assert!(!drop.drops_input() && drop.step_views().0.is_none());
        }
        let none = RnnConfig::default();
        let mut rng = seeded_rng(0);
        let before = rng.clone();
        let mut drop = RnnDropout::new(&none, &mut rng);
        assert_eq!(rng, before, "no generator is drawn without dropout");
        drop.begin("l", &none, Mode::Training, (2, 3, 4, 4))
            .unwrap();
        assert!(!drop.active);
    }

    #[test]
    fn given_masks_replace_drawn_ones_and_are_checked() {
        let c = cfg(0.5, 0.5);
        let mut drop = RnnDropout::new(&c, &mut seeded_rng(0));
        drop.set_masks(vec![2.0; 2 * 3], vec![0.5; 4 * 2 * 4]);
        drop.begin("l", &c, Mode::Training, (2, 3, 4, 4)).unwrap();
        assert!(drop.drops_input());
        assert_eq!(drop.step_views().0, Some(&[0.5; 32][..]));
        // A batch of another size does not fit them.
        let err = drop.begin("lstm_3", &c, Mode::Training, (5, 3, 4, 4));
        assert!(err.unwrap_err().to_string().contains("lstm_3"));
    }
}

//! Single steps of one row (generation, stepping a batch of 1) through panels: the input and
//! recurrent products as one product `[x, h_{t-1}] [W; U] + b` over the packed weights
//! (`kernels/panels.rs`), each panel's gates run as soon as its pre-activations are in
//! registers. SimpleRNN and LSTM step this way; GRU, whose candidate gate keeps the recurrent product apart, and
//! masked steps take the general path.
//!
//! The panels are made once per version of the weights and shared by every step state of
//! the layer (an `Arc`): a state made by `step_state` holds them from the start, so that no
//! step allocates.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Indices below the layer's units and the panels' rows, which `Panels` checks"
)]

use std::sync::{Arc, Mutex, PoisonError};

use crate::activation::Activation;
use crate::kernels::gemm::CPtr;
use crate::kernels::packed::Packed;
use crate::kernels::panels::{Inputs, Panels, ROW};
use crate::layers::cell::{Cell, CellCtx};
use crate::layers::lstm::gate_rows;
use crate::param::Param;

use super::{RnnCore, RnnStep};

/// Versions of the kernel, the recurrent kernel and the bias.
type Key = (u64, u64, u64);

/// Panels and the versions of the weights they were made from.
#[derive(Debug)]
pub(super) struct Keyed {
    key: Key,
    panels: Panels,
}

/// The layer's panels, made on first use by a step state (`RnnCore` steps through `&self`).
#[derive(Debug, Default)]
pub(super) struct PanelCache(Mutex<Option<Arc<Keyed>>>);

impl Clone for PanelCache {
    fn clone(&self) -> Self {
        let held = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        PanelCache(Mutex::new(held))
    }
}

/// A step state's part: the panels it steps with and the list of its non-zero inputs.
#[derive(Clone, Debug, Default)]
pub(super) struct PanelScratch {
    panels: Option<Arc<Keyed>>,
    /// The non-zero entries of `[x, h_{t-1}]`; reserved once for every row.
    nz: Inputs,
}

impl<C: Cell> RnnCore<C> {
    fn panel_key(&self) -> Key {
        (
            self.kernel.stamp(),
            self.recurrent.stamp(),
            self.bias.as_ref().map_or(0, Param::stamp),
        )
    }

    /// Whether single-row steps of this layer go through panels: SimpleRNN and LSTM with
    /// element-wise activations (a softmax would need every unit of the panel's row).
    fn steps_by_panels(&self) -> bool {
        let elementwise = |a| a != Activation::Softmax;
        matches!(C::KIND, rnn_spec::Cell::Simple | rnn_spec::Cell::Lstm)
            && elementwise(self.cfg.activation)
            && elementwise(self.cfg.recurrent_activation)
    }

    /// The scratch of a step state of `batch` rows, with the current panels when it will
    /// step through them.
    pub(super) fn panel_scratch(&self, batch: usize) -> PanelScratch {
        let mut scratch = PanelScratch::default();
        if batch == 1 && self.steps_by_panels() {
            scratch.nz.reserve(self.input + self.units);
            scratch.panels = self.panels();
        }
        scratch
    }

    /// The panels for the current weights: the layer's if they are current, else new ones.
    fn panels(&self) -> Option<Arc<Keyed>> {
        let key = self.panel_key();
        let mut cache = self.panels.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = cache.as_ref().filter(|p| p.key == key) {
            return Some(Arc::clone(p));
        }
        let gh = C::GATES * self.units;
        let bias = self.bias.as_ref().map(|b| &b.values()[..gh]);
        let panels = Panels::pack(
            &[
                (self.input, self.kernel.values()),
                (self.units, self.recurrent.values()),
            ],
            C::GATES,
            self.units,
            bias,
        )?;
        let keyed = Arc::new(Keyed { key, panels });
        *cache = Some(Arc::clone(&keyed));
        Some(keyed)
    }

    /// One step of a single row through the panels: reads `x` and the current state, writes
    /// the next one and makes it current. `false` (nothing done) when this step takes the
    /// general path: several rows, a masked step, GRU.
    pub(super) fn panel_step(&self, x: &[f32], masked: bool, st: &mut RnnStep<C>) -> bool {
        let h = self.units;
        if st.len != h || masked || !self.steps_by_panels() {
            return false;
        }
        let key = self.panel_key();
        if st.panel.panels.as_ref().is_none_or(|p| p.key != key) {
            // New weights since the state was made (or its last step).
            st.panel.panels = self.panels();
        }
        let Some(keyed) = st.panel.panels.as_ref() else {
            return false;
        };
        let panels = &keyed.panels;
        let (prev, t) = (st.cur, 1 - st.cur);
        // Reserved by `step_state`; a clone of a state has only its length, so its first
        // step reserves again.
        st.panel.nz.reserve(panels.rows());
        st.panel.nz.fill(&[x, &st.hs[prev * h..(prev + 1) * h]]);
        let nz = &st.panel.nz;
        let (hs, trace) = (&mut st.hs, &mut st.trace);
        let (h_prev, h_out) = hs.split_at_mut(h);
        let (h_prev, h_out): (&[f32], CPtr) = if prev == 0 {
            (h_prev, CPtr(h_out.as_mut_ptr()))
        } else {
            (h_out, CPtr(h_prev.as_mut_ptr()))
        };
        debug_assert_eq!(h_prev.len(), h);
        let lstm = C::KIND == rnn_spec::Cell::Lstm;
        // `c` at slot `t`, then at slot `prev`; slots are disjoint.
        let c_out = CPtr(if lstm {
            C::state_mut(trace, 1, t, h).as_mut_ptr()
        } else {
            std::ptr::null_mut()
        });
        let c_prev = if lstm {
            C::state(trace, 1, prev, h)
        } else {
            &[]
        };
        let unpacked = Packed::default();
        let ctx = self.ctx(None, 1, &unpacked, None);
        let step = |p: usize| {
            // Whole, so that the closure captures the shareable `CPtr`s.
            let (h_out, c_out): (CPtr, CPtr) = (h_out, c_out);
            let units = panels.units_of(p);
            let w = units.len();
            let mut z = [0.0f32; ROW];
            panels.product(p, nz, &mut z);
            // SAFETY: `units` lies within `0..h`, `h_out` holds `h` values and every panel
            // has its own units, so these slices are unique.
            let h_new = unsafe { std::slice::from_raw_parts_mut(h_out.0.add(units.start), w) };
            if lstm {
                // SAFETY: as for `h_out`; `c_out` is the LSTM's `c` at slot `t`.
                let c_new = unsafe { std::slice::from_raw_parts_mut(c_out.0.add(units.start), w) };
                let ctx = CellCtx { units: w, ..ctx };
                gate_rows(&ctx, &mut z[..4 * w], &c_prev[units], c_new, h_new);
            } else {
                ctx.act.apply(&mut z[..w], w);
                h_new.copy_from_slice(&z[..w]);
            }
        };
        (0..panels.count()).for_each(step);
        st.cur = t;
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::kernels::test_support::data;
    use crate::layer::{Layer, Mode};
    use crate::layer_step::{StepContext, StepData};
    use crate::layers::lstm::Lstm;
    use crate::layers::rnn_config::{RnnConfig, Sequences};
    use crate::layers::simple_rnn::SimpleRnn;
    use crate::tensor::Sequence;

    fn close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-6 + 1e-5 * y.abs(), "{what}: {x} vs {y}");
        }
    }

    /// Steps of one row through panels (large enough to be split between two threads, with
    /// zero inputs skipped) give the whole-sequence pass's outputs, also from a clone.
    macro_rules! steps_match_the_pass {
        ($layer:expr, $input:literal, $units:literal) => {{
            let mut layer = $layer;
            let time = 6;
            let mut x = data(time * $input, 7);
            // One-hot-like rows: most inputs zero.
            x.iter_mut()
                .enumerate()
                .filter(|(i, _)| i % 5 != 0)
                .for_each(|(_, v)| *v = 0.0);
            let seq = Sequence::<$input>::from_batch_major(&x, 1, time).unwrap();
            let want = layer.forward(&seq, Mode::Inference).unwrap();
            let want = want.as_slice();
            let mut state = Layer::<Sequence<$input>>::step_init(&layer, 1).unwrap();
            let mut cx = StepContext::new(1);
            let mut branch = None;
            for t in 0..time {
                let xt = StepData::Values(&x[t * $input..(t + 1) * $input]);
                Layer::<Sequence<$input>>::step(&layer, xt, &mut cx, &mut state).unwrap();
                let row = &want[t * $units..(t + 1) * $units];
                close(state.output(), row, &format!("step {t}"));
                if let Some(b) = branch.as_mut() {
                    Layer::<Sequence<$input>>::step(&layer, xt, &mut cx, b).unwrap();
                    close(b.output(), row, &format!("clone, step {t}"));
                }
                if t == 2 {
                    branch = Some(state.clone());
                }
            }
        }};
    }

    #[test]
    fn single_row_steps_through_panels_match_the_whole_pass() {
        let mut rng = crate::init::seeded_rng(5);
        let cfg = RnnConfig::default();
        // 4 * 130 columns: five panels, the last with two units; 170 rows.
        steps_match_the_pass!(
            Lstm::<40, 130, Sequences>::new("lstm", cfg, &mut rng),
            40,
            130
        );
        // One panel of 128 units and one of 5.
        steps_match_the_pass!(
            SimpleRnn::<500, 133, Sequences>::new("simple_rnn", cfg, &mut rng),
            500,
            133
        );
        steps_match_the_pass!(Lstm::<3, 7, Sequences>::new("small", cfg, &mut rng), 3, 7);
    }
}

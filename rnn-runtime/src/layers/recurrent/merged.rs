//! A direction's output and output gradient read where they are: `Bidirectional` merges its
//! two directions' rows straight from their states into its output, and each direction's
//! backward pass reads its part of the merged gradient in place (its half of each row for
//! `concat`, the whole row for `sum` and `ave`), with no buffer per direction in between.

use std::borrow::Cow;

use crate::layers::cell::Cell;

use super::RnnCore;

/// The gradient of a recurrent layer's main output as its backward pass reads it: rows of
/// `ld` values (time-major `(time, batch)` rows for a sequence, `batch` rows otherwise), of
/// which the layer's `units` from column `col` are its own, times `scale`.
#[derive(Clone, Debug)]
pub(crate) struct OutputGrad<'a> {
    pub(crate) data: Cow<'a, [f32]>,
    pub(crate) ld: usize,
    pub(crate) col: usize,
    pub(crate) scale: f32,
}

impl<'a> OutputGrad<'a> {
    /// A gradient of rows of `units` values, owned (the backward pass frees it once read).
    pub(crate) fn owned(data: Vec<f32>, units: usize) -> Self {
        OutputGrad {
            data: Cow::Owned(data),
            ld: units,
            col: 0,
            scale: 1.0,
        }
    }

    /// Columns `col..col + units` of rows of `ld` values of `data`, times `scale`.
    pub(crate) fn part(data: &'a [f32], ld: usize, col: usize, scale: f32) -> Self {
        OutputGrad {
            data: Cow::Borrowed(data),
            ld,
            col,
            scale,
        }
    }

    /// Adds row `row` (`units` values) times the scale to `acc`; a row past the end adds
    /// nothing (the length is checked before the pass).
    pub(crate) fn add_row(&self, row: usize, acc: &mut [f32]) {
        let start = row.saturating_mul(self.ld).saturating_add(self.col);
        let Some(src) = self.data.get(start..).and_then(|d| d.get(..acc.len())) else {
            return;
        };
        if self.scale == 1.0 {
            acc.iter_mut().zip(src).for_each(|(a, d)| *a += d);
        } else {
            let s = self.scale;
            acc.iter_mut().zip(src).for_each(|(a, d)| *a += d * s);
        }
    }
}

impl<C: Cell> RnnCore<C> {
    /// Row `b` of the main output at output step `s` (step `s` of
    /// [`RnnCore::output_sequence`] with `reverse`, or the last output when not `sequences`):
    /// `units` values, zeros where that output is zero (a masked step with
    /// `zero_output_for_mask`).
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`s < time` and `b < batch` of the last forward pass (callers iterate those), \
                  whose `(time, batch, units)` states and `(batch, units)` zeros `run` sized \
                  with checked lengths"
    )]
    pub(crate) fn output_row(&self, sequences: bool, reverse: bool, s: usize, b: usize) -> &[f32] {
        let (time, h) = (self.ws.time, self.units);
        let row = b * h..(b + 1) * h;
        if !sequences {
            return &self.final_state(0)[row];
        }
        let t = if reverse { time - 1 - s } else { s };
        if self.zero_output_for_mask
            && let Some(mask) = &self.ws.mask
            && !mask.step(t)[b]
        {
            return &self.ws.zeros[row];
        }
        let at = (t * self.ws.batch + b) * h;
        &self.ws.hs[at..at + h]
    }
}

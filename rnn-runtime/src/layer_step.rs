//! One layer's part of a [`StepState`](crate::StepState): its output buffer for the current
//! step and, for recurrent layers, its states and step scratch. Layers build theirs in
//! [`Layer::step_init`](crate::Layer::step_init) and advance it in
//! [`Layer::step`](crate::Layer::step); `step.rs` holds them for a whole model.

use std::any::Any;
use std::fmt::Debug;

use crate::error::{Error, Result};
use crate::size::{checked_len, try_zeroed};

/// One time step of input to a layer: token ids (one per row) or `(batch, features)` values.
///
/// ```
/// use rnn_runtime::StepData;
/// let x = StepData::Values(&[0.5, 1.0]);
/// assert!(matches!(x, StepData::Values(v) if v.len() == 2));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum StepData<'a> {
    /// One token id per row.
    Ids(&'a [u32]),
    /// Row-major `(batch, features)` values.
    Values(&'a [f32]),
}

impl<'a> StepData<'a> {
    /// The values, or an error naming `layer` for token ids.
    pub(crate) fn values(self, layer: &str) -> Result<&'a [f32]> {
        match self {
            StepData::Values(v) => Ok(v),
            StepData::Ids(_) => Err(Error::config(
                layer,
                "takes feature values, not token ids: token ids go to an Embedding first",
            )),
        }
    }
}

/// What the layers of one step share: the step's number and which rows hold a real token
/// (set by an `Embedding` with `mask_zero`, read by the recurrent layers after it). See
/// [`LayerStep`] for an example.
#[derive(Clone, Debug, Default)]
pub struct StepContext {
    /// Steps fed since the state was created or reset.
    pub(crate) step: usize,
    /// Validity of each row at this step; meaningful only when `masked`.
    pub(crate) valid: Vec<bool>,
    /// Whether some row is masked at this step.
    pub(crate) masked: bool,
}

impl StepContext {
    pub(crate) fn new(batch: usize) -> Self {
        StepContext {
            step: 0,
            valid: vec![true; batch],
            masked: false,
        }
    }

    /// The mask of this step, `None` when every row is valid.
    pub(crate) fn mask(&self) -> Option<&[bool]> {
        self.masked.then_some(&self.valid[..])
    }
}

/// The states and scratch a stepping layer keeps between steps.
pub(crate) trait StepScratch: Any + Debug + Send + Sync {
    /// The states, in Keras' order (`h`, then `c` for LSTM), `(batch, units)` each.
    fn states(&self) -> Vec<&[f32]>;
    /// State `i`, to overwrite.
    fn state_mut(&mut self, i: usize) -> &mut [f32];
    /// A copy, for branching a state.
    fn clone_box(&self) -> Box<dyn StepScratch>;
}

impl Clone for Box<dyn StepScratch> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// One layer's part of a [`StepState`](crate::StepState): the layer's output for the current
/// step and, for recurrent layers, its states.
///
/// ```
/// use rnn_runtime::{Activation, Dense, Features, Layer, StepContext, StepData, seeded_rng};
/// let dense = Dense::<2, 1>::new("dense", Activation::Linear, &mut seeded_rng(0));
/// let mut state = Layer::<Features<2>>::step_init(&dense, 1).unwrap();
/// let x = StepData::Values(&[0.0, 0.0]);
/// Layer::<Features<2>>::step(&dense, x, &mut StepContext::default(), &mut state).unwrap();
/// assert_eq!((state.layer(), state.output()), ("dense", &[0.0][..])); // zero bias
/// ```
#[derive(Clone, Debug)]
pub struct LayerStep {
    /// The layer's Keras name.
    pub(crate) layer: String,
    /// Output features.
    pub(crate) width: usize,
    /// This step's output, `(batch, width)`.
    pub(crate) out: Vec<f32>,
    /// Keras' names of the states in `scratch`.
    pub(crate) state_names: &'static [&'static str],
    /// States and scratch of a recurrent layer.
    pub(crate) scratch: Option<Box<dyn StepScratch>>,
}

impl LayerStep {
    /// A layer without states: only an output buffer.
    pub(crate) fn plain(layer: &str, batch: usize, width: usize) -> Result<Self> {
        Ok(LayerStep {
            layer: layer.to_string(),
            width,
            out: try_zeroed(layer, checked_len(layer, &[batch, width])?)?,
            state_names: &[],
            scratch: None,
        })
    }

    /// A layer with states kept in `scratch`.
    pub(crate) fn with_states(
        layer: &str,
        batch: usize,
        width: usize,
        state_names: &'static [&'static str],
        scratch: Box<dyn StepScratch>,
    ) -> Result<Self> {
        Ok(LayerStep {
            scratch: Some(scratch),
            state_names,
            ..LayerStep::plain(layer, batch, width)?
        })
    }

    /// The layer's Keras name.
    pub fn layer(&self) -> &str {
        &self.layer
    }

    /// The output of the last step, row-major `(batch, features)`.
    pub fn output(&self) -> &[f32] {
        &self.out
    }

    /// The batch size this part was built for.
    pub(crate) fn batch(&self) -> usize {
        // `out` is `(batch, width)`; with no width it is empty and so is the batch.
        self.out.len().checked_div(self.width).unwrap_or(0)
    }

    /// Checks that this part belongs to a layer named `layer` with `width` outputs.
    pub(crate) fn check_owner(&self, layer: &str, width: usize) -> Result<()> {
        if self.layer != layer || self.width != width {
            return Err(Error::config(
                layer,
                format!(
                    "this step state was made for another model (its layer here is `{}` with \
                     {} outputs); make one with this model's step_state",
                    self.layer, self.width
                ),
            ));
        }
        Ok(())
    }

    /// The typed scratch of a recurrent layer.
    pub(crate) fn scratch_mut<T: StepScratch>(&mut self) -> Result<(&mut T, &mut [f32])> {
        let LayerStep {
            layer,
            scratch,
            out,
            ..
        } = self;
        let typed = scratch
            .as_mut()
            .and_then(|s| (&mut **s as &mut dyn Any).downcast_mut::<T>());
        match typed {
            Some(t) => Ok((t, &mut out[..])),
            None => Err(Error::config(
                layer.clone(),
                "this step state was made for another model; make one with this model's \
                 step_state",
            )),
        }
    }
}

/// Checks that `x` holds `rows * width` values, naming `layer`.
pub(crate) fn check_step_len(layer: &str, len: usize, rows: usize, width: usize) -> Result<()> {
    if Some(len) != rows.checked_mul(width) {
        return Err(Error::shape(
            layer,
            format!("({rows}, {width}) for one step"),
            format!("{len} values"),
        ));
    }
    Ok(())
}

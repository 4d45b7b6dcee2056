//! Running a model one time step at a time: [`StepState`] holds every layer's states for a
//! batch, and [`Sequential::step`] feeds one step and returns the model's output for it.
//!
//! Each step costs the same whatever came before (one input and one recurrent product per
//! recurrent layer), and after [`Sequential::step_state`] nothing is allocated: every buffer
//! lives in the state.

use rnn_macros::model_api;

use crate::error::{Error, Result, check_finite};
use crate::input::ModelInput;
use crate::layer::Stack;
use crate::layer_step::{LayerStep, StepContext, StepData};
use crate::model::Sequential;
use crate::output::Array;
use crate::tensor::{Sequence, Tensor, TokenBatch};

/// A model input that can be fed one time step at a time: token ids ([`TokenBatch`], one `u32`
/// per row) or feature sequences ([`Sequence<F>`], `F` values per row).
///
/// ```
/// use rnn_runtime::{Sequence, StepInput, TokenBatch};
/// fn elem<I: StepInput>(_: I::Elem) {}
/// elem::<TokenBatch>(7u32);
/// elem::<Sequence<3>>(0.5f32);
/// ```
pub trait StepInput: Tensor {
    /// One value of a step: `u32` ids or `f32` features.
    type Elem: Copy;
    /// Values per row in one step.
    #[doc(hidden)]
    const ROW: usize;
    /// Checks the values of a step and gives them to the first layer.
    #[doc(hidden)]
    fn step_data(x: &[Self::Elem]) -> Result<StepData<'_>>;
}

impl StepInput for TokenBatch {
    type Elem = u32;
    const ROW: usize = 1;
    fn step_data(x: &[u32]) -> Result<StepData<'_>> {
        Ok(StepData::Ids(x))
    }
}

impl<const F: usize> StepInput for Sequence<F> {
    type Elem = f32;
    const ROW: usize = F;
    fn step_data(x: &[f32]) -> Result<StepData<'_>> {
        check_finite(x, "input", "the step's input")?;
        Ok(StepData::Values(x))
    }
}

/// Every layer's states (`h`, and `c` for LSTM) for a batch of sequences being fed one step
/// at a time, with the buffers a step needs. Made by [`Sequential::step_state`]; a clone
/// continues independently (to try several continuations of one prefix).
///
/// ```
/// use rnn_runtime::*;
/// static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[] };
/// let mut rng = seeded_rng(0);
/// let model = Sequential::new(
///     stack::<Sequence<2>, _>(Lstm::<2, 3>::new("sequential/lstm", RnnConfig::default(), &mut rng)),
///     &SPEC,
/// );
/// let mut state = model.step_state(1).unwrap();
/// let names: Vec<String> = state.states().into_iter().map(|a| a.name).collect();
/// assert_eq!(names, ["lstm/state_h", "lstm/state_c"]);
/// state.set_states(&[&[0.1, 0.2, 0.3], &[0.0; 3]]).unwrap();
/// assert_eq!(state.states()[0].data, vec![0.1, 0.2, 0.3]);
/// state.reset();
/// assert_eq!(state.states()[0].data, vec![0.0; 3]);
/// ```
#[derive(Clone, Debug)]
pub struct StepState {
    batch: usize,
    cx: StepContext,
    layers: Vec<LayerStep>,
}

impl StepState {
    /// Rows in the batch.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Sets every state back to zero, as before the first step.
    pub fn reset(&mut self) {
        for layer in &mut self.layers {
            layer.out.fill(0.0);
            if let Some(s) = &mut layer.scratch {
                for i in 0..layer.state_names.len() {
                    s.state_mut(i).fill(0.0);
                }
            }
        }
        self.cx = StepContext::new(self.batch);
    }

    /// Every layer's states, in layer order, named `{layer}/{state}` with Keras' state names
    /// (`lstm/state_h`, `lstm/state_c`), each `(batch, units)`.
    pub fn states(&self) -> Vec<Array> {
        let mut all = Vec::new();
        for layer in &self.layers {
            let Some(s) = &layer.scratch else { continue };
            for (data, name) in s.states().into_iter().zip(layer.state_names) {
                all.push(Array::new(
                    format!("{}/{name}", layer.layer),
                    vec![self.batch, data.len().checked_div(self.batch).unwrap_or(0)],
                    data.to_vec(),
                ));
            }
        }
        all
    }

    /// Replaces every state, in the order of [`StepState::states`], from row-major
    /// `(batch, units)` buffers. On any error (wrong count or length, NaN or infinity)
    /// nothing is changed.
    pub fn set_states(&mut self, states: &[&[f32]]) -> Result<()> {
        let current = self.states();
        if states.len() != current.len() {
            let names: Vec<&str> = current.iter().map(|a| a.name.as_str()).collect();
            return Err(Error::shape(
                "set_states",
                format!("{} states ({})", current.len(), names.join(", ")),
                format!("{} states", states.len()),
            ));
        }
        for (s, want) in states.iter().zip(&current) {
            if s.len() != want.data.len() {
                return Err(Error::shape(
                    format!("set_states: {}", want.name),
                    crate::error::fmt_shape(&want.shape),
                    format!("{} values", s.len()),
                ));
            }
            check_finite(s, "set_states", &want.name)?;
        }
        let mut given = states.iter();
        for layer in &mut self.layers {
            let Some(scratch) = &mut layer.scratch else {
                continue;
            };
            for i in 0..layer.state_names.len() {
                if let Some(src) = given.next() {
                    scratch.state_mut(i).copy_from_slice(src);
                }
            }
        }
        Ok(())
    }
}

#[model_api]
impl<S> Sequential<S>
where
    S: Stack,
    S::In: ModelInput,
{
    /// A zero state for `batch` rows, to feed sequences one time step at a time with
    /// [`Sequential::step`]. Errors name the layer when a layer cannot step (Bidirectional,
    /// GlobalAveragePooling1D, a recurrent layer with `go_backwards`), or when the model's
    /// input has no time axis.
    pub fn step_state(&self, batch: usize) -> Result<StepState> {
        if batch == 0 {
            return Err(Error::Empty {
                layer: "step_state".into(),
                what: "the batch has no rows".into(),
            });
        }
        if !S::In::TIME_AXIS {
            return Err(Error::config(
                "input",
                format!(
                    "the model's input {} has no time axis, so there are no steps to feed",
                    S::In::expected_shape(None)
                ),
            ));
        }
        let mut layers = Vec::with_capacity(self.stack.depth());
        self.stack.step_init(batch, &mut layers)?;
        Ok(StepState {
            batch,
            cx: StepContext::new(batch),
            layers,
        })
    }

    /// Feeds one time step. For token-id models (`TokenBatch` input) `x` is one id per row
    /// (`&[u32]`, `batch` of them); for `Input(_, F)` models (`Sequence<F>` input) `x` is
    /// `batch * F` values, row-major. Returns the model's output for this step, row-major
    /// `(batch, out_features)`, borrowed from the state: for a model whose recurrent layers
    /// return only the last output, what `predict` returns for the sequence fed so far; for
    /// `return_sequences` models, the output at this step.
    ///
    /// With `Embedding(.., mask_zero = true)`, id 0 is a padding step: recurrent layers keep
    /// their states and output the previous output, as in a whole-sequence pass. Wrong
    /// lengths, ids beyond the vocabulary and NaN inputs are errors that leave the state
    /// unchanged; so is a state made for another model.
    ///
    /// ```
    /// use rnn_runtime::*;
    /// static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[] };
    /// let mut rng = seeded_rng(0);
    /// let mut model = Sequential::new(
    ///     stack::<TokenBatch, _>(Embedding::<10, 4>::new("sequential/embedding", false, &mut rng))
    ///         .then(Gru::<4, 3>::new("sequential/gru", RnnConfig::default(), &mut rng)),
    ///     &SPEC,
    /// );
    /// let mut state = model.step_state(1).unwrap();
    /// model.step(&mut state, &[3]).unwrap();
    /// let y = model.step(&mut state, &[5]).unwrap().to_vec();
    /// let whole = model.predict(vec![vec![3u32, 5]]).unwrap();
    /// assert!(y.iter().zip(&whole.main().data).all(|(a, b)| (a - b).abs() < 1e-6));
    /// assert!(model.step(&mut state, &[10]).is_err()); // ids must be < 10
    /// ```
    pub fn step<'s>(
        &self,
        state: &'s mut StepState,
        x: &[<S::In as StepInput>::Elem],
    ) -> Result<&'s [f32]>
    where
        S::In: StepInput,
    {
        let row = <S::In as StepInput>::ROW;
        if Some(x.len()) != state.batch.checked_mul(row) {
            let shape = if row == 1 {
                format!("({},) for one step of token ids", state.batch)
            } else {
                format!("({}, {row}) for one step", state.batch)
            };
            return Err(Error::shape("input", shape, format!("{} values", x.len())));
        }
        let data = <S::In as StepInput>::step_data(x)?;
        self.stack.step(data, &mut state.cx, &mut state.layers)?;
        // A count of steps fed: 2^64 of them cannot happen.
        state.cx.step = state.cx.step.saturating_add(1);
        match state.layers.last() {
            Some(last) => Ok(&last.out),
            None => Err(Error::config("step", "the model has no layers")),
        }
    }
}

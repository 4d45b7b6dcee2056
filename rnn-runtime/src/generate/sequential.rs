//! Generation with models built by `model!`: token-id models step directly, one-hot
//! character models through [`OneHot`].

use super::StepModel;
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::input::ModelInput;
use crate::layer::Stack;
use crate::model::Sequential;
use crate::output::ModelOutput;
use crate::size::try_zeroed;
use crate::step::StepState;
use crate::tensor::{Sequence, TokenBatch};

/// Errors unless the model ends in a softmax, the only output that is a distribution over a
/// vocabulary to draw from.
pub(crate) fn check_softmax<S>(model: &Sequential<S>, path: &str) -> Result<()>
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    match model.layers().output_activation() {
        Some(Activation::Softmax) => Ok(()),
        other => Err(Error::config(
            path,
            format!(
                "the model's last layer outputs {}, not a softmax over a vocabulary; generation \
                 draws the next id from a `Dense(vocab, softmax)` output",
                match other {
                    Some(a) => format!("{a:?}").to_lowercase(),
                    None => "values without a softmax".to_string(),
                }
            ),
        )),
    }
}

/// A token-id model (`Embedding(..) => .. => Dense(vocab, softmax)`) steps one id per row.
/// A model type made by `model!` is passed as `&mut *model` (it dereferences to its
/// `Sequential`). [`StepModel::start`] errors when the model does not end in a softmax or
/// has a layer that cannot step (Bidirectional: use [`super::generate_words_window`]).
///
/// ```
/// use rnn_runtime::*;
/// use rnn_runtime::generate::{Sampler, StepModel, generate_ids};
/// static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[] };
/// let mut rng = seeded_rng(0);
/// let mut model = Sequential::new(
///     stack::<TokenBatch, _>(Embedding::<6, 4>::new("sequential/embedding", false, &mut rng))
///         .then(Lstm::<4, 8>::new("sequential/lstm", RnnConfig::default(), &mut rng))
///         .then(Dense::<8, 6>::new("sequential/dense", Activation::Softmax, &mut rng)),
///     &SPEC,
/// );
/// let ids = generate_ids(&mut model, &[1, 2], 5, &Sampler::Greedy, &mut seeded_rng(1)).unwrap();
/// assert_eq!(ids.len(), 5);
/// assert!(ids.iter().all(|&id| id < 6));
/// ```
impl<S> StepModel for Sequential<S>
where
    S: Stack<In = TokenBatch>,
    S::Out: ModelOutput,
{
    type State = StepState;

    fn start(&mut self, batch: usize) -> Result<StepState> {
        check_softmax(self, "generate")?;
        self.step_state(batch)
    }

    fn feed<'s>(&mut self, state: &'s mut StepState, ids: &[u32]) -> Result<&'s [f32]> {
        self.step(state, ids)
    }
}

/// A character model whose input is one-hot rows (`Input(_, V) => .. => Dense(V, softmax)`)
/// seen as a token model: each id becomes a one-hot row of `V` values, written into a buffer
/// of the state, so a step allocates nothing.
///
/// ```
/// use rnn_runtime::*;
/// use rnn_runtime::generate::{OneHot, Sampler, generate_ids};
/// static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[] };
/// let mut rng = seeded_rng(0);
/// let model = Sequential::new(
///     stack::<Sequence<5>, _>(Gru::<5, 8>::new("sequential/gru", RnnConfig::default(), &mut rng))
///         .then(Dense::<8, 5>::new("sequential/dense", Activation::Softmax, &mut rng)),
///     &SPEC,
/// );
/// let ids = generate_ids(&mut OneHot::new(&model), &[1, 4], 3, &Sampler::Greedy, &mut seeded_rng(1));
/// assert_eq!(ids.unwrap().len(), 3);
/// // Ids must be below V = 5.
/// assert!(generate_ids(&mut OneHot::new(&model), &[5], 3, &Sampler::Greedy, &mut seeded_rng(1)).is_err());
/// ```
pub struct OneHot<'m, S: Stack> {
    model: &'m Sequential<S>,
}

impl<'m, S: Stack> OneHot<'m, S> {
    /// Wraps a model with a one-hot `Sequence<V>` input (a `model!` type dereferences to it:
    /// `OneHot::new(&model)`).
    ///
    /// ```
    /// use rnn_runtime::*;
    /// static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[] };
    /// let mut rng = seeded_rng(0);
    /// let model = Sequential::new(
    ///     stack::<Sequence<3>, _>(Dense::<3, 3>::new("sequential/dense", Activation::Softmax, &mut rng)),
    ///     &SPEC,
    /// );
    /// let _one_hot = rnn_runtime::generate::OneHot::new(&model);
    /// ```
    pub fn new(model: &'m Sequential<S>) -> Self {
        OneHot { model }
    }
}

/// The step state of a [`OneHot`] model, with the one-hot rows of the current step.
#[derive(Clone, Debug)]
pub struct OneHotState {
    step: StepState,
    rows: Vec<f32>,
}

impl<const V: usize, S> StepModel for OneHot<'_, S>
where
    S: Stack<In = Sequence<V>>,
    S::Out: ModelOutput,
{
    type State = OneHotState;

    fn start(&mut self, batch: usize) -> Result<OneHotState> {
        check_softmax(self.model, "generate")?;
        Ok(OneHotState {
            step: self.model.step_state(batch)?,
            rows: try_zeroed("generate", batch.saturating_mul(V))?,
        })
    }

    fn feed<'s>(&mut self, state: &'s mut OneHotState, ids: &[u32]) -> Result<&'s [f32]> {
        if ids.len().checked_mul(V) != Some(state.rows.len()) {
            return Err(Error::shape(
                "input",
                format!(
                    "({},) ids for one step",
                    state.rows.len().checked_div(V).unwrap_or(0)
                ),
                format!("{} ids", ids.len()),
            ));
        }
        if let Some(&bad) = ids.iter().find(|&&id| id as usize >= V) {
            return Err(Error::config(
                "OneHot",
                format!("id {bad} has no one-hot row: the model's input has {V} features"),
            ));
        }
        state.rows.fill(0.0);
        for (row, &id) in state.rows.chunks_exact_mut(V).zip(ids) {
            // Every id was checked to be below V just above.
            if let Some(x) = row.get_mut(id as usize) {
                *x = 1.0;
            }
        }
        self.model.step(&mut state.step, &state.rows)
    }
}

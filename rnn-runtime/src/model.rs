//! `Sequential`: a typed chain of layers with Keras' model API around it.

use rnn_macros::model_api;

use crate::error::{Error, Result};
use crate::input::{IntoInput, ModelInput};
use crate::kernels::pool::on_pool;
use crate::layer::{Mode, Stack};
use crate::output::{Array, ModelOutput, Outputs};
use crate::param::{Param, Weight, WeightData};
use crate::summary::{ModelSpec, render};
use crate::tensor::Tensor;
use crate::train::compiled::Compiled;

mod training;

/// A model: the chain of layers `S` plus its static description (names, shapes, counts).
///
/// `model!` generates a type that dereferences to a `Sequential`, so every method here is a
/// method of the generated model. It can also be built by hand from a [`Stack`].
///
/// ```
/// use rnn_runtime::*;
/// static SPEC: ModelSpec = ModelSpec {
///     name: "sequential",
///     input_time: None,
///     input_batch: None,
///     layers: &[LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }],
/// };
/// let mut rng = seeded_rng(0);
/// let mut model = Sequential::new(
///     stack::<Features<2>, _>(Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut rng)),
///     &SPEC,
/// );
/// let y = model.predict(vec![vec![0.0, 0.0]]).unwrap();
/// assert_eq!(y.main().data, vec![0.5]);
/// ```
pub struct Sequential<S: Stack> {
    pub(crate) stack: S,
    spec: &'static ModelSpec,
    /// Input and output of the last training forward pass, for `backward`.
    last: Option<(S::In, S::Out)>,
    /// Loss, optimizer and metrics, once `compile` was called.
    compiled: Option<Compiled>,
}

impl<S: Stack + Clone> Clone for Sequential<S> {
    fn clone(&self) -> Self {
        // A clone starts uncompiled: optimizer state belongs to one training run.
        Sequential {
            stack: self.stack.clone(),
            spec: self.spec,
            last: None,
            compiled: None,
        }
    }
}

impl<S: Stack + std::fmt::Debug> std::fmt::Debug for Sequential<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequential")
            .field("name", &self.spec.name)
            .field("layers", &self.stack)
            .finish()
    }
}

#[model_api]
impl<S> Sequential<S>
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    /// Wraps a chain of layers with its description.
    pub fn new(stack: S, spec: &'static ModelSpec) -> Self {
        Sequential {
            stack,
            spec,
            last: None,
            compiled: None,
        }
    }

    /// The static description: layer names, classes, output shapes, counts.
    pub fn spec(&self) -> &'static ModelSpec {
        self.spec
    }

    /// The chain of layers.
    pub fn layers(&self) -> &S {
        &self.stack
    }

    /// The chain of layers, mutably.
    pub fn layers_mut(&mut self) -> &mut S {
        &mut self.stack
    }

    /// Number of trainable scalars.
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// // A Dense(1) layer on two features: two kernel weights and a bias.
    /// assert_eq!(model.count_params(), 3);
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    ///
    /// The weights held, so that a table sized at run time (`Embedding(_, 16)` built with
    /// `with_vocab`) is counted with its actual vocabulary.
    pub fn count_params(&self) -> usize {
        self.stack.params().iter().map(|p| p.len()).sum()
    }

    /// Runs the model in inference mode on anything convertible to its input: token ids
    /// (`Vec<Vec<u32>>`), real sequences (`Vec<Vec<Vec<f32>>>`), vectors, a flat buffer with a
    /// shape, or the input tensor itself. Returns every output in Keras' order.
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// let y = model.predict(vec![vec![0.0, 0.0], vec![1.0, -1.0]])?;
    /// assert_eq!(y.main().shape, vec![2, 1]);
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn predict<X: IntoInput<S::In>>(&mut self, x: X) -> Result<Outputs> {
        let x = x.into_input()?;
        self.forward(&x, Mode::Inference)
    }

    /// Runs the model on a typed input. When `mode.records()` (training, or inference with
    /// gradients) the input and output are kept for [`Sequential::backward`].
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// let x = Features::<2>::from_rows(&[vec![0.5, -0.5]])?;
    /// let out = model.forward(&x, Mode::Inference)?;
    /// assert_eq!(out.main().data.len(), 1);
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn forward(&mut self, x: &S::In, mode: Mode) -> Result<Outputs> {
        if x.batch() == 0 {
            // Only `zeros(0, ..)` builds such a tensor; every other constructor rejects it.
            return Err(crate::tensor::empty_batch("input"));
        }
        crate::fixed_batch::check_exact(self.spec, x)?;
        check_time(self.spec, x)?;
        self.last = None;
        let stack = &mut self.stack;
        let out = on_pool(x.batch(), || stack.forward(x, mode))?;
        let mut arrays = out.to_arrays();
        arrays.extend(self.stack.states());
        if mode.records() {
            self.last = Some((x.clone(), out));
        }
        Ok(Outputs::new(arrays))
    }

    /// Back-propagates the gradients of every output (row-major, in the order and shapes of
    /// the last recording forward pass's outputs), accumulating weight gradients. Returns the
    /// gradient with respect to the input (`()` for token ids).
    pub fn backward(&mut self, grads: &[&[f32]]) -> Result<<S::In as Tensor>::Grad> {
        let (x, out) = self.last.take().ok_or_else(|| {
            Error::config(
                "backward",
                "call forward(.., Mode::Training) or forward(.., Mode::InferenceGrad) before backward",
            )
        })?;
        let states = self.stack.states().len();
        let (main, state_grads) = grads
            .split_at_checked(S::Out::ARRAYS)
            .filter(|(_, state_grads)| state_grads.len() == states)
            .ok_or_else(|| {
                Error::shape(
                    "backward",
                    format!(
                        "one gradient per output ({})",
                        S::Out::ARRAYS.saturating_add(states)
                    ),
                    format!("{} gradients", grads.len()),
                )
            })?;
        let dy = out.grad_from_arrays(main)?;
        let stack = &mut self.stack;
        on_pool(x.batch(), || stack.backward(&x, dy, state_grads))
    }

    /// The accumulated gradient of every weight, named and shaped like [`Self::get_weights`].
    pub fn gradients(&self) -> Vec<Weight> {
        self.stack
            .params()
            .into_iter()
            .map(|p| Weight {
                name: p.name().to_string(),
                shape: p.shape().to_vec(),
                values: if p.grad().is_empty() {
                    vec![0.0; p.len()]
                } else {
                    p.grad().to_vec()
                },
            })
            .collect()
    }

    /// Resets every weight gradient to zero.
    pub fn zero_grad(&mut self) {
        self.stack
            .params_mut()
            .into_iter()
            .for_each(Param::zero_grad);
    }

    /// Keras' `model.summary()` text, for an 80-column terminal. Once the model has trained,
    /// it also counts the optimizer's state, as Keras does.
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// assert!(model.summary().contains("Total params: 3"));
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn summary(&self) -> String {
        self.summary_width(80)
    }

    /// Keras' `model.summary()` text for a terminal `columns` wide.
    pub fn summary_width(&self, columns: usize) -> String {
        // Only a table sized at run time makes the held weights differ from the compiler's
        // count, and such an `Embedding` is always the first layer.
        let run_time = self.count_params().saturating_sub(S::PARAMS);
        render(self.spec, columns, self.optimizer_state_size(), run_time)
    }

    /// Every weight in Keras' `model.get_weights()` order, with its Keras name and shape.
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// let weights = model.get_weights();
    /// assert_eq!(weights[0].name, "sequential/dense/kernel");
    /// assert_eq!(weights[0].shape, vec![2, 1]);
    /// assert_eq!(weights[1].name, "sequential/dense/bias");
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn get_weights(&self) -> Vec<Weight> {
        self.stack.params().into_iter().map(Weight::from).collect()
    }

    /// Replaces every weight, in Keras' `get_weights()` order, from flat row-major buffers
    /// (or [`Weight`]s, whose shapes are checked too). On any error (wrong count, wrong
    /// length or shape, NaN or infinity) nothing is changed.
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// model.set_weights(&[vec![1.0, 2.0], vec![0.0]])?;
    /// assert_eq!(model.predict(vec![vec![0.0, 0.0]])?.main().data, vec![0.5]);
    /// // One array short: an error, and the weights stay as they were.
    /// assert!(model.set_weights(&[vec![3.0, 4.0]]).is_err());
    /// assert_eq!(model.get_weights()[0].values, vec![1.0, 2.0]);
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn set_weights<W: WeightData>(&mut self, weights: &[W]) -> Result<()> {
        let current = self.get_weights();
        if weights.len() != current.len() {
            let names: Vec<&str> = current.iter().map(|w| w.name.as_str()).collect();
            return Err(Error::WeightCount {
                expected: current.len(),
                actual: weights.len(),
                names: names.join(", "),
            });
        }
        // Validate everything on copies first, so a bad array leaves the model untouched.
        for (w, cur) in weights.iter().zip(&current) {
            let mut probe = Param::new(cur.name.clone(), cur.shape.clone(), cur.values.clone());
            probe.assign(w.values(), w.shape())?;
        }
        for (p, w) in self.stack.params_mut().into_iter().zip(weights) {
            p.assign(w.values(), w.shape())?;
        }
        Ok(())
    }

    /// `predict` in batches of `batch_size` rows, for inputs too large for one pass; the
    /// outputs are concatenated along the batch axis.
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec {
    /// #     name: "sequential",
    /// #     input_time: None,
    /// #     input_batch: None,
    /// #     layers: &[LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }],
    /// # };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// let x = vec![vec![0.5, -1.0]; 5];
    /// let all = model.predict_batched(&x, 2).unwrap();
    /// assert_eq!(all.main().shape, vec![5, 1]);
    /// assert_eq!(all, model.predict(&x).unwrap());
    /// ```
    pub fn predict_batched<X: IntoInput<S::In>>(
        &mut self,
        x: X,
        batch_size: usize,
    ) -> Result<Outputs> {
        if batch_size == 0 {
            return Err(Error::config("predict", "batch_size must be at least 1"));
        }
        let x = x.into_input()?;
        let n = x.batch();
        let mut all: Vec<Array> = Vec::new();
        for start in (0..n).step_by(batch_size) {
            let end = start.saturating_add(batch_size).min(n);
            let part = self.forward(&x.rows(start, end), Mode::Inference)?;
            if all.is_empty() {
                all = part.into_vec();
            } else {
                for (a, p) in all.iter_mut().zip(part.into_vec()) {
                    if let (Some(rows), Some(more)) = (a.shape.first_mut(), p.shape.first()) {
                        #[allow(
                            clippy::arithmetic_side_effects,
                            reason = "the parts' rows add up to at most `n`, the input's rows"
                        )]
                        {
                            *rows += more;
                        }
                    }
                    a.data.extend(p.data);
                }
            }
        }
        Ok(Outputs::new(all))
    }

    /// Scalars of optimizer state, once the optimizer has taken a step (for `summary`).
    fn optimizer_state_size(&self) -> Option<usize> {
        let compiled = self.compiled.as_ref()?;
        compiled.state_size(&self.stack.params())
    }
}

/// Rejects an input whose number of time steps differs from the one the model declares.
fn check_time<I: ModelInput>(spec: &ModelSpec, x: &I) -> Result<()> {
    if let (Some(want), Some(got)) = (spec.input_time, x.time_steps())
        && want != got
    {
        let mut actual = x.shape();
        if let Some(rows) = actual.first_mut() {
            *rows = x.batch();
        }
        return Err(Error::shape(
            "input",
            I::expected_shape(Some(want)),
            crate::error::fmt_shape(&actual),
        ));
    }
    Ok(())
}

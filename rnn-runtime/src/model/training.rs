//! Keras' training API on a model (`compile`, `fit`, `evaluate`, `train_on_batch`): each
//! method hands the training loop its narrow view of the model and what `compile` set up.

use rnn_macros::model_api;

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::input::{IntoInput, ModelInput};
use crate::kernels::pool::on_pool;
use crate::layer::{Mode, Stack};
use crate::loss::Loss;
use crate::model::{Sequential, check_time};
use crate::optim::Optimizer;
use crate::output::ModelOutput;
use crate::param::Param;
use crate::summary::ModelSpec;
use crate::tensor::Tensor;
use crate::train::compiled::Compiled;
use crate::train::history::{History, Logs};
use crate::train::metrics::Metric;
use crate::train::network::Network;
use crate::train::options::{Fit, ValidationData};
use crate::train::run;
use crate::train::targets::IntoTargets;

#[model_api]
impl<S> Sequential<S>
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    /// Sets the loss, the optimizer and the metrics for `fit` and `evaluate` (Keras'
    /// `model.compile`). Compiling again starts a fresh optimizer.
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
    /// model.compile(Loss::binary_crossentropy(), Adam::new(0.01), &[Metric::Accuracy]);
    /// // A zero input meets a zero bias: p = 0.5, which Keras counts as class 0.
    /// let logs = model.evaluate(vec![vec![0.0, 0.0]], vec![0.0], 32).unwrap();
    /// assert_eq!(logs.get("accuracy"), Some(1.0));
    /// ```
    pub fn compile(&mut self, loss: Loss, optimizer: impl Optimizer + 'static, metrics: &[Metric]) {
        self.compiled = Some(Compiled::new(loss, Box::new(optimizer), metrics));
    }

    /// Trains on one batch and returns its loss and metrics (Keras' `train_on_batch`).
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
    /// model.compile(Loss::binary_crossentropy(), Sgd::new(0.1), &[]);
    /// let before = model.get_weights();
    /// // A zero input meets a zero bias: p = 0.5, so the loss is ln 2 before the step.
    /// let logs = model.train_on_batch(vec![vec![0.0, 0.0]; 2], vec![1.0, 1.0]).unwrap();
    /// assert!((logs.loss() - std::f32::consts::LN_2).abs() < 1e-6);
    /// assert_ne!(model.get_weights(), before);
    /// ```
    pub fn train_on_batch<X, Y>(&mut self, x: X, y: Y) -> Result<Logs>
    where
        X: IntoInput<S::In>,
        Y: IntoTargets,
    {
        crate::debug_build::warn_once();
        let (mut net, compiled) = self.training("train_on_batch")?;
        run::train_on_batch(&mut net, compiled, x, y)
    }

    /// Trains the model (Keras' `model.fit`): `epochs` passes over `x` and `y` in batches,
    /// optionally validating after each epoch, and returns the logged values of every epoch.
    ///
    /// Every input and target is checked before the first step, so bad data is an error that
    /// leaves the weights unchanged. The same model seed, data and `Fit::seed` give the same
    /// weights. If the loss, a gradient or an updated weight stops being finite, training
    /// stops with an error naming the epoch and step, the weights and the optimizer's state
    /// are those of the last good step, and [`Sequential::history`] keeps the epochs done.
    /// The optimizer's hyper-parameters and the early-stopping monitor are checked before
    /// the first step.
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
    /// model.compile(Loss::binary_crossentropy(), Sgd::new(0.5), &[]);
    /// let x = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
    /// let history = model.fit(&x, vec![1.0, 0.0], Fit::new().epochs(20).verbose(0)).unwrap();
    /// assert_eq!(history.epochs(), 20);
    /// assert!(history.last().unwrap().loss() < 0.5);
    /// ```
    pub fn fit<X, Y, V>(&mut self, x: X, y: Y, options: Fit<V>) -> Result<History>
    where
        X: IntoInput<S::In>,
        Y: IntoTargets,
        V: ValidationData<S::In>,
    {
        crate::debug_build::warn_once();
        let (mut net, compiled) = self.training("fit")?;
        run::fit(&mut net, compiled, x, y, options)
    }

    /// The logged values of the last `fit` (Keras' `model.history`), also when it stopped
    /// with an error: then the epochs completed before it. `None` before the first `fit`.
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
    /// model.compile(Loss::binary_crossentropy(), Sgd::new(0.5), &[]);
    /// assert!(model.history().is_none());
    /// model.fit(vec![vec![0.0, 1.0]], vec![1.0], Fit::new().epochs(3).verbose(0)).unwrap();
    /// assert_eq!(model.history().unwrap().epochs(), 3);
    /// ```
    pub fn history(&self) -> Option<&History> {
        self.compiled.as_ref()?.history.as_ref()
    }

    /// Loss and metrics on `x` and `y` in inference mode (Keras' `model.evaluate`).
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
    /// let err = model.evaluate(vec![vec![0.0, 1.0]], vec![1.0], 32).unwrap_err();
    /// assert!(err.to_string().contains("compile"), "{err}");
    /// model.compile(Loss::mean_squared_error(), Sgd::new(0.1), &[]);
    /// // A zero input meets a zero bias: p = 0.5.
    /// let logs = model.evaluate(vec![vec![0.0, 0.0]], vec![1.0], 32).unwrap();
    /// assert!((logs.loss() - 0.25).abs() < 1e-6);
    /// ```
    pub fn evaluate<X, Y>(&mut self, x: X, y: Y, batch_size: usize) -> Result<Logs>
    where
        X: IntoInput<S::In>,
        Y: IntoTargets,
    {
        let (mut net, compiled) = self.training("evaluate")?;
        run::evaluate(&mut net, compiled, x, y, batch_size)
    }

    /// The training loop's view of the layers, and what `compile` set up.
    fn training(&mut self, what: &str) -> Result<(Net<'_, S>, &mut Compiled)> {
        let compiled = self
            .compiled
            .as_mut()
            .ok_or_else(|| Error::config(what, "call compile(loss, optimizer, metrics) first"))?;
        let net = Net {
            stack: &mut self.stack,
            spec: self.spec,
        };
        Ok((net, compiled))
    }
}

/// The layers of a model as the training loop sees them.
struct Net<'a, S> {
    stack: &'a mut S,
    spec: &'static ModelSpec,
}

impl<S> Network for Net<'_, S>
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    type In = S::In;
    type Out = S::Out;

    fn check_input(&self, x: &S::In, what: &str) -> Result<()> {
        crate::fixed_batch::check_whole(self.spec, x, what)?;
        check_time(self.spec, x)?;
        self.stack.check_input(x)
    }

    fn check_batch_size(&self, batch_size: usize, what: &str) -> Result<()> {
        crate::fixed_batch::check_batch_size(self.spec, batch_size, what)
    }

    fn forward(&mut self, x: &S::In, mode: Mode) -> Result<S::Out> {
        let stack = &mut *self.stack;
        on_pool(x.batch(), || stack.forward(x, mode))
    }

    fn extra_outputs(&self) -> usize {
        self.stack.states().len()
    }

    fn output_activation(&self) -> Option<Activation> {
        self.stack.output_activation()
    }

    fn backward(
        &mut self,
        x: &S::In,
        dy: <S::Out as Tensor>::Grad,
        from_logits: bool,
    ) -> Result<()> {
        let stack = &mut *self.stack;
        on_pool(x.batch(), || {
            if from_logits {
                stack.backward_logits(x, dy, &[])
            } else {
                stack.backward(x, dy, &[])
            }
        })?;
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        self.stack.params()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.stack.params_mut()
    }
}

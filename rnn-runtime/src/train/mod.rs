//! Training: `compile`, `fit`, `evaluate` and batched `predict`, with Keras' semantics.
//!
//! One step: forward in training mode, the loss on the main output (masked sequence steps
//! weighted as Keras weighs them), the backward pass (from the logits when the loss is a
//! cross-entropy after sigmoid or softmax, which stays finite where the probabilities
//! underflow), a finiteness check, then the optimizer. A step whose loss or gradient is not
//! finite stops training with an error before any weight changes.

pub(crate) mod history;
pub(crate) mod metrics;
pub(crate) mod options;
pub(crate) mod progress;
pub(crate) mod targets;

use rand::seq::SliceRandom;

use crate::error::{Error, Result, fmt_shape};
use crate::init::seeded_rng;
use crate::input::{IntoInput, ModelInput};
use crate::kernels::pool::on_pool;
use crate::layer::{Mode, Stack};
use crate::loss::{Loss, Target};
use crate::model::Sequential;
use crate::optim::Optimizer;
use crate::output::{Array, ModelOutput, Outputs};
use crate::param::Param;
use crate::tensor::Tensor;

use history::{History, Logs};
use metrics::Metric;
use options::{EarlyStopping, Fit, ValidationData};
use progress::Progress;
use targets::{IntoTargets, TargetData, Targets};

/// What `compile` sets up.
pub(crate) struct Compiled {
    loss: Loss,
    optimizer: Box<dyn Optimizer>,
    metrics: Vec<Metric>,
    /// Optimizer steps taken: Keras counts the optimizer's state once it has been built.
    steps: usize,
}

/// Sums over the batches of an epoch (or an evaluation): Keras weighs each batch's loss by
/// its size and each metric by its (masked) row count.
#[derive(Default)]
struct Totals {
    loss: f64,
    samples: f64,
    metrics: Vec<(f64, f64)>,
}

impl Totals {
    fn add(&mut self, batch: &BatchResult) {
        self.loss += batch.loss * batch.samples;
        self.samples += batch.samples;
        self.metrics.resize(batch.metrics.len(), (0.0, 0.0));
        for (t, m) in self.metrics.iter_mut().zip(&batch.metrics) {
            t.0 += m.0;
            t.1 += m.1;
        }
    }

    /// Metrics first, then the loss: the order of Keras' logs.
    fn logs(&self, metrics: &[Metric]) -> Logs {
        let mut values: Vec<(String, f32)> = metrics
            .iter()
            .zip(&self.metrics)
            .map(|(m, &(hit, w))| {
                (
                    m.keras_name().to_string(),
                    (hit / w.max(f64::MIN_POSITIVE)) as f32,
                )
            })
            .collect();
        values.push((
            "loss".to_string(),
            (self.loss / self.samples.max(1.0)) as f32,
        ));
        Logs::new(values)
    }
}

struct BatchResult {
    loss: f64,
    samples: f64,
    metrics: Vec<(f64, f64)>,
}

/// Where a training step is, for error messages (1-based).
#[derive(Clone, Copy)]
struct StepAt {
    epoch: usize,
    step: usize,
}

/// The loss's view of the targets, given the output shape, after checking they fit.
fn loss_target<'t>(
    loss: &Loss,
    y: &'t Targets,
    out_shape: &[usize],
    converted: &'t mut Vec<f32>,
) -> Result<Target<'t>> {
    let (rest, classes) = out_shape.split_at(out_shape.len() - 1);
    let classes = classes[0];
    let sparse = matches!(loss, Loss::SparseCategoricalCrossentropy { .. });
    let expected = |shape: &[usize]| fmt_shape(shape);
    match y.data() {
        TargetData::Classes(ids) if sparse => {
            if y.shape() != rest {
                return Err(Error::shape(
                    "targets",
                    format!("class ids of shape {}", expected(rest)),
                    fmt_shape(y.shape()),
                ));
            }
            Ok(Target::Classes(ids))
        }
        TargetData::Values(_) if sparse => Err(Error::config(
            "targets",
            "sparse_categorical_crossentropy takes class ids (u32), not real values: \
             give the class of each sample, or use categorical_crossentropy with one-hot rows",
        )),
        data => {
            let squeezed = classes == 1 && y.shape() == rest;
            if y.shape() != out_shape && !squeezed {
                return Err(Error::shape(
                    "targets",
                    format!(
                        "{}{}",
                        expected(out_shape),
                        if classes == 1 {
                            format!(" or {}", expected(rest))
                        } else {
                            String::new()
                        }
                    ),
                    fmt_shape(y.shape()),
                ));
            }
            match data {
                TargetData::Values(v) => Ok(Target::Dense(v)),
                TargetData::Classes(ids) if classes == 1 => {
                    // 0/1 labels given as integers, as Keras accepts them.
                    *converted = ids.iter().map(|&c| c as f32).collect();
                    Ok(Target::Dense(converted))
                }
                TargetData::Classes(_) => Err(Error::config(
                    "targets",
                    format!(
                        "{} takes one-hot rows of {classes} values (f32), not class ids: use \
                         sparse_categorical_crossentropy for class ids",
                        loss.keras_name()
                    ),
                )),
            }
        }
    }
}

/// The first parameter whose gradient holds NaN or infinity.
fn non_finite_grad(params: &[&mut Param]) -> Option<String> {
    params
        .iter()
        .find(|p| p.grad().iter().any(|g| !g.is_finite()))
        .map(|p| p.name().to_string())
}

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
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// model.compile(Loss::binary_crossentropy(), Sgd::new(0.5), &[Metric::BinaryAccuracy]);
    /// let x = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0], vec![0.0, 0.0]];
    /// let y = vec![1.0f32, 0.0, 1.0, 0.0];
    /// let logs = model.train_on_batch(&x, &y)?;
    /// assert!(logs.get("loss").is_some());
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn compile(&mut self, loss: Loss, optimizer: impl Optimizer + 'static, metrics: &[Metric]) {
        self.compiled = Some(Compiled {
            loss,
            optimizer: Box::new(optimizer),
            metrics: metrics.to_vec(),
            steps: 0,
        });
    }

    /// Scalars of optimizer state, once the optimizer has taken a step (for `summary`).
    pub(crate) fn optimizer_state_size(&self) -> Option<usize> {
        let compiled = self.compiled.as_ref().filter(|c| c.steps > 0)?;
        let params = self.stack.params();
        let count = params.iter().map(|p| p.len()).sum();
        Some(compiled.optimizer.state_size(count, params.len()))
    }

    fn compiled(&self, what: &str) -> Result<&Compiled> {
        self.compiled
            .as_ref()
            .ok_or_else(|| Error::config(what, "call compile(loss, optimizer, metrics) first"))
    }

    /// Checks inputs and targets against the model (rows, token ids, target shape, class ids)
    /// before any step, so that bad data is reported before a weight changes.
    fn check_data(&mut self, x: &S::In, y: &Targets, what: &str) -> Result<()> {
        let loss = self.compiled(what)?.loss;
        check_rows(x, y)?;
        self.stack.check_input(x)?;
        let probe = self.stack.forward(&x.rows(0, 1), Mode::Inference)?;
        if probe.array_count() != 1 || !self.stack.states().is_empty() {
            return Err(Error::config(
                what,
                "the model returns several outputs (return_state or merge_mode = none); \
                 training and evaluation need a single output",
            ));
        }
        let mut shape = probe.to_arrays().swap_remove(0).shape;
        shape[0] = y.len();
        let classes = shape[shape.len() - 1];
        let mut converted = Vec::new();
        if let Target::Classes(ids) = loss_target(&loss, y, &shape, &mut converted)?
            && let Some((row, &class)) = ids
                .iter()
                .enumerate()
                .find(|&(_, &c)| c as usize >= classes)
        {
            return Err(Error::ClassOutOfRange {
                loss: loss.keras_name().to_string(),
                class,
                row,
                classes,
            });
        }
        Ok(())
    }

    /// One batch: forward, loss, metrics and, when training, backward and an optimizer step.
    /// The batch comes from data that passed [`Self::check_data`].
    fn run_batch(&mut self, x: &S::In, y: &Targets, train: Option<StepAt>) -> Result<BatchResult> {
        let mode = if train.is_some() {
            Mode::Training
        } else {
            Mode::Inference
        };
        let stack = &mut self.stack;
        // `check_data` has made sure, before the first batch, that there is a single output.
        let out = on_pool(x.batch(), || stack.forward(x, mode))?;
        let arrays = out.to_arrays();
        let Array {
            shape, data: pred, ..
        } = &arrays[0];
        let classes = *shape
            .last()
            .expect("outputs have a batch axis and features");
        let mask = out.row_mask();
        let compiled = self.compiled.as_ref().expect("checked by the caller");
        let loss = compiled.loss;
        let mut converted = Vec::new();
        let target = loss_target(&loss, y, shape, &mut converted)?;

        let metrics = compiled
            .metrics
            .iter()
            .map(|m| m.batch(pred, y.data(), classes, mask.as_deref()))
            .collect::<Result<Vec<_>>>()?;
        let samples = x.batch() as f64;

        let Some(at) = train else {
            let value = loss.compute(pred, target, classes, mask.as_deref(), None)?;
            return Ok(BatchResult {
                loss: value as f64,
                samples,
                metrics,
            });
        };

        let mut grad = vec![0.0f32; pred.len()];
        let fused = match self.stack.output_activation() {
            Some(act) => {
                loss.logits_grad(act, pred, target, classes, mask.as_deref(), &mut grad)?
            }
            None => false,
        };
        let value = if fused {
            loss.compute(pred, target, classes, mask.as_deref(), None)?
        } else {
            loss.compute(pred, target, classes, mask.as_deref(), Some(&mut grad))?
        };
        if !value.is_finite() {
            return Err(Error::NonFiniteLoss {
                epoch: at.epoch,
                step: at.step,
                value,
            });
        }
        let dy = out.grad_from_arrays(&[&grad])?;
        let stack = &mut self.stack;
        on_pool(x.batch(), || {
            if fused {
                stack.backward_logits(x, dy)
            } else {
                stack.backward(x, dy)
            }
        })?;

        let compiled = self.compiled.as_mut().expect("checked by the caller");
        let mut params = self.stack.params_mut();
        if let Some(weight) = non_finite_grad(&params) {
            params.iter_mut().for_each(|p| p.zero_grad());
            return Err(Error::NonFiniteGradient {
                epoch: at.epoch,
                step: at.step,
                weight,
            });
        }
        compiled.optimizer.step(&mut params);
        compiled.steps += 1;
        params.iter_mut().for_each(|p| p.zero_grad());
        Ok(BatchResult {
            loss: value as f64,
            samples,
            metrics,
        })
    }

    /// Trains on one batch and returns its loss and metrics (Keras' `train_on_batch`).
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// model.compile(Loss::binary_crossentropy(), Sgd::new(0.5), &[Metric::BinaryAccuracy]);
    /// let x = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0], vec![0.0, 0.0]];
    /// let y = vec![1.0f32, 0.0, 1.0, 0.0];
    /// let logs = model.train_on_batch(&x, &y)?;
    /// assert!(logs.get("binary_accuracy").is_some());
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn train_on_batch<X, Y>(&mut self, x: X, y: Y) -> Result<Logs>
    where
        X: IntoInput<S::In>,
        Y: IntoTargets,
    {
        let (x, y) = (x.into_input()?, y.into_targets()?);
        self.check_data(&x, &y, "train_on_batch")?;
        let metrics = self.compiled("train_on_batch")?.metrics.clone();
        let mut totals = Totals::default();
        totals.add(&self.run_batch(&x, &y, Some(StepAt { epoch: 1, step: 1 }))?);
        Ok(totals.logs(&metrics))
    }

    /// Trains the model (Keras' `model.fit`): `epochs` passes over `x` and `y` in batches,
    /// optionally validating after each epoch, and returns the logged values of every epoch.
    ///
    /// The same model seed, data and `Fit::seed` give the same weights. If the loss or a
    /// gradient stops being finite, training stops with an error naming the epoch and step
    /// and the weights are those of the last good step.
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// model.compile(Loss::binary_crossentropy(), Sgd::new(0.5), &[Metric::BinaryAccuracy]);
    /// let x = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0], vec![0.0, 0.0]];
    /// let y = vec![1.0f32, 0.0, 1.0, 0.0];
    /// let history = model.fit(&x, &y, Fit::new().batch_size(2).epochs(20).verbose(0))?;
    /// let loss = history.get("loss");
    /// assert_eq!(loss.len(), 20);
    /// assert!(loss[19] < loss[0]);
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn fit<X, Y, V>(&mut self, x: X, y: Y, options: Fit<V>) -> Result<History>
    where
        X: IntoInput<S::In>,
        Y: IntoTargets,
        V: ValidationData<S::In>,
    {
        let metrics = self.compiled("fit")?.metrics.clone();
        let (x, y) = (x.into_input()?, y.into_targets()?);
        self.check_data(&x, &y, "fit")?;
        if options.batch_size == 0 {
            return Err(Error::config("fit", "batch_size must be at least 1"));
        }
        if !(0.0..1.0).contains(&options.validation_split) {
            return Err(Error::config(
                "fit",
                format!(
                    "validation_split must be in [0, 1), got {}",
                    options.validation_split
                ),
            ));
        }
        let validation = options.validation.into_validation()?;
        let (train_x, train_y, validation) = match validation {
            Some((vx, vy)) => {
                self.check_data(&vx, &vy, "fit")?;
                (x, y, Some((vx, vy)))
            }
            None if options.validation_split > 0.0 => {
                // Keras holds out the last samples, before any shuffling.
                let n = x.batch();
                let split = (n as f64 * (1.0 - options.validation_split)).floor() as usize;
                if split == 0 || split == n {
                    return Err(Error::config(
                        "fit",
                        format!(
                            "validation_split {} of {n} samples leaves {split} for training and \
                             {} for validation; both need at least one",
                            options.validation_split,
                            n - split
                        ),
                    ));
                }
                (
                    x.rows(0, split),
                    y.rows(0, split),
                    Some((x.rows(split, n), y.rows(split, n))),
                )
            }
            None => (x, y, None),
        };
        let mut stopper = options.early_stopping.clone().map(Stopper::new);
        if let Some(s) = &stopper
            && s.config.monitor.starts_with("val_")
            && validation.is_none()
        {
            return Err(Error::config(
                "fit",
                format!(
                    "early stopping monitors `{}`, but there is no validation data: set \
                     validation_split or validation_data, or monitor `loss`",
                    s.config.monitor
                ),
            ));
        }

        self.stack
            .params_mut()
            .into_iter()
            .for_each(Param::zero_grad);
        let mut rng = seeded_rng(options.seed);
        let n = train_x.batch();
        let bs = options.batch_size;
        let steps = n.div_ceil(bs);
        let mut order: Vec<usize> = (0..n).collect();
        let mut history = History::default();
        for epoch in 1..=options.epochs {
            if options.shuffle {
                order.shuffle(&mut rng);
            }
            let progress = Progress::start(options.verbose, epoch, options.epochs, steps);
            let mut totals = Totals::default();
            for step in 0..steps {
                let index = &order[step * bs..((step + 1) * bs).min(n)];
                let (xb, yb) = (train_x.gather(index), train_y.gather(index));
                let at = StepAt {
                    epoch,
                    step: step + 1,
                };
                totals.add(&self.run_batch(&xb, &yb, Some(at))?);
                progress.step(step + 1, &totals.logs(&metrics));
            }
            let mut logs = totals.logs(&metrics);
            if let Some((vx, vy)) = &validation {
                let val = self.evaluate_prepared(vx, vy, bs)?;
                logs.extend("val_", &val);
            }
            progress.finish(&logs);
            history.push(logs);
            if let Some(s) = &mut stopper
                && s.should_stop(epoch - 1, history.last().expect("pushed"), self)?
            {
                break;
            }
        }
        Ok(history)
    }

    /// Loss and metrics on `x` and `y` in inference mode (Keras' `model.evaluate`).
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// model.compile(Loss::binary_crossentropy(), Sgd::new(0.5), &[Metric::BinaryAccuracy]);
    /// let x = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0], vec![0.0, 0.0]];
    /// let y = vec![1.0f32, 0.0, 1.0, 0.0];
    /// let logs = model.evaluate(&x, &y, 2)?;
    /// assert!(logs.get("loss").is_some_and(f32::is_finite));
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn evaluate<X, Y>(&mut self, x: X, y: Y, batch_size: usize) -> Result<Logs>
    where
        X: IntoInput<S::In>,
        Y: IntoTargets,
    {
        let (x, y) = (x.into_input()?, y.into_targets()?);
        self.check_data(&x, &y, "evaluate")?;
        self.evaluate_prepared(&x, &y, batch_size)
    }

    fn evaluate_prepared(&mut self, x: &S::In, y: &Targets, batch_size: usize) -> Result<Logs> {
        let metrics = self.compiled("evaluate")?.metrics.clone();
        if batch_size == 0 {
            return Err(Error::config("evaluate", "batch_size must be at least 1"));
        }
        let n = x.batch();
        let mut totals = Totals::default();
        for start in (0..n).step_by(batch_size) {
            let end = (start + batch_size).min(n);
            totals.add(&self.run_batch(&x.rows(start, end), &y.rows(start, end), None)?);
        }
        Ok(totals.logs(&metrics))
    }

    /// `predict` in batches of `batch_size` rows, for inputs too large for one pass; the
    /// outputs are concatenated along the batch axis.
    ///
    /// ```
    /// # use rnn_runtime::*;
    /// # static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, layers: &[
    /// #     LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", params: 3 }] };
    /// # let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// # let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// let x = vec![vec![0.0, 0.0]; 5];
    /// let y = model.predict_batched(&x, 2)?;
    /// assert_eq!(y.main().shape, vec![5, 1]);
    /// # Ok::<(), rnn_runtime::Error>(())
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
            let part =
                self.forward(&x.rows(start, (start + batch_size).min(n)), Mode::Inference)?;
            if all.is_empty() {
                all = part.into_vec();
            } else {
                for (a, p) in all.iter_mut().zip(part.into_vec()) {
                    a.shape[0] += p.shape[0];
                    a.data.extend(p.data);
                }
            }
        }
        Ok(Outputs::new(all))
    }
}

fn check_rows<I: Tensor>(x: &I, y: &Targets) -> Result<()> {
    if x.batch() != y.len() {
        return Err(Error::shape(
            "targets",
            format!("{} rows, one per input row", x.batch()),
            format!("{} rows", y.len()),
        ));
    }
    Ok(())
}

/// The state of an [`EarlyStopping`] during one `fit`.
struct Stopper {
    config: EarlyStopping,
    best: Option<f32>,
    wait: usize,
    best_weights: Option<Vec<crate::param::Weight>>,
}

impl Stopper {
    fn new(config: EarlyStopping) -> Self {
        Stopper {
            config,
            best: None,
            wait: 0,
            best_weights: None,
        }
    }

    /// Keras' `EarlyStopping.on_epoch_end` (`epoch` 0-based).
    fn should_stop<S>(
        &mut self,
        epoch: usize,
        logs: &Logs,
        model: &mut Sequential<S>,
    ) -> Result<bool>
    where
        S: Stack,
        S::In: ModelInput,
        S::Out: ModelOutput,
    {
        let current = logs.get(&self.config.monitor).ok_or_else(|| {
            let known: Vec<&str> = logs.iter().map(|(k, _)| k).collect();
            Error::config(
                "fit",
                format!(
                    "early stopping monitors `{}`, which is not logged; logged: {}",
                    self.config.monitor,
                    known.join(", ")
                ),
            )
        })?;
        if epoch < self.config.start_from_epoch {
            return Ok(false);
        }
        if self.config.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(model.get_weights());
        }
        self.wait += 1;
        if self.config.improves(current, self.best) {
            self.best = Some(current);
            if self.config.restore_best_weights {
                self.best_weights = Some(model.get_weights());
            }
            self.wait = 0;
            return Ok(false);
        }
        if self.wait >= self.config.patience && epoch > 0 {
            if let Some(best) = &self.best_weights {
                model.set_weights(best)?;
            }
            return Ok(true);
        }
        Ok(false)
    }
}
